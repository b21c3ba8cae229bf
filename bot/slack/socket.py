"""Socket Mode: the same bolt app over a WebSocket Slack opens to us (no public URL).

Used by `csbot serve --socket`; needs CSBOT_SLACK_APP_TOKEN (xapp-…, `connections:write`).
"""

from __future__ import annotations

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.runtime import Runtime
from bot.slack.app import SlackConfigError, create_bolt_app


def socket_mode_handler(runtime: Runtime) -> SocketModeHandler:
    token = runtime.settings.slack_app_token
    if not token:
        raise SlackConfigError("CSBOT_SLACK_APP_TOKEN (xapp-…) is required for Socket Mode")
    app = create_bolt_app(runtime, socket_mode=True)
    return SocketModeHandler(app, app_token=token, web_client=app.client)


def run_socket_mode(runtime: Runtime) -> None:
    """Connect to Slack and handle requests until interrupted (blocks)."""
    socket_mode_handler(runtime).start()
