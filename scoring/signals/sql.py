"""Small helpers shared by the per-table signal queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, bindparam


def table(model: Any) -> Table:
    """The Core table of a SQLModel class."""
    return model.__table__


def restrict(query: Select, column: ColumnElement, account_ids: list[str] | None) -> Select:
    """Limit a query to `account_ids` when a subset was asked for."""
    if account_ids is None:
        return query
    return query.where(
        column.in_(bindparam("account_ids", value=list(account_ids), expanding=True))
    )


def columns(rows: Sequence[Any], width: int) -> list[Any]:
    """Result rows as `width` column tuples (empty tuples when there are no rows): one
    transposition instead of an attribute lookup per row and column."""
    return list(zip(*rows, strict=True)) if rows else [()] * width
