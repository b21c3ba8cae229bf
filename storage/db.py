"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production).

One code path serves both: SQLite gets WAL mode and a busy timeout so the scheduler, the
HTTP server and the CLI can share one file; PostgreSQL is used as it is.

URLs are normalised before use: `postgres://` and `postgresql://` (the forms hosting
providers hand out) mean psycopg 3, the driver csbot ships with; any other scheme is
refused with `UnsupportedDatabaseUrl` rather than failing later on a missing driver. A
SQLite file is only created when the caller asks (`create=True`: `csbot db upgrade`,
`ingest`, `demo`), so a typo in a path is reported instead of silently giving an empty
database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_DRIVER = "postgresql+psycopg"
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


class DatabaseUrlError(ValueError):
    """`CSBOT_DATABASE_URL` is not a URL csbot can use; the message says which forms work."""


class DatabaseMissing(Exception):
    """The SQLite file does not exist and this command does not create databases."""


def normalise_url(url: str | URL) -> URL:
    """The URL csbot connects with: `postgres://…` → `postgresql+psycopg://…`; raises
    `DatabaseUrlError` for anything that is not SQLite or PostgreSQL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(
            f"not a database URL: {str(url)!r} (use sqlite:///PATH or postgresql://USER@HOST/DB)"
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    if backend not in SUPPORTED_BACKENDS:
        raise DatabaseUrlError(
            f"unsupported database {parsed.drivername!r} in {parsed.render_as_string()!r}: "
            "csbot runs on sqlite:///PATH or postgresql://USER@HOST/DB"
        )
    if backend == "postgresql":  # psycopg 3 is the PostgreSQL driver csbot ships with
        return parsed.set(drivername=POSTGRES_DRIVER)
    return parsed.set(drivername=f"{backend}+{driver}" if driver else backend)


def display_url(url: str | URL) -> str:
    """The URL as it may be shown to a person: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a URL)"


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL and in-memory SQLite)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def is_sqlite(engine_or_url: Engine | str | URL) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else normalise_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def make_engine(url: str | URL, *, create: bool = True, **kwargs: Any) -> Engine:
    """Create an engine for `url`, with SQLite tuned for concurrent readers and one writer.

    `create=False` raises `DatabaseMissing` when a SQLite file does not exist yet (commands
    other than `db upgrade`, `ingest` and `demo` never create one)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed)
        if path is not None:
            if not create and not path.exists():
                raise DatabaseMissing(
                    f"database {path} does not exist: create it with `csbot db upgrade` "
                    "(or `csbot ingest DIR`), or fix CSBOT_DATABASE_URL"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
        connect_args = kwargs.pop("connect_args", {})
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        connect_args.setdefault("check_same_thread", False)
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
