"""csbot's bolt app: the Slack core (`bot.slack.app`) with every domain's listeners."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.app import actions, commands
from bot.home import interactive as home
from bot.runtime import Runtime
from bot.slack.app import build_bolt_app

LISTENERS = (commands.register, actions.register, home.register)


def create_bolt_app(
    runtime: Runtime, *, client: WebClient | None = None, socket_mode: bool = False
) -> App:
    """csbot's bolt app; `client` (tests) replaces the one built from the settings."""
    return build_bolt_app(runtime, LISTENERS, client=client, socket_mode=socket_mode)
