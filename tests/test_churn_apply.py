"""The active model applied to a SignalFrame: risk aligned with accounts, reasons explained."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from scoring.churn.apply import churn_predictions
from scoring.churn.config import TrainingConfig
from scoring.churn.feedback import FeedbackError, record_feedback
from scoring.churn.reasons import feature_groups, impacts, logit_contributions, model_reasons
from scoring.churn.registry import store_outcome
from scoring.churn.synthetic import NAMES, synthetic_history
from scoring.churn.train import label_snapshots, train_on_snapshots
from scoring.signals import SignalFrame
from storage.clock import FixedClock
from storage.models import Account, AuditLog, Feedback

CFG = TrainingConfig(algorithms=("logistic_regression", "hist_gradient_boosting"))


@pytest.fixture(scope="module")
def outcome():
    snaps, events = synthetic_history(200, 70, seed=5)
    cutoff = dt.date.fromordinal(int(snaps.dates.max()))
    return train_on_snapshots(label_snapshots(snaps, events, [], cutoff, CFG), cutoff, CFG)


def _frame() -> SignalFrame:
    healthy = {
        "logins_30d": 60,
        "login_change": 0.05,
        "feature_breadth_30d": 9,
        "sponsor_silent_days": 5,
        "tickets_30d": 1,
        "nps_last": 9,
        "days_to_renewal": 200,
        "arr": 30000,
        "noise_a": 0,
        "noise_b": 0,
    }
    declining = dict(
        healthy,
        logins_30d=14,
        login_change=-0.7,
        feature_breadth_30d=3,
        sponsor_silent_days=75,
        tickets_30d=7,
        nps_last=4,
    )
    # the frame has an extra signal and a different order: the model aligns by name
    names = ["extra_signal", *reversed(NAMES)]
    rows = [
        [1.0, *(healthy[n] for n in reversed(NAMES))],
        [2.0, *(declining[n] for n in reversed(NAMES))],
        [3.0, *([np.nan] * len(NAMES))],
    ]
    return SignalFrame(
        dt.date(2026, 6, 1), ["healthy", "declining", "unknown"], names, np.array(rows, dtype=float)
    )


def test_no_active_model_gives_none(engine: Engine) -> None:
    with Session(engine) as session:
        assert churn_predictions(session, _frame()) is None


def test_predictions_and_reasons(engine: Engine, outcome) -> None:
    clock = FixedClock(dt.datetime(2026, 6, 1, 9))
    with Session(engine, expire_on_commit=False) as session:
        row = store_outcome(session, outcome, clock, CFG)
        session.commit()
        predictions = churn_predictions(session, _frame())
    assert predictions is not None and predictions.version == row.version
    healthy, declining, unknown = predictions.risk
    assert 0 <= healthy < 0.2 < 0.6 < declining <= 1
    assert 0 <= unknown <= 1
    assert len(predictions.reasons) == 3
    top = [r for r in predictions.reasons[1] if r["kind"] == "cause"]
    assert top and all(r["impact"] > 0 for r in top[:3])
    assert [abs(r["impact"]) for r in top] == sorted((abs(r["impact"]) for r in top), reverse=True)
    assert set(top[0]) == {
        "signal",
        "value",
        "baseline",
        "direction",
        "impact",
        "log_odds",
        "kind",
        "text",
    }
    by_signal = {r["signal"]: r for r in top}
    assert by_signal.keys() & {
        "logins_30d",
        "login_change",
        "sponsor_silent_days",
        "feature_breadth_30d",
        "nps_last",
    }
    if "sponsor_silent_days" in by_signal:  # scoring's sentence, same words as health reasons
        assert by_signal["sponsor_silent_days"]["text"] == "Executive sponsor silent for 75 days"
        assert by_signal["sponsor_silent_days"]["direction"] == "up"
    # a signal the scoring registry does not know gets a generic sentence
    assert all(r["text"] for reasons in predictions.reasons for r in reasons)


def test_reasons_add_up_to_the_change_from_the_baseline(outcome) -> None:
    """Shapley-style contributions sum exactly to the change in log-odds from the baseline
    account, and the probability-point impacts to the change in risk."""
    model = outcome.model
    frame = _frame()
    X = model.align(frame.names, frame.values)
    groups = feature_groups(model.features)
    for permutations in (2, 6):
        contributions, base, full = logit_contributions(model, X, groups, permutations=permutations)
        assert contributions.sum(axis=1) == pytest.approx(full - base, abs=1e-9)
    risk = model.predict_risk(X)
    baseline_risk = model.predict_risk(np.tile(model.baselines, (X.shape[0], 1)))
    assert impacts(model, X).sum(axis=1) == pytest.approx((risk - baseline_risk) * 100, abs=1e-6)
    # a group whose value is the baseline for an account contributes nothing to it
    j = model.features.index("sponsor_silent_days")
    X[:, j] = model.baselines[j]
    contributions, _, _ = logit_contributions(model, X, groups)
    g = next(g for g, cols in enumerate(groups) if j in cols and len(cols) == 1)
    assert np.all(contributions[:, g] == 0)


def test_timing_is_context_not_cause(outcome) -> None:
    model = outcome.model
    frame = _frame()
    X = model.align(frame.names, frame.values)
    for reasons in model_reasons(model, X, top=20, min_points=0.0):
        causes = [r for r in reasons if r["kind"] == "cause"]
        assert all(r["signal"] != "days_to_renewal" for r in causes)
        context = [r for r in reasons if r["kind"] == "context"]
        assert [r["signal"] for r in context] in ([], ["days_to_renewal"])


def test_record_feedback(engine: Engine) -> None:
    clock = FixedClock(dt.datetime(2026, 6, 1, 9))
    with Session(engine, expire_on_commit=False) as session:
        session.add(Account(account_id="acme", name="Acme"))
        session.commit()
        row = record_feedback(
            session,
            "acme",
            dt.date(2026, 5, 30),
            "not_a_risk",
            "U123",
            "slack",
            clock,
            note="renewing",
        )
        session.commit()
        stored = session.get(Feedback, row.id)
        assert (stored.label, stored.by, stored.created_at) == ("not_a_risk", "U123", clock.now())
        audit = session.exec(select(AuditLog).where(AuditLog.action == "churn_feedback")).one()
        assert audit.entity_id == "acme" and audit.detail["label"] == "not_a_risk"
        with pytest.raises(FeedbackError, match="label: 'meh'"):
            record_feedback(session, "acme", dt.date(2026, 5, 30), "meh", "U1", "slack", clock)
        with pytest.raises(FeedbackError, match="account_id: no account 'nope'"):
            record_feedback(session, "nope", dt.date(2026, 5, 30), "saved", "U1", "slack", clock)
