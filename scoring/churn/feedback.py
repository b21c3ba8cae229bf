"""Feedback people give on churn predictions ("not a risk", "saved", "churned").

Stored in table `feedback` and used by the next training (`labels.apply_feedback` says how).
Slack handlers and the CLI call `record_feedback`; the caller commits.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from storage.clock import Clock
from storage.enums import FeedbackKind, Source
from storage.models import Account, AuditLog, Feedback

FEEDBACK_LABELS = tuple(FeedbackKind)
FEEDBACK_SOURCES = tuple(Source)


class FeedbackError(ValueError):
    """Bad feedback input; the message names the field."""


def record_feedback(
    session: Session,
    account_id: str,
    as_of: dt.date,
    label: str,
    by: str,
    source: str,
    clock: Clock,
    note: str | None = None,
) -> Feedback:
    """Store one label about `account_id` as of `as_of`, with an audit-log entry."""
    if label not in FEEDBACK_LABELS:
        raise FeedbackError(f"label: {label!r} is not one of {', '.join(FEEDBACK_LABELS)}")
    if source not in FEEDBACK_SOURCES:
        raise FeedbackError(f"source: {source!r} is not one of {', '.join(FEEDBACK_SOURCES)}")
    if not by:
        raise FeedbackError("by: who gave the feedback is required")
    if session.get(Account, account_id) is None:
        raise FeedbackError(f"account_id: no account {account_id!r}")
    now = clock.now()
    row = Feedback(
        account_id=account_id,
        as_of=as_of,
        label=label,
        by=by,
        source=source,
        created_at=now,
        note=note,
    )
    session.add(row)
    session.flush()
    session.add(
        AuditLog(
            at=now,
            actor=by,
            source=source,
            action="churn_feedback",
            entity="account",
            entity_id=account_id,
            detail={
                "label": label,
                "as_of": as_of.isoformat(),
                "note": note,
                "feedback_id": row.id,
            },
        )
    )
    session.flush()
    return row
