"""Build a bolt `App` for csbot: signature checks, retries dropped, the click parsed once,
typed errors answered, then the listeners `bot.app.bolt` composes from the domains.

HTTP mode runs with `process_before_response=False`: every listener acks at once (Slack
wants a 200 within 3 s) and the slow part runs in a lazy listener on a thread pool.
Single-workspace with `CSBOT_SLACK_BOT_TOKEN` is the default; with
`CSBOT_SLACK_CLIENT_ID`/`SECRET` set the app installs into many workspaces through
Slack's OAuth flow, keeping installations in our database (slack_sdk's SQLAlchemy store).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.delivery.client import make_web_client
from bot.runtime import Runtime
from bot.settings import Settings
from bot.slack.deps import Renderer, SlackDeps
from bot.slack.middleware import attach_button, ignore_retries
from bot.slack.quiet_logs import bolt_logger
from bot.slack.replies import report_error
from storage.enums import MessageKind

logger = logging.getLogger(__name__)

# The bot scopes csbot's calls need; manifest.yml lists the same (a test checks).
BOT_SCOPES = (
    "commands",  # /cs
    "chat:write",  # digests, alerts, run messages, thread notes, chat.update
    "im:write",  # conversations.open for DMs (delivery)
    "im:history",  # conversations.history: the sender finds a DM already posted
    "channels:history",  # ... in a public channel
    "groups:history",  # ... in a private channel
    "users:read",  # users.info (time zone, caller lookup)
    "users:read.email",  # users.lookupByEmail and the caller's email
    "files:write",  # files_upload_v2: the QBR draft as a Markdown file
)
LISTENER_THREADS = 32

Listeners = Callable[[App, SlackDeps], None]  # a domain's `register(app, deps)`
OAUTH_STATE_SECONDS = 600


class SlackConfigError(Exception):
    """The Slack app cannot be built from the settings; the message names the variable."""


def oauth_settings(settings: Settings, engine: Any) -> OAuthSettings:
    """Multi-workspace installs: installations and OAuth states in our database."""
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    assert settings.slack_client_id and settings.slack_client_secret
    installations = SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine)
    states = SQLAlchemyOAuthStateStore(expiration_seconds=OAUTH_STATE_SECONDS, engine=engine)
    # slack_sdk owns these tables' shapes; they are created from its metadata, outside
    # our alembic migration (see the README's OAuth section).
    installations.metadata.create_all(engine)
    states.metadata.create_all(engine)
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=installations,
        state_store=states,
    )


def build_bolt_app(
    runtime: Runtime,
    listeners: Sequence[Listeners],
    *,
    renderers: Mapping[MessageKind, Renderer] | None = None,
    home: Callable[[SlackDeps, WebClient, str], None] | None = None,
    client: WebClient | None = None,
    socket_mode: bool = False,
) -> App:
    """A bolt app with `listeners` registered; `client` (tests) replaces the one built from
    the settings.
    Over HTTP the signing secret is required and every request's signature is checked;
    Socket Mode requests come over Slack's authenticated WebSocket instead."""
    settings = runtime.settings
    if not settings.slack_signing_secret and not socket_mode:
        raise SlackConfigError("CSBOT_SLACK_SIGNING_SECRET is required to serve Slack requests")
    multi = bool(settings.slack_client_id and settings.slack_client_secret)
    if not multi and not settings.slack_bot_token and (client is None or not client.token):
        raise SlackConfigError(
            "set CSBOT_SLACK_BOT_TOKEN (one workspace) or CSBOT_SLACK_CLIENT_ID and "
            "CSBOT_SLACK_CLIENT_SECRET (OAuth installs)"
        )
    if client is None:
        client = make_web_client(settings, token=None if multi else settings.slack_bot_token)
    # A person is waiting on these calls: ride out one 429 (Retry-After) before giving up.
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    options: dict[str, Any] = {}
    if multi:
        options["oauth_settings"] = oauth_settings(settings, runtime.engine)
        client.token = None
    app = App(
        name="csbot",
        signing_secret=settings.slack_signing_secret or "unused-in-socket-mode",
        client=client,
        process_before_response=False,
        # bot.web.slack verifies the raw bytes (and refuses replays) before bolt parses
        # anything; bolt's own check would log the whole body at INFO on a bad signature.
        request_verification_enabled=False,
        token_verification_enabled=False,  # checked at start-up: bot.web.slack_token
        logger=bolt_logger(),
        listener_executor=ThreadPoolExecutor(
            max_workers=LISTENER_THREADS, thread_name_prefix="csbot-slack"
        ),
        **options,
    )
    deps = SlackDeps.build(runtime, renderers=renderers, home=home)
    app.use(ignore_retries)
    app.use(attach_button)
    for register in listeners:
        register(app, deps)

    @app.error
    def on_error(error: Exception, body: dict[str, Any], client: WebClient) -> BoltResponse | None:
        report_error(deps, error, body, client)
        return None

    return app
