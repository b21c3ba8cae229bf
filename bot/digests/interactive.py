"""The digest's "See all N" button and the Next / Previous buttons of its modal."""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.digests.pages import needing, see_all_view
from bot.slack.deps import SlackDeps
from bot.slack.errors import BadInput
from bot.slack.ids import ActionId
from bot.slack.middleware import parse_button
from bot.slack.replies import guarded


def register(app: App, deps: SlackDeps) -> None:
    def ack_now(ack: Ack) -> None:
        ack()

    def view_for(body: dict[str, Any]) -> dict[str, Any]:
        value, _origin = parse_button(body)
        if not value.option or not value.as_of:
            raise BadInput("This list is out of date; open it again from the digest.")
        as_of = dt.date.fromisoformat(value.as_of)
        with deps.session() as session:
            lines = needing(session, value.option, as_of, deps.clock.now())
        return see_all_view(lines, owner=value.option, as_of=as_of, page=value.run_id or 1)

    @guarded
    def see_all(
        body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        client.views_open(trigger_id=body["trigger_id"], view=view_for(body))

    @guarded
    def turn(
        body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        view = body.get("view") or {}
        client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=view_for(body))

    app.action(ActionId.DIGEST_SEE_ALL)(ack=ack_now, lazy=[see_all])
    app.action(ActionId.DIGEST_PAGE)(ack=ack_now, lazy=[turn])
    app.action(ActionId.DIGEST_PAGE_BACK)(ack=ack_now, lazy=[turn])
