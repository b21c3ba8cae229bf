"""Read queries behind the `/cs` command and the App Home: a CSM's book, an account's state.

Everything here is a database read with no Slack in it, so views render from plain rows.
"Latest score" means each account's most recent `account_scores` row.

It is also the accounts domain's API for the other domains (digests, alerts, home,
leaders): the playbook choices and suggester, the weekly health, and snoozes and votes
(`snooze_with_reason`, `record_vote`, … re-exported here) go through this module.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from bot.accounts.attention import rank_accounts
from bot.accounts.model import PlaybookChoice
from bot.accounts.ranking import AttentionRules
from bot.accounts.snooze import PERIOD_DAYS as PERIOD_DAYS
from bot.accounts.snooze import REASONS as REASONS
from bot.accounts.snooze import SnoozeError as SnoozeError
from bot.accounts.snooze import snooze_account as snooze_account_with_reason
from bot.accounts.trend import WEEKS, weekly_points
from bot.accounts.votes import VoteError as VoteError
from bot.accounts.votes import parse_vote_option as parse_vote_option
from bot.accounts.votes import rate_text as rate_text
from bot.accounts.votes import record_vote as record_vote
from bot.accounts.votes import usefulness_report as usefulness_report
from playbooks.suggest import suggest_playbooks
from scoring.churn.feedback import record_feedback
from storage.audit import audit
from storage.clock import Clock
from storage.enums import FeedbackKind, RunStatus
from storage.latest_scores import newest_scores
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

# A snooze with a reason from the list (the alert's modal); `snooze_account` below is the
# card's quick snooze.
snooze_with_reason = snooze_account_with_reason

FUZZY_CUTOFF = 0.6
MAX_CHOICES = 8
ID_CHUNK = 500


Suggester = Callable[[AccountScore, Any], list[str]]


def default_suggester() -> Suggester | None:
    """The playbook suggester the digest, alerts and cards use."""
    return suggest_playbooks


def playbook_choices(library: Mapping[str, Any] | None) -> list[PlaybookChoice]:
    """Every playbook of the library, as (name, title) in the library's order."""
    choices = []
    for name, playbook in (library or {}).items():
        title = getattr(playbook, "title", None) or name.replace("_", " ").capitalize()
        choices.append(PlaybookChoice(name=name, title=str(title)))
    return choices


def weekly_health(
    session: Session, account_ids: Iterable[str], as_of: dt.date, weeks: int = WEEKS
) -> dict[str, tuple[float | None, ...]]:
    """Twelve weekly health points per account (oldest first), from the stored scores."""
    ids = sorted(set(account_ids))
    since = as_of - dt.timedelta(days=weeks * 7)
    history: dict[str, list[tuple[dt.date, float]]] = defaultdict(list)
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        rows = session.exec(
            select(
                col(AccountScore.account_id), col(AccountScore.as_of), col(AccountScore.health)
            ).where(
                col(AccountScore.account_id).in_(chunk),
                AccountScore.as_of > since,
                AccountScore.as_of <= as_of,
            )
        ).all()
        for account_id, day, health in rows:
            history[account_id].append((day, health))
    return {
        account_id: weekly_points(history.get(account_id, []), as_of, weeks) for account_id in ids
    }


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


def active_runs(session: Session, account_ids: list[str]) -> dict[str, list[PlaybookRun]]:
    runs: dict[str, list[PlaybookRun]] = {}
    if not account_ids:
        return runs
    for run in session.exec(
        select(PlaybookRun)
        .where(col(PlaybookRun.account_id).in_(account_ids), PlaybookRun.status == RunStatus.ACTIVE)
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
    scores = newest_scores(session, account_ids=ids)
    runs = active_runs(session, ids)
    return [AccountView(a, scores.get(a.account_id), runs.get(a.account_id, [])) for a in accounts]


def rank_by_risk(
    book: list[AccountView], rules: AttentionRules = AttentionRules()
) -> list[AccountView]:
    """The whole book in the one attention order (`bot.accounts.attention`): accounts with
    a reason to look today first, by the value of attention (`bot.accounts.attention`)."""
    scored = {view.score.account_id: view for view in book if view.score is not None}
    if not scored:
        return []
    as_of = max(view.score.as_of for view in scored.values() if view.score is not None)
    ranked = rank_accounts(
        [view.score for view in scored.values() if view.score is not None],
        as_of,
        rules,
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


@dataclass(frozen=True)
class Activity:
    """One thing a person did on an account, for the "who did what, when" lines."""

    at: dt.datetime
    by: str
    text: str
    whom: str | None = None  # a person the text ends on ("assigned the open plays to" whom)


def account_activity(
    session: Session,
    account_id: str,
    since: dt.datetime,
    library: Mapping[str, Any] | None = None,
) -> list[Activity]:
    """What people did on an account since `since` (runs started, snoozes, feedback, outcomes),
    each said once: assigning an account's three open runs is one "assigned" line. Playbooks
    are named by their titles from `library`."""
    found: list[Activity] = []
    for run in session.exec(
        select(PlaybookRun).where(
            PlaybookRun.account_id == account_id, PlaybookRun.started_at >= since
        )
    ):
        title = getattr((library or {}).get(run.playbook), "title", None)
        name = title or run.playbook.replace("_", " ")
        found.append(Activity(run.started_at, run.started_by, f"started {name}"))
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
        found.append(
            Activity(
                outcome.created_at, outcome.by, f"logged outcome {outcome.kind.replace('_', ' ')}"
            )
        )
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
            found.append(Activity(entry.at, entry.actor, "assigned the open plays to", to))
    return list(dict.fromkeys(sorted(found, key=lambda item: item.at)))


# -- what people set on an account: snoozes and "not a risk" ---------------------------------

NOT_A_RISK_DAYS = 30  # "not a risk" keeps an account out of the digest this long


@dataclass(frozen=True)
class AccountState:
    """What a message about an account shows besides its scores: a snooze in force, a recent
    "not a risk", and what people did since the message was posted. Its buttons follow it:
    no Snooze while snoozed, no Not a risk once marked."""

    snoozed_until: dt.datetime | None = None
    snoozed_by: str | None = None
    not_a_risk_by: str | None = None
    not_a_risk_at: dt.datetime | None = None
    activity: tuple[Activity, ...] = ()


def active_snooze(session: Session, account_id: str, at: dt.datetime) -> Snooze | None:
    """The snooze that lasts longest among those in force at `at`."""
    return session.exec(
        select(Snooze)
        .where(Snooze.account_id == account_id, Snooze.until >= at)
        .order_by(col(Snooze.until).desc())
    ).first()


def not_a_risk_since(session: Session, account_id: str, since: dt.date) -> Feedback | None:
    """The latest "not a risk" given for a score on or after `since`."""
    return session.exec(
        select(Feedback)
        .where(
            Feedback.account_id == account_id,
            Feedback.label == FeedbackKind.NOT_A_RISK,
            Feedback.as_of >= since,
        )
        .order_by(col(Feedback.created_at).desc())
    ).first()


def account_state(
    session: Session,
    account_id: str,
    *,
    now: dt.datetime,
    since: dt.datetime,
    library: Mapping[str, Any] | None = None,
) -> AccountState:
    snooze = active_snooze(session, account_id, now)
    feedback = not_a_risk_since(
        session, account_id, now.date() - dt.timedelta(days=NOT_A_RISK_DAYS)
    )
    return AccountState(
        snoozed_until=snooze.until if snooze else None,
        snoozed_by=snooze.by if snooze else None,
        not_a_risk_by=feedback.by if feedback else None,
        not_a_risk_at=feedback.created_at if feedback else None,
        activity=tuple(account_activity(session, account_id, since, library)),
    )


def account_states(
    session: Session,
    account_ids: list[str],
    *,
    now: dt.datetime,
    since: dt.datetime,
    library: Mapping[str, Any] | None = None,
) -> dict[str, AccountState]:
    return {
        account_id: account_state(session, account_id, now=now, since=since, library=library)
        for account_id in dict.fromkeys(account_ids)
    }


def snooze_account(
    session: Session, account: Account, *, days: int, by: str, source: str, clock: Clock
) -> Snooze | None:
    """Snooze `account` for `days` from now, audited; None (and nothing written) when a
    snooze at least that long is already in force. The caller commits."""
    now = clock.now()
    until = now + dt.timedelta(days=days)
    midnight = until.replace(hour=0, minute=0, second=0, microsecond=0)
    if active_snooze(session, account.account_id, midnight) is not None:
        return None
    snooze = Snooze(
        account_id=account.account_id,
        until=until,
        by=by,
        created_at=now,
        reason=f"snoozed from {source}",
    )
    session.add(snooze)
    audit(session, clock=clock, actor=by, source=source, action="snooze", entity="account",
          entity_id=account.account_id, detail={"until": until.isoformat(), "days": days})  # fmt: skip
    return snooze


def mark_not_a_risk(
    session: Session, account: Account, *, as_of: dt.date, by: str, source: str, clock: Clock
) -> Feedback | None:
    """Record "not a risk" for the account's score of `as_of` (feedback for the churn
    model); None when it was already given for that score. The caller commits."""
    given = session.exec(
        select(Feedback).where(
            Feedback.account_id == account.account_id,
            Feedback.as_of == as_of,
            Feedback.label == FeedbackKind.NOT_A_RISK,
        )
    ).first()
    if given is not None:
        return None
    return record_feedback(
        session, account.account_id, as_of, FeedbackKind.NOT_A_RISK, by, source, clock
    )
