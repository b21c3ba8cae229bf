"""The digest job: each CSM's digest once a day, at their local digest time, at Slack's pace.

CSMs in three time zones (from Slack's user records), and 200 CSMs' digests in one
channel, on SQLite and PostgreSQL, with time moved by the FixedClock only.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlmodel import Session, select

from bot.runtime import Runtime
from bot.scheduling import jobs
from bot.settings import load_settings
from storage.clock import FixedClock
from storage.models import Account, AccountScore, OutboxMessage
from tests.test_delivery_fake import running_history_slack

AS_OF = dt.date(2026, 6, 1)
ZONES = ("Europe/Berlin", "Asia/Tokyo", "America/New_York")


@pytest.fixture
def slack():
    """The fake Slack Web API (stops without the shared fixture's 0.5 s poll)."""
    yield from running_history_slack()


def book(engine, count: int) -> list[str]:
    emails = [f"csm{i:03d}@example.com" for i in range(count)]
    with Session(engine) as session:
        for i, email in enumerate(emails):
            account_id = f"acc-{i:03d}"
            session.add(Account(account_id=account_id, name=f"Account {i}", owner=email))
            session.add(
                AccountScore(
                    account_id=account_id,
                    as_of=AS_OF,
                    health=35.0,
                    band="critical",
                    health_delta_30d=-20.0,
                    direction="falling",
                    churn_risk=0.7,
                    arr=100_000.0,
                    reasons=[
                        {"signal": "login_change", "impact": -12.0, "text": "Logins down 46%"}
                    ],
                )
            )
        session.commit()
    return emails


def runtime_for(engine, database_url, clock, slack, **settings) -> Runtime:
    runtime = Runtime(
        settings=load_settings(
            database_url=database_url,
            slack_bot_token="xoxb-test",
            slack_api_url=slack.api_url,
            digest_time=dt.time(8, 30),
            timezone="UTC",
            **settings,
        ),
        clock=clock,
    )
    runtime.__dict__["engine"] = engine
    return runtime


def posts_by_channel(slack) -> Counter:
    return Counter(call.args["channel"] for call in slack.calls_to("chat.postMessage"))


def outbox(engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage)))


def test_each_csm_gets_one_digest_at_their_local_time(engine, database_url, slack, clock):
    emails = book(engine, 60)
    zone_of = {}
    for i, email in enumerate(emails):
        zone_of[f"U{i:05d}"] = ZONES[i % 3]
        slack.add_user(email, f"U{i:05d}", tz=ZONES[i % 3])
    runtime = runtime_for(engine, database_url, clock, slack)

    # 09:00 UTC: 11:00 in Berlin and 18:00 in Tokyo (due), 05:00 in New York (not yet).
    detail = jobs.digests(runtime, clock)
    due_now = {user for user, zone in zone_of.items() if zone != "America/New_York"}
    assert detail["due"] == len(due_now) and detail["sent"] == len(due_now)
    assert posts_by_channel(slack) == Counter(dict.fromkeys(due_now, 1))

    assert jobs.digests(runtime, clock)["due"] == 0  # the next tick: nothing new
    clock.set(dt.datetime(2026, 6, 1, 12, 45))  # 08:45 in New York
    jobs.digests(runtime, clock)
    clock.set(dt.datetime(2026, 6, 1, 15, 30))  # 00:30 on 2 June in Tokyo: not yet
    assert jobs.digests(runtime, clock)["due"] == 0

    assert posts_by_channel(slack) == Counter(dict.fromkeys(zone_of, 1))
    rows = outbox(engine)
    assert len(rows) == 60 and {row.status for row in rows} == {"sent"}
    assert {row.idempotency_key for row in rows} == {f"digest:{e}:2026-06-01" for e in emails}
    # One users.lookupByEmail per CSM: later ticks use the slack_users cache.
    assert len(slack.calls_to("users.lookupByEmail")) == 60


def test_200_digests_in_one_channel_keep_one_message_a_second(engine, database_url, slack):
    emails = book(engine, 200)
    clock = FixedClock(dt.datetime(2026, 6, 1, 9, 0))
    runtime = runtime_for(engine, database_url, clock, slack, digest_channel="CDIGESTS")
    detail = jobs.digests(runtime, clock)
    assert detail["due"] == 200 and detail["sent"] == 200
    assert posts_by_channel(slack) == Counter({"CDIGESTS": 200})
    rows = outbox(engine)
    assert {row.idempotency_key for row in rows} == {f"digest:{e}:2026-06-01" for e in emails}
    sent = sorted(row.sent_at for row in rows)
    gaps = [(b - a).total_seconds() for a, b in zip(sent, sent[1:], strict=False)]
    assert min(gaps) >= 1.0
    assert (sent[-1] - sent[0]).total_seconds() == pytest.approx(199, abs=1)
    assert jobs.digests(runtime, clock)["due"] == 0
    assert len(slack.calls_to("chat.postMessage")) == 200


def test_weekly_leaders_summary_is_posted_once_a_week(engine, database_url, slack, clock):
    book(engine, 3)
    runtime = runtime_for(engine, database_url, clock, slack, leaders_channel="CLEADERS")
    first = jobs.leaders(runtime, clock)
    assert first["key"] == "leaders:2026-W23" and first["sent"] == 1
    clock.advance(days=2)  # same ISO week: the outbox key keeps it to one message
    assert jobs.leaders(runtime, clock)["sent"] == 0
    clock.advance(days=5)
    assert jobs.leaders(runtime, clock)["key"] == "leaders:2026-W24"
    assert posts_by_channel(slack) == Counter({"CLEADERS": 2})
