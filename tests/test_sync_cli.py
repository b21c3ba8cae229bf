"""`csbot sync` end to end (the real command, a local HubSpot), the nightly job's sync, and
the usage connectors (warehouse SQL, analytics export files)."""

from __future__ import annotations

import gzip
import json
import sqlite3
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import text
from typer.testing import CliRunner

from bot.cli import app
from bot.runtime import Runtime
from bot.scheduling.jobs import import_data
from bot.settings import load_settings
from storage import migrate
from storage.connectors import run_sync, usage_files, usage_sql
from storage.ingest import import_directory
from tests.fakes.hubspot_server import TOKEN, FakeHubSpot
from tests.test_ingest_support import write_rows_csv
from tests.test_sync_hubspot import MAPPING_TEXT, populate


@pytest.fixture
def api() -> Iterator[FakeHubSpot]:
    with FakeHubSpot() as server:
        populate(server)
        yield server


@pytest.fixture
def mapping_file(tmp_path):
    path = tmp_path / "mapping.yml"
    path.write_text(MAPPING_TEXT)
    return path


@pytest.fixture
def cli_env(engine, database_url, monkeypatch, tmp_path, api, mapping_file):
    command.stamp(migrate.alembic_config(engine), "head")
    monkeypatch.setenv("CSBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("CSBOT_HUBSPOT_TOKEN", TOKEN)
    monkeypatch.setenv("CSBOT_HUBSPOT_API_URL", api.url)
    monkeypatch.setenv("CSBOT_MAPPING_FILE", str(mapping_file))
    for name in ("ZENDESK_API_URL", "ZENDESK_EMAIL", "ZENDESK_TOKEN"):
        monkeypatch.delenv(f"CSBOT_{name}", raising=False)
    monkeypatch.chdir(tmp_path)
    return engine


def run(*args: str):
    return CliRunner().invoke(app, ["sync", *args], env={"COLUMNS": "200"})


def count(engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_dry_run_then_sync_then_nothing_to_do(cli_env):
    dry = run("hubspot", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "hubspot: would write 14 rows" in dry.output
    assert count(cli_env, "accounts") == 0
    first = run("hubspot")
    assert first.exit_code == 0, first.output
    assert "hubspot: wrote 14 rows" in first.output
    assert "contacts: 1 matched no account, left out: contact 703" in first.output
    assert count(cli_env, "accounts") == 3
    again = run("hubspot")
    assert "hubspot: wrote 0 rows" in again.output


def test_usage_errors_exit_2_with_one_line(cli_env, tmp_path, monkeypatch):
    unknown = run("pipedrive")
    assert unknown.exit_code == 2
    assert (
        "csbot: unknown source 'pipedrive' (expected one of: hubspot, salesforce" in unknown.output
    )
    missing = run("zendesk")
    assert missing.exit_code == 2
    assert (
        "csbot: sync zendesk: set CSBOT_ZENDESK_API_URL, CSBOT_ZENDESK_EMAIL, CSBOT_ZENDESK_TOKEN"
        in missing.output
    )
    since = run("hubspot", "--since", "last week")
    assert since.exit_code == 2 and "--since: not a date (YYYY-MM-DD): 'last week'" in since.output
    (tmp_path / "mapping.yml").write_text("owners:\n  field: csm\n  emails: {'7': nobody}\n")
    monkeypatch.setenv("CSBOT_MAPPING_FILE", str(tmp_path / "mapping.yml"))
    mapping = run("hubspot")
    assert mapping.exit_code == 2
    assert (
        f"csbot: {tmp_path / 'mapping.yml'}:3: owners.emails.7: not an email address: 'nobody'"
        in mapping.output
    )
    assert "Traceback" not in unknown.output + missing.output + since.output + mapping.output


def test_an_api_failure_exits_1_naming_source_object_and_message(cli_env, monkeypatch):
    monkeypatch.setenv("CSBOT_HUBSPOT_TOKEN", "expired")
    failed = run("hubspot")
    assert failed.exit_code == 1
    assert "csbot: hubspot: owners: GET " in failed.output
    assert (
        "HTTP 401 after 1 attempts: Authentication credentials not found. (what synced before is kept)"
        in failed.output
    )


def test_the_nightly_job_syncs_configured_sources(engine, database_url, clock, api, mapping_file):
    settings = load_settings(
        database_url=database_url,
        hubspot_token=TOKEN,
        hubspot_api_url=api.url,
        mapping_file=mapping_file,
    )
    runtime = Runtime(settings=settings, clock=clock)
    runtime.__dict__["engine"] = engine
    detail = import_data(runtime, clock)
    assert detail == {
        "skipped": "CSBOT_IMPORT_DIR is not set",
        "sync": {"hubspot": {"writes": 14, "error": None, "rejected": 0, "unmatched": 1}},
    }


@pytest.fixture
def accounts(engine, tmp_path):
    write_rows_csv(
        tmp_path / "in" / "accounts.csv",
        [{"account_id": "A1", "name": "Acme"}, {"account_id": "A2", "name": "Beta"}],
    )
    assert import_directory(engine, tmp_path / "in").ok
    return engine


def test_usage_from_a_warehouse_is_incremental(accounts, tmp_path):
    store = tmp_path / "warehouse.db"
    with sqlite3.connect(store) as connection:
        connection.execute(
            "CREATE TABLE daily (account TEXT, contact TEXT, day TEXT, event TEXT, quantity REAL)"
        )
        connection.executemany(
            "INSERT INTO daily VALUES (?, ?, ?, ?, ?)",
            [
                ("A1", None, "2026-03-01", "login", 3),
                ("A1", "C1", "2026-03-01", "export", 1),
                ("A2", None, "2026-03-01", "login", 1),
            ],
        )
    sql = "SELECT account, contact, day, event, quantity FROM daily WHERE day >= :since"
    first = run_sync(accounts, usage_sql.connector(f"sqlite:///{store}", sql))
    assert first.ok and first.writes == 3
    assert run_sync(accounts, usage_sql.connector(f"sqlite:///{store}", sql)).writes == 0
    with sqlite3.connect(store) as connection:
        connection.execute("INSERT INTO daily VALUES ('A2', NULL, '2026-03-02', 'login', 2)")
    nightly = run_sync(accounts, usage_sql.connector(f"sqlite:///{store}", sql))
    # the cursor day again (3 rows, unchanged: no writes), then the new one
    assert (nightly.objects[0].read, nightly.writes) == (4, 1)
    wrong = run_sync(
        accounts, usage_sql.connector(f"sqlite:///{store}", "SELECT account, day FROM daily")
    )
    assert (
        wrong.error
        == "usage-sql: usage: CSBOT_USAGE_SQL returns no column contact, event, quantity (it returns account, day)"
    )


def test_usage_from_segment_mixpanel_and_amplitude_exports(accounts, tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "segment.jsonl").write_text(
        json.dumps(
            {
                "type": "track",
                "event": "Report Viewed",
                "userId": "u1",
                "timestamp": "2026-03-01T10:00:00.000Z",
                "context": {"groupId": "A1"},
                "properties": {},
            }
        )
        + "\n"
        + json.dumps({"type": "identify", "userId": "u1"})
        + "\n"
    )
    with gzip.open(exports / "mixpanel.json.gz", "wt") as handle:
        handle.write(
            json.dumps(
                {
                    "event": "login",
                    "properties": {"time": 1772359200, "distinct_id": "u2", "account_id": "A2"},
                }
            )
            + "\n"
        )
    (exports / "amplitude.json").write_text(
        json.dumps(
            {
                "event_type": "export",
                "user_id": "u3",
                "event_time": "2026-03-01 11:00:00.000000",
                "groups": {"account_id": ["A1"]},
            }
        )
        + "\n"
    )
    first = run_sync(accounts, usage_files.connector(exports))
    assert first.ok, first.error
    with accounts.connect() as connection:
        rows = connection.execute(
            text("SELECT account_id, contact_id, event, timestamp FROM usage")
        )
        found = sorted((r[0], r[1], r[2], str(r[3])[:16]) for r in rows)
    assert found == [
        ("A1", "u1", "Report Viewed", "2026-03-01 10:00"),
        ("A1", "u3", "export", "2026-03-01 11:00"),
        ("A2", "u2", "login", "2026-03-01 10:00"),
    ]
    again = run_sync(accounts, usage_files.connector(exports))
    assert again.writes == 0 and again.requests == 0  # no file changed since
