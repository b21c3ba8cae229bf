"""Snooze with a reason: silence an account's alerts (and keep it out of the digest) for a
chosen period, say why, and show it on the account.

Reasons are a fixed list so they can be counted: working on it, known issue, not a real
risk, customer on holiday, other (with a note). "Not a real risk" also records the
`not_a_risk` label in `feedback`, which the next training reads (`scoring.churn.feedback`,
`labels.apply_feedback`), so the model still learns from it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from storage.clock import Clock
from storage.enums import FeedbackKind, SnoozeReason, Source
from storage.models import AuditLog, Snooze

REASONS: dict[str, str] = {
    SnoozeReason.WORKING_ON_IT: "working on it",
    SnoozeReason.KNOWN_ISSUE: "known issue",
    SnoozeReason.NOT_A_REAL_RISK: "not a real risk",
    SnoozeReason.CUSTOMER_ON_HOLIDAY: "customer on holiday",
    SnoozeReason.OTHER: "other",
}
PERIOD_DAYS = (1, 3, 7, 14, 30)


class SnoozeError(ValueError):
    """A snooze that cannot be recorded; the message names the field."""


@dataclass(frozen=True)
class ActiveSnooze:
    until: dt.datetime
    by: str
    reason: str  # one of REASONS' keys, or free text for old rows
    note: str | None

    @property
    def label(self) -> str:
        text = REASONS.get(self.reason, self.reason)
        return f"{text}: {self.note}" if self.note else text


def encode_reason(reason: str, note: str | None) -> str:
    return reason if not note else f"{reason}|{note.strip()}"


def decode_reason(stored: str | None) -> tuple[str, str | None]:
    code, _sep, note = (stored or SnoozeReason.OTHER).partition("|")
    return code, note or None


def snooze_account(
    session: Session,
    *,
    account_id: str,
    reason: str,
    days: int,
    by: str,
    clock: Clock,
    note: str | None = None,
    source: str = Source.SLACK,
) -> Snooze:
    """Record the snooze (and, for "not a real risk", the model's feedback). The caller
    commits."""
    if reason not in REASONS:
        raise SnoozeError(f"reason: {reason!r} is not one of {', '.join(REASONS)}")
    if days not in PERIOD_DAYS:
        raise SnoozeError(f"days: {days} is not one of {', '.join(map(str, PERIOD_DAYS))}")
    if reason == SnoozeReason.OTHER and not (note or "").strip():
        raise SnoozeError("note: say why when the reason is 'other'")
    now = clock.now()
    row = Snooze(
        account_id=account_id,
        until=now + dt.timedelta(days=days),
        by=by,
        created_at=now,
        reason=encode_reason(reason, note),
    )
    session.add(row)
    session.add(
        AuditLog(
            at=now,
            actor=by,
            source=source,
            action="snooze",
            entity="account",
            entity_id=account_id,
            detail={"reason": reason, "days": days},
        )
    )
    if reason == SnoozeReason.NOT_A_REAL_RISK:
        from scoring.churn.feedback import record_feedback

        record_feedback(session, account_id, now.date(), FeedbackKind.NOT_A_RISK, by, source, clock)
    session.flush()
    return row


def active_snooze(session: Session, account_id: str, now: dt.datetime) -> ActiveSnooze | None:
    """The snooze running longest on the account now, if any."""
    row = session.exec(
        select(Snooze)
        .where(Snooze.account_id == account_id, col(Snooze.until) > now)
        .order_by(col(Snooze.until).desc())
    ).first()
    if row is None:
        return None
    code, note = decode_reason(row.reason)
    return ActiveSnooze(until=row.until, by=row.by, reason=code, note=note)
