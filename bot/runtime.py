"""What every command and server process builds first: settings, the engine, the clock.

On SQLite every command applies pending migrations itself, so a fresh machine needs no
setup step; on PostgreSQL the operator runs `csbot db upgrade` and csbot refuses to run
on a schema that is behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine

from bot.settings import Settings, load_settings
from storage import migrate
from storage.clock import Clock, SystemClock
from storage.db import is_sqlite, make_engine


class SchemaBehindError(Exception):
    """The PostgreSQL schema has pending migrations."""


@dataclass
class Runtime:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    # Only `csbot db upgrade`, `ingest` and `demo` create a SQLite file; every other
    # command is told the database does not exist (`storage.db.DatabaseMissing`).
    create_database: bool = True

    @cached_property
    def engine(self) -> Engine:
        engine = make_engine(self.settings.database_url, create=self.create_database)
        if is_sqlite(engine):
            migrate.ensure_schema(engine)
        elif migrate.pending(engine):
            raise SchemaBehindError("the database schema is behind: run `csbot db upgrade` first")
        return engine


def build_runtime(clock: Clock | None = None, *, create_database: bool = False) -> Runtime:
    """Load settings (raising `SettingsError` on a bad one) and wrap them in a Runtime.
    Commands pass `create_database=True` only when making a database is their job.
    A `CSBOT_*` variable that is no setting (a typo) is named with the closest one."""
    import os

    from bot.setting_names import warn_misspelt

    warn_misspelt(os.environ)
    return Runtime(
        settings=load_settings(), clock=clock or SystemClock(), create_database=create_database
    )
