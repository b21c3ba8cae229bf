"""The HTTP edge: signatures checked on every request, Slack's retries not acted on twice,
`/cs` acknowledged at once, help and bad input answered with usage — over a real server."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from bot.delivery.limits import validate_message
from tests.test_slack_harness import CSM, SECRET, Bot

pytest_plugins = ["tests.test_slack_harness"]

HELP_FORM = urlencode({"command": "/cs", "text": "help", "user_id": CSM[1], "team_id": "T0001"})


def test_unsigned_request_is_refused(bot: Bot) -> None:
    response = bot.post(HELP_FORM, signed=False)
    assert response.status_code == 401
    assert bot.fake.calls == [] and bot.responses() == []


def test_badly_signed_request_is_refused(bot: Bot) -> None:
    assert bot.post(HELP_FORM, secret="not-the-secret").status_code == 401
    tampered = bot.post(HELP_FORM, headers={"X-Slack-Signature": "v0=" + "0" * 64})
    assert tampered.status_code == 401


def test_replayed_request_with_old_timestamp_is_refused(bot: Bot) -> None:
    old = int(time.time()) - 10 * 60
    response = bot.command("help", timestamp=old)
    assert response.status_code == 401
    assert bot.command("help").status_code == 200  # the same request, fresh, is fine


def test_help_is_answered_in_the_ack(bot: Bot) -> None:
    response = bot.command("help")
    assert response.status_code == 200
    answer = response.json()
    validate_message(answer)
    assert answer["response_type"] == "ephemeral"
    assert "/cs account <name or id>" in answer["blocks"][-1]["text"]["text"]


def test_unknown_and_malformed_input_gets_usage_not_a_stack_trace(bot: Bot) -> None:
    for text, problem in (
        ("frobnicate", "unknown command `frobnicate`"),
        ("renewals soon", "`renewals` takes a number of days"),
        ("playbook start Acme", "needs an account and a playbook name"),
    ):
        answer = validate_message(bot.command(text).json())
        assert problem in answer["blocks"][0]["text"]["text"], text
        assert "csbot commands" in answer["text"]


def test_retries_are_acknowledged_without_acting_again(bot: Bot) -> None:
    first = bot.command("account Acme Corp")
    assert first.status_code == 200
    bot.wait_response(1)
    for number in (1, 2):
        retry = bot.command(
            "account Acme Corp",
            headers={"X-Slack-Retry-Num": str(number), "X-Slack-Retry-Reason": "http_timeout"},
        )
        assert retry.status_code == 200 and retry.text == ""
    bot.settle()
    assert len(bot.responses()) == 1


def test_retried_event_is_not_handled_twice(bot: Bot) -> None:
    import json

    event = {
        "token": "legacy", "team_id": "T0001", "api_app_id": "A1", "type": "event_callback",
        "event_id": "Ev1", "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": CSM[1], "channel": "D1", "tab": "home"},
    }  # fmt: skip
    body = json.dumps(event)
    assert bot.post(body, content_type="application/json").status_code == 200
    bot.wait_calls("views.publish")
    retry = bot.post(body, content_type="application/json", headers={"X-Slack-Retry-Num": "1"})
    assert retry.status_code == 200
    bot.settle()
    assert len(bot.calls("views.publish")) == 1


def test_url_verification_challenge_is_answered(bot: Bot) -> None:
    import json

    body = json.dumps({"token": "legacy", "challenge": "abc123", "type": "url_verification"})
    answer = bot.post(body, content_type="application/json")
    assert answer.status_code == 200 and answer.json() == {"challenge": "abc123"}
    assert SECRET  # requests above were signed with the configured secret
