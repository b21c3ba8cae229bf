"""Trajectory and attention: so "fell 72 → 58 in 30 days" ranks above "steady at 55".

Superseded for ranking by `scoring.attention` (the one attention ranking); `attention`
below is the older formula, kept for callers of its signature.

attention = ((1 − c)·(100 − health)/100 + c·churn_risk + k·max(0, −Δ30)/100)
            × (1 + log10(1 + arr / arr_reference))
with c = churn_weight when a churn risk exists (else 0) and k = trajectory_weight. The
ARR factor grows slowly, so a large account outranks a small one at the same risk, but a
small account in free fall still outranks a large steady one.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any

from scoring.attention import attention_value
from scoring.config import Attention


def _get(score: Any, name: str) -> Any:
    return score.get(name) if isinstance(score, dict) else getattr(score, name, None)


def attention(score: Any, config: Attention) -> float:
    """Attention of one score (an AccountScore or a dict with the same fields)."""
    health = float(_get(score, "health") or 0.0)
    risk = (100.0 - health) / 100.0
    churn = _get(score, "churn_risk")
    if churn is not None and not math.isnan(churn):
        risk = (1 - config.churn_weight) * risk + config.churn_weight * float(churn)
    delta = _get(score, "health_delta_30d")
    fall = max(0.0, -float(delta)) / 100.0 if delta is not None else 0.0
    arr = max(float(_get(score, "arr") or 0.0), 0.0)
    return (risk + config.trajectory_weight * fall) * (
        1.0 + math.log10(1.0 + arr / config.arr_reference)
    )


def attention_rank(scores: Iterable[Any], config: Attention | None = None) -> list[Any]:
    """Scores sorted by their stored attention value (`scoring.attention`, the one
    ranking), most valuable first (ties: lower health, then account id). `config` is
    accepted for compatibility and unused."""

    def value(score: Any) -> float:
        stored = _get(score, "attention")
        if stored is not None:
            return float(stored)
        as_of = _get(score, "as_of")
        if as_of is None:  # no date: renewal timing cannot count
            score = {**score, "renewal_date": None} if isinstance(score, dict) else score
            as_of = dt.date.min
        return attention_value(score, as_of)

    items: Sequence[Any] = list(scores)
    return sorted(
        items,
        key=lambda s: (
            -value(s),
            float(_get(s, "health") or 0.0),
            str(_get(s, "account_id")),
        ),
    )
