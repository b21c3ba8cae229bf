"""Compose the one Starlette app `csbot serve` runs: Slack, ingest and health routes."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from bot.runtime import Runtime
from bot.web.health import health_routes
from bot.web.ingest import ingest_routes


def create_web_app(runtime: Runtime, *, bolt_app: Any = None, scheduler: Any = None) -> Starlette:
    """Slack's `/slack/events` (when a signing secret is configured), `POST /ingest/{entity}`
    and `GET /healthz`. `bolt_app` may be passed in (tests); otherwise it is built here."""

    routes = [*health_routes(runtime, scheduler=scheduler), *ingest_routes(runtime)]
    if bolt_app is None and runtime.settings.slack_signing_secret:
        # deferred: bolt loads only with Slack configured (an ingest-only server goes without)
        from bot.app.bolt import create_bolt_app

        bolt_app = create_bolt_app(runtime)
    if bolt_app is not None:
        # deferred: as above, the Slack routes come with bolt
        from bot.web.slack import slack_routes

        routes.extend(slack_routes(bolt_app, runtime))
    return Starlette(routes=routes)
