"""Storing one day's scores: replace the as-of date's rows in one transaction.

On PostgreSQL the rows go in with COPY (storage.bulk), on SQLite with the ORM's
executemany; both store the same values. The objects handed back are built from the rows
just written, in the state reading them back would leave them (detached, with every
column loaded and nothing pending): a read-back of 10,000 rows spends most of its time
decoding the JSON this process has just encoded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Engine, delete, insert, inspect
from sqlalchemy.orm import configure_mappers, make_transient_to_detached
from sqlmodel import col

from storage.bulk import copy_rows
from storage.models import AccountScore

COLUMNS = tuple(AccountScore.__table__.c.keys())  # type: ignore[attr-defined]


def replace_scores(
    engine: Engine, as_of: dt.date, rows: Iterable[dict[str, Any]]
) -> list[AccountScore]:
    """Delete the scores stored as of `as_of`, store `rows` (one dict of every column per
    account) in their place, and return them as AccountScore objects in the same order.

    `rows` may be an iterator that builds each row when asked: on PostgreSQL each is sent
    as soon as it is built, so the server stores one while the next is computed."""
    written: list[dict[str, Any]] = []
    with engine.begin() as connection:
        connection.execute(delete(AccountScore).where(col(AccountScore.as_of) == as_of))
        if connection.dialect.name == "postgresql":
            copy_rows(connection, AccountScore.__table__, _kept(rows, written), COLUMNS)  # type: ignore[attr-defined]
        else:
            written.extend(rows)
            if written:
                connection.execute(insert(AccountScore), written)
    return as_stored(written)


def _kept(rows: Iterable[dict[str, Any]], into: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        into.append(row)
        yield row


def as_stored(rows: Sequence[dict[str, Any]]) -> list[AccountScore]:
    """AccountScore objects holding `rows` as if loaded from the database and expunged."""
    configure_mappers()  # a mapper builds instances only once configured
    manager = inspect(AccountScore).class_manager
    scores = []
    for row in rows:
        score = manager.new_instance()
        score.__dict__.update({name: row[name] for name in COLUMNS})
        make_transient_to_detached(score)
        scores.append(score)
    return scores
