"""A generated portfolio imports cleanly through the real importer, on both databases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from storage.demo import CONTRACT_COLUMNS, generate_portfolio
from storage.models.contract import (
    Account,
    Contact,
    Contract,
    Invoice,
    LifecycleEvent,
    SurveyResponse,
    Ticket,
    Touchpoint,
    UsageEvent,
)

ingest = pytest.importorskip("storage.ingest")

TABLES = {
    "accounts": Account,
    "contracts": Contract,
    "contacts": Contact,
    "usage": UsageEvent,
    "tickets": Ticket,
    "surveys": SurveyResponse,
    "touchpoints": Touchpoint,
    "invoices": Invoice,
    "lifecycle": LifecycleEvent,
}


def test_portfolio_imports_without_problems(engine, tmp_path: Path) -> None:
    summary = generate_portfolio(tmp_path, seed=4, accounts=25, end=dt.date(2026, 11, 20), months=6)
    report = ingest.import_directory(engine, tmp_path)
    assert report.ok, [str(problem) for problem in report.all_problems()[:5]]
    assert report.all_warnings() == []
    assert {file.entity for file in report.files} == set(CONTRACT_COLUMNS)
    with Session(engine) as session:
        for name, table in TABLES.items():
            count = session.exec(select(func.count()).select_from(table)).one()[0]
            assert count == summary.rows[name], name
        churned = session.exec(
            select(func.count()).select_from(LifecycleEvent).where(LifecycleEvent.kind == "churned")
        ).one()[0]
        assert churned == summary.churned
    # Importing the same files again changes nothing.
    again = ingest.import_directory(engine, tmp_path)
    assert again.ok
    assert sum(file.inserted for file in again.files) == 0
