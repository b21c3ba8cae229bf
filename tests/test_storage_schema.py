"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from storage import migrate


def test_migrations_match_models(empty_engine):
    migrate.upgrade(empty_engine)
    assert not migrate.pending(empty_engine)
    with empty_engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_ensure_schema_is_idempotent(empty_engine):
    migrate.ensure_schema(empty_engine)
    migrate.ensure_schema(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert {"accounts", "usage", "account_scores", "outbox", "playbook_runs"} <= tables


def test_sqlite_runs_in_wal_mode(tmp_path):
    from storage.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
