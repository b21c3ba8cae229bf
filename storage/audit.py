"""The one writer of the audit log: who changed what, when, and from where.

Every change people or the scheduler make (a playbook run or step, a snooze, churn
feedback, a draft) records an `AuditLog` row through `audit`, so the rows look the same
whoever writes them. The caller commits, with the change it records.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from storage.clock import Clock
from storage.models import AuditLog

SYSTEM_ACTOR = "csbot"  # the actor of what the scheduler does on its own


def audit(
    session: Session,
    *,
    clock: Clock,
    actor: str,
    source: str,
    action: str,
    entity: str,
    entity_id: int | str | None,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Add one audit-log entry, stamped with `clock`'s now (naive UTC)."""
    entry = AuditLog(
        at=clock.now(),
        actor=actor,
        source=source,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        detail=detail or {},
    )
    session.add(entry)
    return entry
