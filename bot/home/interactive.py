"""The App Home: published on `app_home_opened`, on its Refresh button and after a click
made from the Home. Data from `bot.home.service`, layout from `bot.home.messages`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.accounts import cards
from bot.accounts import service as book
from bot.accounts.attention import attention_rules
from bot.accounts.ranking import AttentionRules
from bot.home.messages import home_view as render_home
from bot.home.service import load_home
from bot.slack import blocks as render
from bot.slack.deps import SlackDeps
from bot.slack.identity import email_for_user
from bot.slack.ids import ActionId
from storage.models import SlackUser


def publish_home(deps: SlackDeps, client: WebClient, user_id: str) -> None:
    with deps.session() as session:
        email = email_for_user(session, client, user_id, deps.clock)
        cached = session.get(SlackUser, email) if email else None
        view = home_view(
            session,
            email,
            user_id,
            deps.library,
            deps.clock.now(),
            size=deps.runtime.settings.digest_size,
            tz=cached.tz if cached else None,
            rules=attention_rules(session, deps.runtime.settings),
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


def home_view(
    session: Session,
    email: str | None,
    user_id: str,
    library: Mapping[str, Any],
    now: dt.datetime,
    *,
    size: int,
    tz: str | None = None,
    rules: AttentionRules = AttentionRules(),
) -> dict[str, Any]:
    """The App Home (`bot.home.messages`) for `email`; a short note when csbot cannot
    place the user."""
    if not email:
        text = (
            "csbot cannot see your email, so it does not know your accounts. "
            "Ask an admin to add you to the user mapping file."
        )
        return {"type": "home", "blocks": render.notice(text)["blocks"]}
    home = load_home(
        session,
        book.owner_spelling(session, email),
        as_of=cards.latest_as_of(session),
        user_id=user_id,
        library=library,
        size=size,
        now=now,
        rules=rules,
    )
    return render_home(home, tz=tz, now=now)
