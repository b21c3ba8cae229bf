"""`csbot brief`, `csbot qbr`, `csbot forecast` and `csbot voc` on a migrated database."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from bot.cli.errors import CliError
from storage import migrate
from storage.models import QbrDraft
from tests.test_prep_account import _account


@pytest.fixture
def env(
    empty_engine: Engine, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    migrate.upgrade(empty_engine)
    with Session(empty_engine) as session:
        _account(session)
    monkeypatch.chdir(tmp_path)  # no stray .env
    yield {
        "CSBOT_DATABASE_URL": empty_engine.url.render_as_string(hide_password=False),
        "COLUMNS": "160",
    }


def run(args: list[str], env: dict[str, str]):
    return CliRunner().invoke(app, args, env=env)


def test_brief_markdown_json_and_errors(env):
    result = run(["brief", "A1", "--as-of", "2026-06-01"], env)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Acme Corp — account brief")
    data = json.loads(
        run(["brief", "Acme Corp", "--as-of", "2026-06-01", "--format", "json"], env).output
    )
    assert data["account"]["account_id"] == "A1" and data["health"]["band"] == "neutral"
    missing = run(["brief", "Nobody", "--as-of", "2026-06-01"], env)
    assert isinstance(missing.exception, CliError) and "no account" in str(missing.exception)
    bad = run(["brief", "A1", "--as-of", "June"], env)
    assert isinstance(bad.exception, CliError) and "--as-of" in str(bad.exception)


def test_qbr_is_stored(env, empty_engine):
    result = run(["qbr", "A1", "--as-of", "2026-06-01", "--date", "2026-06-05"], env)
    assert result.exit_code == 0, result.output
    assert "## 1. Value delivered since the last QBR (2026-03-02)" in result.output
    with Session(empty_engine) as session:
        draft = session.scalars(select(QbrDraft)).one()
    assert str(draft.qbr_date) == "2026-06-05" and draft.markdown == result.output


def test_forecast_and_voc_json(env):
    forecast = run(["forecast", "--as-of", "2026-06-01", "--format", "json"], env)
    assert forecast.exit_code == 0, forecast.output
    data = json.loads(forecast.output)
    assert [r["account_id"] for r in data["renewals"]] == ["A1"]
    # Renewal 91 days out, beyond the churn model's 90-day horizon; no settled renewal in the
    # history yet, so the book's prior (Beta(1, 1): 50%).
    assert data["renewals"][0]["source"] == "book" and data["renewals"][0]["p_renew"] == 0.5
    voc = run(["voc", "--from", "2026-03-01", "--to", "2026-06-01", "--format", "json"], env)
    assert voc.exit_code == 0, voc.output
    assert json.loads(voc.output)["documents"] == 4
    assert isinstance(run(["forecast", "--backtest"], env).exception, CliError)
