"""Slack's HTTP routes on our Starlette app: `POST /slack/events` (commands, actions,
modals, events) and, with OAuth configured, `GET /slack/install` and the redirect.

Every event request passes `SlackRequestGuard` first (size limit, signature on the raw
bytes, well-formed body, replay) — bolt's own verification is off (see
`bot.slack.quiet_logs`). slack_bolt's Starlette adapter converts requests; the sync bolt
`App.dispatch` runs in Starlette's thread pool so one slow request never blocks the event
loop (the adapter's `SlackRequestHandler.handle` would call it on the loop itself).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.slack.quiet_logs import quiet_libraries
from bot.web.slack_guard import SlackRequestGuard

EVENTS_PATH = "/slack/events"


def guard_for(runtime: Any) -> SlackRequestGuard:
    """The guard configured from `runtime`: its signing secret, body limit and database."""
    settings = runtime.settings
    if not settings.slack_signing_secret:
        raise ValueError("CSBOT_SLACK_SIGNING_SECRET is required to serve Slack requests")
    return SlackRequestGuard(
        signing_secret=settings.slack_signing_secret,
        max_body_bytes=settings.slack_max_body_bytes,
        engine=runtime.engine,
    )


def slack_routes(bolt_app: App, runtime: Any) -> list[Route]:
    """The Slack routes for `bolt_app`, guarded with `runtime`'s secret, limit and database."""
    quiet_libraries()
    guard = guard_for(runtime)

    async def events(request: Request) -> Response:
        admitted = await guard.admit(request)
        if isinstance(admitted, Response):
            return admitted
        response = await run_in_threadpool(bolt_app.dispatch, to_bolt_request(request, admitted))
        return to_starlette_response(response)

    routes = [Route(EVENTS_PATH, events, methods=["POST"], name="slack_events")]
    flow = bolt_app.oauth_flow
    if flow is not None:

        async def install(request: Request) -> Response:
            bolt_request = to_bolt_request(request, b"")
            return to_starlette_response(
                await run_in_threadpool(flow.handle_installation, bolt_request)
            )

        async def redirect(request: Request) -> Response:
            bolt_request = to_bolt_request(request, b"")
            return to_starlette_response(
                await run_in_threadpool(flow.handle_callback, bolt_request)
            )

        routes += [
            Route(flow.install_path, install, methods=["GET"], name="slack_install"),
            Route(flow.redirect_uri_path, redirect, methods=["GET"], name="slack_oauth_redirect"),
        ]
    return routes
