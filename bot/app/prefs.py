"""Open and save a person's settings: the App Home's "Settings" button, `/cs settings`
(`open_prefs`), and the modal's submission."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.delivery.prefs import from_row
from bot.delivery.users import user_time_zone
from bot.home.interactive import publish_home
from bot.home.prefs import PrefsError, parse_submission, prefs_modal, save_prefs
from bot.slack.deps import SlackDeps
from bot.slack.identity import email_for_user
from bot.slack.ids import ActionId, CallbackId
from bot.slack.interaction import Interaction, on, on_submit
from storage.enums import Scope
from storage.models import SlackUser
from storage.models.noise import PersonPrefs


def allowed_scopes(deps: SlackDeps, user_id: str, email: str | None) -> tuple[Scope, ...]:
    """ "mine" for everyone, "team" for managers (CSBOT_MANAGER_MAPPING_FILE) and admins,
    "all" for admins (CSBOT_ADMINS: the leaders)."""
    me = {user_id.lower(), (email or "").lower()} - {""}
    policy = deps.policy
    admin = user_id in policy.admins
    manager = admin or any(me & {m.lower() for m in bosses} for bosses in policy.managers.values())
    return (Scope.MINE,) + ((Scope.TEAM,) if manager else ()) + ((Scope.ALL,) if admin else ())


def modal_for(deps: SlackDeps, session: Session, client: WebClient, user_id: str) -> dict[str, Any]:
    email = email_for_user(session, client, user_id, deps.clock)
    settings = deps.runtime.settings
    row = session.get(PersonPrefs, user_id)
    cover_user = None
    if row is not None and row.cover:
        cached = session.get(SlackUser, row.cover.lower())
        cover_user = cached.user_id if cached else None
    tz = user_time_zone(session.get(SlackUser, email) if email else None, settings.timezone)
    return prefs_modal(
        from_row(row, settings),
        tz=tz,
        scopes=allowed_scopes(deps, user_id, email),
        cover_user=cover_user,
    )


def open_prefs(deps: SlackDeps, client: WebClient, user_id: str, trigger_id: str) -> None:
    with deps.session() as session:
        view = modal_for(deps, session, client, user_id)
    client.views_open(trigger_id=trigger_id, view=view)


def register(app: App, deps: SlackDeps) -> None:
    @on(app, deps, ActionId.HOME_SETTINGS)
    def open_from_home(it: Interaction) -> None:
        it.open_modal(modal_for(it.deps, it.session, it.client, it.user))

    def validate(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        user_id = body["user"]["id"]
        with deps.session() as session:
            email = email_for_user(session, client, user_id, deps.clock)
        try:
            parse_submission(
                body, scopes=allowed_scopes(deps, user_id, email), today=deps.clock.now().date()
            )
        except PrefsError as error:
            ack(response_action="errors", errors={error.field: str(error)})
            return
        ack()

    @on_submit(app, deps, CallbackId.PERSON_SETTINGS, validate)
    def submit(it: Interaction) -> None:
        session, client, user_id = it.session, it.client, it.user
        email = it.email
        values = parse_submission(
            it.body, scopes=allowed_scopes(deps, user_id, email), today=it.now.date()
        )
        if values.get("cover"):
            values["cover"] = email_for_user(session, client, values["cover"], deps.clock) or None
        save_prefs(session, user_id=user_id, email=email, values=values, now=it.now)
        session.commit()
        publish_home(deps, client, user_id)
