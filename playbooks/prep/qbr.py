"""QBR drafts: value delivered since the last QBR, adoption gaps, the next two quarters,
and agreed next steps — every number read from the database and listed as a figure.

- `qbr_draft(engine, account, as_of, meeting)` builds the draft (Markdown + figures).
- `store_qbr_draft(...)` builds and stores it (one per account and meeting date).
- `upcoming_qbrs(session, as_of)` finds QBRs a week out: future `qbr` touchpoints and open
  playbook meeting steps about a QBR; `prepare_upcoming_qbrs` is the scheduled job.
- `log_qbr(...)` records what a QBR decided: outcomes, a held `qbr` touchpoint, and each
  action item as a playbook step with its owner and due date (run "qbr_actions").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from playbooks.audit import check_source
from playbooks.errors import PlaybookError
from playbooks.prep.facts import AccountFacts, Figure, find_account, load_facts
from scoring.forecast.service import RenewalForecast, forecast_account
from storage.audit import audit
from storage.clock import Clock
from storage.db import session_scope
from storage.enums import RunStatus, StepStatus
from storage.models import (
    PlaybookRun,
    PlaybookStep,
    QbrDraft,
    QbrLog,
    Ticket,
    Touchpoint,
    UsageEvent,
)

DEFAULT_PERIOD_DAYS = 90
QBR_RUN = "qbr_actions"
LOGIN_EVENTS = ("login",)


@dataclass
class QbrDocument:
    account_id: str
    meeting: dt.date
    markdown: str
    figures: list[Figure] = field(default_factory=list)


@dataclass
class _Period:
    start: dt.date  # inclusive
    end: dt.date  # inclusive

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return (
            dt.datetime.combine(self.start, dt.time()),
            dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time()),
        )


@dataclass(frozen=True, slots=True)
class _Usage:
    logins: float
    users: float
    features: float
    names: tuple[str, ...]


def _usage(session: Session, account_id: str, period: _Period) -> _Usage:
    lo, hi = period.bounds()
    where = (
        col(UsageEvent.timestamp) >= lo,
        col(UsageEvent.timestamp) < hi,
        col(UsageEvent.account_id) == account_id,
    )
    logins = session.execute(
        select(func.coalesce(func.sum(UsageEvent.quantity), 0.0)).where(
            *where, col(UsageEvent.event).in_(LOGIN_EVENTS)
        )
    ).scalar()
    users = session.execute(
        select(func.count(func.distinct(UsageEvent.contact_id))).where(
            *where, col(UsageEvent.contact_id) != ""
        )
    ).scalar()
    features = session.execute(
        select(col(UsageEvent.event))
        .where(*where, col(UsageEvent.event).not_in(LOGIN_EVENTS))
        .distinct()
    ).all()
    return _Usage(
        float(logins or 0.0),
        float(users or 0),
        float(len(features)),
        tuple(sorted(row[0] for row in features)),
    )


def _resolved(session: Session, account_id: str, period: _Period) -> tuple[int, float | None]:
    lo, hi = period.bounds()
    rows = session.execute(
        select(col(Ticket.opened_at), col(Ticket.closed_at)).where(
            col(Ticket.account_id) == account_id,
            col(Ticket.closed_at) >= lo,
            col(Ticket.closed_at) < hi,
        )
    ).all()
    if not rows:
        return 0, None
    days = sorted((closed - opened).total_seconds() / 86400 for opened, closed in rows)
    mid = len(days) // 2
    median = days[mid] if len(days) % 2 else (days[mid - 1] + days[mid]) / 2
    return len(rows), round(median, 1)


class _Writer:
    """Collects Markdown lines and the figures they cite."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.figures: list[Figure] = []

    def n(self, label: str, value: float | int | None, source: str, fmt: str = "{:,.0f}") -> str:
        self.figures.append(Figure(label, value, source))
        return "–" if value is None else fmt.format(value)


def qbr_draft(engine: Engine, account: str, as_of: dt.date, meeting: dt.date) -> QbrDocument:
    """The QBR draft of one account for a meeting on `meeting`, from data as of `as_of`."""
    facts = load_facts(engine, account, as_of)
    forecast = forecast_account(engine, facts.account_id, as_of)
    start = facts.last_qbr + dt.timedelta(days=1) if facts.last_qbr else None
    period = _Period(start or as_of - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1), as_of)
    length = (period.end - period.start).days + 1
    before = _Period(period.start - dt.timedelta(days=length), period.start - dt.timedelta(days=1))
    with Session(engine) as session:
        now, prev = (
            _usage(session, facts.account_id, period),
            _usage(session, facts.account_id, before),
        )
        resolved, median = _resolved(session, facts.account_id, period)
        steps = _open_steps(session, facts.account_id)
    w = _Writer()
    aid = facts.account_id
    src_usage = f"usage[{aid}] {period.start}…{period.end}"
    src_prev = f"usage[{aid}] {before.start}…{before.end}"
    since = f"the last QBR ({facts.last_qbr})" if facts.last_qbr else f"the last {length} days"
    w.lines += [
        f"# {facts.name} — quarterly business review, {meeting}",
        f"Draft for review, prepared {as_of} from csbot's data. Period: {period.start} to {period.end}.",
        "",
        f"## 1. Value delivered since {since}",
        f"- {w.n('logins', now.logins, src_usage + ' login events')} logins "
        f"(previous period {w.n('logins before', prev.logins, src_prev + ' login events')}).",
        f"- {w.n('active users', now.users, src_usage + ' distinct contacts')} people used the "
        f"product (previous period {w.n('active users before', prev.users, src_prev + ' distinct contacts')}).",
        f"- {w.n('features used', now.features, src_usage + ' distinct non-login events')} "
        f"features in use (previous period {w.n('features used before', prev.features, src_prev + ' distinct non-login events')}).",
        f"- {w.n('tickets resolved', resolved, f'tickets[{aid}] closed in the period')} support "
        f"tickets resolved"
        + (
            f", median {w.n('median resolution days', median, f'tickets[{aid}] closed in the period', '{:.1f}')} days to resolve."
            if median is not None
            else "."
        ),
    ]
    nps = facts.survey_scores.get("nps")
    if nps:
        w.lines.append(f"- Latest NPS {w.n('latest NPS', nps[0], f'surveys[{aid}] latest nps')}.")
    w.lines += ["", "## 2. Adoption gaps"]
    seats = _seats(facts)
    if seats:
        unused = max(seats - int(now.users), 0)
        w.lines.append(
            f"- {w.n('unused licences', unused, f'contracts seats − {src_usage} distinct contacts')} of "
            f"{w.n('seats', seats, facts.score_source('signals.seats'))} licences unused in the period."
        )
    dropped = sorted(set(prev.names) - set(now.names))
    if dropped:
        w.lines.append(f"- Features used before but not this period: {', '.join(dropped)}.")
    silent = [
        p
        for p in facts.people
        if p.role in ("executive_sponsor", "decision_maker", "champion") and p.silent
    ]
    for p in silent:
        w.lines.append(
            f"- The {(p.role or '').replace('_', ' ')} has been silent for "
            f"{w.n('silent days ' + p.contact_id, p.silent_days, f'activity of contact {p.contact_id}')} days."
            if p.silent_days is not None
            else f"- The {(p.role or '').replace('_', ' ')} has not been active in a year."
        )
    if len(w.lines) and w.lines[-1] == "## 2. Adoption gaps":
        w.lines.append("- None found in the data.")
    w.lines += ["", "## 3. The next two quarters"]
    _next_quarters(w, facts, forecast, as_of)
    w.lines += ["", "## 4. Agreed next steps"]
    if not steps:
        w.lines.append("- (to agree in the meeting: an action, an owner and a date for each)")
    for title, owner, due in steps:
        w.lines.append(f"- {title} — {owner or 'unassigned'}, by {due}")
    return QbrDocument(facts.account_id, meeting, "\n".join(w.lines) + "\n", w.figures)


def _seats(facts: AccountFacts) -> int | None:
    seats = facts.signals.get("seats")
    if isinstance(seats, int | float) and seats == seats and seats > 0:
        return int(seats)
    return None


def _next_quarters(
    w: _Writer, facts: AccountFacts, forecast: RenewalForecast | None, as_of: dt.date
) -> None:
    s = facts.score
    horizon = as_of + dt.timedelta(days=183)
    if s.renewal_date and s.renewal_date <= horizon:
        line = f"- Renewal on {s.renewal_date}: ARR {w.n('ARR', s.arr, facts.score_source('arr'))}"
        if forecast is not None:
            line += (
                f", {w.n('renewal probability %', round(forecast.p_renew * 100), f'forecast as of {as_of}')}% "
                f"likely to renew on csbot's forecast"
            )
        w.lines.append(line + ".")
    else:
        w.lines.append("- No renewal in the next two quarters.")
    if s.expansion >= 0.5:
        w.lines.append(
            "- Expansion: the account shows expansion signals; agree the use cases to grow."
        )
    w.lines.append("- Goals and success measures: (agree with the sponsor in the meeting).")


def _open_steps(session: Session, account_id: str) -> list[tuple[str, str | None, dt.date]]:
    rows = session.execute(
        select(col(PlaybookStep.title), col(PlaybookStep.owner), col(PlaybookStep.due_at))
        .join(PlaybookRun, col(PlaybookRun.id) == col(PlaybookStep.run_id))
        .where(
            col(PlaybookRun.account_id) == account_id,
            col(PlaybookRun.status) == RunStatus.ACTIVE,
            col(PlaybookStep.status) == StepStatus.OPEN,
        )
        .order_by(col(PlaybookStep.due_at))
        .limit(8)
    ).all()
    return [(title, owner, due.date()) for title, owner, due in rows]


def store_qbr_draft(
    engine: Engine,
    session: Session,
    account: str,
    as_of: dt.date,
    meeting: dt.date,
    *,
    source: str,
    actor: str,
    clock: Clock,
) -> QbrDraft:
    """Build the draft and store it (replacing an earlier draft for the same meeting)."""
    doc = qbr_draft(engine, account, as_of, meeting)
    row = session.scalars(
        select(QbrDraft).where(
            col(QbrDraft.account_id) == doc.account_id, col(QbrDraft.qbr_date) == meeting
        )
    ).first()
    figures = [{"label": f.label, "value": f.value, "source": f.source} for f in doc.figures]
    if row is None:
        row = QbrDraft(
            account_id=doc.account_id,
            qbr_date=meeting,
            source=source,
            markdown=doc.markdown,
            figures=figures,
            created_at=clock.now(),
            created_by=actor,
        )
    else:
        row.markdown, row.figures, row.created_at, row.created_by = (
            doc.markdown,
            figures,
            clock.now(),
            actor,
        )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True, slots=True)
class UpcomingQbr:
    account_id: str
    meeting: dt.date
    source: str  # touchpoint or playbook_step


def upcoming_qbrs(session: Session, as_of: dt.date, days_ahead: int = 7) -> list[UpcomingQbr]:
    """QBRs between tomorrow and `days_ahead` days out that have no stored draft yet."""
    lo = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    hi = dt.datetime.combine(as_of + dt.timedelta(days=days_ahead + 1), dt.time())
    found: dict[tuple[str, dt.date], str] = {}
    for aid, when in session.execute(
        select(col(Touchpoint.account_id), col(Touchpoint.occurred_at)).where(
            col(Touchpoint.kind) == "qbr",
            col(Touchpoint.occurred_at) >= lo,
            col(Touchpoint.occurred_at) < hi,
            col(Touchpoint.status) != "cancelled",
        )
    ):
        found.setdefault((aid, when.date()), "touchpoint")
    for aid, due in session.execute(
        select(col(PlaybookRun.account_id), col(PlaybookStep.due_at))
        .join(PlaybookRun, col(PlaybookRun.id) == col(PlaybookStep.run_id))
        .where(
            col(PlaybookRun.status) == RunStatus.ACTIVE,
            col(PlaybookStep.status) == StepStatus.OPEN,
            col(PlaybookStep.kind) == "meeting",
            func.lower(col(PlaybookStep.title)).like("%qbr%"),
            col(PlaybookStep.due_at) >= lo,
            col(PlaybookStep.due_at) < hi,
        )
    ):
        found.setdefault((aid, due.date()), "playbook_step")
    drafted = set(
        session.execute(
            select(col(QbrDraft.account_id), col(QbrDraft.qbr_date)).where(
                col(QbrDraft.qbr_date) >= lo.date(), col(QbrDraft.qbr_date) < hi.date()
            )
        ).all()
    )
    return [
        UpcomingQbr(aid, day, source)
        for (aid, day), source in sorted(found.items())
        if (aid, day) not in drafted
    ]


def next_qbr(session: Session, account_id: str, today: dt.date, within_days: int = 90) -> dt.date:
    """The date of the account's next QBR on the calendar (a future `qbr` touchpoint),
    else `today` (an on-demand draft)."""
    start = dt.datetime.combine(today, dt.time())
    when = session.execute(
        select(func.min(col(Touchpoint.occurred_at))).where(
            col(Touchpoint.account_id) == account_id,
            col(Touchpoint.kind) == "qbr",
            col(Touchpoint.status) != "cancelled",
            col(Touchpoint.occurred_at) >= start,
            col(Touchpoint.occurred_at) < start + dt.timedelta(days=within_days),
        )
    ).scalar()
    return when.date() if when is not None else today


def prepare_upcoming_qbrs(engine: Engine, clock: Clock, days_ahead: int = 7) -> list[QbrDraft]:
    """The scheduled job: draft every QBR a week out that has no draft yet."""

    as_of = clock.now().date()
    with Session(engine) as session:
        todo = upcoming_qbrs(session, as_of, days_ahead)
    drafts = []
    for item in todo:
        with session_scope(engine) as session:
            drafts.append(
                store_qbr_draft(
                    engine,
                    session,
                    item.account_id,
                    as_of,
                    item.meeting,
                    source=item.source,
                    actor="csbot",
                    clock=clock,
                )
            )
    return drafts


@dataclass(frozen=True, slots=True)
class ActionItem:
    title: str
    owner: str
    due: dt.date


def log_qbr(
    session: Session,
    *,
    account: str,
    held_on: dt.date,
    outcomes: str,
    actions: list[ActionItem],
    actor: str,
    source: str,
    clock: Clock,
) -> QbrLog:
    """Record a held QBR: its outcomes, a `qbr` touchpoint, and each action item as an open
    step (owner, due date) of the account's active "qbr_actions" run (started if none)."""
    check_source(source)
    if not outcomes.strip():
        raise PlaybookError("a QBR log needs its outcomes")
    for item in actions:
        if not item.title.strip() or not item.owner.strip():
            raise PlaybookError("every action item needs a title and an owner")
    account_row = find_account(session, account)
    aid = account_row.account_id
    now = clock.now()
    run = session.scalars(
        select(PlaybookRun).where(
            col(PlaybookRun.account_id) == aid,
            col(PlaybookRun.playbook) == QBR_RUN,
            col(PlaybookRun.status) == RunStatus.ACTIVE,
        )
    ).first()
    if run is None and actions:
        run = PlaybookRun(
            account_id=aid,
            playbook=QBR_RUN,
            status="active",
            started_at=now,
            started_by=actor,
            source=source,
            trigger_reason=f"QBR held {held_on}",
            anchor_date=held_on,
            owner=account_row.owner,
        )
        session.add(run)
        session.flush()
    if run is not None and actions:
        position = (
            session.execute(
                select(func.max(PlaybookStep.position)).where(col(PlaybookStep.run_id) == run.id)
            ).scalar()
            or 0
        )
        for offset, item in enumerate(actions, 1):
            session.add(
                PlaybookStep(
                    run_id=run.id or 0,
                    position=position + offset,
                    title=item.title.strip(),
                    kind="task",
                    owner_role="csm",
                    owner=item.owner.strip(),
                    instructions=f"Agreed at the QBR on {held_on}.",
                    due_at=dt.datetime.combine(item.due, dt.time(17, 0)),
                )
            )
    touchpoint_id = f"csbot-qbr-{aid}-{held_on.isoformat()}"
    if session.get(Touchpoint, touchpoint_id) is None:
        session.add(
            Touchpoint(
                touchpoint_id=touchpoint_id,
                account_id=aid,
                occurred_at=dt.datetime.combine(held_on, dt.time(12, 0)),
                kind="qbr",
                status="held",
            )
        )
    log = QbrLog(
        account_id=aid,
        held_on=held_on,
        outcomes=outcomes.strip(),
        actions=[{"title": a.title, "owner": a.owner, "due": a.due.isoformat()} for a in actions],
        run_id=run.id if run is not None else None,
        touchpoint_id=touchpoint_id,
        logged_by=actor,
        logged_at=now,
    )
    session.add(log)
    session.flush()
    audit(
        session,
        clock=clock,
        actor=actor,
        source=source,
        action="qbr.logged",
        entity="account",
        entity_id=aid,
        detail={"qbr_log_id": log.id, "run_id": log.run_id, "actions": len(actions)},
    )
    return log


def figures_json(doc: QbrDocument) -> list[dict[str, Any]]:
    return [{"label": f.label, "value": f.value, "source": f.source} for f in doc.figures]
