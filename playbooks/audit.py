"""Writing the audit log: every change the playbook engine makes records who, when, what
and from where (slack, cli or scheduler)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from playbooks.errors import PlaybookError
from storage.clock import Clock
from storage.enums import Source
from storage.models import AuditLog

SOURCES = (Source.SLACK, Source.CLI, Source.SCHEDULER)
SYSTEM_ACTOR = "csbot"


def check_source(source: str) -> None:
    if source not in SOURCES:
        raise PlaybookError(f"unknown source {source!r}; one of {', '.join(SOURCES)}")


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
