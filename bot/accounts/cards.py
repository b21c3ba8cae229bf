"""Load an account's health card (and open playbook runs) from the database.

The card is what "Details" and `/cs account` show: score, band, trend, reasons,
stakeholders, renewal and open plays. Loading is here; the layout is
`bot.accounts.messages`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.accounts.messages import account_card_message
from bot.accounts.model import AccountCard, RunSummary
from bot.accounts.ranking import days_to_renewal, expansion_signals, top_reasons
from bot.accounts.service import (
    account_state,
    default_suggester,
    playbook_choices,
    weekly_health,
)
from bot.accounts.snooze import active_snooze
from bot.accounts.trend import sparkline
from bot.slack import blocks as render
from bot.slack.deps import RenderContext
from bot.slack.format import escape, who
from storage.clock import SystemClock
from storage.enums import RunStatus, StepStatus
from storage.models import Account, AccountScore, PlaybookRun, PlaybookStep

CARD_REASONS = 5
ID_CHUNK = 500


def open_runs(
    session: Session, account_ids: Iterable[str], library: Mapping[str, Any] | None = None
) -> dict[str, list[RunSummary]]:
    """Active playbook runs per account, each with its open-step count and next step."""
    ids = list(set(account_ids))
    if not ids:
        return {}
    runs = session.exec(
        select(PlaybookRun)
        .where(col(PlaybookRun.account_id).in_(ids), PlaybookRun.status == RunStatus.ACTIVE)
        .order_by(col(PlaybookRun.started_at))
    ).all()
    steps: dict[int, list[PlaybookStep]] = defaultdict(list)
    run_ids = [run.id for run in runs if run.id is not None]
    if run_ids:
        for step in session.exec(
            select(PlaybookStep)
            .where(col(PlaybookStep.run_id).in_(run_ids))
            .order_by(col(PlaybookStep.position))
        ).all():
            steps[step.run_id].append(step)
    found: dict[str, list[RunSummary]] = defaultdict(list)
    for run in runs:
        assert run.id is not None
        run_steps = steps.get(run.id, [])
        pending = sorted(
            (s for s in run_steps if s.status == StepStatus.OPEN), key=lambda s: s.due_at
        )
        playbook = (library or {}).get(run.playbook)
        found[run.account_id].append(
            RunSummary(
                run_id=run.id,
                playbook=run.playbook,
                title=getattr(playbook, "title", None) or run.playbook.replace("_", " "),
                started_at=run.started_at,
                open_steps=len(pending),
                total_steps=len(run_steps),
                next_step=pending[0].title if pending else None,
                next_due=pending[0].due_at if pending else None,
                owner=run.owner,
            )
        )
    return dict(found)


def load_account_card(
    session: Session,
    account_id: str,
    *,
    as_of: dt.date | None = None,
    library: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> AccountCard | None:
    """The card for the account's latest score (≤ `as_of` when given); None when the
    account does not exist or has never been scored."""
    account = session.get(Account, account_id)
    if account is None:
        return None
    query = select(AccountScore).where(AccountScore.account_id == account_id)
    if as_of is not None:
        query = query.where(AccountScore.as_of <= as_of)
    score = session.exec(query.order_by(col(AccountScore.as_of).desc()).limit(1)).first()
    if score is None:
        return None
    weekly = weekly_health(session, [account_id], score.as_of).get(account_id, ())
    suggest = default_suggester() if library else None
    return AccountCard(
        account_id=account_id,
        name=account.name,
        as_of=score.as_of,
        health=score.health,
        band=score.band,
        arr=score.arr,
        owner=account.owner,
        segment=account.segment,
        health_delta_7d=score.health_delta_7d,
        health_delta_30d=score.health_delta_30d,
        direction=score.direction,
        churn_risk=score.churn_risk,
        expansion=score.expansion,
        stakeholder_band=score.stakeholder_band,
        renewal_date=score.renewal_date,
        days_to_renewal=days_to_renewal(score, score.as_of),
        reasons=top_reasons(score, CARD_REASONS),
        expansion_signals=expansion_signals(score),
        stakeholders=dict(score.stakeholders or {}),
        sparkline=sparkline(weekly),
        model_version=score.model_version,
        runs=open_runs(session, [account_id], library).get(account_id, []),
        suggested_playbooks=tuple(suggest(score, library)) if suggest and library else (),
        playbooks=playbook_choices(library),
        snoozed=snooze_line(session, account_id, now),
    )


def snooze_line(session: Session, account_id: str, now: dt.datetime | None) -> str | None:
    """The running snooze, as the card shows it; None when not snoozed. `now` defaults to
    the wall clock only for callers that have no clock (the card is a read)."""

    found = active_snooze(session, account_id, now or SystemClock().now())
    if found is None:
        return None
    return f"until {found.until:%b %d} by {who(found.by)} — {found.label}"


def latest_as_of(session: Session) -> dt.date | None:
    return session.exec(select(func.max(AccountScore.as_of))).one()


def account_card(
    session: Session,
    account: Account,
    library: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The health card (`bot.accounts.messages`), or a line when never scored."""
    card = load_account_card(session, account.account_id, library=library, now=now)
    if card is None:
        return render.notice(
            f"*{escape(account.name)}* (`{escape(account.account_id)}`) has not been scored yet."
        )
    return account_card_message(card)


def render_card(
    session: Session, subject: Mapping[str, Any], context: RenderContext
) -> dict[str, Any] | None:
    """The card message stored with `{"account_id"}`, from current state (its renderer)."""
    account_id = str(subject.get("account_id") or "")
    card = load_account_card(session, account_id, library=context.library, now=context.now)
    if card is None:
        return None
    state = account_state(session, account_id, now=context.now, since=context.since)
    return account_card_message(card, state=state)
