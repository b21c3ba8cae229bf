"""Read queries behind the `/cs` command and the App Home: a CSM's book, an account's state.

Everything here is a database read with no Slack in it, so views render from plain rows.
"Latest score" means each account's most recent `account_scores` row.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from storage.models import (
    Account,
    AccountScore,
    AuditLog,
    Contract,
    Feedback,
    Outcome,
    PlaybookRun,
    PlaybookStep,
    Snooze,
)

FUZZY_CUTOFF = 0.6
MAX_CHOICES = 8


@dataclass
class AccountView:
    """An account with its latest score and open runs: what a card or a row shows."""

    account: Account
    score: AccountScore | None = None
    runs: list[PlaybookRun] = field(default_factory=list)

    @property
    def risk(self) -> float:
        if self.score is None:
            return 0.0
        if self.score.churn_risk is not None:
            return float(self.score.churn_risk)
        return (100.0 - float(self.score.health)) / 100.0


def latest_scores(
    session: Session, account_ids: list[str] | None = None
) -> dict[str, AccountScore]:
    """Each account's most recent score row (one query)."""
    newest = select(AccountScore.account_id, func.max(AccountScore.as_of).label("as_of")).group_by(
        AccountScore.account_id
    )
    if account_ids is not None:
        newest = newest.where(col(AccountScore.account_id).in_(account_ids))
    latest = newest.subquery()
    rows = session.exec(
        select(AccountScore).join(
            latest,
            and_(
                col(AccountScore.account_id) == latest.c.account_id,
                col(AccountScore.as_of) == latest.c.as_of,
            ),
        )
    ).all()
    return {row.account_id: row for row in rows}


def active_runs(session: Session, account_ids: list[str]) -> dict[str, list[PlaybookRun]]:
    runs: dict[str, list[PlaybookRun]] = {}
    if not account_ids:
        return runs
    for run in session.exec(
        select(PlaybookRun)
        .where(col(PlaybookRun.account_id).in_(account_ids), PlaybookRun.status == "active")
        .order_by(col(PlaybookRun.started_at))
    ):
        runs.setdefault(run.account_id, []).append(run)
    return runs


def my_book(session: Session, email: str) -> list[AccountView]:
    """Every account owned by `email`, with latest scores and open runs."""
    accounts = session.exec(
        select(Account).where(func.lower(Account.owner) == email.lower()).order_by(Account.name)
    ).all()
    ids = [account.account_id for account in accounts]
    scores = latest_scores(session, ids)
    runs = active_runs(session, ids)
    return [AccountView(a, scores.get(a.account_id), runs.get(a.account_id, [])) for a in accounts]


def rank_by_risk(book: list[AccountView]) -> list[AccountView]:
    """The whole book in the one attention order (`bot.accounts.attention`): accounts with
    a reason to look today first, by ARR-weighted urgency."""
    from bot.accounts.attention import rank_accounts

    scored = {view.score.account_id: view for view in book if view.score is not None}
    if not scored:
        return []
    as_of = max(view.score.as_of for view in scored.values() if view.score is not None)
    ranked = rank_accounts(
        [view.score for view in scored.values() if view.score is not None],
        as_of,
        qualifying_only=False,
    )
    return [scored[score.account_id] for score, _priority, _why in ranked]


def rank_by_expansion(book: list[AccountView]) -> list[AccountView]:
    scored = [view for view in book if view.score is not None and view.score.expansion > 0]
    return sorted(scored, key=lambda v: -(v.score.expansion if v.score else 0.0))


def renewals(
    session: Session, email: str, today: dt.date, days: int
) -> list[tuple[Account, Contract]]:
    """My accounts whose latest contract ends within `days`, soonest first."""
    ends = (
        select(Contract.account_id, func.max(Contract.end_date).label("end_date"))
        .group_by(Contract.account_id)
        .subquery()
    )
    rows = session.exec(
        select(Account, Contract)
        .join(ends, ends.c.account_id == Account.account_id)
        .join(
            Contract,
            and_(
                col(Contract.account_id) == ends.c.account_id,
                col(Contract.end_date) == ends.c.end_date,
            ),
        )
        .where(
            func.lower(Account.owner) == email.lower(),
            ends.c.end_date >= today,
            ends.c.end_date <= today + dt.timedelta(days=days),
        )
        .order_by(ends.c.end_date, Account.name)
    ).all()
    seen: set[str] = set()
    unique = []
    for account, contract in rows:  # two contracts may end the same day
        if account.account_id not in seen:
            seen.add(account.account_id)
            unique.append((account, contract))
    return unique


def owner_spelling(session: Session, email: str) -> str:
    """`Account.owner` as imported (any case) for `email`; `email` when it owns nothing."""
    owner = session.exec(
        select(Account.owner).where(func.lower(Account.owner) == email.lower()).limit(1)
    ).first()
    return owner or email


def find_accounts(session: Session, query: str) -> list[Account]:
    """Accounts matching `query`: an exact id or name wins, then substrings, then close names."""
    query = query.strip()
    if not query:
        return []
    by_id = session.get(Account, query)
    if by_id is not None:
        return [by_id]
    lowered = query.lower()
    exact = session.exec(select(Account).where(func.lower(Account.name) == lowered)).all()
    if exact:
        return list(exact)
    names = session.exec(select(Account.account_id, Account.name)).all()
    contains = [account_id for account_id, name in names if lowered in name.lower()]
    if not contains:
        by_name = {name.lower(): account_id for account_id, name in names}
        close = difflib.get_close_matches(
            lowered, list(by_name), n=MAX_CHOICES, cutoff=FUZZY_CUTOFF
        )
        contains = [by_name[name] for name in close]
    return [
        account for account in (session.get(Account, i) for i in contains[:MAX_CHOICES]) if account
    ]


def run_steps(session: Session, run_id: int) -> list[PlaybookStep]:
    return list(
        session.exec(
            select(PlaybookStep)
            .where(PlaybookStep.run_id == run_id)
            .order_by(col(PlaybookStep.position))
        )
    )


def run_outcome(session: Session, run_id: int) -> Outcome | None:
    return session.exec(select(Outcome).where(Outcome.run_id == run_id)).first()


def run_state(
    session: Session, run: PlaybookRun
) -> tuple[PlaybookRun, list[PlaybookStep], Outcome | None]:
    """A run with its steps and outcome: everything its message shows."""
    return run, run_steps(session, run.id or 0), run_outcome(session, run.id or 0)


@dataclass
class Activity:
    """One thing a person did on an account, for the "who did what, when" lines."""

    at: dt.datetime
    by: str
    text: str


def account_activity(session: Session, account_id: str, since: dt.datetime) -> list[Activity]:
    """What people did on an account since `since` (runs started, snoozes, feedback, outcomes)."""
    found: list[Activity] = []
    for run in session.exec(
        select(PlaybookRun).where(
            PlaybookRun.account_id == account_id, PlaybookRun.started_at >= since
        )
    ):
        found.append(Activity(run.started_at, run.started_by, f"started playbook {run.playbook}"))
    for snooze in session.exec(
        select(Snooze).where(Snooze.account_id == account_id, Snooze.created_at >= since)
    ):
        found.append(Activity(snooze.created_at, snooze.by, f"snoozed until {snooze.until:%b %d}"))
    for feedback in session.exec(
        select(Feedback).where(Feedback.account_id == account_id, Feedback.created_at >= since)
    ):
        found.append(
            Activity(feedback.created_at, feedback.by, f"marked {feedback.label.replace('_', ' ')}")
        )
    for outcome in session.exec(
        select(Outcome).where(Outcome.account_id == account_id, Outcome.created_at >= since)
    ):
        found.append(Activity(outcome.created_at, outcome.by, f"logged outcome {outcome.kind}"))
    run_ids = [
        str(run_id)
        for run_id in session.exec(
            select(PlaybookRun.id).where(PlaybookRun.account_id == account_id)
        )
    ]
    if run_ids:
        for entry in session.exec(
            select(AuditLog).where(
                AuditLog.entity == "run",
                AuditLog.action == "run.assigned",
                col(AuditLog.entity_id).in_(run_ids),
                AuditLog.at >= since,
            )
        ):
            to = (entry.detail or {}).get("to")
            found.append(Activity(entry.at, entry.actor, f"assigned the open plays to {to}"))
    return sorted(found, key=lambda item: item.at)
