"""The playbook engine: start runs and move them through their states.

Every function takes the caller's Session and leaves the commit to the caller. Every change
writes an AuditLog entry (actor, source slack|cli|scheduler, what changed).

States: a run is active → completed (all steps done or skipped) or closed (by a person);
a step is open → done or skipped. Moves that are impossible from the current state raise
`InvalidTransition` naming that state. State changes are conditional UPDATEs
(`… WHERE status = 'open'`) whose row count decides who won, so two people pressing the
same button at once advance a step once, on PostgreSQL as on SQLite; each change also
bumps the run's `version`, which serialises changes to one run. A unique index allows one
active run per (account, playbook); runs are inserted with ON CONFLICT DO NOTHING, so a
start racing another start (or the nightly evaluation) loses cleanly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlmodel import Session, col

from playbooks.account_context import AccountContext
from playbooks.audit import SYSTEM_ACTOR, audit, check_source
from playbooks.errors import InvalidTransition, NotFound, PlaybookError
from playbooks.escalation import Escalation, escalate_overdue
from playbooks.evaluate import evaluate_triggers
from playbooks.materialise import RunRequest, create_runs
from playbooks.model import Playbook
from scoring.churn.feedback import record_feedback
from storage.clock import Clock
from storage.enums import OutcomeKind
from storage.models import (
    Account,
    AccountScore,
    Contract,
    Outcome,
    PlaybookRun,
    PlaybookStep,
)
from storage.models.playbook_runs import OUTCOME_KINDS

# Outcomes stored as churn-model feedback labels.
OUTCOMES_THAT_LABEL = (OutcomeKind.SAVED, OutcomeKind.CHURNED)

__all__ = [
    "Escalation",
    "active_runs",
    "advance_step",
    "assign",
    "close_run",
    "escalate_overdue",
    "evaluate_triggers",
    "get_run",
    "get_step",
    "log_outcome",
    "open_steps_for",
    "run_steps",
    "snooze_run",
    "start_run",
    "SYSTEM_ACTOR",
]

STEP_DONE_STATES = ("done", "skipped")


def _log_change(
    session: Session,
    action: str,
    entity_id: int | None,
    detail: dict[str, Any],
    *,
    clock: Clock,
    actor: str,
    source: str,
) -> None:
    """One audit row for a change to a run or a step; `action` reads "run.closed" or
    "step.done", so the entity is its first word."""
    audit(
        session,
        clock=clock,
        actor=actor,
        source=source,
        action=action,
        entity=action.split(".")[0],
        entity_id=entity_id,
        detail=detail,
    )


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "an unknown time"


def get_run(session: Session, run_id: int) -> PlaybookRun:
    run = session.get(PlaybookRun, run_id)
    if run is None:
        raise NotFound(f"run {run_id} does not exist")
    return run


def get_step(session: Session, step_id: int) -> PlaybookStep:
    step = session.get(PlaybookStep, step_id)
    if step is None:
        raise NotFound(f"step {step_id} does not exist")
    return step


def run_steps(session: Session, run_id: int) -> list[PlaybookStep]:
    query = (
        select(PlaybookStep)
        .where(col(PlaybookStep.run_id) == run_id)
        .order_by(col(PlaybookStep.position))
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def _require_active(run: PlaybookRun, doing: str) -> None:
    if run.status != "active":
        raise InvalidTransition(
            f"cannot {doing}: run {run.id} ({run.playbook} for {run.account_id}) is already "
            f"{run.status} (at {_when(run.closed_at)})"
        )


def _bump(session: Session, run_id: int) -> None:
    """Increment the run's version: takes the run's row lock until the transaction ends."""
    session.execute(
        update(PlaybookRun)
        .where(col(PlaybookRun.id) == run_id)
        .values(version=col(PlaybookRun.version) + 1)
        .execution_options(synchronize_session="fetch")
    )


def start_run(
    session: Session,
    *,
    account_id: str,
    playbook: Playbook,
    actor: str,
    source: str,
    clock: Clock,
    reason: str | None = None,
) -> PlaybookRun:
    """Start `playbook` for one account now, unless it is already active there."""
    check_source(source)
    account = session.scalars(
        select(Account).where(col(Account.account_id) == account_id).with_for_update()
    ).first()
    today = clock.now().date()
    score = session.scalars(
        select(AccountScore)
        .where(col(AccountScore.account_id) == account_id, col(AccountScore.as_of) <= today)
        .order_by(col(AccountScore.as_of).desc())
        .limit(1)
    ).first()
    if account is None and score is None:
        raise NotFound(f"account {account_id} does not exist")
    active = session.scalars(
        select(PlaybookRun).where(
            col(PlaybookRun.account_id) == account_id,
            col(PlaybookRun.playbook) == playbook.name,
            col(PlaybookRun.status) == "active",
        )
    ).first()
    if active is not None:
        raise InvalidTransition(
            f"{playbook.name} is already active for {account_id} "
            f"(run {active.id}, started {_when(active.started_at)} by {active.started_by})"
        )
    context = AccountContext.from_score(score) if score is not None else None
    anchor = None
    if playbook.uses_renewal():
        anchor = score.renewal_date if score is not None else None
        if anchor is None:
            anchor = session.scalars(
                select(col(Contract.end_date))
                .where(col(Contract.account_id) == account_id, col(Contract.end_date) >= today)
                .order_by(col(Contract.end_date))
                .limit(1)
            ).first()
        if anchor is None:
            raise PlaybookError(
                f"{playbook.name} counts its steps from the renewal date and account "
                f"{account_id} has no upcoming renewal"
            )
    request = RunRequest(playbook, account_id, account, context, anchor, reason)
    started = create_runs(session, [request], actor=actor, source=source, clock=clock)
    if not started:  # uq_playbook_runs_one_active: another transaction started it just now
        raise InvalidTransition(
            f"{playbook.name} is already active for {account_id} (started at the same moment "
            "by someone else)"
        )
    return started[0]


def advance_step(
    session: Session,
    *,
    step_id: int,
    status: str,
    actor: str,
    source: str,
    clock: Clock,
    note: str | None = None,
) -> PlaybookStep:
    """Mark an open step done or skipped; completes the run when no step is left open."""
    check_source(source)
    if status not in STEP_DONE_STATES:
        raise PlaybookError(f"a step can be marked done or skipped, not {status!r}")
    step = get_step(session, step_id)
    run = get_run(session, step.run_id)
    _require_active(run, f"mark step {step_id} {status}")
    now = clock.now()
    moved = session.execute(
        update(PlaybookStep)
        .where(col(PlaybookStep.id) == step_id, col(PlaybookStep.status) == "open")
        .values(status=status, done_at=now, done_by=actor, note=note)
        .execution_options(synchronize_session="fetch")
    )
    session.refresh(step)
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidTransition(
            f"step {step_id} is already {step.status} (by {step.done_by} at {_when(step.done_at)})"
        )
    _bump(session, step.run_id)  # = run.id (`run` was loaded by step.run_id)
    _log_change(
        session,
        f"step.{status}",
        step_id,
        {"run_id": run.id, "account_id": run.account_id, "title": step.title, "note": note},
        clock=clock,
        actor=actor,
        source=source,
    )
    _complete_if_finished(session, run, actor=actor, source=source, clock=clock)
    session.refresh(run)
    return step


def _complete_if_finished(
    session: Session, run: PlaybookRun, *, actor: str, source: str, clock: Clock
) -> None:
    still_open = exists().where(
        col(PlaybookStep.run_id) == run.id, col(PlaybookStep.status) == "open"
    )
    completed = session.execute(
        update(PlaybookRun)
        .where(col(PlaybookRun.id) == run.id, col(PlaybookRun.status) == "active", ~still_open)
        .values(status="completed", closed_at=clock.now(), version=col(PlaybookRun.version) + 1)
        .execution_options(synchronize_session="fetch")
    )
    if completed.rowcount == 1:  # type: ignore[attr-defined]
        _log_change(
            session,
            "run.completed",
            run.id,
            {"playbook": run.playbook, "account_id": run.account_id},
            clock=clock,
            actor=actor,
            source=source,
        )


def assign(
    session: Session,
    *,
    owner: str,
    actor: str,
    source: str,
    clock: Clock,
    step_id: int | None = None,
    run_id: int | None = None,
) -> PlaybookStep | PlaybookRun:
    """Give an open step, or a whole active run (and its open CSM steps), a new owner."""
    check_source(source)
    if (step_id is None) == (run_id is None):
        raise PlaybookError("assign takes a step_id or a run_id (exactly one)")
    if not owner.strip():
        raise PlaybookError("the new owner is empty")
    if step_id is not None:
        step = get_step(session, step_id)
        run = get_run(session, step.run_id)
        _require_active(run, f"reassign step {step_id}")
        previous = step.owner
        moved = session.execute(
            update(PlaybookStep)
            .where(col(PlaybookStep.id) == step_id, col(PlaybookStep.status) == "open")
            .values(owner=owner)
            .execution_options(synchronize_session="fetch")
        )
        session.refresh(step)
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise InvalidTransition(
                f"cannot reassign step {step_id}: it is already {step.status} "
                f"(by {step.done_by} at {_when(step.done_at)})"
            )
        _bump(session, step.run_id)  # = run.id (`run` was loaded by step.run_id)
        _log_change(
            session,
            "step.assigned",
            step_id,
            {"run_id": run.id, "from": previous, "to": owner},
            clock=clock,
            actor=actor,
            source=source,
        )
        return step
    assert run_id is not None  # exactly one of step_id and run_id, checked above
    run = get_run(session, run_id)
    previous = run.owner
    moved = session.execute(
        update(PlaybookRun)
        .where(col(PlaybookRun.id) == run_id, col(PlaybookRun.status) == "active")
        .values(owner=owner, version=col(PlaybookRun.version) + 1)
        .execution_options(synchronize_session="fetch")
    )
    session.refresh(run)
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        _require_active(run, f"reassign run {run_id}")
    session.execute(
        update(PlaybookStep)
        .where(
            col(PlaybookStep.run_id) == run_id,
            col(PlaybookStep.status) == "open",
            col(PlaybookStep.owner_role) == "csm",
            or_(col(PlaybookStep.owner).is_(None), col(PlaybookStep.owner) == previous),
        )
        .values(owner=owner)
        .execution_options(synchronize_session="fetch")
    )
    _log_change(
        session,
        "run.assigned",
        run_id,
        {"account_id": run.account_id, "from": previous, "to": owner},
        clock=clock,
        actor=actor,
        source=source,
    )
    return run


def snooze_run(
    session: Session,
    *,
    run_id: int,
    until: dt.datetime,
    actor: str,
    source: str,
    clock: Clock,
) -> PlaybookRun:
    """Hold an active run's reminders and escalations until `until` (due dates stay)."""
    check_source(source)
    if until <= clock.now():
        raise PlaybookError(f"snooze until {_when(until)} is not in the future")
    run = _update_active_run(session, run_id, f"snooze run {run_id}", snoozed_until=until)
    _log_change(
        session,
        "run.snoozed",
        run_id,
        {"account_id": run.account_id, "until": until.isoformat()},
        clock=clock,
        actor=actor,
        source=source,
    )
    return run


def log_outcome(
    session: Session,
    *,
    run_id: int,
    kind: str,
    actor: str,
    source: str,
    clock: Clock,
    arr_change: float | None = None,
    note: str | None = None,
) -> Outcome:
    """Record how a run ended (one outcome per run); the run's state is left as it is."""
    check_source(source)
    if kind not in OUTCOME_KINDS:
        raise PlaybookError(f"unknown outcome {kind!r}; one of {', '.join(OUTCOME_KINDS)}")
    run = get_run(session, run_id)
    _bump(session, run_id)  # serialises concurrent outcomes for this run
    existing = session.scalars(select(Outcome).where(col(Outcome.run_id) == run_id)).first()
    if existing is not None:
        raise InvalidTransition(
            f"run {run_id} already has the outcome {existing.kind} "
            f"(by {existing.by} at {_when(existing.created_at)})"
        )
    outcome = Outcome(
        run_id=run_id,
        account_id=run.account_id,
        kind=kind,
        arr_change=arr_change,
        note=note,
        by=actor,
        source=source,
        created_at=clock.now(),
        extra={
            "playbook": run.playbook,
            "band_at_start": run.band_at_start,
            "arr_at_start": run.arr_at_start,
            "run_status": run.status,
        },
    )
    session.add(outcome)
    session.flush()
    _log_change(
        session,
        "run.outcome",
        run_id,
        {"account_id": run.account_id, "kind": kind, "arr_change": arr_change, "note": note},
        clock=clock,
        actor=actor,
        source=source,
    )
    if kind in OUTCOMES_THAT_LABEL:
        # "saved" and "churned" are what the churn model learns from next time.
        record_feedback(
            session, run.account_id, clock.now().date(), kind, actor, source, clock, note=note
        )
    return outcome


def close_run(
    session: Session, *, run_id: int, actor: str, source: str, clock: Clock
) -> PlaybookRun:
    """Close an active run by hand; its open steps stay open but leave every to-do list."""
    check_source(source)
    run = _update_active_run(
        session, run_id, f"close run {run_id}", status="closed", closed_at=clock.now()
    )
    _log_change(
        session,
        "run.closed",
        run_id,
        {"account_id": run.account_id, "playbook": run.playbook},
        clock=clock,
        actor=actor,
        source=source,
    )
    return run


def open_steps_for(session: Session, owner: str) -> list[tuple[PlaybookStep, PlaybookRun]]:
    """Open steps of active runs that `owner` should act on, soonest due first: steps
    assigned to them, and unassigned steps of runs they own."""
    query = (
        select(PlaybookStep, PlaybookRun)
        .join(PlaybookRun, col(PlaybookRun.id) == col(PlaybookStep.run_id))
        .where(
            col(PlaybookStep.status) == "open",
            col(PlaybookRun.status) == "active",
            or_(
                col(PlaybookStep.owner) == owner,
                (col(PlaybookStep.owner).is_(None)) & (col(PlaybookRun.owner) == owner),
            ),
        )
        .order_by(col(PlaybookStep.due_at), col(PlaybookStep.id))
    )
    rows = session.execute(query.execution_options(populate_existing=True))
    return [(step, run) for step, run in rows]


def active_runs(session: Session, account_ids: Sequence[str] | None = None) -> list[PlaybookRun]:
    query = select(PlaybookRun).where(col(PlaybookRun.status) == "active")
    if account_ids is not None:
        query = query.where(col(PlaybookRun.account_id).in_(list(account_ids)))
    return list(session.scalars(query.order_by(col(PlaybookRun.started_at))))


def _update_active_run(session: Session, run_id: int, what: str, **values: Any) -> PlaybookRun:
    """Change an active run in one conditional UPDATE (bumping its version), so two people
    acting at once change it once; the loser gets InvalidTransition naming the state."""
    run = get_run(session, run_id)
    moved = session.execute(
        update(PlaybookRun)
        .where(col(PlaybookRun.id) == run_id, col(PlaybookRun.status) == "active")
        .values(**values, version=col(PlaybookRun.version) + 1)
        .execution_options(synchronize_session="fetch")
    )
    session.refresh(run)
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        _require_active(run, what)
    return run
