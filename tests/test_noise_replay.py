"""`csbot replay` (a dry run of every scheduled job over simulated days, nothing posted, the
real database untouched) and `csbot run-job NAME --at` (one job as if at that time, posting
for real to the fake Slack server)."""

from __future__ import annotations

import datetime as dt
import json

from sqlmodel import Session, func, select
from typer.testing import CliRunner

from bot.cli import app
from bot.runtime import Runtime
from bot.scheduling.replay import fire_times, replay, summary
from bot.settings import load_settings
from storage.models import AccountScore, JobRun, OutboxMessage
from storage.models.noise import DeliveryLedger
from tests.test_noise_budget import CSMS, MONDAY, seed_book

runner = CliRunner()


def stamp_head(engine) -> None:  # type: ignore[no-untyped-def]
    """The test schema comes from create_all; tell alembic it is at head, so the CLI's
    runtime (which migrates SQLite on start) finds nothing to do."""
    from alembic import command

    from storage.migrate import alembic_config

    command.stamp(alembic_config(engine), "head")


def test_fire_times_follow_each_jobs_trigger_and_thin_the_digest_tick() -> None:
    settings = load_settings(timezone="UTC")
    start = dt.datetime.combine(MONDAY, dt.time())
    fired = fire_times(
        settings,
        start,
        start + dt.timedelta(days=7),
        ["nightly", "digests", "reminders", "leaders"],
        60,
    )
    names = [name for _when, name in fired]
    assert names.count("nightly") == 7 and names.count("reminders") == 7 * 24
    assert names.count("digests") == 7 * 24  # every 15 minutes thinned to hourly
    assert names.count("leaders") == 1 and (start + dt.timedelta(hours=8), "leaders") in fired


def test_replay_reports_per_person_per_day_and_changes_nothing(engine, tmp_path) -> None:
    stamp_head(engine)
    seed_book(engine, 3)
    with Session(engine) as session:
        scores_before = session.exec(select(func.count()).select_from(AccountScore)).one()
    runtime = Runtime(
        settings=load_settings(
            database_url=engine.url.render_as_string(hide_password=False), timezone="UTC"
        )
    )
    runtime.__dict__["engine"] = engine
    # Only the jobs that post (scoring needs contract data this small book has not got).
    from bot.scheduling import replay as module

    skipped = module.SKIPPED_BY_DEFAULT
    module.SKIPPED_BY_DEFAULT = (*skipped, "nightly")
    try:
        report = replay(runtime, start=MONDAY, days=3, workdir=tmp_path)
    finally:
        module.SKIPPED_BY_DEFAULT = skipped
    figures = summary(report)
    assert figures["people"] == 3 and figures["max_per_person_day"] <= 3
    # Mon–Wed are digest days: the reminders roll-up rides inside the digest.
    assert figures["max_reminders_per_person_day"] == 0
    for email, _uid in CSMS:
        assert [
            report.sent[(email, MONDAY + dt.timedelta(days=d))]["digest"] for d in range(3)
        ] == [1, 1, 1]
    assert report.posted == sum(sum(kinds.values()) for kinds in report.sent.values())
    assert report.unbudgeted == [] and report.errors == []
    assert report.low_risk_messages == 0
    # The real database is untouched: no ledger, no outbox, no job runs, same scores.
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(DeliveryLedger)).one() == 0
        assert session.exec(select(func.count()).select_from(OutboxMessage)).one() == 0
        assert session.exec(select(func.count()).select_from(JobRun)).one() == 0
        assert session.exec(select(func.count()).select_from(AccountScore)).one() == scores_before


def test_replay_cli_prints_json_and_refuses_a_bad_date(tmp_path, monkeypatch) -> None:
    from storage.db import make_engine

    url = f"sqlite:///{tmp_path / 'csbot.db'}"
    monkeypatch.setenv("CSBOT_DATABASE_URL", url)
    monkeypatch.setenv("CSBOT_TIMEZONE", "UTC")
    engine = make_engine(url)
    from storage import migrate

    migrate.ensure_schema(engine)
    seed_book(engine, 2)
    result = runner.invoke(
        app, ["replay", "--from", "2026-06-01", "--days", "2", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["summary"]["max_per_person_day"] <= 3 and shown["sent"]
    assert {row["recipient"] for row in shown["sent"]} == {email for email, _ in CSMS}
    bad = runner.invoke(app, ["replay", "--from", "June 1st"])
    assert bad.exit_code == 2 and "--from: expected YYYY-MM-DD" in bad.output


def test_run_job_at_runs_as_if_then_and_posts(engine, fake_slack, monkeypatch) -> None:
    stamp_head(engine)
    seed_book(engine, 1)
    for email, uid in CSMS:
        fake_slack.add_user(email, uid, tz="UTC")
    monkeypatch.setenv("CSBOT_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CSBOT_SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("CSBOT_SLACK_API_URL", fake_slack.api_url)
    monkeypatch.setenv("CSBOT_TIMEZONE", "UTC")
    early = runner.invoke(app, ["run-job", "digests", "--at", "2026-06-01 06:00"])
    assert early.exit_code == 0, early.output
    assert '"due": 0' in early.output and not fake_slack.calls_to("chat.postMessage")
    result = runner.invoke(app, ["run-job", "digests", "--at", "2026-06-01 09:00"])
    assert result.exit_code == 0, result.output
    assert '"due": 3' in result.output
    assert {c.args["channel"] for c in fake_slack.calls_to("chat.postMessage")} == {
        uid for _e, uid in CSMS
    }
    with Session(engine) as session:
        run = session.exec(select(JobRun).order_by(JobRun.id.desc())).first()  # type: ignore[union-attr]
        assert (
            run is not None
            and run.started_at == dt.datetime(2026, 6, 1, 9, 0)
            and run.slot == "2026-06-01T09:00"
        )
    bad = runner.invoke(app, ["run-job", "digests", "--at", "tomorrow"])
    assert bad.exit_code == 2 and "--at" in bad.output
