"""Slack's HTTP routes on our Starlette app: `POST /slack/events` (commands, actions,
modals, events) and, with OAuth configured, `GET /slack/install` and the redirect.

slack_bolt's Starlette adapter converts requests; the sync bolt `App.dispatch` runs in
Starlette's thread pool so one slow request never blocks the event loop (the adapter's
`SlackRequestHandler.handle` would call it on the loop itself).
"""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

EVENTS_PATH = "/slack/events"


def slack_routes(bolt_app: App) -> list[Route]:
    async def events(request: Request) -> Response:
        body = await request.body()
        response = await run_in_threadpool(bolt_app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(response)

    routes = [Route(EVENTS_PATH, events, methods=["POST"], name="slack_events")]
    flow = bolt_app.oauth_flow
    if flow is not None:

        async def install(request: Request) -> Response:
            bolt_request = to_bolt_request(request, await request.body())
            return to_starlette_response(
                await run_in_threadpool(flow.handle_installation, bolt_request)
            )

        async def redirect(request: Request) -> Response:
            bolt_request = to_bolt_request(request, await request.body())
            return to_starlette_response(
                await run_in_threadpool(flow.handle_callback, bolt_request)
            )

        routes += [
            Route(flow.install_path, install, methods=["GET"], name="slack_install"),
            Route(flow.redirect_uri_path, redirect, methods=["GET"], name="slack_oauth_redirect"),
        ]
    return routes
