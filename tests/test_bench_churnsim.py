"""ChurnSim's crm5 book, converted by bench/books/churnsim.py, imports cleanly into csbot."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

pytest.importorskip(
    "fightchurn.churnsim.churnsim",
    reason="ChurnSim is not installed: pip install -e '.[bench]' && pip install --no-deps fightchurn",
)

from bench.books.churnsim import account_id, simulate, write_contract  # noqa: E402
from storage.ingest import import_directory  # noqa: E402
from storage.models.contract import Account, Contract, LifecycleEvent, UsageEvent  # noqa: E402


@pytest.fixture(scope="module")
def book():
    return simulate(seed=3, customers=6, months=4, end=dt.date(2026, 6, 1))


def test_simulation_runs_in_memory_with_the_packages_own_customers(book) -> None:
    assert len(book.customers) >= 6
    assert book.start == dt.date(2026, 2, 1)
    assert all(c.events for c in book.customers[:6])
    # the simulator's own monthly churn probability is kept for each customer-month
    assert book.month_end_risk and all(0.0 <= p <= 1.0 for _, _, p in book.month_end_risk)
    assert set(book.churn_dates) <= {c.id for c in book.customers}


def test_converted_book_is_valid_contract_data(engine, book, tmp_path: Path) -> None:
    counts = write_contract(book, tmp_path)
    report = import_directory(engine, tmp_path)
    assert report.ok, report.all_problems()[:5]
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == counts["accounts"]
        assert session.scalar(select(func.count()).select_from(Contract)) == counts["contracts"]
        assert session.scalar(select(func.count()).select_from(UsageEvent)) == counts["usage"]
        churned = set(
            session.scalars(
                select(LifecycleEvent.account_id).where(LifecycleEvent.kind == "churned")
            )
        )
        logins = session.scalar(
            select(func.count()).select_from(UsageEvent).where(UsageEvent.event == "login")
        )
    assert churned == {account_id(c) for c in book.churn_dates}
    assert counts["accounts"] == len(book.customers)
    assert 0 < logins < counts["usage"]
