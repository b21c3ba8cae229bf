"""Validation that survives real installs: grouped CV on short history, retrains after the
feature set changes, alert lines chosen for the team's precision."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session

from scoring.churn.config import TrainingConfig
from scoring.churn.registry import store_outcome
from scoring.churn.synthetic import synthetic_history
from scoring.churn.thresholds import (
    expected_calibration_error,
    health_line_for_precision,
    reliability_table,
    threshold_for_precision,
)
from scoring.churn.train import label_snapshots, train_on_snapshots
from storage.clock import FixedClock

CFG = TrainingConfig(algorithms=("logistic_regression",))


def test_threshold_for_precision_takes_the_most_recall_at_that_precision() -> None:
    y = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    s = np.linspace(1.0, 0.0, y.size)
    # top 4: 3/4 churn; top 5: 3/5; top 2: 1.0
    assert threshold_for_precision(y, s, 0.6, min_flagged=1) == s[4]
    assert threshold_for_precision(y, s, 0.75, min_flagged=1) == s[3]
    assert threshold_for_precision(y, s, 0.75, min_flagged=5) is None
    assert threshold_for_precision(np.zeros(5), s[:5], 0.1) is None
    # a line never splits tied scores
    assert threshold_for_precision([1, 0, 0], [0.5, 0.5, 0.1], 0.6, min_flagged=1) is None


def test_health_line_flags_health_below_it() -> None:
    health = np.array([10.0, 20, 30, 40, 50, 60, 70, 80])
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    line = health_line_for_precision(y, health, 0.9, min_flagged=1)
    assert line is not None and 30 < line < 40
    assert ((health < line) == (y == 1)).all()


def test_reliability_table_and_ece() -> None:
    s = np.array([0.05, 0.05, 0.15, 0.95])
    y = np.array([0, 1, 0, 1])
    table = reliability_table(y, s, bins=10)
    assert len(table) == 10 and table[0]["rows"] == 2 and table[0]["observed"] == 0.5
    assert table[9]["rows"] == 1 and table[5]["rows"] == 0 and table[5]["predicted"] is None
    ece = expected_calibration_error(table)
    assert ece == np.float64(2 / 4 * 0.45 + 1 / 4 * 0.15 + 1 / 4 * 0.05)


def test_grouped_cross_validation_when_history_is_too_short_for_time() -> None:
    snaps, events = synthetic_history(240, 22, seed=4, churn_share=0.4)
    cutoff = dt.date.fromordinal(int(snaps.dates.max()) + 1)
    labelled = label_snapshots(snaps, events, [], cutoff, CFG)
    outcome = train_on_snapshots(labelled, cutoff, CFG)
    assert outcome.validation_method == "grouped_cv", outcome.note
    assert "5-fold account-grouped cross-validation" in outcome.note
    metrics = outcome.chosen_metrics
    assert metrics["roc_auc"] is not None and metrics["roc_auc"] > 0.75
    assert outcome.held_out_risk is not None and np.isfinite(outcome.held_out_risk).all()
    assert outcome.validation_from is None and outcome.validation_model is None


def test_not_validated_is_said_out_loud() -> None:
    snaps, events = synthetic_history(14, 22, seed=0, churn_share=0.25)  # 3 churned accounts
    cutoff = dt.date.fromordinal(int(snaps.dates.max()) + 1)
    labelled = label_snapshots(snaps, events, [], cutoff, CFG)
    outcome = train_on_snapshots(labelled, cutoff, CFG)
    assert outcome.validation_method == "none"
    assert outcome.note.startswith("NOT VALIDATED")


def test_alert_threshold_is_chosen_for_the_team_precision() -> None:
    snaps, events = synthetic_history(150, 70, seed=3)
    cutoff = dt.date.fromordinal(int(snaps.dates.min()) + 7 * 70)
    labelled = label_snapshots(snaps, events, [], cutoff, CFG)
    outcome = train_on_snapshots(labelled, cutoff, CFG)
    assert outcome.validation_method == "time"
    metrics = outcome.chosen_metrics
    assert outcome.alert_threshold is not None and metrics["alert_threshold_chosen"]
    assert metrics["precision_at_alert"] >= CFG.alert_precision
    assert outcome.model.alert_threshold == outcome.alert_threshold
    assert 0 <= metrics["ece"] <= 1


def test_a_retrain_after_new_signals_appear_succeeds(engine: Engine) -> None:
    """The champion's validation-phase fit saw fewer columns than its deployed fit (a
    signal that only appeared inside the validation window); scoring it on the next
    window must align by its own features, not fail on a column count."""
    snaps, events = synthetic_history(100, 70, seed=3)
    cutoff = dt.date.fromordinal(int(snaps.dates.min()) + 7 * 70)
    late = snaps.dates < int(snaps.dates.min()) + 7 * 45
    snaps.X[late, snaps.names.index("noise_b")] = np.nan  # a source connected in week 45
    first = train_on_snapshots(label_snapshots(snaps, events, [], cutoff, CFG), cutoff, CFG)
    assert first.validation_model is not None
    assert "noise_b" in first.model.features
    assert "noise_b" not in first.validation_model.features
    clock = FixedClock(dt.datetime(2026, 6, 1, 9))
    with Session(engine, expire_on_commit=False) as session:
        assert store_outcome(session, first, clock, CFG).active
        session.commit()
        later = cutoff + dt.timedelta(days=28)
        extended, more_events = synthetic_history(100, 74, seed=3)
        extended.X[extended.dates < int(extended.dates.min()) + 7 * 45, -1] = np.nan
        second = train_on_snapshots(
            label_snapshots(extended, more_events, [], later, CFG), later, CFG
        )
        clock.advance(hours=1)
        row = store_outcome(session, second, clock, CFG)
        session.commit()
        assert row.metrics["champion_on_window"] is not None, row.promotion_note
        assert "validation-phase fit" in row.promotion_note or "deployed fit" in row.promotion_note
