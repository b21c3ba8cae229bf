"""The one attention ranking every screen asks: the digest, the App Home, `/cs risk`, the
alerts and the "See all" list.

Today it is `bot.accounts.ranking` (ARR-weighted urgency over the attention rules); when
`scoring.attention` lands, this is the only function to switch. `attention_size` is how
many accounts a digest shows (CSBOT_DIGEST_SIZE, 5 by default), shared with the ranking.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

from bot.accounts.ranking import AttentionRules, ScoreFacts, attention_priority, attention_reasons

T = TypeVar("T", bound=ScoreFacts)

DEFAULT_SIZE = 5


def attention_size(settings: Any) -> int:
    return int(getattr(settings, "digest_size", DEFAULT_SIZE))


def rank_accounts(
    scores: Sequence[T],
    as_of: dt.date,
    rules: AttentionRules = AttentionRules(),
    *,
    qualifying_only: bool = True,
) -> list[tuple[T, float, tuple[str, ...]]]:
    """(score, priority, why) best first. `qualifying_only` keeps the accounts with a reason
    to look today (the digest, alerts); False orders the whole book (App Home, `/cs risk`),
    qualifying accounts first. Ties break on the larger fall, then the id."""
    ranked = []
    for score in scores:
        why = attention_reasons(score, as_of, rules)
        if why or not qualifying_only:
            ranked.append((score, attention_priority(score, as_of, rules), why))
    ranked.sort(
        key=lambda row: (
            not row[2],
            -row[1],
            row[0].health_delta_30d or 0.0,
            row[0].account_id,
        )
    )
    return ranked
