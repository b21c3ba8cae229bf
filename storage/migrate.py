"""Alembic, driven from code: `csbot db upgrade` and the automatic upgrade on SQLite.

The migration scripts live in `storage/migrations`; no alembic.ini is needed at run time.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from storage.db import make_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def pending(engine: Engine) -> bool:
    return current_revision(engine) != head_revision(engine)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every pending migration."""
    command.upgrade(alembic_config(engine), revision)


def ensure_schema(engine: Engine) -> None:
    """Bring the schema to head if anything is pending (cheap when nothing is)."""
    if pending(engine):
        upgrade(engine)


def autogenerate(engine: Engine, message: str, rev_id: str) -> None:
    """Write a new migration from the difference between the models and `engine`'s schema.

    A developer tool: `python -m storage.migrate "message" REV_ID` against a scratch SQLite
    database at head.
    """
    command.revision(alembic_config(engine), message=message, autogenerate=True, rev_id=rev_id)


if __name__ == "__main__":  # pragma: no cover - developer tool
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        scratch_engine = make_engine(f"sqlite:///{scratch}/scratch.db")
        upgrade(scratch_engine)
        autogenerate(scratch_engine, sys.argv[1], sys.argv[2])
