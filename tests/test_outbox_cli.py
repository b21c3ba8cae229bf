"""`csbot outbox [--failed]`, `csbot outbox retry`, `csbot outbox deliver`, `csbot jobs`,
`csbot run-job` against a migrated database (SQLite and PostgreSQL) and the fake Slack."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from bot.cli.errors import CliError
from bot.delivery.outbox import enqueue
from storage import migrate
from storage.models.delivery import JobRun, OutboxMessage
from tests.test_delivery_fake import running_history_slack


@pytest.fixture
def slack():
    yield from running_history_slack()


@pytest.fixture
def migrated(empty_engine, monkeypatch):
    migrate.upgrade(empty_engine)
    monkeypatch.setenv("CSBOT_DATABASE_URL", empty_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("CSBOT_SLACK_BOT_TOKEN", "CSBOT_SLACK_API_URL", "CSBOT_DIGEST_CHANNEL"):
        monkeypatch.delenv(name, raising=False)
    return empty_engine


def csbot(*args: str):
    return CliRunner().invoke(app, list(args))


def test_outbox_lists_failed_messages_with_errors_and_retry_requeues(
    migrated, clock, slack, monkeypatch
):
    with Session(migrated) as session:
        for key, status, error in [
            ("alert:acc-1:risk:critical", "failed", "channel_not_found"),
            ("digest:dana@x.io:2026-06-01", "sent", None),
        ]:
            row = enqueue(
                session,
                key=key,
                kind=key.split(":")[0],
                channel="C1",
                payload={"text": "t", "blocks": []},
                clock=clock,
            )
            row.status, row.last_error, row.attempts = status, error, 1
            session.add(row)
        session.commit()

    failed = csbot("outbox", "--failed")
    assert failed.exit_code == 0, failed.output
    assert "alert:acc-1:risk:critical" in failed.output and "channel_not_found" in failed.output
    assert "digest:dana" not in failed.output
    assert "digest:dana@x.io:2026-06-01" in csbot("outbox").output

    retried = csbot("outbox", "retry")
    assert retried.exit_code == 0 and "1 failed message(s) queued again" in retried.output

    monkeypatch.setenv("CSBOT_SLACK_BOT_TOKEN", "xoxb-cli")
    monkeypatch.setenv("CSBOT_SLACK_API_URL", slack.api_url)
    delivered = csbot("outbox", "deliver")
    assert delivered.exit_code == 0, delivered.output
    assert '"sent": 1' in delivered.output
    (call,) = slack.calls_to("chat.postMessage")
    assert call.headers["Authorization"] == "Bearer xoxb-cli"
    with Session(migrated) as session:
        assert {row.status for row in session.exec(select(OutboxMessage))} == {"sent"}


def test_jobs_and_run_job(migrated):
    listed = csbot("jobs")
    assert listed.exit_code == 0, listed.output
    for name in ("nightly", "digests", "reminders", "leaders", "retrain", "deliver"):
        assert name in listed.output
    assert "cron[hour='2', minute='0']" in listed.output

    ran = csbot("run-job", "deliver")
    assert ran.exit_code == 0 and "job deliver ok" in ran.output
    with Session(migrated) as session:
        (run,) = session.exec(select(JobRun))
    assert (run.job, run.status) == ("deliver", "ok")

    unknown = csbot("run-job", "nope")
    assert isinstance(unknown.exception, CliError) and "no job named 'nope'" in str(
        unknown.exception
    )
    bad = csbot("outbox", "--status", "lost")
    assert isinstance(bad.exception, CliError) and "--status must be one of" in str(bad.exception)
