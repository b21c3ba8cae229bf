"""csbot's bolt app: the Slack core (`bot.slack.app`) with every domain's listeners."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.alerts import interactive as alert_clicks
from bot.app import actions, commands
from bot.app import prefs as person_settings
from bot.digests import interactive as digest_clicks
from bot.home import interactive as home
from bot.runtime import Runtime
from bot.slack.app import build_bolt_app

LISTENERS = (
    commands.register,
    actions.register,
    home.register,
    alert_clicks.register,  # issue 13: overflow menu, snooze with a reason, 👍 / 👎
    digest_clicks.register,  # "See all N" and its pages
    person_settings.register,  # each person's own settings
)


def create_bolt_app(
    runtime: Runtime, *, client: WebClient | None = None, socket_mode: bool = False
) -> App:
    """csbot's bolt app; `client` (tests) replaces the one built from the settings."""
    return build_bolt_app(runtime, LISTENERS, client=client, socket_mode=socket_mode)
