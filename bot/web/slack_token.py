"""Check the bot token once at start-up, before `csbot serve` takes traffic.

bolt's single-workspace authorisation calls `auth.test` on the first request it handles
and caches the answer: with a slow Slack API the first `/cs` waits for it, past Slack's
three seconds. `check_token` makes that call at start-up instead and hands the answer to
bolt's `SingleTeamAuthorization` middleware (its documented `auth_test_result`), so every
request — the first included — is authorised from memory. A refused token or an API out
of reach becomes `SlackStartupError`, one line for `csbot serve` to print.
"""

from __future__ import annotations

from typing import Any
from urllib.error import URLError

from slack_bolt import App
from slack_bolt.middleware.authorization.single_team_authorization import (
    SingleTeamAuthorization,
)
from slack_sdk.errors import SlackApiError


class SlackStartupError(Exception):
    """The bot token was refused, or the Slack API could not be reached."""


def check_token(bolt_app: App, api_url: str = "") -> dict[str, Any] | None:
    """Call `auth.test` now and prime bolt's authorisation with the answer; return the
    answer (team, bot user), or None in multi-workspace (OAuth) mode, where each
    workspace's token is checked on its first request."""
    middleware = [
        m
        for m in bolt_app._middleware_list  # bolt keeps no public accessor for its middleware
        if isinstance(m, SingleTeamAuthorization)
    ]
    if not middleware:
        return None
    try:
        result = bolt_app.client.auth_test()
    except SlackApiError as error:
        code = error.response.get("error", "error") if error.response is not None else "error"
        raise SlackStartupError(
            f"Slack refused CSBOT_SLACK_BOT_TOKEN ({code}): use the app's current xoxb- token"
        ) from None
    except (URLError, OSError, TimeoutError) as error:
        reason = getattr(error, "reason", None) or error
        raise SlackStartupError(
            f"cannot reach the Slack API at {api_url or bolt_app.client.base_url} ({reason}): "
            "check CSBOT_SLACK_API_URL and the network"
        ) from None
    for item in middleware:
        item.auth_test_result = result
    return dict(result.data) if isinstance(result.data, dict) else {}
