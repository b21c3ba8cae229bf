"""A fake Slack Web API: a real HTTP server on 127.0.0.1 that records calls and answers as Slack does.

Point `slack_sdk.WebClient(base_url=server.api_url)` (or `CSBOT_SLACK_API_URL`) at it.
It answers the methods csbot uses with Slack-shaped JSON, and can be told to fail:
`server.fail("chat.postMessage", status=429, retry_after=1)`, `status=500`,
`error="channel_not_found"` (HTTP 200 with `ok: false`) or `delay=2.0` (a slow answer for
timeout tests). Faults are queued per method and used once each, in order.
`response_url` posts land on `server.response_url(...)` and are recorded too.
With `server.require_outbox_key = True` it refuses (`missing_outbox_key`) any
chat.postMessage or chat.update that does not carry an outbox key in its message metadata
(`{"event_type": "csbot_outbox", "event_payload": {"key": …}}`), as a check that nothing
posts around csbot's outbox.
Files go up as Slack's files_upload_v2 sends them: `files.getUploadURLExternal` hands out
an upload URL on this server, the bytes are POSTed there (kept in `server.uploads`), and
`files.completeUploadExternal` shares them (`file_not_found` for an id never uploaded, or
a length that does not match what was announced).
For Socket Mode, `server.start_socket_mode("xapp-…")` runs Slack's WebSocket side
(tests/fakes/socket_mode_server.py) and makes `apps.connections.open` accept that
app-level token and hand out URLs to it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

if TYPE_CHECKING:
    from tests.fakes.socket_mode_server import FakeSocketMode


OUTBOX_METHODS = ("chat.postMessage", "chat.update")


def outbox_key(args: dict[str, Any]) -> str | None:
    """The outbox key a csbot message carries in its Slack message metadata, if any."""
    metadata = args.get("metadata")
    if isinstance(metadata, str):
        with contextlib.suppress(ValueError):
            metadata = json.loads(metadata)
    if not isinstance(metadata, dict) or metadata.get("event_type") != "csbot_outbox":
        return None
    key = (metadata.get("event_payload") or {}).get("key")
    return str(key) if key else None


def _flatten(query: dict[str, list[str]]) -> dict[str, Any]:
    """Form and query values as single strings where there is one value."""
    return {key: values[0] if len(values) == 1 else values for key, values in query.items()}


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float


@dataclass
class Fault:
    status: int = 200
    retry_after: int | None = None
    error: str | None = None
    delay: float = 0.0


@dataclass
class FakeSlack:
    users_by_email: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    responses: list[Call] = field(default_factory=list)
    _faults: dict[str, deque[Fault]] = field(default_factory=dict)
    _ts: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    socket_mode: FakeSocketMode | None = None
    app_token: str | None = None
    require_outbox_key: bool = False
    uploads: dict[str, bytes] = field(default_factory=dict)  # file id → the bytes uploaded
    _announced: dict[str, tuple[str, int]] = field(default_factory=dict)  # id → (name, length)

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                self._handle(_flatten(parse_qs(urlparse(self.path).query)))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                if urlparse(self.path).path.startswith("/upload/"):
                    status = fake._receive_upload(urlparse(self.path).path, data)
                    body = f"OK - {len(data)}".encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                raw = data.decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    args = json.loads(raw or "{}")
                else:
                    args = _flatten(parse_qs(raw))
                self._handle(args)

            def _handle(self, args: dict[str, Any]) -> None:
                for key in ("blocks", "view", "attachments"):
                    if isinstance(args.get(key), str):
                        with contextlib.suppress(ValueError):
                            args[key] = json.loads(args[key])
                path = urlparse(self.path).path
                status, body, headers = fake._answer(path, args, dict(self.headers))
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits for the loop to notice, 0.5 s by default.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self.socket_mode is not None:
            self.socket_mode.stop()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r") -> str:
        return f"{self.base_url}/response/{name}"

    # -- configuration ---------------------------------------------------------------
    def start_socket_mode(self, app_token: str) -> FakeSocketMode:
        """Run Slack's Socket Mode WebSocket side; `apps.connections.open` then accepts
        `app_token` (and only it). Imported here so the HTTP fake needs no `websockets`."""
        from tests.fakes.socket_mode_server import FakeSocketMode

        assert app_token.startswith("xapp-"), "Socket Mode takes an app-level token"
        self.app_token = app_token
        self.socket_mode = FakeSocketMode().start()
        return self.socket_mode

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        retry_after: int | None = None,
        error: str | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        with self._lock:
            queue = self._faults.setdefault(method, deque())
            for _ in range(times):
                queue.append(Fault(status, retry_after, error, delay))

    def add_user(
        self, email: str, user_id: str, tz: str = "America/New_York", name: str = ""
    ) -> None:
        self.users_by_email[email.lower()] = {
            "id": user_id,
            "name": name or email.split("@")[0],
            "tz": tz,
            "profile": {"email": email, "real_name": name or email},
        }

    # -- inspection --------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.responses.clear()
            self._faults.clear()

    # -- answers -------------------------------------------------------------------------
    def _answer(
        self, path: str, args: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if path.startswith("/response/"):
            with self._lock:
                self.responses.append(
                    Call(path.removeprefix("/response/"), args, headers, time.time())
                )
            return 200, {"ok": True}, {}
        method = path.removeprefix("/api/").strip("/")
        with self._lock:
            queue = self._faults.get(method)
            fault = queue.popleft() if queue else None
            self.calls.append(Call(method, args, headers, time.time()))
        if fault:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status == 429:
                return (
                    429,
                    {"ok": False, "error": "ratelimited"},
                    {"Retry-After": str(fault.retry_after or 1)},
                )
            if fault.status >= 500:
                return fault.status, {"ok": False, "error": "internal_error"}, {}
            if fault.error:
                return 200, {"ok": False, "error": fault.error}, {}
        if method == "apps.connections.open":
            return 200, self._connections_open(args, headers), {}
        if self.require_outbox_key and method in OUTBOX_METHODS and not outbox_key(args):
            return 200, {"ok": False, "error": "missing_outbox_key"}, {}
        return 200, self._ok(method, args), {}

    def _connections_open(self, args: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        """Slack's answers: no token, a bot/user token (`xoxb-`/`xoxp-`) where an app-level
        one is needed, an unknown app token, or a fresh WebSocket URL."""
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        token = auth.removeprefix("Bearer ").strip() or str(args.get("token") or "")
        if not token:
            return {"ok": False, "error": "not_authed"}
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if self.socket_mode is None or token != self.app_token:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.socket_mode.url_for_new_connection()}

    def _next_ts(self) -> str:
        with self._lock:
            return f"{1_700_000_000 + next(self._ts)}.000100"

    def _receive_upload(self, path: str, data: bytes) -> int:
        file_id = path.removeprefix("/upload/").strip("/")
        with self._lock:
            if file_id not in self._announced:
                return 404
            self.uploads[file_id] = data
        return 200

    def uploaded(self) -> list[dict[str, Any]]:
        """Every file shared by files.completeUploadExternal: id, name, title, channel,
        thread and text."""
        shared = []
        for call in self.calls_to("files.completeUploadExternal"):
            files = call.args.get("files")
            for item in json.loads(files) if isinstance(files, str) else files or []:
                if item["id"] not in self.uploads:
                    continue  # refused: never uploaded
                name, _length = self._announced[item["id"]]
                shared.append({
                    "id": item["id"], "title": item.get("title"), "filename": name,
                    "channel": call.args.get("channel_id"), "thread_ts": call.args.get("thread_ts"),
                    "content": self.uploads[item["id"]].decode(),
                })  # fmt: skip
        return shared

    def _files(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "files.getUploadURLExternal":
            if not args.get("filename") or not str(args.get("length") or "").isdigit():
                return {"ok": False, "error": "invalid_arguments"}
            file_id = f"F{self._next_ts().replace('.', '')}"
            with self._lock:
                self._announced[file_id] = (str(args["filename"]), int(args["length"]))
            return {
                "ok": True,
                "file_id": file_id,
                "upload_url": f"{self.base_url}/upload/{file_id}",
            }
        files = args.get("files")
        items = json.loads(files) if isinstance(files, str) else files or []
        with self._lock:
            for item in items:
                announced = self._announced.get(item.get("id"))
                data = self.uploads.get(item.get("id"))
                if announced is None or data is None or len(data) != announced[1]:
                    return {"ok": False, "error": "file_not_found"}
        return {
            "ok": True,
            "files": [{"id": item["id"], "title": item.get("title")} for item in items],
        }

    def _ok(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method in ("files.getUploadURLExternal", "files.completeUploadExternal"):
            return self._files(method, args)
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            ts = args.get("ts") if method == "chat.update" else self._next_ts()
            body: dict[str, Any] = {"ok": True, "channel": args.get("channel"), "ts": ts}
            if method == "chat.postEphemeral":
                body = {"ok": True, "message_ts": ts}
            else:
                body["message"] = {"text": args.get("text"), "blocks": args.get("blocks"), "ts": ts}
            return body
        if method == "users.lookupByEmail":
            user = self.users_by_email.get(str(args.get("email", "")).lower())
            return {"ok": True, "user": user} if user else {"ok": False, "error": "users_not_found"}
        if method == "users.info":
            for user in self.users_by_email.values():
                if user["id"] == args.get("user"):
                    return {"ok": True, "user": user}
            return {"ok": False, "error": "user_not_found"}
        if method == "conversations.open":
            users = str(args.get("users", "U"))
            return {"ok": True, "channel": {"id": "D" + users.split(",")[0].lstrip("U")}}
        if method == "auth.test":
            return {
                "ok": True,
                "team_id": "T0001",
                "user_id": "UBOT",
                "bot_id": "B0001",
                "team": "Test",
            }
        if method in ("views.open", "views.publish", "views.update", "views.push"):
            return {
                "ok": True,
                "view": {"id": "V" + self._next_ts().replace(".", ""), **(args.get("view") or {})},
            }
        if method == "chat.getPermalink":
            return {
                "ok": True,
                "permalink": f"https://example.slack.com/archives/{args.get('channel')}/p{args.get('message_ts')}",
            }
        return {"ok": True}
