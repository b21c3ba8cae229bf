"""Tiered escalation of slipped steps: CSM → manager → executive.

A step not done by its due date plus one grace period moves up one tier; each further
grace period moves it up another, to the executive at most. A snoozed run does not
escalate, and its grace periods count from the end of the snooze. Each escalation is
recorded on the step (`escalation_tier`, `escalated_at`) and in the audit log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlmodel import Session, col

from playbooks.audit import SYSTEM_ACTOR, audit
from playbooks.model import ROLE_TIER, TIERS
from storage.clock import Clock
from storage.enums import Source
from storage.models import PlaybookRun, PlaybookStep

TOP_TIER = len(TIERS) - 1


@dataclass(frozen=True, slots=True)
class Escalation:
    step_id: int
    run_id: int
    account_id: str
    playbook: str
    title: str
    owner: str | None  # who held the step (or the run's owner): told alongside the new tier
    from_tier: str
    to_tier: str
    due_at: dt.datetime
    overdue_hours: float


def target_tier(
    owner_role: str,
    due_at: dt.datetime,
    snoozed_until: dt.datetime | None,
    now: dt.datetime,
    grace: dt.timedelta,
) -> int:
    """Pure: the tier a step should be at now (its role's tier plus one per grace elapsed)."""
    base = ROLE_TIER[owner_role]
    start = max(due_at, snoozed_until) if snoozed_until else due_at
    late = now - start
    if late < grace or late <= dt.timedelta(0):
        return base
    levels = TOP_TIER if grace <= dt.timedelta(0) else int(late / grace)
    return min(TOP_TIER, base + levels)


def escalate_overdue(session: Session, *, clock: Clock, grace_hours: float) -> list[Escalation]:
    """Move every slipped open step up to the tier it should be at (hourly job)."""
    now = clock.now()
    grace = dt.timedelta(hours=grace_hours)
    rows = session.execute(
        select(PlaybookStep, PlaybookRun)
        .join(PlaybookRun, col(PlaybookRun.id) == col(PlaybookStep.run_id))
        .where(
            col(PlaybookStep.status) == "open",
            col(PlaybookRun.status) == "active",
            col(PlaybookStep.escalation_tier) < TOP_TIER,
            col(PlaybookStep.due_at) <= now - grace,
            or_(
                col(PlaybookRun.snoozed_until).is_(None),
                col(PlaybookRun.snoozed_until) <= now - grace,
            ),
        )
        .order_by(col(PlaybookStep.due_at), col(PlaybookStep.id))
    )
    escalations: list[Escalation] = []
    step: PlaybookStep
    run: PlaybookRun
    for step, run in rows:
        target = target_tier(step.owner_role, step.due_at, run.snoozed_until, now, grace)
        current = step.escalation_tier
        if target <= current:
            continue
        moved = session.execute(
            update(PlaybookStep)
            .where(
                col(PlaybookStep.id) == step.id,
                col(PlaybookStep.status) == "open",
                col(PlaybookStep.escalation_tier) == current,
            )
            .values(escalation_tier=target, escalated_at=now)
            .execution_options(synchronize_session="fetch")
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            continue  # advanced or escalated meanwhile
        session.execute(
            update(PlaybookRun)
            .where(col(PlaybookRun.id) == run.id)
            .values(version=col(PlaybookRun.version) + 1)
            .execution_options(synchronize_session="fetch")
        )
        overdue = (now - step.due_at).total_seconds() / 3600
        audit(
            session,
            clock=clock,
            actor=SYSTEM_ACTOR,
            source=Source.SCHEDULER,
            action="step.escalated",
            entity="step",
            entity_id=step.id,
            detail={
                "run_id": run.id,
                "account_id": run.account_id,
                "from": TIERS[current],
                "to": TIERS[target],
                "due_at": step.due_at.isoformat(),
                "overdue_hours": round(overdue, 1),
            },
        )
        session.refresh(step)
        assert step.id is not None and run.id is not None  # rows read from the database
        escalations.append(
            Escalation(
                step_id=step.id,
                run_id=run.id,
                account_id=run.account_id,
                playbook=run.playbook,
                title=step.title,
                owner=step.owner or run.owner,
                from_tier=TIERS[current],
                to_tier=TIERS[target],
                due_at=step.due_at,
                overdue_hours=round(overdue, 1),
            )
        )
    return escalations
