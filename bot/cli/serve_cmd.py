"""`csbot serve`: the long-running process — scheduler plus HTTP (or Socket Mode).

HTTP mode serves `bot.web.app.create_web_app` (Slack events, ingest, /healthz) with
uvicorn; `--socket` connects to Slack over Socket Mode instead of receiving events, and
still serves /healthz and ingest over HTTP. On SQLite a second instance is refused the
scheduler (and says so); on PostgreSQL replicas share the work through job leases.
"""

from __future__ import annotations

import logging
import signal
import socket as sockets
import sys
import threading
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.runtime import Runtime
    from bot.settings import Settings

logger = logging.getLogger("csbot.serve")


def build_app(runtime: Runtime, scheduler: Any, bolt_app: Any = None) -> Any:
    """The lead's composed web app; only /healthz while other areas' routes are missing."""
    try:
        from bot.web.app import create_web_app

        return create_web_app(runtime, bolt_app=bolt_app, scheduler=scheduler)
    except ImportError as error:
        from starlette.applications import Starlette

        from bot.web.health import health_routes

        logger.warning("serving /healthz only: %s", error)
        return Starlette(routes=health_routes(runtime, scheduler=scheduler))


def start_scheduler(runtime: Runtime) -> Any:
    """Start the scheduler; None (with a clear warning) when another instance owns it."""
    from bot.scheduling.service import CsbotScheduler, InstanceAlreadyRunning

    scheduler = CsbotScheduler(runtime)
    try:
        scheduler.start()
    except InstanceAlreadyRunning as error:
        print(f"csbot: warning: not starting the scheduler: {error}", file=sys.stderr, flush=True)
        return None
    return scheduler


def socket_handler(runtime: Runtime) -> SocketModeHandler:
    """The Socket Mode handler, built before anything starts so a missing token is one
    line (`csbot: set CSBOT_SLACK_BOT_TOKEN …`), not a traceback after "listening"."""
    from bot.app.socket import socket_mode_handler
    from bot.cli.errors import CliError
    from bot.slack.app import SlackConfigError

    try:
        return socket_mode_handler(runtime)
    except SlackConfigError as error:
        raise CliError(str(error)) from None


def http_bolt_app(runtime: Runtime) -> Any:
    """The bolt app for `/slack/events` when a signing secret is set (None otherwise), built
    before anything starts so a missing bot token is one line, not a traceback."""
    if not runtime.settings.slack_signing_secret:
        return None
    from bot.app.bolt import create_bolt_app
    from bot.cli.errors import CliError
    from bot.slack.app import SlackConfigError

    try:
        return create_bolt_app(runtime)
    except SlackConfigError as error:
        raise CliError(str(error)) from None


def check_slack_token(bolt_app: Any, runtime: Runtime) -> None:
    """auth.test once, now, so no request waits for it (see bot.web.slack_token)."""
    from bot.cli.errors import CliError
    from bot.web.slack_token import SlackStartupError, check_token

    try:
        identity = check_token(bolt_app, runtime.settings.slack_api_url)
    except SlackStartupError as error:
        raise CliError(str(error)) from None
    if identity:
        print(
            f"csbot: Slack token ok (team {identity.get('team_id')}, bot user {identity.get('user_id')})",
            file=sys.stderr,
            flush=True,
        )


def slack_status(settings: Settings, socket: bool) -> str | None:
    """The line that says csbot is offline for Slack, or not receiving its requests
    (None when both ways work, or when the Slack configuration is an error of its own)."""
    if socket:
        return None
    oauth = bool(settings.slack_client_id and settings.slack_client_secret)
    if not settings.slack_bot_token and not oauth and not settings.slack_signing_secret:
        return (
            "csbot: offline for Slack (CSBOT_SLACK_BOT_TOKEN and CSBOT_SLACK_SIGNING_SECRET "
            "not set): serving /healthz and /ingest only; nothing is posted to Slack"
        )
    if not settings.slack_signing_secret:
        return (
            "csbot: not serving /slack/events (CSBOT_SLACK_SIGNING_SECRET not set): "
            "scheduled messages are still posted"
        )
    return None


def bind(host: str, port: int) -> sockets.socket:
    """Bind first, so the printed address is the real one (port 0 picks a free port)."""
    family = sockets.AF_INET6 if ":" in host else sockets.AF_INET
    sock = sockets.socket(family, sockets.SOCK_STREAM)
    sock.setsockopt(sockets.SOL_SOCKET, sockets.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def serve(
    socket: bool = typer.Option(
        False, "--socket", help="use Slack Socket Mode (CSBOT_SLACK_APP_TOKEN)"
    ),
    host: str | None = typer.Option(None, help="address to listen on (default CSBOT_HOST)"),
    port: int | None = typer.Option(
        None, help="port to listen on (default CSBOT_PORT; 0: any free port)"
    ),
    scheduler_enabled: bool = typer.Option(
        True, "--scheduler/--no-scheduler", help="run the job scheduler"
    ),
) -> None:
    """Run csbot: the scheduler and the HTTP server (or Socket Mode)."""
    import uvicorn

    from bot.cli.errors import CliError
    from bot.runtime import build_runtime

    runtime = build_runtime()
    settings = runtime.settings
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if socket and not settings.slack_app_token:
        raise CliError("--socket needs CSBOT_SLACK_APP_TOKEN (an xapp-… app-level token)")
    runtime.engine  # noqa: B018  (fail now, with one line, if the database is unusable)
    # A Slack configuration error stops us here, before the scheduler or the port.
    offline = slack_status(settings, socket)
    if offline:
        print(offline, file=sys.stderr, flush=True)
    handler = socket_handler(runtime) if socket else None
    bolt_app = None if socket else http_bolt_app(runtime)
    checked_app = bolt_app if handler is None else handler.app
    if checked_app is not None:
        check_slack_token(checked_app, runtime)
    scheduler = start_scheduler(runtime) if scheduler_enabled else None
    host = host or settings.host
    port = settings.port if port is None else port
    try:
        sock = bind(host, port)
    except OSError as error:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        raise CliError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(runtime, scheduler, bolt_app),
            log_level=settings.log_level.lower(),
            lifespan="off",
        )
    )
    # SIGTERM (docker stop, systemd, Kubernetes) exits through `finally`, so the scheduler
    # stops and the SQLite instance lease is released. uvicorn handles the signal first
    # (graceful HTTP shutdown), then re-raises it to this handler.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    shown_host = f"[{host}]" if ":" in host else host
    print(f"csbot listening on http://{shown_host}:{bound_port}", flush=True)
    try:
        if handler is not None:
            from bot.app.socket import run_socket_mode
            from bot.slack.app import SlackConfigError

            threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
            try:
                run_socket_mode(runtime, handler)
            except SlackConfigError as error:  # Slack refused the app token
                raise CliError(str(error)) from None
        else:
            server.run(sockets=[sock])
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the csbot app."""
    app.command("serve")(serve)
