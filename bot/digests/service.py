"""Build each CSM's digest from the stored scores as of a date.

The database work is three set queries (latest score per account, active snoozes and
recent "not a risk" feedback, then twelve weeks of health for the accounts shown); the
choosing and ordering is `bot.accounts.ranking`, pure and tested on plain data.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from pydantic import TypeAdapter
from sqlmodel import Session, col, select

from bot.accounts.attention import rank_accounts
from bot.accounts.cards import Suggester, _default_suggester, playbook_choices, weekly_health
from bot.accounts.ranking import (
    AttentionRules,
    ScoreFacts,
    days_to_renewal,
    expansion_signals,
    rank_expansion,
    top_reasons,
)
from bot.accounts.service import NOT_A_RISK_DAYS, account_states
from bot.accounts.trend import sparkline
from bot.digests.messages import digest_messages
from bot.digests.model import Digest, DigestItem, ExpansionItem
from bot.slack.deps import RenderContext
from scoring.attention import AttentionSettings, disagreement_line
from storage.enums import FeedbackKind
from storage.latest_scores import newest_scores_query
from storage.models import Account, AccountScore, Feedback, Snooze

STALE_AFTER_DAYS = 14  # an account not scored for two weeks is no longer live
EXPANSION_SIZE = 3
ID_CHUNK = 500  # ids per IN (...) clause


class Facts(NamedTuple):
    """The score columns ranking reads (see `FACT_COLUMNS`), loaded without the JSON."""

    account_id: str
    as_of: dt.date
    health: float
    band: str
    health_delta_30d: float | None
    direction: str
    churn_risk: float | None
    expansion: float
    stakeholder_band: str
    renewal_date: dt.date | None
    arr: float


@dataclass
class OwnerSelection:
    """What one owner's digest will list, before it is turned into display records."""

    attention: list[tuple[ScoreFacts, float, tuple[str, ...]]]
    expansion: list[tuple[ScoreFacts, float]]
    total_attention: int
    total_expansion: int
    book_size: int


# The columns ranking needs: enough to choose and order a whole book without loading
# the reasons, stakeholders and signal vectors of every account.
FACT_COLUMNS = (
    "account_id",
    "as_of",
    "health",
    "band",
    "health_delta_30d",
    "direction",
    "churn_risk",
    "expansion",
    "stakeholder_band",
    "renewal_date",
    "arr",
)


def _latest_query(
    columns: tuple[Any, ...],
    as_of: dt.date,
    owners: Iterable[str] | None,
    stale_after_days: int,
) -> Any:
    oldest = as_of - dt.timedelta(days=stale_after_days)
    query = (
        newest_scores_query(*columns, through=as_of, after=oldest)
        .add_columns(col(Account.name), col(Account.owner))
        .join(Account, col(Account.account_id) == col(AccountScore.account_id))
        .where(col(Account.owner).is_not(None))
    )
    if owners is not None:
        query = query.where(col(Account.owner).in_(list(owners)))
    return query


def latest_facts(
    session: Session,
    as_of: dt.date,
    *,
    owners: Iterable[str] | None = None,
    stale_after_days: int = STALE_AFTER_DAYS,
) -> list[tuple[ScoreFacts, str, str]]:
    """(score facts, account name, owner email) for each owned account's latest score ≤
    as_of, scored within `stale_after_days` (older means the account is no longer live).
    The facts are rows with `FACT_COLUMNS` as attributes, all that ranking reads."""
    columns = tuple(getattr(AccountScore, name) for name in FACT_COLUMNS)
    query = _latest_query(columns, as_of, owners, stale_after_days)
    found: list[tuple[ScoreFacts, str, str]] = []
    for row in session.execute(query).all():
        *facts, name, owner = row
        found.append((Facts(*facts), name, str(owner)))
    return found


def latest_scores(
    session: Session,
    as_of: dt.date,
    *,
    owners: Iterable[str] | None = None,
    stale_after_days: int = STALE_AFTER_DAYS,
) -> list[tuple[AccountScore, str, str]]:
    """Like `latest_facts`, with whole AccountScore rows (reasons, stakeholders, signals)."""
    query = _latest_query((AccountScore,), as_of, owners, stale_after_days)
    return [(score, name, str(owner)) for score, name, owner in session.execute(query).all()]


def full_scores(session: Session, picks: Iterable[ScoreFacts]) -> dict[str, AccountScore]:
    """The whole AccountScore rows of the chosen (account, as_of) pairs, by account id."""
    wanted = {(p.account_id, p.as_of) for p in picks}
    ids = sorted({account_id for account_id, _day in wanted})
    days = sorted({day for _id, day in wanted})
    found: dict[str, AccountScore] = {}
    for start in range(0, len(ids), ID_CHUNK):
        rows = session.exec(
            select(AccountScore).where(
                col(AccountScore.account_id).in_(ids[start : start + ID_CHUNK]),
                col(AccountScore.as_of).in_(days),
            )
        ).all()
        for score in rows:
            if (score.account_id, score.as_of) in wanted:
                found[score.account_id] = score
    return found


def snoozed_accounts(session: Session, at: dt.datetime) -> set[str]:
    rows = session.exec(select(Snooze.account_id).where(Snooze.until > at)).all()
    return set(rows)


def not_a_risk_accounts(session: Session, as_of: dt.date, days: int = NOT_A_RISK_DAYS) -> set[str]:
    since = as_of - dt.timedelta(days=days)
    rows = session.exec(
        select(Feedback.account_id).where(
            Feedback.label == FeedbackKind.NOT_A_RISK,
            Feedback.as_of > since,
            Feedback.as_of <= as_of,
        )
    ).all()
    return set(rows)


def select_digests(
    rows: Sequence[tuple[ScoreFacts, str, str]],
    as_of: dt.date,
    *,
    size: int,
    excluded: set[str] = frozenset(),  # type: ignore[assignment]
    not_a_risk: set[str] = frozenset(),  # type: ignore[assignment]
    rules: AttentionRules = AttentionRules(),
    expansion_size: int = EXPANSION_SIZE,
) -> dict[str, OwnerSelection]:
    """Pure: per owner, the ranked accounts to show and how many qualified in all."""
    books: dict[str, list[ScoreFacts]] = defaultdict(list)
    for score, _name, owner in rows:
        books[owner].append(score)
    chosen: dict[str, OwnerSelection] = {}
    for owner, scores in books.items():
        live = [s for s in scores if s.account_id not in excluded]
        attention = rank_accounts([s for s in live if s.account_id not in not_a_risk], as_of, rules)
        expansion = rank_expansion(live, rules)
        chosen[owner] = OwnerSelection(
            attention=attention[:size],
            expansion=expansion[:expansion_size],
            total_attention=len(attention),
            total_expansion=len(expansion),
            book_size=len(scores),
        )
    return chosen


def build_digests(
    session: Session,
    as_of: dt.date,
    *,
    size: int,
    library: Mapping[str, Any] | None = None,
    owners: Iterable[str] | None = None,
    rules: AttentionRules = AttentionRules(),
    now: dt.datetime | None = None,
    expansion_size: int = EXPANSION_SIZE,
    suggester: Suggester | None = None,
    audience: Mapping[str, Iterable[str]] | None = None,
) -> list[Digest]:
    """One digest per owner email (sorted by email), from the latest scores ≤ `as_of`.

    Snoozed accounts (a snooze running past `now`, by default the start of `as_of`) are left
    out entirely; accounts marked "not a risk" in the last 30 days are left out of the
    attention list. Playbooks are suggested with `playbooks.suggest.suggest_playbooks` when
    a library is given.
    """
    at = now or dt.datetime.combine(as_of, dt.time.min)
    if audience is not None:  # viewer → the owners their digest covers (bot.digests.audience)
        rows = viewed_by(latest_facts(session, as_of), audience)
    else:
        rows = latest_facts(session, as_of, owners=owners)
    names = {facts.account_id: name for facts, name, _owner in rows}
    chosen = select_digests(
        rows,
        as_of,
        size=size,
        excluded=snoozed_accounts(session, at),
        not_a_risk=not_a_risk_accounts(session, as_of),
        rules=rules,
        expansion_size=expansion_size,
    )
    shown = [s.account_id for pick in chosen.values() for s, _p, _w in pick.attention]
    trends = weekly_health(session, shown, as_of)
    full = full_scores(
        session,
        [s for pick in chosen.values() for s, _p, _w in pick.attention]
        + [s for pick in chosen.values() for s, _p in pick.expansion],
    )
    suggest = suggester or (_default_suggester() if library else None)
    choices = playbook_choices(library)

    def suggested(score: AccountScore) -> tuple[str, ...]:
        if suggest is None or not library:
            return ()
        return tuple(suggest(score, library))

    digests = []
    for owner in sorted(chosen):
        pick = chosen[owner]
        items = [
            digest_item(
                full[facts.account_id],
                names[facts.account_id],
                as_of,
                priority,
                why,
                suggested(full[facts.account_id]),
                trends.get(facts.account_id, ()),
            )
            for facts, priority, why in pick.attention
        ]
        candidates = [
            expansion_item(
                full[facts.account_id],
                names[facts.account_id],
                as_of,
                priority,
                suggested(full[facts.account_id]),
            )
            for facts, priority in pick.expansion
        ]
        digests.append(
            Digest(
                owner=owner,
                as_of=as_of,
                items=items,
                total_needing=pick.total_attention,
                expansion=candidates,
                total_expansion=pick.total_expansion,
                playbooks=choices,
                accounts_in_book=pick.book_size,
            )
        )
    return digests


def viewed_by(
    rows: Sequence[tuple[ScoreFacts, str, str]], audience: Mapping[str, Iterable[str]]
) -> list[tuple[ScoreFacts, str, str]]:
    """Pure: the rows again, once per viewer whose audience covers the row's owner, with the
    viewer in the owner's place (so each viewer gets one digest over all they cover)."""
    by_owner: dict[str, list[tuple[ScoreFacts, str, str]]] = defaultdict(list)
    for row in rows:
        by_owner[row[2].lower()].append(row)
    return [
        (facts, name, viewer)
        for viewer, owned in audience.items()
        for owner in sorted({o.lower() for o in owned})
        for facts, name, _owner in by_owner.get(owner, [])
    ]


def digest_item(
    score: AccountScore,
    name: str,
    as_of: dt.date,
    priority: float,
    why: tuple[str, ...],
    suggested: tuple[str, ...],
    weekly: tuple[float | None, ...],
) -> DigestItem:
    return DigestItem(
        account_id=score.account_id,
        name=name,
        arr=score.arr,
        health=score.health,
        band=score.band,
        priority=priority,
        why=why,
        reasons=top_reasons(score),
        health_delta_30d=score.health_delta_30d,
        direction=score.direction,
        churn_risk=score.churn_risk,
        stakeholder_band=score.stakeholder_band,
        renewal_date=score.renewal_date,
        days_to_renewal=days_to_renewal(score, as_of),
        suggested_playbooks=suggested,
        weekly_health=weekly,
        sparkline=sparkline(weekly),
        disagreement=disagreement_line(score, AttentionSettings()),
    )


def expansion_item(
    score: AccountScore, name: str, as_of: dt.date, priority: float, suggested: tuple[str, ...]
) -> ExpansionItem:
    return ExpansionItem(
        account_id=score.account_id,
        name=name,
        arr=score.arr,
        expansion=score.expansion,
        health=score.health,
        band=score.band,
        priority=priority,
        signals=expansion_signals(score),
        days_to_renewal=days_to_renewal(score, as_of),
        suggested_playbooks=suggested,
    )


# -- the digest as stored with its message, and re-rendered from it ----------------------------

DIGESTS = TypeAdapter(Digest)


def digest_subject(digest: Digest, *, mention: str | None, part: int) -> dict[str, Any]:
    """What a digest message is stored with: the digest as chosen when it was posted (the
    accounts do not change after a click; their state does), who it mentions, which part."""
    return {"digest": DIGESTS.dump_python(digest, mode="json"), "mention": mention, "part": part}


def render_digest(
    session: Session, subject: Mapping[str, Any], context: RenderContext
) -> dict[str, Any] | None:
    """A digest part, its accounts' buttons and activity drawn from current state."""
    digest = DIGESTS.validate_python(subject.get("digest") or {})
    ids = [item.account_id for item in digest.items]
    states = account_states(session, ids, now=context.now, since=context.since)
    parts = digest_messages(digest, mention=subject.get("mention"), states=states)
    part = int(subject.get("part") or 1)
    return parts[part - 1] if 0 < part <= len(parts) else None
