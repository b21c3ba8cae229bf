"""The noise budget: the pure policy, then the real scheduler jobs (alerts, reminders,
digests) over simulated days against the fake Slack server, on SQLite and PostgreSQL.

Three CSMs with 30 troubled accounts each and 12 overdue steps each: without the budget
that was 30 alerts and 12 reminder DMs a day per person; with it, at most 3 messages a
person a day, one reminders roll-up, the rest held and counted.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.delivery.budget import Decision, Kind, Spent, decide, held_count
from bot.delivery.prefs import Prefs
from bot.home.messages import home_view
from bot.home.service import load_home
from bot.runtime import Runtime
from bot.scheduling import jobs
from bot.settings import load_settings
from storage.clock import FixedClock
from storage.models import Account, AccountScore, OutboxMessage, PlaybookRun, PlaybookStep
from storage.models.noise import DeliveryLedger, PersonPrefs
from tests.test_delivery_fake import running_history_slack

MONDAY = dt.date(2026, 6, 1)
CSMS = [(f"csm{i}@example.com", f"UCSM{i}") for i in range(3)]
UTC = dt.UTC


# -- the pure policy ----------------------------------------------------------------------------
def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=UTC)


def test_policy_one_digest_two_urgent_rest_held() -> None:
    prefs = Prefs()
    noon = at(MONDAY, 12)
    assert (
        decide(
            Kind.DIGEST,
            urgent=False,
            prefs=prefs,
            spent=Spent(),
            local_now=noon,
            realtime_per_day=2,
        ).decision
        is Decision.SENT
    )
    assert (
        decide(
            Kind.DIGEST,
            urgent=False,
            prefs=prefs,
            spent=Spent(digests=1),
            local_now=noon,
            realtime_per_day=2,
        ).reason
        == "one digest a day"
    )
    saturday = at(MONDAY + dt.timedelta(days=5), 12)
    assert (
        decide(
            Kind.DIGEST,
            urgent=False,
            prefs=prefs,
            spent=Spent(),
            local_now=saturday,
            realtime_per_day=2,
        ).reason
        == "not a digest day"
    )
    assert (
        decide(
            Kind.ALERT, urgent=False, prefs=prefs, spent=Spent(), local_now=noon, realtime_per_day=2
        ).reason
        == "can wait for the digest"
    )
    assert (
        decide(
            Kind.ALERT,
            urgent=True,
            prefs=prefs,
            spent=Spent(realtime=1),
            local_now=noon,
            realtime_per_day=2,
        ).decision
        is Decision.SENT
    )
    assert (
        decide(
            Kind.ALERT,
            urgent=True,
            prefs=prefs,
            spent=Spent(realtime=2),
            local_now=noon,
            realtime_per_day=2,
        ).reason
        == "daily budget spent"
    )
    everything = Prefs(delivery="everything")
    assert (
        decide(
            Kind.ALERT,
            urgent=False,
            prefs=everything,
            spent=Spent(),
            local_now=noon,
            realtime_per_day=2,
        ).decision
        is Decision.SENT
    )
    digest_only = Prefs(delivery="digest")
    assert (
        decide(
            Kind.REMINDERS,
            urgent=True,
            prefs=digest_only,
            spent=Spent(),
            local_now=noon,
            realtime_per_day=2,
        ).reason
        == "digest only"
    )
    away = Prefs(away_until=MONDAY)
    assert (
        decide(
            Kind.DIGEST, urgent=False, prefs=away, spent=Spent(), local_now=noon, realtime_per_day=2
        ).reason
        == "away"
    )
    assert (
        decide(
            Kind.LEADERS,
            urgent=False,
            prefs=away,
            spent=Spent(realtime=9),
            local_now=noon,
            realtime_per_day=2,
        ).decision
        is Decision.SENT
    )


def test_policy_defers_urgent_messages_to_the_end_of_quiet_hours() -> None:
    berlin = dt.datetime(2026, 6, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    verdict = decide(Kind.ALERT, urgent=True, prefs=Prefs(quiet=(dt.time(22), dt.time(7))), spent=Spent(), local_now=berlin, realtime_per_day=2)  # fmt: skip
    assert verdict.decision is Decision.DEFERRED
    assert verdict.not_before == dt.datetime(2026, 6, 2, 7, 0, tzinfo=berlin.tzinfo)
    no_quiet = decide(Kind.ALERT, urgent=True, prefs=Prefs(quiet=None), spent=Spent(), local_now=berlin, realtime_per_day=2)  # fmt: skip
    assert no_quiet.decision is Decision.SENT


# -- through the real jobs and the fake Slack server ---------------------------------------------
@pytest.fixture
def slack():
    yield from running_history_slack()


def seed_book(engine: Any, days: int) -> None:
    """3 CSMs × 30 at-risk accounts scored each day (4 each turn critical on day 2), and
    12 overdue steps per CSM."""
    with Session(engine) as session:
        for c, (email, _uid) in enumerate(CSMS):
            for a in range(30):
                account_id = f"c{c}-a{a:02d}"
                session.add(Account(account_id=account_id, name=f"Account {c}/{a}", owner=email))
                for d in range(days):
                    critical = d >= 1 and a < 4
                    session.add(
                        AccountScore(
                            account_id=account_id,
                            as_of=MONDAY + dt.timedelta(days=d),
                            health=30.0 if critical else 50.0,
                            band="critical" if critical else "at_risk",
                            health_delta_30d=-12.0,
                            direction="falling",
                            churn_risk=0.4,
                            arr=50_000.0 + a * 1000,
                            reasons=[
                                {
                                    "signal": "login_change",
                                    "impact": -9.0,
                                    "text": "Logins down 40%",
                                }
                            ],
                        )
                    )
            for r in range(3):
                run = PlaybookRun(account_id=f"c{c}-a{r:02d}", playbook="churn_risk_save", status="active",
                                  started_at=dt.datetime(2026, 5, 1), started_by="scheduler", owner=email)  # fmt: skip
                session.add(run)
                session.flush()
                for s in range(4):
                    session.add(PlaybookStep(run_id=run.id or 0, position=s, title=f"Step {s}", kind="task",
                                             owner_role="csm", owner=email, due_at=dt.datetime(2026, 5, 20 + s)))  # fmt: skip
        session.commit()


def runtime_for(engine: Any, clock: FixedClock, slack: Any, **settings: Any) -> Runtime:
    runtime = Runtime(
        settings=load_settings(
            database_url=engine.url.render_as_string(hide_password=False),
            slack_bot_token="xoxb-test",
            slack_api_url=slack.api_url,
            timezone="UTC",
            **settings,
        ),
        clock=clock,
    )
    runtime.__dict__["engine"] = engine
    return runtime


def simulate(
    runtime: Runtime, clock: FixedClock, slack: Any, days: int
) -> dict[tuple[str, int], Counter]:
    """Fire the jobs as the scheduler would (alerts at 02:00, reminders hourly, digests every
    hour here), and count what reached Slack per channel per day, by kind of message."""
    got: dict[tuple[str, int], Counter] = defaultdict(Counter)
    for d in range(days):
        seen = len(slack.calls_to("chat.postMessage"))
        for hour in range(24):
            clock.set(dt.datetime.combine(MONDAY + dt.timedelta(days=d), dt.time(hour, 5)))
            if hour == 2:
                jobs.alerts(runtime, clock)
            jobs.reminders(runtime, clock)
            jobs.digests(runtime, clock)
        for call in slack.calls_to("chat.postMessage")[seen:]:
            text = call.args.get("text") or ""
            kind = (
                "reminders"
                if text.startswith("Reminders")
                else "digest"
                if "need" in text
                else "alert"
            )
            got[(call.args["channel"], d)][kind] += 1
    return got


def test_budget_holds_through_the_scheduler_jobs(engine, slack) -> None:
    days = 3
    seed_book(engine, days)
    for email, uid in CSMS:
        slack.add_user(email, uid, tz="UTC")
    clock = FixedClock(dt.datetime.combine(MONDAY, dt.time(0, 5)))
    runtime = runtime_for(engine, clock, slack)
    got = simulate(runtime, clock, slack, days)

    for (channel, day), kinds in got.items():
        assert sum(kinds.values()) <= 3, (channel, day, kinds)
        # Every day here is a digest day: the roll-up rides inside the digest.
        assert kinds["reminders"] == 0 and kinds["digest"] <= 1
    for _email, uid in CSMS:
        assert [got[(uid, d)]["digest"] for d in range(days)] == [1, 1, 1]
        # Day 2: four accounts cross into critical; two reach the CSM (after quiet hours).
        assert got[(uid, 1)]["alert"] + got[(uid, 1)]["reminders"] <= 2
        assert got[(uid, 1)]["alert"] >= 1
    with Session(engine) as session:
        ledger = session.exec(select(DeliveryLedger)).all()
        held = [row for row in ledger if row.decision == "held"]
        assert len(held) >= 90  # 30 at-risk alerts a CSM on day 1 alone waited for the digest
        deferred = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "alert")).all()
        assert deferred and all(row.next_attempt_at.time() >= dt.time(7) for row in deferred)
        # No message skipped the budget: every outbox row has a ledger decision.
        decided = {row.key for row in ledger}
        assert {row.idempotency_key for row in session.exec(select(OutboxMessage))} <= decided
        # The held updates are counted and shown on the App Home.
        waiting = held_count(session, CSMS[0][0])
        home = load_home(session, CSMS[0][0], as_of=MONDAY + dt.timedelta(days=2), now=clock.now())
    view = json.dumps(home_view(home))
    if waiting:
        assert f"{waiting} update" in view and "held for your next digest" in view
    assert any(
        "held since your last digest" in json.dumps(c.args.get("blocks"))
        for c in slack.calls_to("chat.postMessage")
    )


def test_reminders_fold_into_the_digest_and_go_alone_only_without_one(engine, slack) -> None:
    seed_book(engine, 2)
    for email, uid in CSMS:
        slack.add_user(email, uid, tz="UTC")
    clock = FixedClock(dt.datetime.combine(MONDAY, dt.time(0, 5)))
    # Room for Tuesday's four critical alerts and the roll-up: only digest days matter here.
    runtime = runtime_for(engine, clock, slack, digest_days="mon", realtime_per_day=6)
    got = simulate(runtime, clock, slack, 2)

    for _email, uid in CSMS:
        # Monday, a digest day: one digest carrying the roll-up, no second message for it.
        assert (got[(uid, 0)]["digest"], got[(uid, 0)]["reminders"]) == (1, 0)
        # Tuesday, no digest: the roll-up goes on its own, once.
        assert (got[(uid, 1)]["digest"], got[(uid, 1)]["reminders"]) == (0, 1)
    monday = [
        c.args
        for c in slack.calls_to("chat.postMessage")
        if c.args["channel"] == CSMS[0][1] and "need" in c.args["text"]
    ]
    folded = next(b for b in monday[0]["blocks"] if b.get("block_id") == "digest-reminders")
    assert "Your overdue steps" in folded["text"]["text"] and "Step 0" in folded["text"]["text"]
    with Session(engine) as session:
        row = session.exec(
            select(DeliveryLedger).where(
                DeliveryLedger.key == f"reminders:{CSMS[0][0]}:{MONDAY.isoformat()}"
            )
        ).one()
    assert row.decision == "folded"


def test_settings_change_what_a_person_receives(engine, slack) -> None:
    days = 2
    seed_book(engine, days)
    for email, uid in CSMS:
        slack.add_user(email, uid, tz="UTC")
    (quiet, quiet_id), (away, away_id), (cover, cover_id) = CSMS
    with Session(engine) as session:
        session.add(
            PersonPrefs(
                user_id=quiet_id, email=quiet, delivery="digest", updated_at=dt.datetime(2026, 5, 1)
            )
        )
        session.add(PersonPrefs(user_id=away_id, email=away, away_until=MONDAY + dt.timedelta(days=1), cover=cover,
                                updated_at=dt.datetime(2026, 5, 1)))  # fmt: skip
        session.add(
            PersonPrefs(
                user_id=cover_id,
                email=cover,
                digest_time="10:00",
                updated_at=dt.datetime(2026, 5, 1),
            )
        )
        session.commit()
    clock = FixedClock(dt.datetime.combine(MONDAY, dt.time(0, 5)))
    runtime = runtime_for(engine, clock, slack)
    got = simulate(runtime, clock, slack, days)

    # "digest only": nothing but the digest, ever.
    assert all(set(got[(quiet_id, d)]) == {"digest"} for d in range(days))
    # Away: no message at all; the cover's digest takes the accounts (60 need them).
    assert all(not got[(away_id, d)] for d in range(days))
    cover_digests = [
        c.args
        for c in slack.calls_to("chat.postMessage")
        if c.args["channel"] == cover_id and "need" in c.args["text"]
    ]
    assert len(cover_digests) == 2 and cover_digests[0]["text"].startswith(
        "60 accounts need you today"
    )
    # The cover's own digest time (10:00) is kept.
    with Session(engine) as session:
        row = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.idempotency_key == f"digest:{cover}:2026-06-01"
            )
        ).one()
        assert row.created_at.time() >= dt.time(10)
        reasons = Counter(
            r.reason
            for r in session.exec(select(DeliveryLedger).where(DeliveryLedger.recipient == away))
        )
    assert reasons["away"] >= 1


def test_snooze_reasons_silence_alerts_and_expire(session: Session) -> None:
    from bot.accounts.snooze import SnoozeError, active_snooze, snooze_account
    from bot.alerts.service import raise_alerts
    from storage.models import Feedback, SlackUser

    clock = FixedClock(dt.datetime(2026, 6, 1, 12, 0))
    settings = load_settings(
        _env_file=None, default_delivery="everything", realtime_per_day=10, quiet_hours=""
    )
    session.add(Account(account_id="acc-1", name="Acme", owner="dana@x.io"))
    session.add(
        SlackUser(email="dana@x.io", user_id="U1", source="mapping", fetched_at=clock.now())
    )
    session.commit()
    with pytest.raises(SnoozeError, match="note"):
        snooze_account(session, account_id="acc-1", reason="other", days=7, by="U1", clock=clock)
    snooze_account(
        session,
        account_id="acc-1",
        reason="known_issue",
        days=3,
        by="U1",
        clock=clock,
        note="outage",
    )
    session.commit()
    assert active_snooze(session, "acc-1", clock.now()).label == "known issue: outage"  # type: ignore[union-attr]

    def critical_on(day: dt.date) -> list[str]:
        session.add(
            AccountScore(
                account_id="acc-1", as_of=day, health=30.0, band="critical", churn_risk=0.2, arr=1.0
            )
        )
        session.commit()
        clock.set(dt.datetime.combine(day, dt.time(12)))
        rows = raise_alerts(session, as_of=day, clock=clock, settings=settings)
        session.commit()
        return [row.idempotency_key for row in rows]

    assert critical_on(MONDAY) == []  # snoozed: silent
    assert critical_on(MONDAY + dt.timedelta(days=2)) == []
    assert critical_on(MONDAY + dt.timedelta(days=4)) == [
        "alert:acc-1:band:critical:2026-06-05"
    ]  # expired
    assert active_snooze(session, "acc-1", clock.now()) is None
    # "Not a real risk" also gives the churn model its label.
    snooze_account(
        session, account_id="acc-1", reason="not_a_real_risk", days=7, by="U1", clock=clock
    )
    session.commit()
    assert (
        session.exec(select(Feedback).where(Feedback.label == "not_a_risk")).one().account_id
        == "acc-1"
    )
