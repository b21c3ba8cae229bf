"""The bot token is checked at start-up (`bot.web.slack_token`), so the first request is
acknowledged from memory even when Slack's `auth.test` is slow; a refused token is one line."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import httpx
import pytest
from starlette.applications import Starlette

from bot.app.bolt import create_bolt_app
from bot.runtime import Runtime
from bot.settings import load_settings
from bot.web.slack import slack_routes
from bot.web.slack_token import SlackStartupError, check_token
from tests.test_slack_harness import SECRET, UvicornThread, sign


def runtime_for(engine, fake_slack) -> Runtime:  # noqa: ANN001
    settings = load_settings(
        database_url=engine.url.render_as_string(hide_password=False),
        slack_signing_secret=SECRET,
        slack_bot_token="xoxb-test",
        slack_api_url=fake_slack.api_url,
    )
    runtime = Runtime(settings=settings)
    runtime.__dict__["engine"] = engine
    return runtime


def test_first_ack_does_not_wait_for_auth_test(engine, fake_slack) -> None:
    runtime = runtime_for(engine, fake_slack)
    app = create_bolt_app(runtime)
    fake_slack.fail("auth.test", delay=2.0)  # a slow Slack API at start-up
    identity = check_token(app)
    assert identity is not None and identity["user_id"] == "UBOT"
    fake_slack.fail("auth.test", delay=5.0)  # would make the first ack late if called again
    body = urlencode({"command": "/cs", "text": "help", "user_id": "U1", "team_id": "T0001",
                      "channel_id": "C1", "response_url": fake_slack.response_url()})  # fmt: skip
    with UvicornThread(Starlette(routes=slack_routes(app, runtime))) as server:
        started = time.perf_counter()
        answer = httpx.post(
            f"{server.url}/slack/events",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)},
            timeout=10,
        )
        elapsed = time.perf_counter() - started
    assert answer.status_code == 200 and "csbot commands" in answer.text
    assert elapsed < 1.0
    assert len(fake_slack.calls_to("auth.test")) == 1  # once, at start-up


@pytest.mark.parametrize("how", ["refused", "unreachable"])
def test_a_refused_or_unreachable_token_check_is_one_line(engine, fake_slack, how: str) -> None:
    runtime = runtime_for(engine, fake_slack)
    if how == "unreachable":
        runtime.settings.slack_api_url = "http://127.0.0.1:9/api/"
    else:
        fake_slack.fail("auth.test", error="invalid_auth")
    app = create_bolt_app(runtime)
    with pytest.raises(SlackStartupError) as raised:
        check_token(app, runtime.settings.slack_api_url)
    message = str(raised.value)
    assert "\n" not in message
    assert ("invalid_auth" in message) if how == "refused" else ("cannot reach" in message)
