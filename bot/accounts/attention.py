"""The one attention ranking every screen asks: the digest, the App Home, `/cs risk`, the
alerts and the "See all" list.

It is `scoring.attention` (the value of a CSM's attention in dollars of ARR: churn
probability × ARR × urgency, eligible only with a reason today), the same ranking
`csbot digest --format json` prints. Expansion is shown in its own section of the digest
(`bot.accounts.ranking.rank_expansion`), so here an account needs a reason besides
expansion to qualify. `attention_size` is how many accounts a digest shows
(CSBOT_DIGEST_SIZE, 5 by default), shared with the ranking.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypeVar

from bot.accounts.ranking import AttentionRules, ScoreFacts
from bot.settings import Settings
from scoring.attention import AttentionSettings, attention_parts, why_today

T = TypeVar("T", bound=ScoreFacts)

EXPANSION = "expansion"  # its own digest section, not a reason to need attention


def attention_size(settings: Settings) -> int:
    return settings.digest_size


def attention_settings(rules: AttentionRules) -> AttentionSettings:
    """The bot's thresholds as `scoring.attention` knobs."""
    return AttentionSettings(
        alert_threshold=rules.risk_threshold,
        falling_points=rules.falling_fast_points,
        renewal_window_days=rules.renewal_window_days,
        expansion_threshold=rules.expansion_threshold,
    )


def attention_why(
    score: ScoreFacts, as_of: dt.date, rules: AttentionRules = AttentionRules()
) -> tuple[str, ...]:
    """Why the account needs its owner today (`WHY_LABELS` keys); empty when it does not."""
    knobs = attention_settings(rules)
    return tuple(key for key in why_today(score, as_of, knobs) if key != EXPANSION)


def rank_accounts(
    scores: Sequence[T],
    as_of: dt.date,
    rules: AttentionRules = AttentionRules(),
    *,
    qualifying_only: bool = True,
) -> list[tuple[T, float, tuple[str, ...]]]:
    """(score, value, why) best first. `qualifying_only` keeps the accounts with a reason
    to look today (the digest, alerts); False orders the whole book (App Home, `/cs risk`),
    qualifying accounts first. Ties break on the larger fall, then the id."""
    knobs = attention_settings(rules)
    ranked = []
    for score in scores:
        why = attention_why(score, as_of, rules)
        if why or not qualifying_only:
            ranked.append((score, attention_parts(score, as_of, knobs)[0], why))
    ranked.sort(
        key=lambda row: (
            not row[2],
            -row[1],
            row[0].health_delta_30d or 0.0,
            row[0].account_id,
        )
    )
    return ranked
