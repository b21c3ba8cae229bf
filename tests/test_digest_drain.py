"""`csbot digest --post` finishes what it queued within a bounded wait: rate-limited posts
are retried after Retry-After in the same run, what is left is named with its retry
time, and a message that failed for good makes the exit code 1."""

from __future__ import annotations

from typer.testing import CliRunner

from bot.cli import app
from tests.test_digest_cli import migrated  # noqa: F401  (the fixture)


def post(migrated_url: str, fake_slack, *extra: str):  # noqa: ANN201
    fake_slack.add_user("dana@x.io", "U0DANA")
    fake_slack.add_user("eli@x.io", "U0ELI")
    env = {
        "CSBOT_DATABASE_URL": migrated_url,
        "CSBOT_SLACK_API_URL": fake_slack.api_url,
        "CSBOT_SLACK_BOT_TOKEN": "xoxb-test",
        "COLUMNS": "300",
    }
    return CliRunner().invoke(app, ["digest", "--post", "--as-of", "2026-06-01", *extra], env=env)


def test_rate_limited_digests_are_retried_after_retry_after_in_the_same_run(
    migrated: str,  # noqa: F811
    fake_slack,
) -> None:
    fake_slack.fail("chat.postMessage", status=429, retry_after=1, times=2)
    result = post(migrated, fake_slack, "--wait", "30")
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "0 failed, 0 pending" in out
    sent = [c for c in fake_slack.calls_to("chat.postMessage")]
    assert len(sent) == 4  # two 429s, then both digests
    retried = sent[2:]
    assert retried[0].at - sent[0].at >= 0.9  # waited for Retry-After


def test_what_is_still_pending_is_named_with_its_retry_time(
    migrated: str,  # noqa: F811
    fake_slack,
) -> None:
    fake_slack.fail("chat.postMessage", status=429, retry_after=120, times=2)
    result = post(migrated, fake_slack, "--wait", "1")
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "2 message(s) still pending: digest:" in out
    assert "retried at " in out and "UTC" in out and "ratelimited" in out
    assert "csbot outbox deliver" in out


def test_a_message_that_failed_for_good_exits_1(migrated: str, fake_slack) -> None:  # noqa: F811
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    result = post(migrated, fake_slack, "--wait", "5")
    assert result.exit_code == 1
    message = str(result.exception)
    assert "1 message(s) failed for good: digest:" in message
    assert "channel_not_found" in message and "csbot outbox retry" in message
