"""Backtest retrains use feedback only if it had been given by their date."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session

from scoring.churn.config import TrainingConfig
from scoring.churn.feedback import record_feedback
from scoring.churn.labels import FeedbackLabel, load_feedback
from scoring.churn.synthetic import synthetic_history
from scoring.churn.train import label_snapshots
from storage.clock import FixedClock
from storage.models import Account

CFG = TrainingConfig()


def test_feedback_counts_only_from_the_day_it_was_given() -> None:
    snaps, events = synthetic_history(40, 60, seed=1)
    account = str(snaps.account_ids[0])
    first = dt.date.fromordinal(int(snaps.dates.min()))
    about = first + dt.timedelta(days=140)
    cutoff = first + dt.timedelta(days=300)
    late = FeedbackLabel(account, about, "saved", given_on=cutoff + dt.timedelta(days=10))
    timely = FeedbackLabel(account, about, "saved", given_on=about + dt.timedelta(days=3))
    rows = snaps.account_ids == account

    before = label_snapshots(snaps, events, [late], cutoff, CFG)
    assert len(before) == len(label_snapshots(snaps, events, [], cutoff, CFG))
    after = label_snapshots(snaps, events, [timely], cutoff, CFG)
    dropped = len(before) - len(after)
    saved_window = (snaps.dates[rows] >= about.toordinal() - 90) & (
        snaps.dates[rows] <= about.toordinal()
    )
    assert dropped == int(saved_window.sum()) > 0
    # a retrain after it was given sees it
    later = label_snapshots(snaps, events, [late], cutoff + dt.timedelta(days=10), CFG)
    assert np.sum(later.account_ids == account) < np.sum(
        label_snapshots(snaps, events, [], cutoff + dt.timedelta(days=10), CFG).account_ids
        == account
    )


def test_load_feedback_knows_when_it_was_given(engine: Engine) -> None:
    clock = FixedClock(dt.datetime(2026, 3, 10, 9))
    with Session(engine) as session:
        session.add(Account(account_id="A1", name="Acme", owner="csm@example.com"))
        session.commit()
        record_feedback(session, "A1", dt.date(2026, 2, 1), "not_a_risk", "csm", "cli", clock)
        session.commit()
    (item,) = load_feedback(engine, known_by=dt.date(2026, 3, 31))
    assert item.as_of == dt.date(2026, 2, 1) and item.given_on == dt.date(2026, 3, 10)
    assert item.known_by(dt.date(2026, 3, 10)) and not item.known_by(dt.date(2026, 3, 9))
    assert load_feedback(engine, known_by=dt.date(2026, 3, 9)) == []
