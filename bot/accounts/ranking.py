"""What ranking reads from a score, its thresholds, and the digest's expansion section
(pure: plain scores in, ranks out).

Which accounts need their owner today, and in what order, is the one attention ranking
(`bot.accounts.attention` over `scoring.attention`); this module holds what it shares with
the rest: the `ScoreFacts` a ranking reads, the `AttentionRules` thresholds, the reasons
worth showing (`top_reasons`) and the expansion candidates, ranked by expansion score ×
an ARR weight that grows with the logarithm of ARR.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from storage.enums import Band
from storage.models import AccountScore


class ScoreFacts(Protocol):
    """What ranking reads from a score: an AccountScore or a lighter row with these fields."""

    @property
    def account_id(self) -> str: ...
    @property
    def as_of(self) -> dt.date: ...
    @property
    def health(self) -> float: ...
    @property
    def band(self) -> str: ...
    @property
    def health_delta_30d(self) -> float | None: ...
    @property
    def direction(self) -> str: ...
    @property
    def churn_risk(self) -> float | None: ...
    @property
    def expansion(self) -> float: ...
    @property
    def stakeholder_band(self) -> str: ...
    @property
    def renewal_date(self) -> dt.date | None: ...
    @property
    def arr(self) -> float: ...


T = TypeVar("T", bound=ScoreFacts)

RISKY_BANDS = (Band.AT_RISK, Band.CRITICAL)
FALLING_FAST_POINTS = 10.0  # a 30-day fall of at least this many health points
RENEWAL_WINDOW_DAYS = 90
DEFAULT_RISK_THRESHOLD = 0.5
DEFAULT_EXPANSION_THRESHOLD = 0.6


@dataclass(frozen=True)
class AttentionRules:
    """The thresholds of the attention rules (defaults match the settings' defaults)."""

    risk_threshold: float = DEFAULT_RISK_THRESHOLD
    falling_fast_points: float = FALLING_FAST_POINTS
    renewal_window_days: int = RENEWAL_WINDOW_DAYS
    expansion_threshold: float = DEFAULT_EXPANSION_THRESHOLD


def days_to_renewal(score: ScoreFacts, as_of: dt.date) -> int | None:
    if score.renewal_date is None:
        return None
    return (score.renewal_date - as_of).days


def arr_weight(arr: float | None) -> float:
    """1 at $1k ARR or less, +1 per factor of ten: $10k → 2, $100k → 3, $1M → 4."""
    return max(1.0, math.log10(max(arr or 0.0, 1000.0)) - 2.0)


def is_expansion_candidate(score: ScoreFacts, rules: AttentionRules = AttentionRules()) -> bool:
    """Expansion signals strong enough to mention, on an account that is not in trouble."""
    return score.expansion >= rules.expansion_threshold and score.band not in RISKY_BANDS


def rank_expansion(
    scores: Sequence[T], rules: AttentionRules = AttentionRules()
) -> list[tuple[T, float]]:
    """Expansion candidates, best first (expansion score × ARR weight)."""
    ranked = [
        (score, score.expansion * arr_weight(score.arr))
        for score in scores
        if is_expansion_candidate(score, rules)
    ]
    ranked.sort(key=lambda row: (-row[1], row[0].account_id))
    return ranked


# Facts every digest line already states; a reason repeating them wastes one of three lines.
STATED_SIGNALS = frozenset({"days_to_renewal", "arr"})


def top_reasons(
    score: AccountScore, limit: int = 3, skip: frozenset[str] = STATED_SIGNALS
) -> tuple[str, ...]:
    """The plain-words reasons that explain the trouble: health reasons pulling the score
    down first (by impact), then the churn model's, without repeating a signal (nor the
    renewal date and ARR, which every line states anyway)."""
    seen: set[str] = set(skip)
    texts: list[str] = []
    negative = [r for r in score.reasons or [] if (r.get("impact") or 0.0) < 0]
    others = [r for r in score.reasons or [] if (r.get("impact") or 0.0) >= 0]
    churn = [r for r in score.churn_reasons or [] if (r.get("impact") or 0.0) > 0]
    for reason in sorted(negative, key=lambda r: r.get("impact") or 0.0) + churn + others:
        text = reason.get("text")
        signal = str(reason.get("signal") or text)
        if not text or signal in seen or str(text) in texts:  # each sentence once
            continue
        seen.add(signal)
        texts.append(str(text))
        if len(texts) == limit:
            break
    return tuple(texts)


def expansion_signals(score: AccountScore, limit: int = 3) -> tuple[str, ...]:
    texts = [str(r["text"]) for r in score.expansion_reasons or [] if r.get("text")]
    return tuple(texts[:limit])
