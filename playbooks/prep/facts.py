"""Everything csbot's own data says about one account as of a date, with sources.

Each figure is a `Figure`: a label, a value and where it came from (table, row or
signal), so a brief or a QBR draft can cite only numbers that are in the database and a
test can check each one. The score comes from `account_scores` (the latest on or before
the date); when the account was never scored by then it is computed now, not stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from scoring.bands import direction, health_band
from scoring.churn.apply import churn_predictions
from scoring.expansion import expansion_reasons, expansion_scores
from scoring.explain import explain_all
from scoring.health import NEUTRAL_POINT
from scoring.service import frame_health, resolve_config
from scoring.signals import compute_signals
from scoring.signals.sentiment import compound
from scoring.stakeholders import stakeholders_summary
from storage.enums import RunStatus, StepStatus
from storage.models import (
    Account,
    AccountScore,
    Contact,
    Contract,
    PlaybookRun,
    PlaybookStep,
    SurveyResponse,
    Ticket,
    Touchpoint,
    UsageEvent,
)

SILENT_DAYS = 30  # a stakeholder with no activity for this long has gone silent
CONTACT_LOOKBACK_DAYS = 365
NEGATIVE_TONE = -0.05  # VADER's usual cut-off for negative text
POSITIVE_TONE = 0.05


class AccountNotFound(LookupError):
    """No account with that id (or name)."""


@dataclass(frozen=True, slots=True)
class Figure:
    """A number shown to people, and where it comes from."""

    label: str
    value: float | int | str | None
    source: str


@dataclass(slots=True)
class Person:
    contact_id: str
    name: str | None
    email: str | None
    role: str | None
    last_active: dt.date | None
    silent_days: int | None
    left_at: dt.date | None

    @property
    def silent(self) -> bool:
        return self.left_at is None and (
            self.silent_days is None or self.silent_days >= SILENT_DAYS
        )


@dataclass(slots=True)
class OpenTicket:
    ticket_id: str
    subject: str
    priority: str | None
    opened_at: dt.date
    age_days: int
    tone: float


@dataclass(slots=True)
class Verbatim:
    response_id: str
    kind: str
    score: float
    submitted_at: dt.date
    comment: str
    contact_id: str | None


@dataclass(slots=True)
class RunSummary:
    run_id: int
    playbook: str
    started_at: dt.date
    last_done: str | None
    last_done_at: dt.date | None
    next_open: str | None
    next_due: dt.date | None
    open_steps: int
    title: str = ""  # the playbook's title, as people read it (`build_brief` sets it)


@dataclass(slots=True)
class AccountFacts:
    account_id: str
    name: str
    segment: str | None
    owner: str | None
    as_of: dt.date
    score: AccountScore
    score_stored: bool
    people: list[Person] = field(default_factory=list)
    open_tickets: list[OpenTicket] = field(default_factory=list)
    tickets_90d: int = 0
    verbatims: list[Verbatim] = field(default_factory=list)
    survey_scores: dict[str, list[float]] = field(default_factory=dict)
    runs: list[RunSummary] = field(default_factory=list)
    last_qbr: dt.date | None = None

    @property
    def signals(self) -> dict[str, Any]:
        return self.score.signals or {}

    def score_source(self, what: str) -> str:
        where = f"account_scores[{self.account_id}, {self.score.as_of}]"
        return f"{where}.{what}" if self.score_stored else f"computed {self.score.as_of}: {what}"

    def signal(self, name: str, label: str) -> Figure:
        return Figure(label, _clean(self.signals.get(name)), self.score_source(f"signals.{name}"))

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "score"}  # type: ignore[call-overload]
        return _jsonable(data)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return _clean(value)


def find_account(session: Session, key: str) -> Account:
    """The account with this id, or else the one whose name matches (case-insensitive)."""
    account = session.get(Account, key)
    if account is not None:
        return account
    matches = session.scalars(
        select(Account).where(func.lower(col(Account.name)) == key.strip().lower())
    ).all()
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise AccountNotFound(f"no account with id or name {key!r}")
    raise AccountNotFound(f"{len(matches)} accounts are named {key!r}: use the account id")


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time())


def latest_score(engine: Engine, account_id: str, as_of: dt.date) -> tuple[AccountScore, bool]:
    """The latest stored score on or before `as_of`, else one computed now (not stored)."""
    with Session(engine) as session:
        stored = session.scalars(
            select(AccountScore)
            .where(col(AccountScore.account_id) == account_id, col(AccountScore.as_of) <= as_of)
            .order_by(col(AccountScore.as_of).desc())
            .limit(1)
        ).first()
    if stored is not None and (as_of - stored.as_of).days <= 7:
        return stored, True
    score = score_one(engine, account_id, as_of)
    if score is None:
        if stored is not None:
            return stored, True
        raise AccountNotFound(f"account {account_id} has no data to score as of {as_of}")
    return score, False


def score_one(engine: Engine, account_id: str, as_of: dt.date) -> AccountScore | None:
    """One account's score as of a date, computed from its own signals only (not stored):
    health, band, trend against its health 7 and 30 days before, reasons, expansion,
    stakeholders and the active churn model's risk. A fraction of a second, where scoring
    the whole book would take seconds."""

    with Session(engine) as session:
        started = session.execute(
            select(func.min(Contract.start_date)).where(col(Contract.account_id) == account_id)
        ).scalar()
    if started is None or started > as_of:
        return None  # not a customer yet on that date
    cfg = resolve_config(None)
    frame = compute_signals(engine, as_of, [account_id], params=cfg.signal_params)
    if len(frame) == 0:
        return None
    result = frame_health(frame, cfg)
    health = float(round(result.health[0], 2))
    deltas: dict[int, float | None] = {}
    for days in (7, 30):
        past = compute_signals(
            engine, as_of - dt.timedelta(days=days), [account_id], params=cfg.signal_params
        )
        deltas[days] = (
            round(health - float(frame_health(past, cfg).health[0]), 2) if len(past) else None
        )
    row = frame.rows()[0]
    reasons = explain_all(
        frame.values,
        frame.names,
        [row],
        result.signals,
        result.impacts,
        result.health[:1] - NEUTRAL_POINT,
    )[0]
    expansion, contributions, names = expansion_scores(
        {name: frame.column(name) for name in cfg.expansion.signals},
        result.health[:1],
        cfg.expansion,
    )
    with Session(engine) as session:
        churn = churn_predictions(session, frame, cfg)
    stakeholders = stakeholders_summary(
        frame.extras.get("roles", [{}])[0],
        row["engaged_contacts_90d"],
        row["multithreading_target"],
        cfg.stakeholders,
    )
    arr = row.get("arr")
    return AccountScore(
        account_id=account_id,
        as_of=as_of,
        health=health,
        band=health_band(health, cfg.bands),
        health_delta_7d=deltas[7],
        health_delta_30d=deltas[30],
        direction=direction(deltas[7], deltas[30], cfg.trend),
        churn_risk=float(churn.risk[0]) if churn is not None else None,
        model_version=churn.version if churn is not None else None,
        expansion=round(float(expansion[0]), 4),
        stakeholder_band=stakeholders["band"],
        renewal_date=frame.extras.get("renewal_date", [None])[0],
        arr=float(arr) if isinstance(arr, int | float) and arr == arr else 0.0,
        reasons=reasons,
        churn_reasons=list(churn.reasons[0]) if churn is not None and churn.reasons else [],
        expansion_reasons=expansion_reasons(
            row, dict(zip(names, contributions[0].tolist(), strict=True))
        ),
        stakeholders=stakeholders,
        signals=row,
    )


def load_facts(engine: Engine, account_key: str, as_of: dt.date) -> AccountFacts:
    """Read every fact a brief or a QBR draft shows for one account as of `as_of`."""
    with Session(engine) as session:
        account = find_account(session, account_key)
    score, stored = latest_score(engine, account.account_id, as_of)
    facts = AccountFacts(
        account_id=account.account_id,
        name=account.name,
        segment=account.segment,
        owner=account.owner,
        as_of=as_of,
        score=score,
        score_stored=stored,
    )
    with Session(engine) as session:
        facts.people = _people(session, account.account_id, as_of)
        facts.open_tickets, facts.tickets_90d = _tickets(session, account.account_id, as_of)
        facts.verbatims, facts.survey_scores = _surveys(session, account.account_id, as_of)
        facts.runs = _runs(session, account.account_id)
        facts.last_qbr = _last_qbr(session, account.account_id, as_of)
    return facts


def _people(session: Session, account_id: str, as_of: dt.date) -> list[Person]:
    end = _end_of(as_of)
    since = end - dt.timedelta(days=CONTACT_LOOKBACK_DAYS)
    last: dict[str, dt.datetime] = {}

    def merge(rows: Any) -> None:
        for contact_id, when in rows:
            if (
                contact_id
                and when is not None
                and (contact_id not in last or when > last[contact_id])
            ):
                last[contact_id] = when

    merge(
        session.execute(
            select(col(Touchpoint.contact_id), func.max(Touchpoint.occurred_at))
            .where(
                col(Touchpoint.account_id) == account_id,
                col(Touchpoint.occurred_at) < end,
                col(Touchpoint.occurred_at) >= since,
                col(Touchpoint.status) == "held",
            )
            .group_by(col(Touchpoint.contact_id))
        )
    )
    merge(
        session.execute(
            select(col(SurveyResponse.contact_id), func.max(SurveyResponse.submitted_at))
            .where(
                col(SurveyResponse.account_id) == account_id,
                col(SurveyResponse.submitted_at) < end,
                col(SurveyResponse.submitted_at) >= since,
            )
            .group_by(col(SurveyResponse.contact_id))
        )
    )
    merge(
        session.execute(
            select(col(UsageEvent.contact_id), func.max(UsageEvent.timestamp))
            .where(
                col(UsageEvent.timestamp) >= end - dt.timedelta(days=120),
                col(UsageEvent.timestamp) < end,
                col(UsageEvent.account_id) == account_id,
                col(UsageEvent.contact_id) != "",
            )
            .group_by(col(UsageEvent.contact_id))
        )
    )
    people = []
    for contact in session.scalars(
        select(Contact).where(col(Contact.account_id) == account_id).order_by(col(Contact.role))
    ):
        seen = last.get(contact.contact_id)
        left = contact.left_at.date() if contact.left_at and contact.left_at < end else None
        people.append(
            Person(
                contact_id=contact.contact_id,
                name=contact.name,
                email=contact.email,
                role=contact.role,
                last_active=seen.date() if seen else None,
                silent_days=(as_of - seen.date()).days if seen else None,
                left_at=left,
            )
        )
    return people


def _tickets(session: Session, account_id: str, as_of: dt.date) -> tuple[list[OpenTicket], int]:
    end = _end_of(as_of)
    rows = session.scalars(
        select(Ticket).where(
            col(Ticket.account_id) == account_id,
            col(Ticket.opened_at) < end,
            col(Ticket.opened_at) >= end - dt.timedelta(days=365),
        )
    ).all()
    open_now = [t for t in rows if t.closed_at is None or t.closed_at >= end]
    recent = sum(1 for t in rows if t.opened_at >= end - dt.timedelta(days=90))
    tickets = [
        OpenTicket(
            ticket_id=t.ticket_id,
            subject=t.subject or "(no subject)",
            priority=t.priority,
            opened_at=t.opened_at.date(),
            age_days=(as_of - t.opened_at.date()).days,
            tone=round(compound(f"{t.subject or ''} {t.body or ''}".strip()), 2),
        )
        for t in sorted(open_now, key=lambda t: t.opened_at)
    ]
    return tickets, recent


def _surveys(
    session: Session, account_id: str, as_of: dt.date
) -> tuple[list[Verbatim], dict[str, list[float]]]:
    end = _end_of(as_of)
    rows = session.scalars(
        select(SurveyResponse)
        .where(
            col(SurveyResponse.account_id) == account_id,
            col(SurveyResponse.submitted_at) < end,
            col(SurveyResponse.submitted_at) >= end - dt.timedelta(days=365),
        )
        .order_by(col(SurveyResponse.submitted_at).desc())
    ).all()
    scores: dict[str, list[float]] = {}
    for row in rows:
        scores.setdefault(row.kind, []).append(float(row.score))
    verbatims = [
        Verbatim(
            r.response_id, r.kind, float(r.score), r.submitted_at.date(), r.comment, r.contact_id
        )
        for r in rows
        if r.comment
    ][:3]
    return verbatims, scores


def _runs(session: Session, account_id: str) -> list[RunSummary]:
    runs = session.scalars(
        select(PlaybookRun).where(
            col(PlaybookRun.account_id) == account_id, col(PlaybookRun.status) == RunStatus.ACTIVE
        )
    ).all()
    summaries = []
    for run in runs:
        steps = session.scalars(
            select(PlaybookStep)
            .where(col(PlaybookStep.run_id) == run.id)
            .order_by(col(PlaybookStep.position))
        ).all()
        done = [s for s in steps if s.status != StepStatus.OPEN and s.done_at is not None]
        done.sort(key=lambda s: s.done_at or dt.datetime.min)
        open_steps = [s for s in steps if s.status == StepStatus.OPEN]
        summaries.append(
            RunSummary(
                run_id=run.id or 0,
                playbook=run.playbook,
                started_at=run.started_at.date(),
                last_done=done[-1].title if done else None,
                last_done_at=done[-1].done_at.date() if done and done[-1].done_at else None,
                next_open=open_steps[0].title if open_steps else None,
                next_due=open_steps[0].due_at.date() if open_steps else None,
                open_steps=len(open_steps),
            )
        )
    return summaries


def _last_qbr(session: Session, account_id: str, as_of: dt.date) -> dt.date | None:
    when = session.execute(
        select(func.max(Touchpoint.occurred_at)).where(
            col(Touchpoint.account_id) == account_id,
            col(Touchpoint.kind) == "qbr",
            col(Touchpoint.status) == "held",
            col(Touchpoint.occurred_at) < _end_of(as_of),
        )
    ).scalar()
    return when.date() if when else None


def tone_word(value: float) -> str:
    if value <= NEGATIVE_TONE:
        return "negative"
    if value >= POSITIVE_TONE:
        return "positive"
    return "neutral"
