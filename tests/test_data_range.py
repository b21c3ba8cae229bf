"""The imported data's date range, and the jobs (score, digests, retrain, triggers) saying
in one line, and doing nothing, outside it."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, func, select

from bot.runtime import Runtime
from bot.scheduling.jobs import digests, retrain, score, triggers
from bot.settings import load_settings
from storage.clock import FixedClock
from storage.data_range import DataRange, data_range, outside_range
from storage.models import Account, AccountScore, OutboxMessage, PlaybookRun, UsageEvent
from storage.models.ml import ModelVersion


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


def _book_ending(engine, last: dt.datetime) -> None:
    with Session(engine) as session:
        session.add(Account(account_id="A1", name="Acme", owner="a@x.io"))
        session.add(UsageEvent(account_id="A1", timestamp=dt.datetime(2026, 1, 5), event="login"))
        session.add(UsageEvent(account_id="A1", timestamp=last, event="login"))
        session.add(AccountScore(account_id="A1", as_of=last.date(), health=30.0, band="critical",
                                 churn_risk=0.7, arr=1000.0, reasons=[]))  # fmt: skip
        session.commit()


RANGE = "2026-06-01 is 92 days after the imported data (2026-01-05 to 2026-03-01)"


def test_digest_retrain_and_trigger_jobs_say_so_past_the_data(engine, database_url) -> None:
    """The digest job queues nothing (March's scores would read as today's), the retrain
    and trigger jobs change nothing; each says why in one line naming the range."""
    _book_ending(engine, dt.datetime(2026, 3, 1))
    settings = load_settings(database_url=database_url, digest_channel="C0DIGEST")
    runtime = Runtime(settings=settings)
    runtime.__dict__["engine"] = engine
    monday_morning = FixedClock(dt.datetime(2026, 6, 1, 10, 0))
    detail = digests(runtime, monday_morning)
    assert detail["due"] == 1 and detail["queued"] == 0
    assert detail["skipped"] == RANGE
    assert retrain(runtime, monday_morning)["skipped"] == RANGE
    assert triggers(runtime, monday_morning)["skipped"] == RANGE
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(OutboxMessage)).one() == 0
        assert session.exec(select(func.count()).select_from(PlaybookRun)).one() == 0
        assert session.exec(select(func.count()).select_from(ModelVersion)).one() == 0


def test_digest_job_within_the_data_queues_as_before(engine, database_url) -> None:
    _book_ending(engine, dt.datetime(2026, 5, 31))
    settings = load_settings(database_url=database_url, digest_channel="C0DIGEST")
    runtime = Runtime(settings=settings)
    runtime.__dict__["engine"] = engine
    detail = digests(runtime, FixedClock(dt.datetime(2026, 6, 1, 10, 0)))
    assert "skipped" not in detail and detail["queued"] == 1


def test_digest_job_logs_the_outside_the_data_line_once_a_day(engine, database_url, caplog) -> None:
    """The job runs every few minutes; its warning comes once per day, the detail each run."""
    import logging

    from bot.scheduling import jobs

    _book_ending(engine, dt.datetime(2026, 3, 1))
    jobs._SKIP_LOGGED.pop(engine, None)
    settings = load_settings(database_url=database_url, digest_channel="C0DIGEST")
    runtime = Runtime(settings=settings)
    runtime.__dict__["engine"] = engine

    def warnings() -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.levelno == logging.WARNING and "not queued" in r.getMessage()
        ]

    caplog.set_level(logging.DEBUG, logger="csbot.scheduling")
    for minute in (0, 5, 10):
        detail = digests(runtime, FixedClock(dt.datetime(2026, 6, 1, 10, minute)))
        assert detail["skipped"] == RANGE
    assert warnings() == [f"digests for 2026-06-01 not queued: {RANGE}"]
    digests(runtime, FixedClock(dt.datetime(2026, 6, 2, 10, 0)))  # the next day says so again
    assert len(warnings()) == 2 and "2026-06-02" in warnings()[1]
