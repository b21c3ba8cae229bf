"""The App Home: published on `app_home_opened`, on its Refresh button and after a click
made from the Home. Data from `bot.digest.home`, layout from `bot.messages.home`.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.ids import ActionId
from bot.slack import screens
from bot.slack.deps import SlackDeps
from bot.slack.identity import email_for_user
from storage.models import SlackUser


def publish_home(deps: SlackDeps, client: WebClient, user_id: str) -> None:
    with deps.session() as session:
        email = email_for_user(session, client, user_id, deps.clock)
        cached = session.get(SlackUser, email) if email else None
        view = screens.home_view(
            session,
            email,
            user_id,
            deps.library,
            deps.clock.now(),
            size=deps.runtime.settings.digest_size,
            tz=cached.tz if cached else None,
        )
    client.views_publish(user_id=user_id, view=view)


def register(app: App, deps: SlackDeps) -> None:
    def acknowledge(ack: Any) -> None:
        ack()

    def opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish_home(deps, client, event["user"])

    def refreshed(body: dict[str, Any], client: WebClient) -> None:
        publish_home(deps, client, body["user"]["id"])

    app.event("app_home_opened")(ack=acknowledge, lazy=[opened])
    app.action(ActionId.HOME_REFRESH)(ack=acknowledge, lazy=[refreshed])
