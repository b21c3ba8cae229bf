"""score_portfolio: score every live account as of D and store one row each.

Reads signals (scoring.signals), computes health (learned or the YAML's, whichever
`scoring.health_model` says is active, with its band lines), trend, stakeholders,
expansion and reasons (pure modules), asks the churn model for its risk when one is
active, stores the attention value of `scoring.attention` (the one ranking), and replaces
the day's rows in one transaction (scoring.store).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session, select

from scoring.attention import AttentionSettings, attention_value
from scoring.bands import direction, health_band
from scoring.churn.apply import ChurnPredictions, churn_predictions
from scoring.config import ScoringConfig, resolve_config
from scoring.expansion import expansion_reasons, expansion_scores
from scoring.explain import explain_all
from scoring.health import NEUTRAL_POINT, frame_health
from scoring.health_model import HealthChoice, active_health, bands_with, health_with
from scoring.signals import SignalFrame, compute_signals
from scoring.stakeholders import stakeholders_summary
from scoring.store import replace_scores
from storage.clock import Clock
from storage.enums import StakeholderBand
from storage.gc_pause import gc_paused
from storage.models import AccountScore

TREND_DAYS = (7, 30)

__all__ = ["build_score_rows", "frame_health", "resolve_config", "score_portfolio", "score_rows"]


def _previous_health(
    engine: Engine,
    as_of: dt.date,
    frame: SignalFrame,
    config: ScoringConfig,
    days: int,
    choice: HealthChoice | None = None,
) -> dict[str, float]:
    """Health `days` before D: stored scores where they exist, computed as of that date
    (without storing) for accounts that have none."""
    earlier = as_of - dt.timedelta(days=days)
    with Session(engine) as session:
        stored = dict(
            session.execute(
                select(AccountScore.account_id, AccountScore.health).where(
                    AccountScore.as_of == earlier
                )
            ).all()
        )
    wanted = set(frame.account_ids)
    missing = sorted(wanted - stored.keys())
    if missing:
        subset = None if len(missing) == len(wanted) else missing
        past = compute_signals(engine, earlier, subset, params=config.signal_params)
        result = health_with(choice, past, config)
        stored.update(zip(past.account_ids, result.health.tolist(), strict=True))
    return {k: v for k, v in stored.items() if k in wanted}


def _churn(engine: Engine, frame: SignalFrame, cfg: ScoringConfig) -> ChurnPredictions | None:
    """The active churn model's predictions, or None when no model is active."""
    with Session(engine) as session:
        return churn_predictions(session, frame, cfg)


def _num(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def score_portfolio(
    engine: Engine,
    as_of: dt.date,
    *,
    config: ScoringConfig | Path | str | None = None,
    clock: Clock,
    frame: SignalFrame | None = None,
) -> list[AccountScore]:
    """Score every account live as of `as_of`, replace that date's rows, return them."""
    with gc_paused():
        return _score_portfolio(engine, as_of, config, clock, frame)


def _score_portfolio(
    engine: Engine,
    as_of: dt.date,
    config: ScoringConfig | Path | str | None,
    clock: Clock,
    frame: SignalFrame | None,
) -> list[AccountScore]:
    cfg = resolve_config(config)
    if frame is None:
        frame = compute_signals(engine, as_of, params=cfg.signal_params)
    elif frame.as_of != as_of:
        raise ValueError(f"the frame is as of {frame.as_of}, not {as_of}")
    return replace_scores(engine, as_of, score_rows(engine, frame, cfg, clock))


def build_score_rows(
    engine: Engine, frame: SignalFrame, cfg: ScoringConfig, clock: Clock
) -> list[dict[str, Any]]:
    """One AccountScore row (a dict of its columns) per account of a frame; not stored."""
    return list(score_rows(engine, frame, cfg, clock))


def score_rows(
    engine: Engine, frame: SignalFrame, cfg: ScoringConfig, clock: Clock
) -> Iterator[dict[str, Any]]:
    """build_score_rows as an iterator: the database reads (history, the churn model) and
    the vectorised steps run now; each row is built as it is asked for, so that storing
    can send one row while the next is built."""
    as_of = frame.as_of
    n = len(frame)
    with Session(engine) as session:
        choice = active_health(session)
    bands = bands_with(choice, cfg)
    result = health_with(choice, frame, cfg)
    health = np.round(result.health, 2)
    deltas = (
        {days: _previous_health(engine, as_of, frame, cfg, days, choice) for days in TREND_DAYS}
        if n
        else {}
    )
    expansion, contributions, expansion_names = expansion_scores(
        {name: frame.column(name) for name in cfg.expansion.signals}, health, cfg.expansion
    )
    churn = _churn(engine, frame, cfg) if n else None
    tenure = frame.column("tenure_days")
    active_days = frame.column("active_days_90d")
    limited = (np.nan_to_num(tenure, nan=0.0) < cfg.limited_history.min_tenure_days) | (
        active_days < cfg.limited_history.min_active_days_90d
    )
    attention_settings = AttentionSettings(
        alert_threshold=(churn.alert_threshold if churn and churn.alert_threshold else 0.5)
    )
    roles = frame.extras.get("roles", [{}] * n)
    renewal = frame.extras.get("renewal_date", [None] * n)
    scored_at = clock.now()
    signal_rows = frame.rows()
    reasons = explain_all(
        frame.values,
        frame.names,
        signal_rows,
        result.signals,
        result.impacts,
        health - NEUTRAL_POINT,
    )

    def rows() -> Iterator[dict[str, Any]]:
        for i, account_id in enumerate(frame.account_ids):
            row = signal_rows[i]
            value = float(health[i])
            delta = {}
            for days in TREND_DAYS:
                before = deltas[days].get(account_id)
                delta[days] = None if before is None else round(value - before, 2)
            risk = None
            churn_reasons: list[dict[str, Any]] = []
            model_version = None
            if churn is not None:
                risk = _num(float(churn.risk[i]))
                churn_reasons = list(churn.reasons[i]) if churn.reasons is not None else []
                model_version = churn.version
            score: dict[str, Any] = dict(
                account_id=account_id,
                as_of=as_of,
                health=value,
                band=health_band(value, bands),
                health_delta_7d=delta[7],
                health_delta_30d=delta[30],
                direction=direction(delta[7], delta[30], cfg.trend),
                churn_risk=risk,
                model_version=model_version,
                expansion=round(float(expansion[i]), 4),
                stakeholder_band=StakeholderBand.HEALTHY,
                renewal_date=renewal[i],
                arr=_num(row["arr"] if row["arr"] is not None else float("nan")) or 0.0,
                limited_history=bool(limited[i]),
                reasons=reasons[i],
                churn_reasons=churn_reasons,
                expansion_reasons=expansion_reasons(
                    row, dict(zip(expansion_names, contributions[i].tolist(), strict=True))
                ),
                stakeholders=stakeholders_summary(
                    roles[i],
                    row["engaged_contacts_90d"],
                    row["multithreading_target"],
                    cfg.stakeholders,
                ),
                signals=row,
                scored_at=scored_at,
            )
            score["stakeholder_band"] = score["stakeholders"]["band"]
            score["attention"] = round(attention_value(score, as_of, attention_settings), 4)
            yield score

    return rows()
