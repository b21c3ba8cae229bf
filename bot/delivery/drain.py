"""Deliver what a command queued, within a bounded wait, and say what is left.

A command that posts (`csbot digest --post`, `csbot demo --post`) queues rows in the
outbox and then calls `drain`: the sender runs, and while any of the command's rows is
still pending — rate limited (Retry-After) or backing off after a 5xx — `drain` waits for
the earliest retry and runs the sender again, until every row is sent or failed or the
next retry falls after the deadline. What is left is reported row by row with the time of
its next attempt, so the command can say so instead of "0 failed".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.delivery.sender import DeliveryStats, deliver_pending, sleep_for
from storage.clock import Clock
from storage.enums import OutboxStatus
from storage.models.delivery import OutboxMessage

DEFAULT_MAX_WAIT_SECONDS = 120.0
MIN_WAIT_SECONDS = 0.05


@dataclass(frozen=True)
class Leftover:
    """One of the command's rows not sent by the end of the wait."""

    key: str
    status: str
    next_attempt_at: dt.datetime | None
    error: str | None


@dataclass
class DrainReport:
    sent: list[str] = field(default_factory=list)
    failed: list[Leftover] = field(default_factory=list)
    pending: list[Leftover] = field(default_factory=list)
    runs: int = 0
    delivered: int = 0  # messages the sender sent in these runs (ours and anything else due)
    halted: str | None = None

    def pending_line(self) -> str | None:
        """`2 message(s) still pending: digest:… retried at 09:01:30 UTC (ratelimited), …`"""
        if not self.pending:
            return None
        parts = []
        for row in self.pending:
            when = (
                row.next_attempt_at.strftime("%Y-%m-%d %H:%M:%S UTC")
                if row.next_attempt_at
                else "soon"
            )
            reason = f" ({row.error})" if row.error else ""
            parts.append(f"{row.key} retried at {when}{reason}")
        return (
            f"{len(self.pending)} message(s) still pending: {'; '.join(parts)}. "
            "`csbot serve` delivers them then, or run `csbot outbox deliver`"
        )

    def failed_line(self) -> str | None:
        if not self.failed:
            return None
        parts = [f"{row.key} ({row.error or 'no detail'})" for row in self.failed]
        return (
            f"{len(self.failed)} message(s) failed for good: {'; '.join(parts)}. "
            "Fix the cause, then `csbot outbox retry`"
        )


def _rows(engine: Engine, keys: list[str]) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(OutboxMessage).where(col(OutboxMessage.idempotency_key).in_(keys))
            ).all()
        )


def _ready_at(row: OutboxMessage) -> dt.datetime:
    """When the sender may next pick the row up (its retry time, or a claim's expiry)."""
    if row.claimed_until is not None and row.claimed_until > row.next_attempt_at:
        return row.claimed_until
    return row.next_attempt_at


def drain(
    engine: Engine,
    client: Any,
    clock: Clock,
    keys: Iterable[str],
    *,
    max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
    sleep: Callable[[float], None] | None = None,
    deliver: Callable[..., DeliveryStats] = deliver_pending,
) -> DrainReport:
    """Run the sender until every row in `keys` is sent or failed, or until the next
    retry would fall more than `max_wait_seconds` after now; report each row's state."""
    wanted = list(dict.fromkeys(keys))
    pause = sleep or sleep_for(clock)
    deadline = clock.now() + dt.timedelta(seconds=max_wait_seconds)
    report = DrainReport()
    while True:
        stats = deliver(engine, client, clock)
        report.runs += 1
        report.delivered += stats.sent + stats.reconciled
        report.halted = report.halted or stats.halted
        rows = _rows(engine, wanted) if wanted else []
        waiting = [
            row for row in rows if row.status in (OutboxStatus.PENDING, OutboxStatus.SENDING)
        ]
        if not waiting or report.halted:
            break
        ready = min(_ready_at(row) for row in waiting)
        if ready > deadline or clock.now() >= deadline:
            break
        pause(max((ready - clock.now()).total_seconds(), MIN_WAIT_SECONDS))
    for row in rows:
        if row.status == OutboxStatus.SENT:
            report.sent.append(row.idempotency_key)
            continue
        leftover = Leftover(
            row.idempotency_key,
            row.status,
            _ready_at(row) if row.status != OutboxStatus.FAILED else None,
            row.last_error,
        )
        (report.failed if row.status == OutboxStatus.FAILED else report.pending).append(leftover)
    return report
