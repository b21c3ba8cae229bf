"""The training set from a hand-built history, through the real signals, on both databases."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session

from scoring.churn.config import TrainingConfig
from scoring.churn.feedback import record_feedback
from scoring.churn.snapshots import grid_dates
from scoring.churn.train import build_training_set
from storage.clock import FixedClock
from storage.models import Account, Contract, LifecycleEvent, UsageEvent

START = dt.date(2025, 1, 6)
CHURN = dt.date(2025, 6, 2)  # account "leaver" churns on a Monday
CUTOFF = dt.date(2025, 9, 1)
CFG = TrainingConfig(horizon_days=28, warmup_days=14, snapshot_every_days=7, trajectory=False)


def _history(engine: Engine) -> None:
    with Session(engine) as session:
        for account_id in ("leaver", "stayer", "late"):
            session.add(
                Account(
                    account_id=account_id,
                    name=account_id.title(),
                    segment="smb",
                    created_at=dt.datetime.combine(START, dt.time()),
                )
            )
            session.add(
                Contract(
                    contract_id=f"c-{account_id}",
                    account_id=account_id,
                    start_date=START,
                    end_date=dt.date(2026, 1, 5),
                    arr=10_000,
                    seats=5,
                )
            )
            day = START
            while day < dt.date(2025, 12, 1):
                if account_id != "leaver" or day < CHURN:
                    session.add(
                        UsageEvent(
                            account_id=account_id,
                            contact_id="",
                            timestamp=dt.datetime.combine(day, dt.time(10)),
                            event="login",
                            quantity=3,
                        )
                    )
                day += dt.timedelta(days=3)
        session.add(
            LifecycleEvent(
                account_id="leaver",
                occurred_at=dt.datetime.combine(CHURN, dt.time()),
                kind="churned",
            )
        )
        # churns after the cut-off: must not reach any label of a training at CUTOFF
        session.add(
            LifecycleEvent(account_id="late", occurred_at=dt.datetime(2025, 9, 20), kind="churned")
        )
        session.commit()


def test_labels_and_no_leakage_on_a_hand_built_history(engine: Engine) -> None:
    _history(engine)
    snaps = build_training_set(engine, CUTOFF, CFG)
    ordinal = CUTOFF.toordinal()
    # every snapshot is on the weekly grid and its outcome window closed by the cut-off
    expected_dates = grid_dates(START + dt.timedelta(days=14), CUTOFF - dt.timedelta(days=28), 7)
    assert sorted({dt.date.fromordinal(int(d)) for d in snaps.dates}) == expected_dates
    assert (snaps.dates + 28 <= ordinal).all()
    leaver = snaps.account_ids == "leaver"
    # the leaver is live up to its churn day (scoring: "not churned before D"); its
    # snapshots from 28 days before through that day are positive
    assert dt.date.fromordinal(int(snaps.dates[leaver].max())) == CHURN
    positive_days = sorted(
        dt.date.fromordinal(int(d)) for d in snaps.dates[leaver & (snaps.y == 1)]
    )
    assert positive_days == [dt.date(2025, 5, d) for d in (5, 12, 19, 26)] + [CHURN]
    assert snaps.y[~leaver].sum() == 0  # the late churn is after the cut-off: unknown
    assert set(snaps.names) >= {"logins_30d", "login_change", "days_to_renewal"}
    assert np.isfinite(snaps.columns(["logins_30d"])).all()


def test_feedback_given_before_the_cutoff_is_used(engine: Engine) -> None:
    _history(engine)
    clock = FixedClock(dt.datetime(2025, 8, 1, 12))
    with Session(engine) as session:
        record_feedback(session, "stayer", dt.date(2025, 7, 28), "churned", "U1", "slack", clock)
        clock.set(dt.datetime(2025, 10, 1))  # given after the cut-off: ignored
        record_feedback(session, "late", dt.date(2025, 7, 28), "churned", "U1", "slack", clock)
        session.commit()
    snaps = build_training_set(engine, CUTOFF, CFG)
    stayer = snaps.account_ids == "stayer"
    assert snaps.y[stayer].sum() == 5  # 2025-06-30 … 2025-07-28 precede the reported churn
    assert snaps.dates[stayer].max() <= dt.date(2025, 7, 28).toordinal()
    assert snaps.y[snaps.account_ids == "late"].sum() == 0
