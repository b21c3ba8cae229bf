"""Dry run: every scheduled job over N simulated days against a copy of the stored data,
with an injected clock and a delivery sink that records instead of sending.

`replay` copies the database into a scratch SQLite file (the SQLite backup API, or a table
by table copy from PostgreSQL), so nothing in the real database changes and nothing is
posted. It fires each job at the times its own trigger gives (the every-15-minutes digest
tick thinned to `tick_minutes`), through the same runner the scheduler uses, then reads
the noise budget's ledger: messages per person per day by kind, and what was held back.
The weekly retrain posts nothing and is skipped unless asked for (`include`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session, SQLModel, col
from sqlmodel import select as sqlmodel_select

from bot.runtime import Runtime
from bot.scheduling import registry
from bot.scheduling.runner import run_job
from bot.scheduling.sink import RecordingSlack
from bot.settings import Settings
from storage.clock import FixedClock
from storage.db import is_sqlite, make_engine

SKIPPED_BY_DEFAULT = ("retrain", "deliver")  # deliver runs inside every job with the sink
HEAVY_TICK = {"digests"}


@dataclass
class ReplayReport:
    start: dt.date
    days: int
    runs: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    # (recipient, local day) → kind → count
    sent: dict[tuple[str, dt.date], Counter[str]] = field(default_factory=dict)
    held: dict[tuple[str, dt.date], Counter[str]] = field(default_factory=dict)
    held_reasons: Counter[str] = field(default_factory=Counter)
    posted: int = 0  # messages the sink received (chat.postMessage)
    unbudgeted: list[str] = field(default_factory=list)  # outbox keys that skipped the budget
    about: dict[tuple[str, dt.date], list[dict[str, Any]]] = field(default_factory=dict)
    low_risk_messages: int = 0  # sent entries about a low-risk account with no other reason

    def people(self) -> list[str]:
        return sorted({who for who, _day in self.sent} | {who for who, _day in self.held})

    def per_day_totals(self) -> list[int]:
        """Messages each recipient got on each day of the window (0 when none)."""
        recipients = self.people()
        days = [self.start + dt.timedelta(days=n) for n in range(self.days)]
        return [
            sum(self.sent.get((who, day), Counter()).values()) for who in recipients for day in days
        ]

    def as_json(self) -> dict[str, Any]:
        def table(rows: dict[tuple[str, dt.date], Counter[str]]) -> list[dict[str, Any]]:
            return [
                {"recipient": who, "day": day.isoformat(), **dict(sorted(kinds.items()))}
                for (who, day), kinds in sorted(rows.items())
            ]

        return {
            "from": self.start.isoformat(),
            "days": self.days,
            "job_runs": dict(self.runs),
            "errors": self.errors,
            "sent": table(self.sent),
            "held": table(self.held),
            "held_reasons": dict(self.held_reasons),
            "posted_to_slack_sink": self.posted,
            "unbudgeted": self.unbudgeted,
        }


class ReplayRuntime(Runtime):
    """A Runtime whose jobs deliver to `slack_client` (the sink) instead of Slack."""

    slack_client: Any = None


def copy_database(source: Engine, target_path: Path) -> Engine:
    """A scratch SQLite copy of `source` at `target_path`, at csbot's current schema."""
    from storage import migrate

    if is_sqlite(source) and source.url.database not in (None, "", ":memory:"):
        with (
            sqlite3.connect(str(source.url.database)) as src,
            sqlite3.connect(str(target_path)) as dst,
        ):
            src.backup(dst)
        target = make_engine(f"sqlite:///{target_path}")
        migrate.ensure_schema(target)
        return target
    target = make_engine(f"sqlite:///{target_path}")
    migrate.ensure_schema(target)
    with source.connect() as read, target.begin() as write:
        for table in SQLModel.metadata.sorted_tables:
            result = read.execute(select(table)).mappings()
            while chunk := result.fetchmany(5000):
                write.execute(table.insert(), [dict(row) for row in chunk])
    return target


def fire_times(
    settings: Settings, start: dt.datetime, end: dt.datetime, names: list[str], tick_minutes: int
) -> list[tuple[dt.datetime, str]]:
    """(naive UTC time, job) for every firing of the named jobs in [start, end), in order."""
    fired: list[tuple[dt.datetime, str]] = []
    aware_end = end.replace(tzinfo=dt.UTC)
    for name in names:
        spec = registry.get(name)
        if spec.trigger is None:
            continue
        trigger = spec.trigger(settings)
        previous = None
        moment = start.replace(tzinfo=dt.UTC)
        last_kept: dt.datetime | None = None
        while True:
            fire = trigger.get_next_fire_time(previous, moment)
            if fire is None or fire >= aware_end:
                break
            naive = fire.astimezone(dt.UTC).replace(tzinfo=None)
            if (
                name not in HEAVY_TICK
                or last_kept is None
                or naive - last_kept >= dt.timedelta(minutes=tick_minutes)
            ):
                fired.append((naive, name))
                last_kept = naive
            previous, moment = fire, fire + dt.timedelta(seconds=1)
    fired.sort()
    return fired


def replay(
    runtime: Runtime,
    *,
    start: dt.date,
    days: int,
    include: tuple[str, ...] = (),
    tick_minutes: int = 60,
    workdir: Path | None = None,
) -> ReplayReport:
    """Run the scheduled jobs from `start` 00:00 UTC for `days` days on a copy of the data."""
    from storage.models import OutboxMessage, SlackUser
    from storage.models.noise import DeliveryLedger

    names = [
        name
        for name, spec in registry.JOBS.items()
        if spec.trigger is not None and (name not in SKIPPED_BY_DEFAULT or name in include)
    ]
    begin = dt.datetime.combine(start, dt.time())
    end = begin + dt.timedelta(days=days)
    report = ReplayReport(start=start, days=days)
    with tempfile.TemporaryDirectory(dir=workdir) as scratch:
        engine = copy_database(runtime.engine, Path(scratch) / "replay.db")
        clock = FixedClock(begin)
        settings = runtime.settings.model_copy(
            update={"database_url": str(engine.url), "slack_bot_token": "xoxb-replay"}
        )
        sink = RecordingSlack(clock=clock, default_tz=settings.timezone)
        with Session(engine) as session:
            for user in session.exec(sqlmodel_select(SlackUser)).all():
                if user.user_id:
                    sink.users[user.email] = (user.user_id, user.tz)
            known_keys = set(session.exec(sqlmodel_select(OutboxMessage.idempotency_key)).all())
        simulated = ReplayRuntime(settings=settings, clock=clock)
        simulated.__dict__["engine"] = engine
        simulated.slack_client = sink
        for when, name in fire_times(settings, begin, end, names, tick_minutes):
            if clock.now() < when:
                clock.set(when)
            outcome = run_job(simulated, name, clock=clock, wait=False)
            report.runs[outcome.status if outcome.status != "ok" else name] += 1
            if outcome.status == "error":
                report.errors.append(f"{when:%Y-%m-%d %H:%M} {name}: {outcome.error}")
        with Session(engine) as session:
            ledger = session.exec(
                sqlmodel_select(DeliveryLedger).where(col(DeliveryLedger.created_at) >= begin)
            ).all()
            decided = set(session.exec(sqlmodel_select(DeliveryLedger.key)).all())
            new_rows = [
                row
                for row in session.exec(
                    sqlmodel_select(OutboxMessage).where(col(OutboxMessage.created_at) >= begin)
                ).all()
                if row.idempotency_key not in known_keys
            ]
        for row in ledger:
            slot = (row.recipient, row.day)
            if row.decision == "held":
                report.held.setdefault(slot, Counter())[row.kind] += 1
                report.held_reasons[row.reason or ""] += 1
            elif row.decision == "folded":  # went inside that day's digest, not a message
                report.about.setdefault(slot, []).extend(row.items or [])
            else:
                report.sent.setdefault(slot, Counter())[row.kind] += 1
                report.about.setdefault(slot, []).extend(row.items or [])
        report.unbudgeted = sorted(
            row.idempotency_key
            for row in new_rows
            if row.idempotency_key.split(":part")[0] not in decided
        )
        report.posted = sum(1 for post in sink.posted if not post.update)
        with Session(engine) as session:
            report.low_risk_messages = count_low_risk(session, report.about)
        engine.dispose()
    return report


# Entries about an account that need no risk reason: work the person owes, and growth.
REASONS_OF_THEIR_OWN = frozenset({"overdue_step", "escalation"})


def count_low_risk(session: Session, about: dict[tuple[str, dt.date], list[dict[str, Any]]]) -> int:
    """Sent entries (digest lines, alerts) about an account that, on that day, had no
    attention reason (`bot.accounts.attention.attention_why`) and was not an expansion
    candidate; overdue steps and escalations are reasons of their own."""
    from bot.accounts.attention import attention_why
    from bot.accounts.ranking import is_expansion_candidate
    from storage.models import AccountScore

    wanted = [
        (str(item.get("account_id")), day)
        for (_who, day), items in about.items()
        for item in items
        if item.get("rule") not in REASONS_OF_THEIR_OWN and item.get("account_id")
    ]
    found = 0
    latest: dict[tuple[str, dt.date], Any] = {}
    for account_id, day in wanted:
        if (account_id, day) not in latest:
            latest[(account_id, day)] = session.exec(
                sqlmodel_select(AccountScore)
                .where(AccountScore.account_id == account_id, AccountScore.as_of <= day)
                .order_by(AccountScore.as_of.desc())  # type: ignore[attr-defined]
                .limit(1)
            ).first()
        score = latest[(account_id, day)]
        if score is None:
            continue
        if not attention_why(score, day) and not is_expansion_candidate(score):
            found += 1
    return found


def summary(report: ReplayReport) -> dict[str, float]:
    """Max and median messages per person per day, and reminders' max, over the window."""
    totals = sorted(report.per_day_totals())
    reminders = [kinds.get("reminders", 0) for kinds in report.sent.values()] or [0]
    median = 0.0
    if totals:
        mid = len(totals) // 2
        median = float(totals[mid]) if len(totals) % 2 else (totals[mid - 1] + totals[mid]) / 2
    per_kind: defaultdict[str, int] = defaultdict(int)
    for kinds in report.sent.values():
        for kind, count in kinds.items():
            per_kind[kind] += count
    return {
        "people": float(len(report.people())),
        "max_per_person_day": float(max(totals, default=0)),
        "median_per_person_day": median,
        "max_reminders_per_person_day": float(max(reminders)),
        "held": float(sum(sum(c.values()) for c in report.held.values())),
        "low_risk_messages": float(report.low_risk_messages),
        **{f"sent_{kind}": float(count) for kind, count in sorted(per_kind.items())},
    }
