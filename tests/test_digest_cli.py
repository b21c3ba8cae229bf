"""`csbot digest`: printed from stored scores, or posted to (fake) Slack once per CSM per day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from bot.cli.errors import CliError
from bot.delivery.limits import validate_message
from storage import migrate
from storage.db import make_engine
from storage.models import Account, AccountScore, OutboxMessage

AS_OF = dt.date(2026, 6, 1)


@pytest.fixture
def migrated(empty_engine: Engine, tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database built by the real migrations (as the CLI expects), with two CSMs' books."""
    migrate.upgrade(empty_engine)
    with Session(empty_engine) as session:
        for i, (owner, band, health) in enumerate(
            [
                ("dana@x.io", "critical", 31.0),
                ("dana@x.io", "at_risk", 52.0),
                ("dana@x.io", "healthy", 88.0),
                ("eli@x.io", "at_risk", 47.0),
                ("zed@x.io", "critical", 20.0),  # not in Slack
            ]
        ):
            account_id = f"acc-{i}"
            session.add(Account(account_id=account_id, name=f"Account {i}", owner=owner))
            session.add(
                AccountScore(
                    account_id=account_id,
                    as_of=AS_OF,
                    health=health,
                    band=band,
                    health_delta_30d=0.0 if band == "healthy" else -12.0,
                    arr=100_000.0,
                    churn_risk={"critical": 0.6, "healthy": 0.05}.get(band, 0.3),
                    reasons=[{"signal": "login_change", "impact": -9.0, "text": "Logins down 40%"}],
                )
            )
        session.commit()
    monkeypatch.chdir(tmp_path)  # no stray .env
    yield empty_engine.url.render_as_string(hide_password=False)


def invoke(args: list[str], env: dict[str, str]):
    return CliRunner().invoke(app, ["digest", *args], env=env)


def test_digest_prints_each_csm(migrated: str) -> None:
    result = invoke(["--as-of", "2026-06-01"], {"CSBOT_DATABASE_URL": migrated, "COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "dana@x.io" in result.output and "eli@x.io" in result.output
    assert "2 accounts need you today" in result.output and "Account 0" in result.output
    assert "Logins down 40%" in result.output
    only = invoke(["--as-of", "2026-06-01", "--user", "eli@x.io"], {"CSBOT_DATABASE_URL": migrated})
    assert "eli@x.io" in only.output and "dana@x.io" not in only.output


def test_digest_errors_are_one_line(migrated: str) -> None:
    env = {"CSBOT_DATABASE_URL": migrated, "CSBOT_SLACK_BOT_TOKEN": ""}
    result = invoke(["--post", "--as-of", "2026-06-01"], env)
    assert isinstance(result.exception, CliError)
    assert "CSBOT_SLACK_BOT_TOKEN" in str(result.exception)
    result = invoke(["--as-of", "June 1"], env)
    assert "--as-of" in str(result.exception)
    result = invoke(["--as-of", "2026-01-01"], env)
    assert "no scores stored on or before 2026-01-01" in str(result.exception)
    result = invoke(["--user", "nobody@x.io", "--as-of", "2026-06-01"], env)
    assert "no accounts are owned by 'nobody@x.io'" in str(result.exception)


def test_digest_post_twice_on_the_same_day_posts_once(migrated: str, fake_slack) -> None:
    fake_slack.add_user("dana@x.io", "U0DANA")
    fake_slack.add_user("eli@x.io", "U0ELI")
    env = {
        "CSBOT_DATABASE_URL": migrated,
        "CSBOT_SLACK_API_URL": fake_slack.api_url,
        "CSBOT_SLACK_BOT_TOKEN": "xoxb-test",
    }
    first = invoke(["--post", "--as-of", "2026-06-01"], env)
    assert first.exit_code == 0, first.output
    output = " ".join(first.output.split())
    assert "2 message(s) in the outbox (2 new" in output
    assert "Not queued, no Slack user found for: zed@x.io" in output
    posts = fake_slack.calls_to("chat.postMessage")
    assert sorted(call.args["channel"] for call in posts) == ["U0DANA", "U0ELI"]
    for call in posts:
        validate_message({"text": call.args["text"], "blocks": call.args["blocks"]})
        assert call.headers.get("Authorization") == "Bearer xoxb-test"
    dana = next(call for call in posts if call.args["channel"] == "U0DANA")
    assert dana.args["blocks"][0]["text"]["text"] == "2 accounts need you today"

    second = invoke(["--post", "--as-of", "2026-06-01"], env)
    assert second.exit_code == 0, second.output
    assert "(0 new, 2 queued by an earlier run); 0 sent now" in " ".join(second.output.split())
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    engine = make_engine(migrated)
    with Session(engine) as session:
        keys = sorted(row.idempotency_key for row in session.exec(select(OutboxMessage)).all())
    engine.dispose()
    assert keys == ["digest:dana@x.io:2026-06-01", "digest:eli@x.io:2026-06-01"]
