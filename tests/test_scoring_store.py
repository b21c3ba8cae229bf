"""scoring.store.replace_scores on both databases: the rows stored are those the ORM's
INSERT stores (COPY on PostgreSQL), re-scoring a date replaces its rows and no other
date's, and the objects returned are those a read-back would give, detached."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, String, cast, insert, inspect
from sqlmodel import Session, select

from scoring.config import default_config
from scoring.service import build_score_rows, score_portfolio
from scoring.signals import compute_signals
from scoring.store import replace_scores
from storage.clock import FixedClock
from storage.models import AccountScore
from tests.test_scoring_builders import D, build_portfolio

CLOCK = FixedClock(dt.datetime(2026, 6, 2, 5, 0, 0, 250))


def _rows(engine: Engine, as_of: dt.date = D) -> list[dict[str, Any]]:
    frame = compute_signals(engine, as_of)
    return build_score_rows(engine, frame, default_config(), CLOCK)


def _as_text(engine: Engine) -> list[tuple]:
    """Every stored score, every column as the database's own text."""
    table = AccountScore.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                select(*(cast(c, String) for c in table.c)).order_by(
                    table.c.as_of, table.c.account_id
                )
            )
        ]


def _read_back(engine: Engine, as_of: dt.date) -> list[AccountScore]:
    with Session(engine) as session:
        scores = list(
            session.exec(
                select(AccountScore)
                .where(AccountScore.as_of == as_of)
                .order_by(AccountScore.account_id)
            ).all()
        )
        session.expunge_all()
    return scores


def test_stored_rows_are_those_of_an_orm_insert(engine: Engine) -> None:
    build_portfolio(engine)
    rows = _rows(engine)
    assert len(rows) == 5
    with engine.begin() as connection:
        connection.execute(insert(AccountScore), rows)
    expected = _as_text(engine)
    replace_scores(engine, D, rows)
    assert _as_text(engine) == expected


def test_rescoring_replaces_that_date_only(engine: Engine) -> None:
    build_portfolio(engine)
    earlier = D - dt.timedelta(days=1)
    replace_scores(engine, earlier, _rows(engine, earlier))
    rows = _rows(engine)
    replace_scores(engine, D, rows)
    before = _as_text(engine)
    replace_scores(engine, D, iter(rows))  # an iterator is consumed once, as it is built
    assert _as_text(engine) == before
    replace_scores(engine, D, rows[:2])
    stored = {(a, d) for a, d, *_ in _as_text(engine)}
    assert {a for a, d in stored if d == str(D)} == {rows[0]["account_id"], rows[1]["account_id"]}
    assert {a for a, d in stored if d == str(earlier)} == {r["account_id"] for r in rows}
    assert replace_scores(engine, D, []) == []
    assert {d for _, d, *_ in _as_text(engine)} == {str(earlier)}


def test_returned_scores_are_what_a_read_back_gives(engine: Engine) -> None:
    build_portfolio(engine)
    scores = score_portfolio(engine, D, clock=CLOCK)
    read = _read_back(engine, D)
    assert all(isinstance(s, AccountScore) for s in read)
    assert [s.model_dump() for s in scores] == [s.model_dump() for s in read]
    assert scores == read
    for score in scores:
        state = inspect(score)
        assert state.detached and not state.modified
        assert score.__pydantic_fields_set__ == set()  # as the ORM leaves a loaded row
    # Detached, not new: a session takes one back as the stored row (no INSERT) and
    # updates it.
    with Session(engine) as session:
        session.add(scores[0])
        scores[0].band = "critical"
        session.commit()
    assert _read_back(engine, D)[0].band == "critical"
