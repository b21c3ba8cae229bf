"""Shared fixtures: a clean database on SQLite and (when configured) PostgreSQL, a clock.

`engine` is parametrised over both databases: every test that takes it runs twice when
`CSBOT_TEST_POSTGRES_URL` is set. Each PostgreSQL test gets its own schema, dropped after.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

import storage.models  # noqa: F401  (registers the tables)
from storage.clock import FixedClock
from storage.db import make_engine

POSTGRES_URL = os.environ.get("CSBOT_TEST_POSTGRES_URL")
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _postgres_engine(schema: str) -> Engine:
    assert POSTGRES_URL
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    # The schema travels in the URL so code that builds its own engine from
    # `database_url` (the CLI, the HTTP server) lands in the same schema.
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return make_engine(url.render_as_string(hide_password=False), pool_size=10)


def _drop_postgres_schema(schema: str) -> None:
    assert POSTGRES_URL
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=DATABASES)
def empty_engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    """A database with no tables at all (for migration tests)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'csbot-test.db'}")
        yield engine
        engine.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip("CSBOT_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = _postgres_engine(schema)
    yield engine
    engine.dispose()
    _drop_postgres_schema(schema)


@pytest.fixture
def engine(empty_engine: Engine) -> Engine:
    """A database with csbot's whole schema, on SQLite and on PostgreSQL."""
    SQLModel.metadata.create_all(empty_engine)
    return empty_engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2026, 6, 1, 9, 0))


@pytest.fixture
def database_url(engine: Engine) -> str:
    """The URL of `engine`, for code (CLI, servers) that builds its own engine."""
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def fake_slack():
    """A running fake Slack Web API (see tests/fakes/slack_server.py)."""
    from tests.fakes.slack_server import FakeSlack

    server = FakeSlack().start()
    yield server
    server.stop()
