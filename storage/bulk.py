"""Bulk inserts of rows a program computed (not imported): PostgreSQL `COPY`.

The ORM's `INSERT … VALUES` executemany costs a round trip's worth of protocol work per
row and adapts every JSON value through SQLAlchemy and psycopg; nightly scoring writes
10,000 rows with five JSON documents each. `COPY … FROM STDIN` streams them in one
statement. Rows are stored exactly as the ORM stores them: JSON columns are encoded with
`json.dumps`'s defaults (SQLAlchemy's serializer), `None` in a JSON column is JSON `null`
(unless the type says `none_as_null`), and every other value is adapted by psycopg as in
a query parameter. The import path (storage.ingest.writers) copies CSV text read from
files and upserts; this copies Python values into rows the caller has just cleared.

Values over TOAST's 2 kB threshold (a score's reasons are ~4 kB) are compressed with lz4
where the server has it, rather than pglz: the same stored values, compressed in about half
the server's time (PostgreSQL ≥ 14; `default_toast_compression` for this transaction only).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, Connection, Table

_ENCODE = json.JSONEncoder(check_circular=False).encode
"""json.dumps with its default options (same text), minus the cycle check: scores are
plain trees built by scoring, and the check costs a tenth of the encoding."""


def _prefer_lz4(connection: Connection) -> None:
    available = connection.exec_driver_sql(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    ).scalar()
    if available:
        connection.exec_driver_sql("SET LOCAL default_toast_compression = 'lz4'")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _json_column(none_as_null: bool) -> Callable[[Any], Any]:
    def encode(value: Any) -> Any:
        if value is None and none_as_null:
            return None
        return _ENCODE(value)

    return encode


def _converters(table: Table, names: Sequence[str]) -> list[Callable[[Any], Any] | None]:
    """Per column: how a Python value becomes COPY input (None: psycopg adapts it)."""
    out: list[Callable[[Any], Any] | None] = []
    for name in names:
        kind = table.c[name].type
        out.append(_json_column(bool(kind.none_as_null)) if isinstance(kind, JSON) else None)
    return out


def copy_rows(
    connection: Connection, table: Table, rows: Iterable[Mapping[str, Any]], columns: Sequence[str]
) -> int:
    """COPY `rows` (dicts with every name in `columns`) into `table` on PostgreSQL, inside
    `connection`'s open transaction; returns the number of rows written."""
    if connection.dialect.name != "postgresql":
        raise ValueError(f"COPY needs PostgreSQL, not {connection.dialect.name}")
    encoded = [(i, f) for i, f in enumerate(_converters(table, columns)) if f is not None]
    sql = f"COPY {_quote(table.name)} ({', '.join(map(_quote, columns))}) FROM STDIN"
    if table.schema:
        sql = sql.replace("COPY ", f"COPY {_quote(table.schema)}.", 1)
    _prefer_lz4(connection)
    raw = connection.connection.dbapi_connection
    count = 0
    with raw.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
        for row in rows:
            values = [row[name] for name in columns]
            for i, encode in encoded:
                values[i] = encode(values[i])
            copy.write_row(values)
            count += 1
    return count
