"""The leaders' summary: retention from contracts and lifecycle, band changes, playbook results."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session

from bot.delivery.limits import validate_message
from bot.leaders.messages import leaders_summary_message
from bot.leaders.service import ContractSpan, arr_at, band_changes, build_leaders_summary, retention
from storage.models import (
    Account,
    AccountScore,
    Contract,
    LifecycleEvent,
    Outcome,
    PlaybookRun,
)

START, END = dt.date(2026, 5, 1), dt.date(2026, 6, 1)


def span(account_id: str, start: str, end: str, arr: float) -> ContractSpan:
    return ContractSpan(account_id, dt.date.fromisoformat(start), dt.date.fromisoformat(end), arr)


def test_arr_at_counts_contracts_in_force_churn_and_pending_renewals() -> None:
    spans = [
        span("grow", "2025-06-01", "2026-05-31", 100.0),
        span("grow", "2026-06-01", "2027-05-31", 150.0),  # renewed up
        span("shrink", "2025-03-01", "2027-02-28", 200.0),
        span("gone", "2025-01-01", "2026-12-31", 80.0),
        span("pending", "2025-05-15", "2026-05-14", 60.0),  # lapsed, renewal not yet signed
        span("future", "2026-07-01", "2027-06-30", 500.0),
    ]
    churned = {"gone": dt.date(2026, 5, 20)}
    assert arr_at(spans, churned, START) == {
        "grow": 100.0,
        "shrink": 200.0,
        "gone": 80.0,
        "pending": 60.0,
    }
    end = arr_at(spans + [span("shrink", "2026-05-10", "2027-02-28", -50.0)], churned, END)
    assert end == {"grow": 150.0, "shrink": 150.0, "gone": 0.0, "pending": 60.0}
    result = retention(arr_at(spans, churned, START), end)
    assert result.starting_arr == 440.0 and result.ending_arr == 360.0
    assert (result.expansion, result.contraction, result.churned) == (50.0, 50.0, 80.0)
    assert result.nrr == pytest.approx(360 / 440)
    assert result.grr == pytest.approx((440 - 50 - 80) / 440)
    assert retention({}, {}).nrr is None


def test_band_changes_worst_first() -> None:
    before = {
        "a": ("neutral", 65.0),
        "b": ("healthy", 85.0),
        "c": ("at_risk", 50.0),
        "d": ("neutral", 70.0),
    }
    after = [
        ("a", "A", None, "at_risk", 55.0, 10.0),
        ("b", "B", None, "critical", 35.0, 5.0),
        ("c", "C", None, "neutral", 62.0, 1.0),
        ("d", "D", None, "neutral", 71.0, 1.0),
        ("e", "E", None, "critical", 20.0, 1.0),  # new account: no change to report
    ]
    changes = band_changes(before, after)
    assert [(c.account_id, c.worsened) for c in changes] == [("b", True), ("a", True), ("c", False)]


def test_build_leaders_summary(session: Session) -> None:
    for account_id, band_then, band_now, arr in (
        ("a", "healthy", "healthy", 100_000.0),
        ("b", "neutral", "critical", 50_000.0),
        ("c", "at_risk", "neutral", 20_000.0),
    ):
        session.add(Account(account_id=account_id, name=f"Acc {account_id}", owner="dana@x.io"))
        session.add(
            AccountScore(account_id=account_id, as_of=START, health=70.0, band=band_then, arr=arr)
        )
        session.add(
            AccountScore(account_id=account_id, as_of=END, health=50.0, band=band_now, arr=arr)
        )
        session.add(
            Contract(
                contract_id=f"k-{account_id}",
                account_id=account_id,
                start_date=dt.date(2025, 9, 1),
                end_date=dt.date(2026, 8, 31),
                arr=arr,
            )
        )
    session.add(
        Contract(
            contract_id="k-a2",
            account_id="a",
            start_date=dt.date(2026, 5, 15),
            end_date=dt.date(2026, 8, 31),
            arr=25_000.0,
        )
    )
    session.add(
        LifecycleEvent(account_id="c", occurred_at=dt.datetime(2026, 5, 28), kind="churned")
    )
    session.add(
        PlaybookRun(
            id=1,
            account_id="b",
            playbook="churn_risk_save",
            started_at=dt.datetime(2026, 5, 10),
            started_by="scheduler",
        )
    )
    session.add(
        Outcome(
            run_id=1,
            account_id="b",
            kind="saved",
            by="U1",
            created_at=dt.datetime(2026, 5, 25),
            arr_change=5000.0,
        )
    )
    session.commit()
    summary = build_leaders_summary(session, start=START, end=END)
    assert summary.distribution["critical"] == (1, 50_000.0)
    assert summary.retention.starting_arr == 170_000.0
    assert summary.retention.ending_arr == 175_000.0
    assert summary.retention.grr == pytest.approx(150_000 / 170_000)
    assert [(c.account_id, c.to_band) for c in summary.band_changes] == [
        ("b", "critical"),
        ("c", "neutral"),
    ]
    (result,) = summary.playbooks
    assert (result.playbook, result.started, result.outcomes, result.arr_change) == (
        "churn_risk_save",
        1,
        {"saved": 1},
        5000.0,
    )
    message = validate_message(leaders_summary_message(summary))
    assert "NRR 102.9%" in message["text"]
    # the weekly job's form: a session and the period's last day
    same = validate_message(leaders_summary_message(session, as_of=END, period_days=31))
    assert same["text"] == message["text"]
