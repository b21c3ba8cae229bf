"""What a CSM's App Home shows: their accounts by risk with trend, their open steps with
due dates, and their digest for the latest scored day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from bot.accounts.attention import rank_accounts
from bot.accounts.ranking import AttentionRules
from bot.accounts.service import weekly_health
from bot.delivery.budget import held_count
from bot.digests.model import Digest, DigestItem
from bot.digests.service import build_digests, digest_item, latest_scores
from bot.plays.service import OpenStep, open_steps
from storage.enums import OutboxStatus
from storage.models import OutboxMessage

HOME_ACCOUNTS = 15
HOME_STEPS = 10


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
    held: int = 0  # updates the noise budget held for the next digest


def load_home(
    session: Session,
    owner: str,
    *,
    as_of: dt.date | None,
    user_id: str | None = None,
    library: Mapping[str, Any] | None = None,
    size: int = 8,
    now: dt.datetime | None = None,
    rules: AttentionRules = AttentionRules(),
) -> HomeData:
    """Everything the App Home of `owner` (an email) shows, as of the latest scores."""
    home = HomeData(owner=owner, as_of=as_of, held=held_count(session, owner))
    identities = [owner] + ([user_id] if user_id else [])
    steps = open_steps(session, identities, library)
    home.steps, home.steps_total = steps[:HOME_STEPS], len(steps)
    if as_of is None:
        return home
    rows = latest_scores(session, as_of, owners=[owner])
    names = {score.account_id: name for score, name, _owner in rows}
    ranked = rank_accounts([score for score, _n, _o in rows], as_of, rules, qualifying_only=False)
    shown = ranked[:HOME_ACCOUNTS]
    trends = weekly_health(session, [score.account_id for score, _p, _w in shown], as_of)
    home.accounts = [
        digest_item(
            score,
            names[score.account_id],
            as_of,
            priority,
            why,
            (),
            trends.get(score.account_id, ()),
        )
        for score, priority, why in shown
    ]
    home.accounts_total = len(rows)
    digests = build_digests(
        session, as_of, size=size, library=library, owners=[owner], now=now, rules=rules
    )
    home.digest = digests[0] if digests else None
    posted = session.exec(
        select(OutboxMessage.sent_at)
        .where(
            OutboxMessage.idempotency_key == f"digest:{owner}:{as_of.isoformat()}",
            OutboxMessage.status == OutboxStatus.SENT,
        )
        .limit(1)
    ).first()
    home.digest_posted_at = posted
    return home
