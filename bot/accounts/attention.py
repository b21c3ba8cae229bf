"""The one attention ranking every screen asks: the digest, the App Home, `/cs risk`, the
alerts and the "See all" list.

It is `scoring.attention` (the value of a CSM's attention in dollars of ARR: churn
probability × ARR × urgency, eligible only with a reason today), the same ranking
`csbot digest --format json` prints. Expansion is shown in its own section of the digest
(`bot.accounts.ranking.rank_expansion`), so here an account needs a reason besides
expansion to qualify. `attention_size` is how many accounts a digest shows
(CSBOT_DIGEST_SIZE, 5 by default), shared with the ranking. `rank_accounts` calls
`scoring.attention.rank_attention` through its module, so every surface orders accounts
with that one function (tests/test_one_ranking.py patches it there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypeVar

from sqlmodel import Session

from bot.accounts.ranking import AttentionRules, ScoreFacts
from bot.settings import Settings
from scoring import attention as scoring_attention
from scoring.attention import AttentionSettings, attention_parts, why_today
from scoring.churn.registry import alert_threshold

T = TypeVar("T", bound=ScoreFacts)

EXPANSION = "expansion"  # its own digest section, not a reason to need attention


def attention_size(settings: Settings) -> int:
    return settings.digest_size


def attention_rules(session: Session, settings: Settings) -> AttentionRules:
    """The thresholds every screen ranks with, from the settings: the risk line is the
    active churn model's chosen alert line (CSBOT_RISK_ALERT_THRESHOLD without one), so the
    digest, "See all", the App Home and `/cs risk` list what the alerts would raise."""
    return AttentionRules(
        risk_threshold=alert_threshold(session, settings.risk_alert_threshold),
        falling_fast_points=settings.falling_fast_points,
        renewal_window_days=settings.renewal_window_days,
        expansion_threshold=settings.expansion_alert_threshold,
    )


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
    """(score, value, why) best first, in `scoring.attention.rank_attention`'s order.
    `qualifying_only` keeps the accounts with a reason to look today besides expansion (the
    digest, alerts); False orders the whole book (App Home, `/cs risk`): the ranking's
    accounts first, then the rest by value, the larger fall, the id."""
    knobs = attention_settings(rules)
    ranked: list[tuple[T, float, tuple[str, ...]]] = []
    listed: set[str] = set()
    for score, value, keys in scoring_attention.rank_attention(scores, as_of, knobs):
        why = tuple(key for key in keys if key != EXPANSION)
        if why:
            ranked.append((score, value, why))
            listed.add(score.account_id)
    if qualifying_only:
        return ranked
    rest = [
        (score, attention_parts(score, as_of, knobs)[0], ())
        for score in scores
        if score.account_id not in listed
    ]
    rest.sort(key=lambda row: (-row[1], row[0].health_delta_30d or 0.0, row[0].account_id))
    return ranked + rest


def reasons_today(
    scores: Sequence[T], as_of: dt.date, rules: AttentionRules = AttentionRules()
) -> dict[str, tuple[int, tuple[str, ...], list[str]]]:
    """Per account the ranking lists today (expansion included): its position in
    `rank_attention`'s order, its why keys and one sentence each. What alerts ask before
    they fire: an account absent here has no reason today, whatever crossed."""
    knobs = attention_settings(rules)
    out: dict[str, tuple[int, tuple[str, ...], list[str]]] = {}
    for position, (score, _value, keys) in enumerate(
        scoring_attention.rank_attention(scores, as_of, knobs)
    ):
        out[score.account_id] = (
            position,
            keys,
            scoring_attention.why_sentences(score, keys, as_of, knobs),
        )
    return out
