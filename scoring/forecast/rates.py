"""Renewal odds and ARR change learned from settled renewals, by segment and health band.

Odds are shrunk toward the level above them (band within segment → segment → whole
book, empirical-Bayes style with `prior_weight` pseudo-renewals), so a thin cell borrows
from the wider rate instead of reporting 0% or 100%. ARR change among renewals is kept as
the empirical distribution of new/old ratios per segment (the whole book's when a
segment has fewer than `MIN_RATIOS`): its mean splits into expected expansion and
contraction, and the Monte Carlo in `simulate` samples from it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from scoring.forecast.renewals import Renewal

MIN_RATIOS = 8
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class LabelledRenewal:
    """A settled renewal and what was known about the account before it."""

    renewal: Renewal
    segment: str
    band: str  # health band at the snapshot before the renewal, or "unknown"


@dataclass(frozen=True, slots=True)
class Odds:
    p_renew: float
    source: str  # "segment×band", "segment", "book"
    n: int  # settled renewals in the cell the estimate rests on


@dataclass
class RenewalRates:
    """What history says about renewals; `odds` and `ratios` answer for one account."""

    book: float
    n_book: int
    segment: dict[str, tuple[float, int]] = field(default_factory=dict)
    segment_band: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)
    ratio_book: np.ndarray = field(default_factory=lambda: np.ones(1))
    ratio_segment: dict[str, np.ndarray] = field(default_factory=dict)

    def odds(self, segment: str | None, band: str | None) -> Odds:
        seg = segment or UNKNOWN
        if band and band != UNKNOWN and (seg, band) in self.segment_band:
            rate, n = self.segment_band[(seg, band)]
            return Odds(rate, "segment×band", n)
        if seg in self.segment:
            rate, n = self.segment[seg]
            return Odds(rate, "segment", n)
        return Odds(self.book, "book", self.n_book)

    def ratios(self, segment: str | None) -> np.ndarray:
        """New/old ARR ratios of past renewals in this segment (or the whole book)."""
        return self.ratio_segment.get(segment or UNKNOWN, self.ratio_book)


def fit_rates(history: Iterable[LabelledRenewal], prior_weight: float = 5.0) -> RenewalRates:
    """Learn renewal odds and ARR ratios from settled renewals (pending ones are ignored)."""
    rows = [h for h in history if h.renewal.settled and h.renewal.arr > 0]
    n = len(rows)
    renewed = sum(h.renewal.renewed for h in rows)
    book = (renewed + 1.0) / (n + 2.0)  # Beta(1, 1) prior: 50% with no history at all
    by_segment: dict[str, list[LabelledRenewal]] = defaultdict(list)
    by_cell: dict[tuple[str, str], list[LabelledRenewal]] = defaultdict(list)
    for h in rows:
        by_segment[h.segment].append(h)
        if h.band != UNKNOWN:
            by_cell[(h.segment, h.band)].append(h)
    segment = {
        seg: (_shrunk(items, book, prior_weight), len(items)) for seg, items in by_segment.items()
    }
    segment_band = {
        cell: (_shrunk(items, segment[cell[0]][0], prior_weight), len(items))
        for cell, items in by_cell.items()
    }
    ratios = [
        (h.segment, h.renewal.new_arr / h.renewal.arr)
        for h in rows
        if h.renewal.renewed and h.renewal.new_arr is not None
    ]
    ratio_book = np.array([r for _, r in ratios]) if ratios else None
    ratio_segment: dict[str, np.ndarray] = {}
    for seg in by_segment:
        values = [r for s, r in ratios if s == seg]
        if len(values) >= MIN_RATIOS:
            ratio_segment[seg] = np.array(values)
    return RenewalRates(
        book=book,
        n_book=n,
        segment=segment,
        segment_band=segment_band,
        ratio_book=ratio_book if ratio_book is not None and ratio_book.size else np.ones(1),
        ratio_segment=ratio_segment,
    )


def _shrunk(items: list[LabelledRenewal], prior: float, weight: float) -> float:
    renewed = sum(h.renewal.renewed for h in items)
    return (renewed + weight * prior) / (len(items) + weight)


def expected_change(ratios: np.ndarray) -> tuple[float, float, float]:
    """(mean ratio, mean expansion, mean contraction) of new/old ARR among renewals."""
    mean = float(ratios.mean())
    expansion = float(np.maximum(ratios - 1.0, 0.0).mean())
    contraction = float(np.maximum(1.0 - ratios, 0.0).mean())
    return mean, expansion, contraction
