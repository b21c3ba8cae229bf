"""Which accounts need their owner today, and in what order (pure: plain scores in, ranks out).

An account qualifies when it is at risk or critical, falling fast, at high churn risk, has
critical stakeholder coverage, or renews soon while showing risk. Qualifying accounts are
ranked by *ARR-weighted urgency*: urgency mixes risk, band, the 30-day fall and the
renewal clock; the weight grows with the logarithm of ARR, so a $1M account outranks a
$10k one with the same trouble, but a small account in free fall still beats a big one
with a blemish. Expansion candidates are ranked by expansion score × the same weight.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

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

RISKY_BANDS = ("at_risk", "critical")
BAND_URGENCY = {"critical": 1.0, "at_risk": 0.6, "neutral": 0.2, "healthy": 0.0}
FALLING_FAST_POINTS = 10.0  # a 30-day fall of at least this many health points
RENEWAL_WINDOW_DAYS = 90
RENEWAL_RISK_CHURN = 0.3  # churn risk that makes an upcoming renewal worth a look
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


def risk_of(score: ScoreFacts) -> float:
    """The model's churn risk when there is one, else a risk read off the health score."""
    if score.churn_risk is not None:
        return float(score.churn_risk)
    return min(1.0, max(0.0, (100.0 - score.health) / 100.0))


def attention_reasons(
    score: ScoreFacts, as_of: dt.date, rules: AttentionRules = AttentionRules()
) -> tuple[str, ...]:
    """Why this account needs its owner today (keys of `WHY_LABELS`); empty when it does not."""
    why: list[str] = []
    if score.band in RISKY_BANDS:
        why.append(score.band)
    fall = score.health_delta_30d
    if fall is not None and fall <= -rules.falling_fast_points:
        why.append("falling_fast")
    if score.churn_risk is not None and score.churn_risk >= rules.risk_threshold:
        why.append("high_churn_risk")
    if score.stakeholder_band == "critical":
        why.append("stakeholder_critical")
    renewal = days_to_renewal(score, as_of)
    if renewal is not None and 0 <= renewal <= rules.renewal_window_days:
        risky = (
            score.band != "healthy"
            or (score.churn_risk or 0.0) >= RENEWAL_RISK_CHURN
            or score.direction == "falling"
        )
        if risky:
            why.append("renewal_at_risk")
    return tuple(why)


def urgency(score: ScoreFacts, as_of: dt.date, rules: AttentionRules = AttentionRules()) -> float:
    """How badly the account needs attention, before ARR weighting (roughly 0–2)."""
    fall = max(0.0, -(score.health_delta_30d or 0.0))
    value = (
        0.4 * risk_of(score)
        + 0.3 * BAND_URGENCY.get(score.band, 0.0)
        + 0.3 * min(1.0, fall / (2 * rules.falling_fast_points))
    )
    if score.stakeholder_band == "critical":
        value += 0.2
    renewal = days_to_renewal(score, as_of)
    if renewal is not None and 0 <= renewal <= rules.renewal_window_days:
        value += 0.3 * (1.0 - renewal / rules.renewal_window_days) * (0.5 + risk_of(score))
    return value


def attention_priority(
    score: ScoreFacts, as_of: dt.date, rules: AttentionRules = AttentionRules()
) -> float:
    """ARR-weighted urgency: the number the digest sorts by (higher first)."""
    return urgency(score, as_of, rules) * arr_weight(score.arr)


def rank_attention(
    scores: Sequence[T], as_of: dt.date, rules: AttentionRules = AttentionRules()
) -> list[tuple[T, float, tuple[str, ...]]]:
    """The accounts that qualify, best first, with their priority and why they qualify.

    Ties break on the larger fall, then the account id, so the order is deterministic.
    """
    ranked = []
    for score in scores:
        why = attention_reasons(score, as_of, rules)
        if why:
            ranked.append((score, attention_priority(score, as_of, rules), why))
    ranked.sort(key=lambda row: (-row[1], row[0].health_delta_30d or 0.0, row[0].account_id))
    return ranked


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
