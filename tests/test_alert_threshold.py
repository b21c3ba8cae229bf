"""Alerts fire at the line the active churn model chose on held-out history, not a fixed 0.5."""

from __future__ import annotations

import datetime as dt

from scoring.churn.registry import alert_threshold
from storage.models import ModelVersion


def _model(version: str, *, active: bool, metrics: dict) -> ModelVersion:
    return ModelVersion(
        version=version,
        algorithm="logistic_regression",
        created_at=dt.datetime(2026, 6, 1, 4, 0),
        horizon_days=90,
        metrics=metrics,
        active=active,
        blob=b"-",
    )


def test_without_a_model_the_configured_line_applies(session) -> None:
    assert alert_threshold(session, 0.5) == 0.5


def test_the_active_models_chosen_line_wins(session) -> None:
    session.add(_model("churn-v1", active=False, metrics={"alert_threshold": 0.9}))
    session.add(_model("churn-v2", active=True, metrics={"alert_threshold": 0.18}))
    session.commit()
    assert alert_threshold(session, 0.5) == 0.18


def test_a_model_without_a_chosen_line_falls_back(session) -> None:
    session.add(_model("churn-v1", active=True, metrics={"roc_auc": 0.8}))
    session.commit()
    assert alert_threshold(session, 0.42) == 0.42
