"""Useful / not useful: people's verdict on each digest entry and alert, and the report
per rule and per CSM (volume per week from the delivery ledger, useful rate from votes).

A vote is stored with the rule that produced the entry ("critical", "falling_fast",
"band:critical", …). Voting again on the same entry changes the vote rather than adding one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.delivery.budget import Decision
from storage.clock import Clock
from storage.enums import VoteKind
from storage.models import Account
from storage.models.noise import DeliveryLedger, UsefulnessVote

KINDS = tuple(VoteKind)


class VoteError(ValueError):
    """A vote that cannot be stored; the message names the field."""


def parse_vote_option(option: str | None) -> tuple[str, str]:
    """ "digest|critical" → ("digest", "critical")."""
    kind, sep, rule = (option or "").partition("|")
    if not sep or kind not in KINDS or not rule:
        raise VoteError(f"vote: expected 'digest|rule' or 'alert|rule', got {option!r}")
    return kind, rule


def record_vote(
    session: Session,
    *,
    kind: str,
    rule: str,
    account_id: str,
    as_of: dt.date,
    by: str,
    useful: bool,
    clock: Clock,
) -> tuple[UsefulnessVote, bool]:
    """Store the vote (or change an earlier one); (row, changed). The caller commits."""
    if kind not in KINDS:
        raise VoteError(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    account = session.get(Account, account_id)
    if account is None:
        raise VoteError(f"account_id: no account {account_id!r}")
    row = session.exec(
        select(UsefulnessVote).where(
            UsefulnessVote.kind == kind,
            UsefulnessVote.rule == rule,
            UsefulnessVote.account_id == account_id,
            UsefulnessVote.as_of == as_of,
            UsefulnessVote.by == by,
        )
    ).first()
    if row is not None:
        changed = row.useful != useful
        row.useful, row.created_at = useful, clock.now()
        session.add(row)
        return row, changed
    row = UsefulnessVote(
        kind=kind,
        rule=rule,
        account_id=account_id,
        csm=account.owner,
        by=by,
        useful=useful,
        as_of=as_of,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row, True


@dataclass
class RuleStats:
    """One line of the report: a rule (or a CSM), its weekly volume and useful rate."""

    key: str
    sent: int = 0  # entries delivered (digest entries and alerts)
    held: int = 0  # entries the budget held back
    useful: int = 0
    not_useful: int = 0
    weeks: float = 1.0

    @property
    def per_week(self) -> float:
        return self.sent / self.weeks if self.weeks else float(self.sent)

    @property
    def useful_rate(self) -> float | None:
        votes = self.useful + self.not_useful
        return self.useful / votes if votes else None


@dataclass
class UsefulnessReport:
    since: dt.date
    until: dt.date
    by_rule: list[RuleStats]
    by_csm: list[RuleStats]


def usefulness_report(session: Session, *, since: dt.date, until: dt.date) -> UsefulnessReport:
    """Per rule ("digest:critical", "alert:band:critical", …) and per CSM: entries sent and
    held per week, and the useful rate of the votes, between `since` and `until`."""
    weeks = max(1.0, ((until - since).days + 1) / 7)
    rules: dict[str, RuleStats] = {}
    csms: dict[str, RuleStats] = {}

    def stats(table: dict[str, RuleStats], key: str) -> RuleStats:
        return table.setdefault(key, RuleStats(key, weeks=weeks))

    ledger = session.exec(
        select(DeliveryLedger).where(
            col(DeliveryLedger.day) >= since,
            col(DeliveryLedger.day) <= until,
            col(DeliveryLedger.kind).in_(KINDS),
        )
    ).all()
    owners: dict[str, str | None] = {}
    wanted = {item.get("account_id") for row in ledger for item in row.items or []}
    if wanted:
        for account_id, owner in session.exec(
            select(Account.account_id, Account.owner).where(col(Account.account_id).in_(wanted))
        ).all():
            owners[account_id] = owner
    for row in ledger:
        delivered = row.decision != Decision.HELD
        for item in row.items or []:
            rule = f"{row.kind}:{item.get('rule')}"
            csm = owners.get(str(item.get("account_id"))) or "(no owner)"
            for table, key in ((rules, rule), (csms, csm)):
                line = stats(table, key)
                if delivered:
                    line.sent += 1
                else:
                    line.held += 1
    votes = session.exec(
        select(UsefulnessVote).where(
            col(UsefulnessVote.as_of) >= since, col(UsefulnessVote.as_of) <= until
        )
    ).all()
    for vote in votes:
        for table, key in ((rules, f"{vote.kind}:{vote.rule}"), (csms, vote.csm or "(no owner)")):
            line = stats(table, key)
            if vote.useful:
                line.useful += 1
            else:
                line.not_useful += 1
    by_rule = sorted(rules.values(), key=lambda s: (-s.sent, s.key))
    by_csm = sorted(csms.values(), key=lambda s: (-s.sent, s.key))
    return UsefulnessReport(since=since, until=until, by_rule=by_rule, by_csm=by_csm)


def rate_text(stats: RuleStats) -> str:
    rate = stats.useful_rate
    votes = stats.useful + stats.not_useful
    return "—" if rate is None else f"{rate:.0%} of {votes}"
