"""A small local HTTP API for connector tests: routes answer JSON in a vendor's shapes.

`FakeApi(routes, authorization=...)` serves `routes[(METHOD, PATH)](query, body)` →
`(status, body)` on 127.0.0.1 at an ephemeral port. `fail` scripts answers to give before
the normal one, for paths holding `fail_on`: `(status, body, headers)`. Every request is
recorded in `requests` as (method, path with query). A wrong Authorization header gets
`unauthorized` (status, body).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

Handler = Callable[[dict[str, str], Any], tuple[int, Any]]


class FakeApi:
    def __init__(
        self,
        routes: dict[tuple[str, str], Handler],
        *,
        authorization: str | None = None,
        unauthorized: tuple[int, Any] = (401, {"error": "Unauthorized"}),
    ) -> None:
        self.routes = routes
        self.authorization = authorization
        self.unauthorized = unauthorized
        self.fail: list[tuple[int, Any, dict[str, str]]] = []
        self.fail_on = ""
        self.requests: list[tuple[str, str]] = []
        api = self

        class Handle(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                api.requests.append((method, self.path))
                if api.authorization and self.headers.get("Authorization") != api.authorization:
                    self._send(*api.unauthorized)
                    return
                if api.fail and api.fail_on in self.path:
                    self._send(*api.fail.pop(0))
                    return
                url = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                route = api.routes.get((method, url.path))
                if route is None:
                    self._send(404, {"error": "NotFound", "description": f"no route {url.path}"})
                    return
                if raw and self.headers.get("Content-Type", "").startswith("application/json"):
                    body: Any = json.loads(raw)
                else:
                    body = {k: v[-1] for k, v in parse_qs(raw.decode()).items()} if raw else {}
                self._send(*route(query, body))

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeApi:
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
