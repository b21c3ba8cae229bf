"""Apply the active churn model to a signal frame: what `scoring.service` calls nightly.

`churn_predictions(session, frame)` returns None when no model is active, so scoring works
before any training. The unpickled model is cached per version (versions are immutable).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlmodel import Session, select

from scoring.churn.artefact import ChurnModel, load_model
from scoring.churn.reasons import model_reasons
from scoring.churn.snapshots import (
    RULE_HEALTH,
    TRAJECTORY_LOOKBACKS,
    FrameLike,
    past_dates,
    stack_frames,
    with_rule_health,
    with_trajectory,
)
from scoring.config import ConfigSource, resolve_config
from scoring.signals import compute_signals
from storage.models import ModelVersion

_CACHE: dict[str, ChurnModel] = {}
TRAJECTORY_SUFFIXES = tuple(f"_change_{days}d" for days in TRAJECTORY_LOOKBACKS)


@dataclass
class ChurnPredictions:
    version: str
    risk: np.ndarray  # aligned with frame.account_ids
    reasons: list[list[dict[str, Any]]]
    #: The model's alert threshold chosen for the team's precision (None: the fallback).
    alert_threshold: float | None = None


def active_model(session: Session) -> tuple[str, ChurnModel] | None:
    version = session.exec(
        select(ModelVersion.version).where(
            ModelVersion.kind == "churn",
            ModelVersion.active == True,  # noqa: E712
        )
    ).first()
    if version is None:
        return None
    if version not in _CACHE:
        blob = session.exec(select(ModelVersion.blob).where(ModelVersion.version == version)).one()
        _CACHE.clear()  # keep only the active model in memory
        _CACHE[version] = load_model(blob)
    return version, _CACHE[version]


def needs_trajectory(model: ChurnModel) -> bool:
    return any(name.endswith(TRAJECTORY_SUFFIXES) for name in model.features)


def predict_frame(
    model: ChurnModel,
    frame: FrameLike,
    *,
    past: list[FrameLike] | None = None,
    top: int = 5,
    config: ConfigSource = None,
) -> tuple[np.ndarray, list[list[dict[str, Any]]]]:
    """Risk and reasons for every account of `frame`; `past` holds the frames of
    `past_dates(frame.as_of)` when the model uses trajectory signals; `config` is the
    scoring configuration the rule-based health column is computed with."""
    if RULE_HEALTH in model.features or needs_trajectory(model):
        frame = with_rule_health(frame, config)
        past = [with_rule_health(f, config) for f in past] if past is not None else None
    snaps = stack_frames([frame])
    if len(snaps) == 0:
        return np.zeros(0), []
    if past is not None:
        snaps = with_trajectory(snaps, past=stack_frames(past))
    X = model.align(snaps.names, snaps.X)
    risk = model.predict_risk(X)
    rows = [
        {name: (None if math.isnan(v) else v) for name, v in zip(snaps.names, row, strict=True)}
        for row in snaps.X.tolist()
    ]
    return risk, model_reasons(model, X, risk, top=top, rows=rows)


def _past_frames(session: Session, frame: FrameLike, config: ConfigSource) -> list[FrameLike]:
    """Signals of the same accounts 28 and 84 days earlier (for the trajectory signals)."""
    params = resolve_config(config).signal_params
    engine = session.get_bind()
    return [
        compute_signals(engine, day, list(frame.account_ids), params=params)  # type: ignore[arg-type]
        for day in past_dates(frame.as_of)
    ]


def churn_predictions(
    session: Session, frame: FrameLike, config: ConfigSource = None
) -> ChurnPredictions | None:
    """Calibrated churn risk and reasons for every account of `frame`; None without a model.

    `config` (a `ScoringConfig`, its path, or None for the defaults) must be the one the
    frame was computed with: the model's rule-health and trajectory columns use it too.
    """
    found = active_model(session)
    if found is None:
        return None
    version, model = found
    past = _past_frames(session, frame, config) if needs_trajectory(model) else None
    risk, reasons = predict_frame(model, frame, past=past, config=config)
    return ChurnPredictions(
        version=version,
        risk=risk,
        reasons=reasons,
        alert_threshold=getattr(model, "alert_threshold", None),
    )
