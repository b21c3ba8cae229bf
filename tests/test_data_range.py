"""The imported data's date range, and the score job saying (not scoring) outside it."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, func, select

from bot.runtime import Runtime
from bot.scheduling.jobs import score
from bot.settings import load_settings
from storage.clock import FixedClock
from storage.data_range import DataRange, data_range, outside_range
from storage.models import Account, AccountScore, UsageEvent


def test_range_and_the_one_line_outside_it(engine) -> None:
    assert data_range(engine) is None
    with Session(engine) as session:
        session.add(Account(account_id="A1", name="Acme", owner="a@x.io"))
        for day in (dt.datetime(2026, 1, 5, 10), dt.datetime(2026, 3, 31, 23)):
            session.add(UsageEvent(account_id="A1", timestamp=day, event="login"))
        session.commit()
    span = data_range(engine)
    assert span == DataRange(dt.date(2026, 1, 5), dt.date(2026, 3, 31))
    assert outside_range(dt.date(2026, 2, 1), span) is None
    assert outside_range(dt.date(2026, 4, 2), span) is None  # a nightly import's lag
    assert outside_range(dt.date(2026, 1, 4), span) == (
        "2026-01-04 is before the imported data (2026-01-05 to 2026-03-31)"
    )
    assert outside_range(dt.date(2026, 4, 14), span) == (
        "2026-04-14 is 14 days after the imported data (2026-01-05 to 2026-03-31)"
    )
    assert "no usage data" in (outside_range(dt.date(2026, 1, 1), None) or "")


def test_score_job_says_so_and_stores_nothing_past_the_data(engine, database_url) -> None:
    with Session(engine) as session:
        session.add(Account(account_id="A1", name="Acme", owner="a@x.io"))
        session.add(UsageEvent(account_id="A1", timestamp=dt.datetime(2026, 3, 1), event="login"))
        session.commit()
    runtime = Runtime(settings=load_settings(database_url=database_url))
    runtime.__dict__["engine"] = engine
    detail = score(runtime, FixedClock(dt.datetime(2026, 6, 1, 6, 0)))
    assert detail["skipped"] == (
        "2026-06-01 is 92 days after the imported data (2026-03-01 to 2026-03-01)"
    )
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(AccountScore)).one() == 0
