"""Each account's newest score: the one query the digest, the alerts and the cards share.

Scores are stored one row per account per scoring day, so "the latest score" is a
group-by on the account for the newest `as_of` within bounds, joined back to the rows.
The digest wants it as of a day and not older than a staleness window, the alerts the
newest before today (to compare with), a card the newest of all; the bounds say which.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, Subquery, and_, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from storage.models import AccountScore


def newest_dates(
    *,
    through: dt.date | None = None,
    before: dt.date | None = None,
    after: dt.date | None = None,
    account_ids: Iterable[str] | None = None,
) -> Subquery:
    """(account_id, as_of) of each account's newest score with `after < as_of ≤ through`
    and `as_of < before` (each bound only when given), among `account_ids` when given."""
    query = sa_select(
        col(AccountScore.account_id), func.max(AccountScore.as_of).label("as_of")
    ).group_by(col(AccountScore.account_id))
    if through is not None:
        query = query.where(col(AccountScore.as_of) <= through)
    if before is not None:
        query = query.where(col(AccountScore.as_of) < before)
    if after is not None:
        query = query.where(col(AccountScore.as_of) > after)
    if account_ids is not None:
        query = query.where(col(AccountScore.account_id).in_(list(account_ids)))
    return query.subquery()


def newest_scores_query(
    *columns: Any,
    through: dt.date | None = None,
    before: dt.date | None = None,
    after: dt.date | None = None,
    account_ids: Iterable[str] | None = None,
) -> Select[Any]:
    """SELECT `columns` (default: whole AccountScore rows) of each account's newest score
    within the bounds of `newest_dates`; callers may add columns, joins and filters."""
    newest = newest_dates(through=through, before=before, after=after, account_ids=account_ids)
    return sa_select(*(columns or (AccountScore,))).join(
        newest,
        and_(
            col(AccountScore.account_id) == newest.c.account_id,
            col(AccountScore.as_of) == newest.c.as_of,
        ),
    )


def newest_scores(
    session: Session,
    *,
    through: dt.date | None = None,
    before: dt.date | None = None,
    after: dt.date | None = None,
    account_ids: Iterable[str] | None = None,
) -> dict[str, AccountScore]:
    """Each account's newest AccountScore within the bounds, by account id (one query)."""
    query = newest_scores_query(
        through=through, before=before, after=after, account_ids=account_ids
    )
    return {row.account_id: row for row in session.execute(query).scalars().all()}
