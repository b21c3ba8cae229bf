"""The health score: a weighted composite of normalised signals, 0..100, with exact
per-signal impacts.

For one account with signals i in the health set:
    w_i = dimension weight × signal weight / Σ signal weights of its dimension
    W = Σ w_i over dimensions with any weighted signal
    health = 100 × Σ w_i g_i / W
so health − 50 = Σ impact_i with impact_i = 100 × (w_i / W) × (g_i − 0.5). The neutral
point is 50 (every signal unknown or middling), and a reason's impact is its share of the
distance from it.

Missing sources are neutral: a signal with no data for an account (NaN, and no configured
`missing` goodness) drops out of that account's sum, and W is taken over the signals it
has, so their weights grow in proportion. A book without invoices or tickets is scored on
what it does have, and "no data" never reads as good news. An account with no data at all
scores the neutral point. Segment overrides change weights and edges; accounts are scored in one
vectorised pass per segment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scoring.config import ScoringConfig
from scoring.normalise import goodness
from scoring.signals.registry import SIGNALS

NEUTRAL_POINT = 50.0


@dataclass
class HealthResult:
    """Health per account and the impact of each health signal (accounts × signals)."""

    health: np.ndarray
    impacts: np.ndarray
    signals: list[str]


def health_signals(config: ScoringConfig) -> list[str]:
    """The signals that count toward health under any segment (stable order)."""
    return [name for name in config.signals]


def segment_weights(config: ScoringConfig, segment: str | None) -> tuple[np.ndarray, list]:
    """Normalised weights w_i / W for the health signals, and their normalisations."""
    dimensions, signals = config.for_segment(segment)
    names = health_signals(config)
    per_dimension: dict[str, float] = {}
    for name in names:
        dim = SIGNALS[name].dimension
        per_dimension[dim] = per_dimension.get(dim, 0.0) + signals[name].weight
    weights = np.zeros(len(names))
    for i, name in enumerate(names):
        dim = SIGNALS[name].dimension
        if per_dimension.get(dim, 0.0) > 0:
            weights[i] = dimensions.get(dim, 0.0) * signals[name].weight / per_dimension[dim]
    total = weights.sum()
    if total <= 0:
        raise ValueError(f"segment {segment!r}: every health weight is zero")
    return weights / total, [signals[name] for name in names]


def health_scores(
    columns: Mapping[str, np.ndarray], segments: Sequence[str | None], config: ScoringConfig
) -> HealthResult:
    """Health and impacts for every account. `columns` maps signal name → values."""
    names = health_signals(config)
    n = len(segments)
    impacts = np.zeros((n, len(names)))
    segment_array = np.array([s or "" for s in segments], dtype=object)
    for segment in set(segment_array.tolist()):
        rows = np.flatnonzero(segment_array == segment)
        weights, norms = segment_weights(config, segment or None)
        g = np.full((rows.size, len(names)), 0.5)
        present = np.zeros((rows.size, len(names)), dtype=bool)
        for j, (name, norm) in enumerate(zip(names, norms, strict=True)):
            column = columns.get(name)
            if column is None:  # a signal this frame does not carry: no data
                values = np.full(rows.size, np.nan)
            else:
                values = np.asarray(column, dtype=float)[rows]
            missing = 0.5 if norm.missing is None else norm.missing
            g[:, j] = goodness(values, norm.bad, norm.good, missing)
            present[:, j] = ~np.isnan(values) | (norm.missing is not None)
        w = np.where(present, weights[None, :], 0.0)
        total = w.sum(axis=1, keepdims=True)
        share = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
        impacts[rows] = 100.0 * share * (g - 0.5)
    health = NEUTRAL_POINT + impacts.sum(axis=1)
    return HealthResult(health=np.clip(health, 0.0, 100.0), impacts=impacts, signals=names)


def health_of_row(
    row: Mapping[str, float | None], segment: str | None, config: ScoringConfig
) -> tuple[float, dict[str, float]]:
    """Health and impacts of one account from a plain signal row (None = no data)."""
    columns = {
        name: np.array([np.nan if row.get(name) is None else float(row[name])])  # type: ignore[arg-type]
        for name in health_signals(config)
    }
    result = health_scores(columns, [segment], config)
    return float(result.health[0]), dict(
        zip(result.signals, result.impacts[0].tolist(), strict=True)
    )


def frame_health(frame: Any, config: ScoringConfig) -> HealthResult:
    """Health of every account of a signal frame (`scoring.signals.SignalFrame`)."""
    columns = {name: frame.column(name) for name in config.signals}
    return health_scores(columns, frame.extras.get("segment", [None] * len(frame)), config)
