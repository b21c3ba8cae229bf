"""storage.bulk.copy_rows stores exactly what the ORM's INSERT stores (PostgreSQL).

Awkward values on purpose: text with tabs, newlines, backslashes and quotes, an empty
string beside NULL, JSON null and SQL NULL, NaN and infinities, dates and times.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    cast,
    insert,
    select,
)

from storage.bulk import copy_rows


def _table() -> Table:
    return Table(
        "bulk_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("label", String(64)),
        Column("flag", Boolean),
        Column("number", Float),
        Column("day", Date),
        Column("moment", DateTime),
        Column("doc", JSON),
        Column("doc_or_null", JSON(none_as_null=True)),
    )


ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "label": 'tab\there, new\nline, back\\slash, "quoted", café → ok',
        "flag": True,
        "number": 0.1 + 0.2,
        "day": dt.date(2026, 6, 1),
        "moment": dt.datetime(2026, 6, 1, 6, 0, 0, 123456),
        "doc": {"text": 'a\tb\nc\\d "e" → f', "n": [1, 2.5, None, True], "nested": {"k": -0.0}},
        "doc_or_null": [{"x": 1}],
    },
    {
        "id": 2,
        "label": "",
        "flag": False,
        "number": math.inf,
        "day": None,
        "moment": dt.datetime(2026, 6, 1),
        "doc": None,
        "doc_or_null": None,
    },
    {
        "id": 3,
        "label": None,
        "flag": None,
        "number": math.nan,
        "day": dt.date(1999, 12, 31),
        "moment": None,
        "doc": [],
        "doc_or_null": {},
    },
]


def _as_text(engine: Engine, table: Table) -> list[tuple]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                select(*(cast(c, String) for c in table.c)).order_by(table.c.id)
            )
        ]


def test_copy_rows_stores_what_the_orm_insert_stores(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    table = _table()
    table.create(engine)
    with engine.begin() as connection:
        connection.execute(insert(table), ROWS)
    expected = _as_text(engine, table)
    with engine.begin() as connection:
        connection.execute(table.delete())
        written = copy_rows(connection, table, iter(ROWS), tuple(table.c.keys()))
    assert written == len(ROWS)
    assert _as_text(engine, table) == expected
    assert expected[1][1] == "" and expected[2][1] is None  # '' stays apart from NULL
    assert expected[1][6] == "null" and expected[1][7] is None  # JSON null vs SQL NULL


def test_copy_rows_refuses_other_databases(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        pytest.skip("the refusal is for the others")
    table = _table()
    table.create(engine)
    with engine.begin() as connection, pytest.raises(ValueError, match="PostgreSQL"):
        copy_rows(connection, table, ROWS, tuple(table.c.keys()))


def test_copy_rows_compresses_large_values_with_lz4_where_available(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    table = _table()
    table.create(engine)
    big = {**ROWS[0], "doc": [{"text": "the same sentence, again and again"}] * 200}
    with engine.connect() as connection:
        before = connection.exec_driver_sql("SHOW default_toast_compression").scalar()
        connection.commit()
        with connection.begin():
            copy_rows(connection, table, [big], tuple(table.c.keys()))
        after = connection.exec_driver_sql("SHOW default_toast_compression").scalar()
        offered = connection.exec_driver_sql(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        ).scalar()
        method = connection.exec_driver_sql(
            "SELECT pg_column_compression(doc) FROM bulk_probe"
        ).scalar()
    assert method == ("lz4" if offered else before)
    assert after == before  # SET LOCAL: the connection's own setting is left alone
