"""`csbot demo` end to end: generate, import, train, score, trigger, and print digests."""

from __future__ import annotations

import re

from sqlmodel import Session, func, select
from typer.testing import CliRunner

from bot.cli import app
from storage import migrate
from storage.models import Account, AccountScore, ModelVersion


def test_demo_prints_digests_with_names_health_and_reasons(empty_engine, tmp_path, monkeypatch):
    engine = empty_engine
    migrate.upgrade(engine)  # as `csbot db upgrade` does (SQLite would do it by itself)
    monkeypatch.setenv("CSBOT_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app, ["demo", "--accounts", "60", "--seed", "3", "--data-dir", str(tmp_path / "data")]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert re.search(r"\d+ accounts? need you today", out)
    assert re.search(r"Health \d+ (healthy|neutral|at risk|critical)", out)
    assert "→ Suggested:" in out
    assert re.search(r"accounts scored, \d+ playbook runs started", out)
    with Session(engine) as session:
        accounts = session.exec(select(func.count()).select_from(Account)).one()
        scored = session.exec(select(func.count()).select_from(AccountScore)).one()
        names = session.exec(select(Account.name)).all()
        models = session.exec(
            select(func.count()).select_from(ModelVersion).where(ModelVersion.kind == "churn")
        ).one()
        health = session.exec(
            select(func.count()).select_from(ModelVersion).where(ModelVersion.kind == "health")
        ).one()
    assert accounts == 60 and 0 < scored <= 60
    assert any(name in out for name in names)
    assert models == 1  # the churn model was trained on the portfolio's history
    assert health == 1  # and the health score (learned or the YAML's) chosen beside it


def test_demo_post_needs_a_token(tmp_path, monkeypatch):
    monkeypatch.delenv("CSBOT_SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("CSBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    result = CliRunner().invoke(app, ["demo", "--post"])
    assert result.exit_code != 0
    assert "CSBOT_SLACK_BOT_TOKEN" in str(result.exception or result.output)
