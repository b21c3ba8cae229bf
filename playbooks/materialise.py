"""Turning a playbook into a run: its steps with due dates, owners and message drafts.

Used by `engine.start_run` (one account, by hand) and `evaluate.evaluate_triggers` (many
accounts at once: runs, then their steps and audit entries, are inserted in bulk).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import insert, select
from sqlmodel import Session, col

from playbooks.account_context import AccountContext
from playbooks.model import ROLE_TIER, Playbook
from playbooks.templates import render
from storage.clock import Clock
from storage.models import Account, AuditLog, PlaybookRun, PlaybookStep

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.dialects import postgresql, sqlite

_T = TypeVar("_T")


@dataclass(slots=True)
class RunRequest:
    """One run to create: which account, which play, why, and what we know of the account."""

    playbook: Playbook
    account_id: str
    account: Account | None
    context: AccountContext | None
    anchor_date: dt.date | None
    reason: str | None


def template_values(request: RunRequest) -> dict[str, object | None]:
    account, ctx = request.account, request.context
    roles = (ctx.stakeholders.get("roles") or {}) if ctx else {}

    def contact(role: str) -> str | None:
        entry = roles.get(role)
        return entry.get("contact") if isinstance(entry, dict) else None

    days_to_renewal = ctx.days_to_renewal() if ctx else None
    return {
        "account_name": account.name if account else request.account_id,
        "account_id": request.account_id,
        "segment": account.segment if account else None,
        "csm": account.owner if account else None,
        "arr": f"{ctx.arr:,.0f}" if ctx else None,
        "renewal_date": ctx.renewal_date.isoformat() if ctx and ctx.renewal_date else None,
        "days_to_renewal": days_to_renewal,
        "health": f"{ctx.health:.0f}" if ctx else None,
        "band": ctx.band.replace("_", " ") if ctx else None,
        "churn_risk": f"{ctx.churn_risk:.0%}" if ctx and ctx.churn_risk is not None else None,
        "top_reason": ctx.top_reason if ctx else None,
        "champion_name": contact("champion"),
        "sponsor_name": contact("executive_sponsor"),
        "playbook_title": request.playbook.title,
    }


def due_at(
    playbook: Playbook, index: int, started_at: dt.datetime, anchor: dt.date | None
) -> dt.datetime:
    """When step `index` is due: its day offset from the start or from the anchor date.

    A step whose date has already passed when the run starts (a renewal run started 90
    days out has a -120 step) is due at once rather than in the past.
    """
    step = playbook.steps[index]
    if playbook.step_anchor(step) == "renewal" and anchor is not None:
        base = dt.datetime.combine(anchor, started_at.time())
    else:
        base = started_at
    return max(base + dt.timedelta(days=step.day), started_at)


def create_runs(
    session: Session,
    requests: list[RunRequest],
    *,
    actor: str,
    source: str,
    clock: Clock,
) -> list[PlaybookRun]:
    """Insert the runs, then their steps and audit entries, as bulk INSERTs.

    Core inserts (not one ORM object per row) keep starting thousands of runs after a
    nightly scoring run fast; the runs are read back as ORM objects. A run that another
    transaction started at the same moment (the unique index on active runs) is skipped
    with ON CONFLICT DO NOTHING and left out of the result.
    """
    if not requests:
        return []
    now = clock.now()
    runs_table = PlaybookRun.__table__  # type: ignore[attr-defined]
    insert_run = (
        _dialect_insert(session)(runs_table)
        .on_conflict_do_nothing()
        .returning(runs_table.c.id, runs_table.c.account_id, runs_table.c.playbook)
    )
    inserted: dict[tuple[str, str], int] = {}
    for chunk in _chunks(requests):
        rows = [
            {
                "account_id": request.account_id,
                "playbook": request.playbook.name,
                "status": "active",
                "started_at": now,
                "started_by": actor,
                "source": source,
                "trigger_reason": request.reason,
                "anchor_date": request.anchor_date,
                "owner": _owner(request),
                "band_at_start": request.context.band if request.context else None,
                "arr_at_start": request.context.arr if request.context else None,
                "snoozed_until": None,
                "closed_at": None,
                "version": 0,
            }
            for request in chunk
        ]
        for run_id, account_id, playbook_name in session.execute(insert_run, rows):
            inserted[account_id, playbook_name] = run_id
    started = [
        (inserted[key], request)
        for request in requests
        if (key := (request.account_id, request.playbook.name)) in inserted
    ]
    run_ids = [run_id for run_id, _ in started]
    steps: list[dict[str, object]] = []
    audits: list[dict[str, object]] = []
    for run_id, request in started:
        values = template_values(request)
        playbook, owner = request.playbook, _owner(request)
        for index, step in enumerate(playbook.steps):
            steps.append(
                {
                    "run_id": run_id,
                    "position": index,
                    "title": step.title,
                    "kind": step.kind,
                    "owner_role": step.owner_role,
                    "owner": owner if step.owner_role == "csm" else None,
                    "instructions": step.instructions,
                    "message": render(step.message, values) if step.message else None,
                    "due_at": due_at(playbook, index, now, request.anchor_date),
                    "status": "open",
                    "done_at": None,
                    "done_by": None,
                    "note": None,
                    "escalation_tier": ROLE_TIER[step.owner_role],
                    "escalated_at": None,
                }
            )
        audits.append(
            {
                "at": now,
                "actor": actor,
                "source": source,
                "action": "run.started",
                "entity": "run",
                "entity_id": str(run_id),
                "detail": {
                    "playbook": playbook.name,
                    "account_id": request.account_id,
                    "reason": request.reason,
                    "steps": len(playbook.steps),
                    "owner": owner,
                },
            }
        )
    for table, table_rows in ((PlaybookStep.__table__, steps), (AuditLog.__table__, audits)):  # type: ignore[attr-defined]
        for row_chunk in _chunks(table_rows):
            session.execute(insert(table), row_chunk)  # executemany (pipelined on psycopg)
    runs: dict[int, PlaybookRun] = {}
    for id_chunk in _chunks(run_ids):
        for run in session.scalars(select(PlaybookRun).where(col(PlaybookRun.id).in_(id_chunk))):
            assert run.id is not None  # read back from the database
            runs[run.id] = run
    return [runs[run_id] for run_id in run_ids]


def _dialect_insert(
    session: Session,
) -> Callable[[Table], postgresql.Insert | sqlite.Insert]:
    """INSERT with ON CONFLICT support for the session's database (PostgreSQL, SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def _owner(request: RunRequest) -> str | None:
    return request.account.owner if request.account else None


def _chunks(items: list[_T], size: int = 2000) -> list[list[_T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
