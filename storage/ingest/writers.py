"""Bulk, idempotent upserts of validated rows, with true inserted/updated counts.

Both writers work inside the caller's transaction (one per file), so a file that turns
out to hold a bad row is rolled back whole.

- SQLite: `executemany` of a plain `INSERT` inside a savepoint: new rows, the common
  incremental case, cost one pass. When a key already exists the savepoint is rolled back
  and the batch runs as `INSERT … ON CONFLICT DO NOTHING` (its row count is the number
  inserted) and then, for the rest, `INSERT … ON CONFLICT DO UPDATE`.
- PostgreSQL: psycopg `COPY` straight into the table inside a savepoint (new rows); when
  a key already exists, the batch is copied into a temporary staging table instead and
  merged with `INSERT … SELECT DISTINCT ON (key) … ON CONFLICT DO UPDATE … RETURNING
  (xmax = 0)`; `xmax = 0` is true for a row the statement inserted.

A key repeated within a file counts as one insert and then updates: the last row wins.

With `only_changed` (what `csbot sync` uses), an existing row is rewritten only when a value
differs (`… DO UPDATE … WHERE old IS DISTINCT FROM new`), and `updated` counts only those:
a second sync of unchanged data writes nothing and says so.
"""

from __future__ import annotations

import csv
import io
import queue
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import psycopg
from sqlalchemy import Connection

from storage.db import is_sqlite
from storage.ingest.contract import Entity

SQLITE_IMPORT_CACHE_KIB = 32 * 1024
"""SQLite page cache while a file imports: a whole file is one transaction, and its dirty
pages spilling from the default 2 MB cache costs several times the insert itself. A bound,
not a function of file size; the previous size is restored afterwards."""


class Writer(Protocol):
    def write(self, rows: Sequence[tuple[Any, ...]]) -> None: ...

    def finish(self) -> None: ...

    def close(self) -> None: ...

    inserted: int
    updated: int


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _update_clause(entity: Entity, only_changed: bool = False, distinct: str = "IS NOT") -> str:
    others = [name for name in entity.column_names if name not in entity.key]
    if not others:
        return "DO NOTHING"
    sets = ", ".join(f"{_quote(name)} = excluded.{_quote(name)}" for name in others)
    if not only_changed:
        return f"DO UPDATE SET {sets}"
    table = _quote(entity.table_name)
    changed = " OR ".join(
        f"{table}.{_quote(name)} {distinct} excluded.{_quote(name)}" for name in others
    )
    return f"DO UPDATE SET {sets} WHERE {changed}"


class SqliteWriter:
    def __init__(self, connection: Connection, entity: Entity, only_changed: bool = False) -> None:
        self.only_changed = only_changed
        self.cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        self.previous_cache = self.cursor.execute("PRAGMA cache_size").fetchone()[0]
        self.cursor.execute(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
        table = _quote(entity.table_name)
        columns = ", ".join(map(_quote, entity.column_names))
        marks = ", ".join("?" * len(entity.column_names))
        key = ", ".join(map(_quote, entity.key))
        self.plain_sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
        head = f"{self.plain_sql} ON CONFLICT ({key})"
        self.insert_sql = f"{head} DO NOTHING"
        self.upsert_sql = f"{head} {_update_clause(entity, only_changed)}"
        self.inserted = 0
        self.updated = 0
        if not self.cursor.connection.in_transaction:
            self.cursor.execute("BEGIN")  # so the savepoints below nest in the file's transaction

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        self.cursor.execute("SAVEPOINT csbot_batch")
        try:
            self.cursor.executemany(self.plain_sql, rows)
        except sqlite3.IntegrityError:
            self.cursor.execute("ROLLBACK TO csbot_batch")
            self.cursor.executemany(self.insert_sql, rows)
            inserted = self.cursor.rowcount
            self.cursor.executemany(self.upsert_sql, rows)
            changed = self.cursor.rowcount if self.only_changed else len(rows) - inserted
        else:
            inserted, changed = len(rows), 0
        self.cursor.execute("RELEASE csbot_batch")
        self.inserted += inserted
        self.updated += changed

    def finish(self) -> None:
        pass

    def close(self) -> None:
        self.cursor.execute(f"PRAGMA cache_size = {int(self.previous_cache)}")
        self.cursor.close()


class PostgresWriter:
    """Batches go to a thread that owns the connection while the file loads, so the
    server inserts one batch while this process parses the next (psycopg releases the GIL
    while it waits). At most `QUEUED_BATCHES` wait in between, keeping memory bounded."""

    QUEUED_BATCHES = 2

    def __init__(self, connection: Connection, entity: Entity, only_changed: bool = False) -> None:
        self.only_changed = only_changed
        self.raw = connection.connection.dbapi_connection
        self.entity = entity
        self.table = _quote(entity.table_name)
        self.stage = _quote(f"csbot_stage_{entity.name}")
        self.columns = ", ".join(map(_quote, entity.column_names))
        key = ", ".join(map(_quote, entity.key))
        not_null = [_quote(c.name) for c in entity.columns if isinstance(c.default, str)]
        force = f", FORCE_NOT_NULL ({', '.join(not_null)})" if not_null else ""
        self.copy_options = f"(FORMAT csv{force})"
        self.merge_sql = (
            f"WITH merged AS (INSERT INTO {self.table} ({self.columns}) "
            f"SELECT DISTINCT ON ({key}) {self.columns} FROM {self.stage} "
            f"ORDER BY {key}, _seq DESC "
            f"ON CONFLICT ({key}) {_update_clause(entity, only_changed, 'IS DISTINCT FROM')} "
            "RETURNING (xmax = 0) AS inserted) "
            "SELECT count(*) FILTER (WHERE inserted), count(*) FROM merged"
        )
        self.staging_ready = False
        self.inserted = 0
        self.updated = 0
        self._queue: queue.Queue[Sequence[tuple[Any, ...]] | None] = queue.Queue(
            self.QUEUED_BATCHES
        )
        self._error: BaseException | None = None
        self._abort = False
        self._thread: threading.Thread | None = None

    # -- the importing thread's side --------------------------------------------------
    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self._raise_error()
        if not rows:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="csbot-copy", daemon=True)
            self._thread.start()
        self._queue.put(rows)

    def finish(self) -> None:
        self._stop()
        self._raise_error()

    def close(self) -> None:
        self._abort = True
        self._stop()

    def _stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    # -- the copying thread -----------------------------------------------------------
    def _run(self) -> None:
        while (rows := self._queue.get()) is not None:
            if self._abort or self._error is not None:
                continue  # drain: the file is being abandoned
            try:
                self._write(rows)
            except BaseException as error:  # handed to the importing thread
                self._error = error

    def _copy(self, cursor: Any, table: str, data: str) -> None:
        with cursor.copy(f"COPY {table} ({self.columns}) FROM STDIN {self.copy_options}") as copy:
            copy.write(data)

    def _write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        data = buffer.getvalue()
        with self.raw.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute("SAVEPOINT csbot_batch")
            try:
                self._copy(cursor, self.table, data)
            except psycopg.errors.UniqueViolation:
                cursor.execute("ROLLBACK TO SAVEPOINT csbot_batch")
                inserted, written = self._merge(cursor, data)
                changed = written - inserted if self.only_changed else len(rows) - inserted
            else:
                inserted, changed = len(rows), 0
            cursor.execute("RELEASE SAVEPOINT csbot_batch")
        self.inserted += inserted
        self.updated += changed

    def _merge(self, cursor: Any, data: str) -> tuple[int, int]:
        """Stage the batch (`_seq` numbers rows in file order), then upsert the last row of
        each key; (rows that were new, rows written)."""
        if not self.staging_ready:
            cursor.execute(
                f"CREATE TEMP TABLE {self.stage} ON COMMIT DROP AS "
                f"SELECT {self.columns} FROM {self.table} WITH NO DATA"
            )
            cursor.execute(f"ALTER TABLE {self.stage} ADD COLUMN _seq bigserial")
            self.staging_ready = True
        self._copy(cursor, self.stage, data)
        cursor.execute(self.merge_sql)
        inserted, written = cursor.fetchone()
        cursor.execute(f"TRUNCATE {self.stage}")
        return int(inserted), int(written)


def make_writer(connection: Connection, entity: Entity, *, only_changed: bool = False) -> Writer:
    """The writer for `connection`'s database, inside its open transaction."""
    if is_sqlite(connection.engine):
        return SqliteWriter(connection, entity, only_changed)
    return PostgresWriter(connection, entity, only_changed)
