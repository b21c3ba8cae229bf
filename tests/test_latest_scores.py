"""Each account's newest score within bounds (storage.latest_scores), on both databases."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col

from storage.enums import Band
from storage.latest_scores import newest_scores, newest_scores_query
from storage.models import Account, AccountScore

D1, D2, D3, D4 = (dt.date(2026, 5, day) for day in (1, 10, 20, 30))


def _score(account_id: str, as_of: dt.date, health: float) -> AccountScore:
    return AccountScore(account_id=account_id, as_of=as_of, health=health, band=Band.NEUTRAL)


def _fill(session: Session) -> None:
    session.add(Account(account_id="a", name="Acme", owner="ann@example.com"))
    session.add(Account(account_id="b", name="Beta", owner="bob@example.com"))
    session.add(Account(account_id="c", name="Core", owner=None))
    session.add_all(
        [
            _score("a", D1, 10),
            _score("a", D3, 30),
            _score("a", D4, 40),
            _score("b", D1, 11),
            _score("b", D2, 21),
            _score("c", D3, 33),
        ]
    )
    session.commit()


def _health(found: dict[str, AccountScore]) -> dict[str, float]:
    return {account_id: score.health for account_id, score in found.items()}


def test_newest_of_all_and_of_some_accounts(session: Session) -> None:
    _fill(session)
    assert _health(newest_scores(session)) == {"a": 40, "b": 21, "c": 33}
    assert _health(newest_scores(session, account_ids=["b", "c"])) == {"b": 21, "c": 33}
    assert newest_scores(session, account_ids=[]) == {}


def test_bounds_through_before_and_after(session: Session) -> None:
    _fill(session)
    assert _health(newest_scores(session, through=D3)) == {"a": 30, "b": 21, "c": 33}
    assert _health(newest_scores(session, before=D3)) == {"a": 10, "b": 21}
    # After D1 and through D3: b's D2 and a's D3 and c's D3; a's D4 is too new.
    assert _health(newest_scores(session, through=D3, after=D1)) == {"a": 30, "b": 21, "c": 33}
    # An account whose newest score in the window is older than `after` drops out.
    assert _health(newest_scores(session, through=D4, after=D2)) == {"a": 40, "c": 33}
    assert newest_scores(session, before=D1) == {}


def test_query_takes_more_columns_and_joins(session: Session) -> None:
    _fill(session)
    query = (
        newest_scores_query(col(AccountScore.account_id), col(AccountScore.as_of), through=D2)
        .add_columns(col(Account.name))
        .join(Account, col(Account.account_id) == col(AccountScore.account_id))
        .where(col(Account.owner).is_not(None))
    )
    rows = sorted(tuple(row) for row in session.execute(query).all())
    assert rows == [("a", D1, "Acme"), ("b", D2, "Beta")]
