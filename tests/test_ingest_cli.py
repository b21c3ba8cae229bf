"""`csbot ingest DIR` end to end: the real command against SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from typer.testing import CliRunner

from bot.cli import app
from storage import migrate
from tests.test_ingest_support import dump_tables, write_csv, write_examples

USAGE_HEADER = ["account_id", "contact_id", "timestamp", "event", "quantity"]


@pytest.fixture
def cli_env(engine, database_url, monkeypatch, tmp_path):
    """The command builds its own engine from CSBOT_DATABASE_URL; mark the fixture's
    schema as migrated so it neither re-creates nor refuses it."""
    command.stamp(migrate.alembic_config(engine), "head")
    monkeypatch.setenv("CSBOT_DATABASE_URL", database_url)
    monkeypatch.delenv("CSBOT_IMPORT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return engine


def run(*args: str):
    return CliRunner().invoke(app, ["ingest", *args], env={"COLUMNS": "200"})


def test_ingest_prints_a_table_and_a_summary(cli_env, tmp_path):
    data = write_examples(tmp_path / "data", "csv")
    result = run(str(data))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    row = next(line for line in lines if "usage.csv" in line)
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells[:5] == ["usage.csv", "1", "1", "0", "0"]
    assert float(cells[5]) >= 0 and cells[6] == "ok"
    assert "9 files, 9 rows read: 9 inserted, 0 updated, 0 rejected" in result.output
    again = run(str(data))
    assert "9 files, 9 rows read: 0 inserted, 9 updated, 0 rejected" in again.output


def test_ingest_reports_problems_and_exits_non_zero(cli_env, tmp_path):
    data = write_examples(tmp_path / "data", "csv")
    rows = [["A1", "", f"day {i}", "login", "1"] for i in range(25)]
    write_csv(data / "usage.csv", USAGE_HEADER, rows)
    result = run(str(data))
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if line.startswith("usage.csv:")]
    assert problems[0] == "usage.csv:2: timestamp: not an ISO-8601 date or datetime: 'day 0'"
    assert len(problems) == 20
    assert "… and 5 more" in result.output
    assert "refused: usage.csv" in result.output
    assert dump_tables(cli_env)["usage"] == []
    assert len(dump_tables(cli_env)["accounts"]) == 1


def test_ingest_skip_invalid_writes_rejects(cli_env, tmp_path):
    data = write_examples(tmp_path / "data", "csv")
    write_csv(
        data / "usage.csv",
        USAGE_HEADER,
        [["A1", "", "2026-01-01", "login", "1"], ["A1", "", "never", "login", "1"]],
    )
    result = run(str(data), "--skip-invalid", "--rejects", str(tmp_path / "rejected"))
    assert result.exit_code == 0, result.output
    assert "usage.csv:3: timestamp: not an ISO-8601 date or datetime: 'never'" in result.output
    assert (tmp_path / "rejected" / "usage.rejects.csv").exists()
    assert len(dump_tables(cli_env)["usage"]) == 1


def test_ingest_needs_a_directory(cli_env, tmp_path):
    result = run(str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "not a directory" in str(result.exception) or "not a directory" in result.output


def test_ingest_mapping_from_option_then_setting_then_directory(cli_env, tmp_path, monkeypatch):
    """`--mapping` wins over CSBOT_MAPPING_FILE, which wins over DIR/mapping.yml."""
    from sqlalchemy import text

    data = write_examples(tmp_path / "data", "csv")
    header = ["account_id", "name", "segment", "industry", "owner", "created_at", "plan"]
    row = ["A1", "Acme Corp", "Big", "Software", "jo@example.com", "2023-04-01", "scale"]
    write_csv(data / "accounts.csv", header, [row])
    (data / "mapping.yml").write_text("values:\n  accounts.segment: {Big: smb}\n")
    setting = tmp_path / "setting.yml"
    setting.write_text("values:\n  accounts.segment: {Big: mid_market}\n")
    option = tmp_path / "option.yml"
    option.write_text("values:\n  accounts.segment: {Big: enterprise}\n")

    def segment() -> str:
        with cli_env.connect() as connection:
            return connection.execute(text("SELECT segment FROM accounts")).scalar_one()

    monkeypatch.delenv("CSBOT_MAPPING_FILE", raising=False)
    assert run(str(data)).exit_code == 0
    assert segment() == "smb"
    monkeypatch.setenv("CSBOT_MAPPING_FILE", str(setting))
    assert run(str(data)).exit_code == 0
    assert segment() == "mid_market"
    result = run(str(data), "--mapping", str(option))
    assert result.exit_code == 0, result.output
    assert segment() == "enterprise"
    option.write_text("values:\n  accounts.segment:\n    Big: huge\n")
    refused = run(str(data), "--mapping", str(option))
    assert refused.exit_code == 1
    assert f"{option}:3: values.accounts.segment.Big: 'Big' maps to 'huge'" in refused.output
