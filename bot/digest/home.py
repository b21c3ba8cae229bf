"""What a CSM's App Home shows: their accounts by risk with trend, their open steps with
due dates, and their digest for the latest scored day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, or_, select

from bot.digest.model import Digest, DigestItem
from bot.digest.ranking import attention_priority, attention_reasons, risk_of
from bot.digest.select import build_digests, digest_item, latest_scores, weekly_health
from storage.models import Account, OutboxMessage, PlaybookRun, PlaybookStep

HOME_ACCOUNTS = 15
HOME_STEPS = 10


@dataclass(frozen=True)
class OpenStep:
    step: PlaybookStep
    run: PlaybookRun
    account_name: str
    playbook_title: str


@dataclass
class HomeData:
    owner: str
    as_of: dt.date | None
    accounts: list[DigestItem] = field(default_factory=list)
    accounts_total: int = 0
    steps: list[OpenStep] = field(default_factory=list)
    steps_total: int = 0
    digest: Digest | None = None
    digest_posted_at: dt.datetime | None = None


def open_steps(
    session: Session, identities: list[str], library: Mapping[str, Any] | None = None
) -> list[OpenStep]:
    """Open steps of active runs owned by one of `identities` (email, Slack id): the step's
    own owner, or the run's owner when the step has none. Soonest due first."""
    rows = session.exec(
        select(PlaybookStep, PlaybookRun, Account.name)
        .join(PlaybookRun, col(PlaybookRun.id) == col(PlaybookStep.run_id))
        .join(Account, col(Account.account_id) == col(PlaybookRun.account_id))
        .where(
            PlaybookStep.status == "open",
            PlaybookRun.status == "active",
            or_(
                col(PlaybookStep.owner).in_(identities),
                (col(PlaybookStep.owner).is_(None)) & (col(PlaybookRun.owner).in_(identities)),
            ),
        )
        .order_by(col(PlaybookStep.due_at), col(PlaybookStep.id))
    ).all()
    found = []
    for step, run, name in rows:
        playbook = (library or {}).get(run.playbook)
        title = getattr(playbook, "title", None) or run.playbook.replace("_", " ")
        found.append(OpenStep(step, run, name, title))
    return found


def load_home(
    session: Session,
    owner: str,
    *,
    as_of: dt.date | None,
    user_id: str | None = None,
    library: Mapping[str, Any] | None = None,
    size: int = 8,
    now: dt.datetime | None = None,
) -> HomeData:
    """Everything the App Home of `owner` (an email) shows, as of the latest scores."""
    home = HomeData(owner=owner, as_of=as_of)
    identities = [owner] + ([user_id] if user_id else [])
    steps = open_steps(session, identities, library)
    home.steps, home.steps_total = steps[:HOME_STEPS], len(steps)
    if as_of is None:
        return home
    rows = latest_scores(session, as_of, owners=[owner])
    rows.sort(key=lambda row: (-risk_of(row[0]), row[0].health, row[0].account_id))
    shown = rows[:HOME_ACCOUNTS]
    trends = weekly_health(session, [score.account_id for score, _n, _o in shown], as_of)
    home.accounts = [
        digest_item(
            score,
            name,
            as_of,
            attention_priority(score, as_of),
            attention_reasons(score, as_of),
            (),
            trends.get(score.account_id, ()),
        )
        for score, name, _owner in shown
    ]
    home.accounts_total = len(rows)
    digests = build_digests(session, as_of, size=size, library=library, owners=[owner], now=now)
    home.digest = digests[0] if digests else None
    posted = session.exec(
        select(OutboxMessage.sent_at)
        .where(
            OutboxMessage.idempotency_key == f"digest:{owner}:{as_of.isoformat()}",
            OutboxMessage.status == "sent",
        )
        .limit(1)
    ).first()
    home.digest_posted_at = posted
    return home
