"""After each scoring run: evaluate every playbook's trigger for every scored account and
start the runs that fire (unless the play is active there or in its cooldown)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from playbooks.account_context import AccountContext
from playbooks.audit import SYSTEM_ACTOR
from playbooks.context_loader import load_contexts
from playbooks.materialise import RunRequest, create_runs
from playbooks.model import Playbook
from storage.clock import Clock
from storage.enums import Source
from storage.models import Account, PlaybookRun

log = logging.getLogger(__name__)
IN_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class RunHistory:
    active: bool
    last_activity: dt.datetime | None  # latest close (or start, if never closed)


@dataclass(frozen=True, slots=True)
class Fired:
    context: AccountContext
    playbook: Playbook
    reasons: list[str]


def run_history(session: Session, names: list[str]) -> dict[tuple[str, str], RunHistory]:
    """Per (account, playbook): is a run active, and when did the last one end."""
    ended = func.coalesce(col(PlaybookRun.closed_at), col(PlaybookRun.started_at))
    rows = session.execute(
        select(
            col(PlaybookRun.account_id),
            col(PlaybookRun.playbook),
            func.max(case((col(PlaybookRun.status) == "active", 1), else_=0)),
            func.max(ended),
        )
        .where(col(PlaybookRun.playbook).in_(names))
        .group_by(col(PlaybookRun.account_id), col(PlaybookRun.playbook))
    )
    return {
        (account_id, playbook): RunHistory(bool(active), last)
        for account_id, playbook, active, last in rows
    }


def in_cooldown(history: RunHistory | None, playbook: Playbook, as_of: dt.date) -> bool:
    if history is None:
        return False
    if history.active:
        return True
    if history.last_activity is None:
        return False
    return (as_of - history.last_activity.date()).days < playbook.cooldown_days


def fired_triggers(
    contexts: list[AccountContext],
    playbooks: list[Playbook],
    history: dict[tuple[str, str], RunHistory],
) -> list[Fired]:
    """Pure: which (account, playbook) pairs fire, skipping active runs and cooldowns."""
    fired = []
    for ctx in contexts:
        for playbook in playbooks:
            if in_cooldown(history.get((ctx.account_id, playbook.name)), playbook, ctx.as_of):
                continue
            if playbook.trigger is None:  # started by hand only: never fires
                continue
            reasons = playbook.trigger.match(ctx)
            if reasons is not None:
                fired.append(Fired(ctx, playbook, reasons))
    return fired


def evaluate_triggers(
    session: Session, *, as_of: dt.date, library: dict[str, Playbook], clock: Clock
) -> list[PlaybookRun]:
    """Start every run whose trigger fires on `as_of` (source "scheduler")."""
    playbooks = [p for p in library.values() if p.trigger is not None]
    if not playbooks:
        return []
    windows = {days for p in playbooks for days in p.health_windows()}
    contexts = load_contexts(session, as_of, health_windows=windows)
    history = run_history(session, [p.name for p in playbooks])
    fired = fired_triggers(contexts, playbooks, history)
    if not fired:
        return []
    accounts = _accounts(session, sorted({f.context.account_id for f in fired}))
    requests = []
    for item in fired:
        anchor = None
        if item.playbook.uses_renewal():
            days = item.context.days_to_renewal()
            anchor = item.context.renewal_date or (
                as_of + dt.timedelta(days=days) if days is not None else None
            )
            if anchor is None:
                log.warning(
                    "%s fired for %s but it has no renewal date; not started",
                    item.playbook.name,
                    item.context.account_id,
                )
                continue
        requests.append(
            RunRequest(
                playbook=item.playbook,
                account_id=item.context.account_id,
                account=accounts.get(item.context.account_id),
                context=item.context,
                anchor_date=anchor,
                reason="; ".join(item.reasons)[:1000] or None,
            )
        )
    return create_runs(session, requests, actor=SYSTEM_ACTOR, source=Source.SCHEDULER, clock=clock)


def _accounts(session: Session, ids: list[str]) -> dict[str, Account]:
    found: dict[str, Account] = {}
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        for account in session.scalars(select(Account).where(col(Account.account_id).in_(chunk))):
            found[account.account_id] = account
    return found
