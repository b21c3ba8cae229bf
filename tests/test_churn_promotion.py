"""Champion and challenger: a new model is active only if it beats the active one."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from scoring.churn.config import TrainingConfig
from scoring.churn.registry import active_version, decide_promotion, list_versions, store_outcome
from scoring.churn.synthetic import synthetic_history
from scoring.churn.train import label_snapshots, train_on_snapshots
from storage.clock import FixedClock

CFG = TrainingConfig(algorithms=("logistic_regression",))


def test_decide_promotion_rules() -> None:
    window = "2025-01-01–2025-03-01"
    assert decide_promotion(0.4, None, metric="pr_auc", champion_version=None, window=window)[0]
    promoted, note = decide_promotion(
        0.6, 0.5, metric="pr_auc", champion_version="churn-v1", window=window
    )
    assert promoted and note == f"promoted: PR AUC 0.600 beats 0.500 of churn-v1 on {window}"
    promoted, note = decide_promotion(
        0.5, 0.5, metric="pr_auc", champion_version="churn-v1", window=window
    )
    assert not promoted and "does not beat 0.500 of churn-v1" in note
    promoted, note = decide_promotion(
        None, 0.5, metric="pr_auc", champion_version="churn-v1", window=window
    )
    assert not promoted and "not validated" in note
    promoted, note = decide_promotion(
        0.9, None, metric="pr_auc", champion_version="churn-v1", window=window
    )
    assert not promoted and "cannot be scored" in note


def _outcome(cutoff_weeks: int, cfg: TrainingConfig):
    snaps, events = synthetic_history(100, 70, seed=3)
    cutoff = dt.date.fromordinal(int(snaps.dates.min()) + 7 * cutoff_weeks)
    labelled = label_snapshots(snaps, events, [], cutoff, cfg)
    return train_on_snapshots(labelled, cutoff, cfg)


def test_champion_challenger_on_the_same_window(engine: Engine) -> None:
    clock = FixedClock(dt.datetime(2026, 6, 1, 9))
    good = _outcome(70, CFG)
    noise_only = _outcome(70, dataclasses.replace(CFG, features=("noise_a", "noise_b")))
    with Session(engine, expire_on_commit=False) as session:
        first = store_outcome(session, good, clock, CFG)
        session.commit()
        assert first.active and first.promotion_note == "promoted: no active model to compare with"

        clock.advance(hours=1)
        weak = store_outcome(session, noise_only, clock, CFG)
        session.commit()
        assert not weak.active
        assert weak.promotion_note.startswith("not promoted: PR AUC")
        assert "churn-v1" in weak.promotion_note and "stays active" in weak.promotion_note
        assert weak.metrics["champion_on_window"]["pr_auc"] > weak.metrics["validation"]["pr_auc"]
        assert active_version(session).version == "churn-v1"

        # a retrain with the same recipe on the same window does not beat itself either
        clock.advance(hours=1)
        same = store_outcome(session, _outcome(70, CFG), clock, CFG)
        session.commit()
        assert not same.active and "does not beat" in same.promotion_note

    # after the weak one, make the noise model the champion and let the good one win
    with Session(engine, expire_on_commit=False) as session:
        for row in list_versions(session):
            row.active = row.version == weak.version
            session.add(row)
        session.commit()
        clock.advance(hours=1)
        better = store_outcome(session, _outcome(70, CFG), clock, CFG)
        session.commit()
        assert better.active, better.promotion_note
        assert better.promotion_note.startswith("promoted: PR AUC")
        assert [r.version for r in list_versions(session) if r.active] == [better.version]
        assert better.metrics["validation"]["roc_auc"] == pytest.approx(
            good.chosen_metrics["roc_auc"]
        )


def test_champion_trained_later_cannot_judge_an_earlier_window(engine: Engine) -> None:
    clock = FixedClock(dt.datetime(2026, 6, 1, 9))
    with Session(engine, expire_on_commit=False) as session:
        store_outcome(session, _outcome(70, CFG), clock, CFG)
        session.commit()
        clock.advance(hours=1)
        earlier = store_outcome(session, _outcome(55, CFG), clock, CFG)
        session.commit()
        assert not earlier.active
        assert "cannot be scored" in earlier.promotion_note
