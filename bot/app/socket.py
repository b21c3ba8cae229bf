"""Socket Mode: the same bolt app over a WebSocket Slack opens to us (no public URL).

Used by `csbot serve --socket`; needs CSBOT_SLACK_APP_TOKEN (xapp-…, `connections:write`).
"""

from __future__ import annotations

import logging
import threading

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError

from bot.app.bolt import create_bolt_app
from bot.runtime import Runtime
from bot.slack.app import SlackConfigError

logger = logging.getLogger(__name__)


def socket_mode_handler(runtime: Runtime) -> SocketModeHandler:
    """The handler, not yet connected. It shares the app's WebClient, so
    `apps.connections.open` goes to CSBOT_SLACK_API_URL like every other call."""
    token = runtime.settings.slack_app_token
    if not token:
        raise SlackConfigError("CSBOT_SLACK_APP_TOKEN (xapp-…) is required for Socket Mode")
    app = create_bolt_app(runtime, socket_mode=True)
    return SocketModeHandler(app, app_token=token, web_client=app.client)


def run_socket_mode(runtime: Runtime, handler: SocketModeHandler | None = None) -> None:
    """Connect to Slack and handle requests until interrupted (blocks).

    Slack refusing the app token (a bot token pasted into CSBOT_SLACK_APP_TOKEN, a revoked
    token) is the usual setup mistake; it comes out of `apps.connections.open` as a
    SlackApiError, turned here into a SlackConfigError naming the variable so the CLI
    prints one line instead of slack_sdk's traceback. (Not `handler.start()`: it would
    connect again after our connect.)"""
    handler = handler or socket_mode_handler(runtime)
    try:
        handler.connect()
    except SlackApiError as error:
        raise SlackConfigError(
            f"Slack refused CSBOT_SLACK_APP_TOKEN ({error.response.get('error')}): "
            "it must be the app-level token (xapp-…) with connections:write"
        ) from None
    logger.info("connected to Slack over Socket Mode")
    threading.Event().wait()
