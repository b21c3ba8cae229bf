"""The digest's "See all N" button and the Next / Previous buttons of its modal."""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_bolt import App

from bot.digests.pages import needing, see_all_view
from bot.slack.deps import SlackDeps
from bot.slack.errors import BadInput
from bot.slack.ids import ActionId
from bot.slack.interaction import Interaction, on


def register(app: App, deps: SlackDeps) -> None:
    def view_for(it: Interaction) -> dict[str, Any]:
        value = it.value
        if not value.option or not value.as_of:
            raise BadInput("This list is out of date; open it again from the digest.")
        as_of = dt.date.fromisoformat(value.as_of)
        lines = needing(it.session, value.option, as_of, it.now, it.deps.runtime.settings)
        return see_all_view(lines, owner=value.option, as_of=as_of, page=value.run_id or 1)

    @on(app, deps, ActionId.DIGEST_SEE_ALL)
    def see_all(it: Interaction) -> None:
        it.open_modal(view_for(it))

    def turn(it: Interaction) -> None:
        view = it.body.get("view") or {}
        it.client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=view_for(it))

    on(app, deps, ActionId.DIGEST_PAGE)(turn)
    on(app, deps, ActionId.DIGEST_PAGE_BACK)(turn)
