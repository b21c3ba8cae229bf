"""Socket Mode end to end: csbot's real SocketModeHandler (built by `socket_mode_handler`,
as `csbot serve --socket` builds it) opens its WebSocket through the fake Web API's
`apps.connections.open`, and Slack's side (tests/fakes/socket_mode_server.py, a real
WebSocket server) pushes envelopes and reads the acks. Requests reuse the HTTP harness's
payload builders and helpers; only the transport differs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from sqlalchemy import Engine
from sqlmodel import select

from bot.app.socket import socket_mode_handler
from bot.delivery.limits import validate_message
from bot.runtime import Runtime
from bot.settings import load_settings
from storage.clock import FixedClock
from storage.models import AuditLog, PlaybookRun, PlaybookStep
from tests import polling
from tests.fakes.slack_server import FakeSlack
from tests.fakes.socket_mode_server import ACK_DEADLINE, Ack, FakeSocketMode
from tests.test_slack_actions import click_button, count, note, start_run
from tests.test_slack_commands import ask, texts
from tests.test_slack_harness import ADMIN, CSM, NOW, Bot, seed
from tests.test_slack_home import open_home

pytest_plugins = ["tests.test_slack_harness"]

APP_TOKEN = "xapp-1-A1-1-socketmodetest"
ROOT = Path(__file__).resolve().parents[1]
CSBOT = str(Path(sys.executable).with_name("csbot"))
STOP_TIMEOUT = 5.0
# What Slack marks as able to carry a response in the ack (slash commands, modal
# submissions, option loads); events and button clicks are acked bare.
RESPONSE_PAYLOAD_TYPES = {"view_submission", "block_suggestion"}


def wait_until(what: Callable[[], Any], timeout: float = STOP_TIMEOUT, message: str = "") -> Any:
    """The shared poll, with this file's shorter default deadline."""
    return polling.wait_until(what, timeout, message, poll=0.01)


def envelope_of(body: str, content_type: str) -> tuple[str, dict[str, Any]]:
    """The Socket Mode envelope type and payload Slack sends for what it would POST over
    HTTP: Events API JSON, an interaction's `payload=` form field, or a slash command form."""
    if "json" in content_type:
        return "events_api", json.loads(body)
    form = dict(parse_qsl(body))
    if "payload" in form:
        return "interactive", json.loads(form["payload"])
    return "slash_commands", form


class SocketBot(Bot):
    """The HTTP harness's Bot — its payload builders (`command`, `click`, `submit`) and
    observers (`wait_calls`, `responses`, `check_payloads`) — with every request delivered
    as a Socket Mode envelope instead of a signed HTTP POST. An ack's payload is what the
    HTTP response body would have been, so `post` returns it as an httpx.Response and the
    HTTP tests' helpers (`ask`, `start_run`, `click_button`, `open_home`) run unchanged."""

    def __init__(
        self, socket_mode: FakeSocketMode, fake: FakeSlack, engine: Engine, clock: FixedClock
    ) -> None:
        # Not Bot.__init__: that opens an HTTP client to a server, and there is none here.
        self.socket_mode, self.fake, self.engine, self.clock = socket_mode, fake, engine, clock
        self._trigger = 0
        self.acks: list[Ack] = []

    def post(self, body: str, content_type: str = "application/x-www-form-urlencoded",
             headers: dict[str, str] | None = None, signed: bool = True, **sign_args: Any) -> httpx.Response:  # fmt: skip
        """Send as an envelope and wait for the ack (Socket Mode has no signatures: the
        WebSocket itself is authenticated). A retry header becomes the envelope's
        `retry_attempt`, as Slack marks a redelivered event."""
        kind, payload = envelope_of(body, content_type)
        sent = {key.lower(): value for key, value in (headers or {}).items()}
        extra: dict[str, Any] = {}
        if "x-slack-retry-num" in sent:
            extra = {
                "retry_attempt": int(sent["x-slack-retry-num"]),
                "retry_reason": sent.get("x-slack-retry-reason", ""),
            }
        accepts = kind == "slash_commands" or payload.get("type") in RESPONSE_PAYLOAD_TYPES
        ack = self.socket_mode.request(kind, payload, accepts_response_payload=accepts, **extra)
        self.acks.append(ack)
        if ack.payload is None:
            return httpx.Response(200)
        return httpx.Response(200, json=ack.payload)


def socket_runtime(engine: Engine, fake: FakeSlack, clock: FixedClock) -> Runtime:
    """Settings as a Socket Mode install has them: app and bot tokens, no signing secret."""
    settings = load_settings(
        database_url=engine.url.render_as_string(hide_password=False),
        slack_app_token=APP_TOKEN,
        slack_bot_token="xoxb-test",
        slack_signing_secret=None,
        slack_api_url=fake.api_url,
        admins=[ADMIN],
    )
    runtime = Runtime(settings=settings, clock=clock)
    runtime.__dict__["engine"] = engine  # the fixture's database, already migrated
    return runtime


def stop_handler(handler: SocketModeHandler, socket_mode: FakeSocketMode) -> None:
    """Stop the app's Socket Mode client and its work, leaving no thread running.

    `SocketModeHandler.close()` on its own takes up to 4 s with slack_sdk's built-in
    client: it waits for the reader's blocking recv (a 3 s socket timeout) and for the
    message processor's 1 s queue poll. So Slack's side ends the connection first, as
    Slack does, with reconnection off so the client does not dial back in; the processor
    is woken once close() has marked the client closed. Then the app's listener pool is
    drained, so no lazy listener still writes to a database the fixture is dropping."""
    client = handler.client
    client.auto_reconnect_enabled = False
    try:
        socket_mode.close_connections()
        wait_until(lambda: not client.is_connected(), message="the client to see the close")
    finally:  # close even when the above failed: slower then, but nothing left running
        closing = threading.Thread(target=handler.close, name="close-socket-mode")
        closing.start()
        wait_until(lambda: client.closed, message="close() to start")
        client.message_queue.put(None)  # wakes the processor's 1 s poll; None is skipped
        closing.join(STOP_TIMEOUT)
        handler.app.listener_runner.listener_executor.shutdown(wait=True)
    assert not closing.is_alive(), "SocketModeHandler.close() did not return"


@pytest.fixture
def socket_bot(engine: Engine, fake_slack: FakeSlack) -> Iterator[SocketBot]:
    """csbot connected over Socket Mode to the fakes, on the `engine` database; on exit
    the handler is closed and every thread it started must be gone."""
    clock = FixedClock(NOW)
    seed(engine, clock)
    socket_mode = fake_slack.start_socket_mode(APP_TOKEN)
    threads_before = set(threading.enumerate())
    handler = socket_mode_handler(socket_runtime(engine, fake_slack, clock))
    handler.connect()
    try:
        socket_mode.wait_connected()
        yield SocketBot(socket_mode, fake_slack, engine, clock)
    finally:
        stop_handler(handler, socket_mode)
    wait_until(
        lambda: not [t for t in threading.enumerate() if t not in threads_before],
        message="the Socket Mode threads to end",
    )


def test_connects_with_the_app_token_and_answers_help_in_the_ack(socket_bot: SocketBot) -> None:
    opened = socket_bot.calls("apps.connections.open")
    assert len(opened) == 1
    headers = {key.lower(): value for key, value in opened[0].headers.items()}
    assert headers["authorization"] == f"Bearer {APP_TOKEN}"

    assert socket_bot.command("help").status_code == 200
    ack = socket_bot.acks[-1]
    assert ack.seconds < ACK_DEADLINE and ack.payload is not None
    assert ack.payload["response_type"] == "ephemeral" and "csbot commands" in texts(ack.payload)
    validate_message({"text": ack.payload["text"], "blocks": ack.payload["blocks"]})

    # A command with real work: acked bare at once, answered on the response_url.
    card = ask(socket_bot, "account Acme Corp")
    assert socket_bot.acks[-1].payload is None and socket_bot.acks[-1].seconds < ACK_DEADLINE
    assert "Acme Corp" in texts(card) and "health 42" in texts(card)
    assert socket_bot.check_payloads() >= 1


def test_playbook_start_is_stored_and_its_run_message_posted(socket_bot: SocketBot) -> None:
    message = start_run(socket_bot)
    assert socket_bot.acks[-1].payload is None and socket_bot.acks[-1].seconds < ACK_DEADLINE
    assert any(b.get("block_id", "").startswith("run:") for b in message["blocks"])
    posted = socket_bot.calls("chat.postMessage")[-1]
    headers = {key.lower(): value for key, value in posted.headers.items()}
    assert headers["authorization"] == "Bearer xoxb-test"  # the bot token, not the xapp one
    answer = socket_bot.wait_for(
        lambda: [r.args for r in socket_bot.responses() if "Started" in texts(r.args)]
    )
    assert "Churn-risk save on Acme Corp" in texts(answer[0])
    with socket_bot.session() as session:
        run = session.exec(select(PlaybookRun)).one()
        assert (run.account_id, run.playbook, run.status) == ("A1", "churn_risk_save", "active")
        assert run.started_by == CSM[1]
        assert session.exec(select(PlaybookStep).where(PlaybookStep.run_id == run.id)).all()
    socket_bot.check_payloads()


def test_a_button_click_closes_the_run(socket_bot: SocketBot) -> None:
    message = start_run(socket_bot)
    click_button(socket_bot, message, "run-close")
    assert socket_bot.acks[-1].payload is None and socket_bot.acks[-1].seconds < ACK_DEADLINE
    update = socket_bot.wait_calls("chat.update")[0].args
    ids = [b.get("block_id", "") for b in update["blocks"]]
    assert not any(i.startswith("run:") for i in ids) and "run-closed:1" in " ".join(ids)
    assert count(socket_bot, PlaybookRun, PlaybookRun.status == "closed") == 1
    assert count(socket_bot, AuditLog, AuditLog.action == "run.closed") == 1
    socket_bot.check_payloads()


def test_a_modal_refusal_travels_in_the_ack(socket_bot: SocketBot) -> None:
    message = start_run(socket_bot)
    click_button(socket_bot, message, "step-skip")
    view = socket_bot.wait_calls("views.open")[0].args["view"]
    refused = socket_bot.submit(view, note(""))
    assert refused.json() == {
        "response_action": "errors",
        "errors": {"note": "Say why the step is skipped"},
    }
    assert socket_bot.submit(view, note("Sponsor on leave")).status_code == 200
    socket_bot.wait_calls("chat.update")
    assert count(socket_bot, PlaybookStep, PlaybookStep.status == "skipped") == 1
    socket_bot.check_payloads()


def test_an_event_is_handled_and_a_redelivered_one_is_not(socket_bot: SocketBot) -> None:
    event = {
        "token": "legacy", "team_id": "T0001", "api_app_id": "A1", "type": "event_callback",
        "event_id": "EvRETRY", "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": CSM[1], "channel": "D1", "tab": "home"},
    }  # fmt: skip
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"}
    socket_bot.post(json.dumps(event), content_type="application/json", headers=retry)
    # Acked after the middleware dropped it, so nothing can still be on its way.
    assert socket_bot.acks[-1].payload is None and socket_bot.calls("views.publish") == []
    home = open_home(socket_bot)
    assert home["type"] == "home" and "Acme Corp" in json.dumps(home)
    assert len(socket_bot.calls("views.publish")) == 1


def test_moves_to_a_new_connection_when_slack_asks(socket_bot: SocketBot) -> None:
    socket_bot.socket_mode.disconnect("refresh_requested")
    socket_bot.socket_mode.wait_connected(hellos=2)
    assert len(socket_bot.calls("apps.connections.open")) == 2
    wait_until(lambda: socket_bot.socket_mode.open_connections() == 1, message="one connection")
    card = ask(socket_bot, "account Acme Labs")
    assert "Acme Labs" in texts(card)


def migrated_sqlite(tmp_path: Path) -> str:
    """A SQLite file at head, as `csbot db upgrade` leaves it (serve does not create one)."""
    from storage import migrate
    from storage.db import make_engine

    url = f"sqlite:///{tmp_path / 'socket.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def test_serve_socket_connects_answers_and_exits_on_sigterm(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """`csbot serve --socket` as a process: the CLI wires the same handler, which answers
    over the WebSocket; SIGTERM ends it with exit code 0."""
    socket_mode = fake_slack.start_socket_mode(APP_TOKEN)
    env = {key: value for key, value in os.environ.items() if not key.startswith("CSBOT_")} | {
        "CSBOT_DATABASE_URL": migrated_sqlite(tmp_path),
        "CSBOT_SLACK_APP_TOKEN": APP_TOKEN,
        "CSBOT_SLACK_BOT_TOKEN": "xoxb-test",
        "CSBOT_SLACK_API_URL": fake_slack.api_url,
        "PYTHONPATH": str(ROOT),
    }
    command = [CSBOT, "serve", "--socket", "--no-scheduler", "--host", "127.0.0.1", "--port", "0"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        socket_mode.wait_connected(timeout=20)  # the process imports csbot first
        form = {"command": "/cs", "text": "help", "user_id": CSM[1], "team_id": "T0001",
                "channel_id": "C1", "response_url": fake_slack.response_url()}  # fmt: skip
        ack = socket_mode.request("slash_commands", form)
        assert ack.payload is not None and "csbot commands" in texts(ack.payload)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            _, errors = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            _, errors = process.communicate()
    assert process.returncode == 0, errors[-2000:]


@pytest.mark.parametrize(
    ("tokens", "error"),
    [
        ({"CSBOT_SLACK_BOT_TOKEN": "xoxb-test"},
         "--socket needs CSBOT_SLACK_APP_TOKEN (an xapp-… app-level token)"),
        ({"CSBOT_SLACK_APP_TOKEN": APP_TOKEN},
         "set CSBOT_SLACK_BOT_TOKEN (one workspace) or CSBOT_SLACK_CLIENT_ID and "
         "CSBOT_SLACK_CLIENT_SECRET (OAuth installs)"),
        ({"CSBOT_SLACK_APP_TOKEN": "xoxb-pasted-here", "CSBOT_SLACK_BOT_TOKEN": "xoxb-test"},
         "Slack refused CSBOT_SLACK_APP_TOKEN (not_allowed_token_type): it must be the "
         "app-level token (xapp-…) with connections:write"),
    ],
    ids=["no-app-token", "no-bot-token", "bot-token-as-app-token"],
)  # fmt: skip
def test_serve_socket_token_mistakes_are_one_line(
    tmp_path: Path, fake_slack: FakeSlack, tokens: dict[str, str], error: str
) -> None:
    """The CLI's promise (one line, exit 1, no traceback) holds for Socket Mode's usual
    setup mistakes, including the one only Slack can spot (`apps.connections.open`)."""
    fake_slack.start_socket_mode(APP_TOKEN)
    env = {key: value for key, value in os.environ.items() if not key.startswith("CSBOT_")} | {
        "CSBOT_DATABASE_URL": migrated_sqlite(tmp_path),
        "CSBOT_SLACK_API_URL": fake_slack.api_url,
        "PYTHONPATH": str(ROOT),
        **tokens,
    }
    command = [CSBOT, "serve", "--socket", "--no-scheduler", "--host", "127.0.0.1", "--port", "0"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == f"csbot: {error}"


def test_the_fake_refuses_tokens_and_tickets_slack_would_refuse(fake_slack: FakeSlack) -> None:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    socket_mode = fake_slack.start_socket_mode(APP_TOKEN)
    client = WebClient(base_url=fake_slack.api_url)
    for token, error in (("xoxb-test", "not_allowed_token_type"), ("xapp-other", "invalid_auth")):
        with pytest.raises(SlackApiError) as refused:
            client.apps_connections_open(app_token=token)
        assert refused.value.response["error"] == error
    url = client.apps_connections_open(app_token=APP_TOKEN)["url"]
    with pytest.raises(InvalidStatus):
        connect(url.replace("ticket=", "ticket=forged"), open_timeout=5).close()
    with connect(url, open_timeout=5) as websocket:
        hello = json.loads(websocket.recv(timeout=5))
        assert hello["type"] == "hello" and hello["connection_info"] == {"app_id": "A1"}
    assert socket_mode.hellos == 1
