"""csbot's bolt app: the Slack core (`bot.slack.app`) with every domain's listeners, and the
renderer of every kind of message, so a click re-renders the message it came from."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.accounts import interactive as accounts
from bot.accounts.cards import render_card
from bot.alerts import interactive as alert_clicks
from bot.alerts.service import render_alert
from bot.app import commands
from bot.app import prefs as person_settings
from bot.digests import interactive as digest_clicks
from bot.digests.service import render_digest
from bot.home import interactive as home
from bot.plays import interactive as plays
from bot.plays.service import render_my_steps, render_run, render_step
from bot.prep import interactive as prep_clicks
from bot.prep.service import render_drafts, render_qbr, render_voc
from bot.runtime import Runtime
from bot.slack.app import build_bolt_app
from bot.slack.deps import Renderer
from storage.enums import MessageKind

LISTENERS = (
    commands.register,
    plays.register,
    accounts.register,
    home.register,
    alert_clicks.register,  # issue 13: overflow menu, snooze with a reason, 👍 / 👎
    digest_clicks.register,  # "See all N" and its pages
    person_settings.register,  # each person's own settings
    prep_clicks.register,  # issue 16: share a brief, Log QBR, drafts, route a VoC theme
)

# Kinds without a renderer (leaders' summary, notes, replies) carry no state to redraw.
RENDERERS: dict[MessageKind, Renderer] = {
    MessageKind.DIGEST: render_digest,
    MessageKind.ALERT: render_alert,
    MessageKind.CARD: render_card,
    MessageKind.RUN: render_run,
    MessageKind.ESCALATION: render_step,
    MessageKind.MY_STEPS: render_my_steps,
    MessageKind.QBR: render_qbr,
    MessageKind.DRAFTS: render_drafts,
    MessageKind.VOC: render_voc,
}


def create_bolt_app(
    runtime: Runtime, *, client: WebClient | None = None, socket_mode: bool = False
) -> App:
    """csbot's bolt app; `client` (tests) replaces the one built from the settings."""
    return build_bolt_app(runtime, LISTENERS, renderers=RENDERERS, home=home.publish_home,
                          client=client, socket_mode=socket_mode)  # fmt: skip
