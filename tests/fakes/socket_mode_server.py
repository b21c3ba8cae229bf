"""Slack's side of Socket Mode for tests: a real WebSocket server on 127.0.0.1 (the
`websockets` library's threaded server) speaking Slack's Socket Mode protocol, so the
app's real slack_sdk client connects, receives envelopes and acks them over the wire.

The protocol (https://docs.slack.dev/apis/events-api/using-socket-mode/), as faked here:

- The app calls `apps.connections.open` with its app-level token (`xapp-…`); FakeSlack
  answers with `url_for_new_connection()`, a `ws://127.0.0.1:PORT/link/?ticket=…&app_id=…`
  URL shaped like Slack's `wss://wss-primary.slack.com/link/?ticket=…`. A connection
  whose ticket was never issued is refused during the handshake.
- On connect the server sends `{"type": "hello", "num_connections": …, "debug_info": …,
  "connection_info": {"app_id": …}}`.
- `send()` pushes an envelope `{"envelope_id", "type": "slash_commands" | "interactive" |
  "events_api", "payload", "accepts_response_payload"}` to the newest connection; the app
  acks it with `{"envelope_id", "payload"?}` and `wait_ack()` returns that ack (Slack wants
  it within 3 seconds, `ACK_DEADLINE`).
- `disconnect()` sends `{"type": "disconnect", "reason": "refresh_requested"}`, Slack's
  request that the app open a new connection (it does this every few hours); once the new
  connection is greeted, the old one is closed from Slack's side (Slack closes it after a
  grace period; here the grace period is zero, which keeps tests fast).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlparse

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

ENVELOPE_TYPES = ("slash_commands", "interactive", "events_api")
ACK_DEADLINE = 3.0  # seconds Slack waits for an envelope's ack before retrying it
CONNECT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Ack:
    """What the app sent back for one envelope, and how long it took."""

    envelope_id: str
    payload: dict[str, Any] | None
    seconds: float


class FakeSocketMode:
    """Slack's Socket Mode WebSocket endpoint; see the module docstring for the protocol."""

    def __init__(self, app_id: str = "A1") -> None:
        self.app_id = app_id
        self.received: list[dict[str, Any]] = []  # every message the app sent, in order
        self.hellos = 0  # connections greeted so far (a reconnect adds one)
        self._tickets: set[str] = set()
        self._open: list[ServerConnection] = []
        self._retiring: list[ServerConnection] = []
        self._sent_at: dict[str, float] = {}
        self._acks: dict[str, Ack] = {}
        self._changed = threading.Condition()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> FakeSocketMode:
        self._server = serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._check_ticket,
            compression=None,  # slack_sdk's built-in client offers no extensions anyway
            close_timeout=2,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-socket-mode", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close every connection (code 1001) and wait for their handler threads."""
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return int(self._server.socket.getsockname()[1])

    def url_for_new_connection(self) -> str:
        """A fresh WebSocket URL, as `apps.connections.open` hands out."""
        ticket = str(uuid.uuid4())
        with self._changed:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    # -- talking to the app ----------------------------------------------------------------
    def wait_connected(self, hellos: int = 1, timeout: float = CONNECT_TIMEOUT) -> None:
        """Until `hellos` connections have been greeted and one is open."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: self.hellos >= hellos and bool(self._open), timeout=timeout
            ):
                raise AssertionError(
                    f"the app did not connect over Socket Mode in {timeout} s "
                    f"({self.hellos} hello(s) sent, {len(self._open)} open)"
                )

    def send(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = True,
        **extra: Any,
    ) -> str:
        """Push one envelope to the newest open connection; returns its envelope_id.
        `extra` adds fields such as `retry_attempt`/`retry_reason` (events_api)."""
        assert kind in ENVELOPE_TYPES, kind
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            **extra,
        }
        connection = self._newest()
        with self._changed:
            self._sent_at[envelope_id] = time.monotonic()
        connection.send(json.dumps(envelope))
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = ACK_DEADLINE) -> Ack:
        """The app's ack of `envelope_id`; fails if it does not come within `timeout`."""
        with self._changed:
            if not self._changed.wait_for(lambda: envelope_id in self._acks, timeout=timeout):
                raise AssertionError(f"envelope {envelope_id} was not acked within {timeout} s")
            return self._acks[envelope_id]

    def request(
        self, kind: str, payload: dict[str, Any], *, timeout: float = ACK_DEADLINE, **extra: Any
    ) -> Ack:
        """Send an envelope and wait for its ack (what Slack does with every request)."""
        return self.wait_ack(self.send(kind, payload, **extra), timeout=timeout)

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the app to move to a new connection, as Slack does every few hours."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake"}}
        connection = self._newest()
        with self._changed:
            self._retiring.append(connection)
        connection.send(json.dumps(message))

    def close_connections(self, code: int = 1001) -> None:
        """Close every open connection from Slack's side (a close frame, then TCP close)."""
        with self._changed:
            connections = list(self._open)
        for connection in connections:
            connection.close(code)

    def open_connections(self) -> int:
        with self._changed:
            return len(self._open)

    # -- server side -----------------------------------------------------------------------
    def _newest(self) -> ServerConnection:
        with self._changed:
            if not self._changed.wait_for(lambda: bool(self._open), timeout=CONNECT_TIMEOUT):
                raise AssertionError("no open Socket Mode connection to send on")
            return self._open[-1]

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse the handshake unless the URL carries a ticket apps.connections.open issued."""
        query = parse_qs(urlparse(request.path).query)
        with self._changed:
            known = any(ticket in self._tickets for ticket in query.get("ticket", []))
        if urlparse(request.path).path.rstrip("/") != "/link" or not known:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "unknown Socket Mode ticket\n")
        return None

    def _handle(self, connection: ServerConnection) -> None:
        """One app connection: greet it, then record every message until it closes."""
        with self._changed:
            count = len(self._open) + 1
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": count,
                    "debug_info": {
                        "host": "fake-socket-mode",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
            )  # fmt: skip
        )
        with self._changed:
            self._open.append(connection)
            self.hellos += 1
            retiring, self._retiring = self._retiring, []
            self._changed.notify_all()
        for old in retiring:  # the app has moved over: end the connection it left
            old.close()
        try:
            for raw in connection:
                message = json.loads(raw)
                with self._changed:
                    self.received.append(message)
                    envelope_id = message.get("envelope_id")
                    if envelope_id in self._sent_at and envelope_id not in self._acks:
                        self._acks[envelope_id] = Ack(
                            envelope_id,
                            message.get("payload"),
                            time.monotonic() - self._sent_at[envelope_id],
                        )
                    self._changed.notify_all()
        except ConnectionClosed:
            pass  # the app dropped the TCP connection without a close frame (slack_sdk does)
        finally:
            with self._changed:
                self._open.remove(connection)
                self._changed.notify_all()
