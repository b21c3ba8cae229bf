"""A local HubSpot: the CRM v3 endpoints csbot reads, answering in HubSpot's shapes.

Serves `GET /crm/v3/owners`, `POST /crm/v3/objects/{companies,contacts,deals}/search`
(filters `GTE` on the modification property, ascending sort, `after` paging, HTTP 400 past
10,000 results as HubSpot does), `GET /crm/v3/objects/contacts?archived=true` and
`POST /crm/v4/associations/deals/companies/batch/read`. Records are held in memory
(`companies`, `contacts`, `deals`, `owners`, `archived_contacts`), so a test edits one and
syncs again. `fail` scripts answers before the next normal one: an int status (429 comes
with HubSpot's rate-limit body and `Retry-After: 1`), for paths holding `fail_on`. Bearer token checked: 401 otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

TOKEN = "pat-na1-test"

MODIFIED = {
    "companies": "hs_lastmodifieddate",
    "contacts": "lastmodifieddate",
    "deals": "hs_lastmodifieddate",
}


def hs_time(when: dt.datetime) -> str:
    """HubSpot's timestamp text: ISO 8601, milliseconds, Z."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def record(
    object_id: str, properties: dict[str, Any], modified: dt.datetime, kind: str
) -> dict[str, Any]:
    """One CRM object as the v3 API returns it."""
    stamp = hs_time(modified)
    props = {**properties, MODIFIED[kind]: stamp, "hs_object_id": object_id}
    return {
        "id": object_id,
        "properties": props,
        "createdAt": stamp,
        "updatedAt": stamp,
        "archived": False,
    }


def _ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


class FakeHubSpot:
    def __init__(self) -> None:
        self.companies: dict[str, dict[str, Any]] = {}
        self.contacts: dict[str, dict[str, Any]] = {}
        self.deals: dict[str, dict[str, Any]] = {}
        self.archived_contacts: dict[str, dict[str, Any]] = {}
        self.owners: list[dict[str, Any]] = []
        self.deal_companies: dict[str, str] = {}
        self.fail: list[int] = []
        self.search_limit = 10_000
        self.fail_on = ""
        """Only requests whose path holds this text take the scripted failures."""
        self.requests: list[tuple[str, str]] = []
        self._sorted: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        hubspot = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _answer(
                self, status: int, body: Any, headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                hubspot.requests.append((method, self.path))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._answer(
                        401,
                        _error("Authentication credentials not found.", "INVALID_AUTHENTICATION"),
                    )
                    return
                with hubspot._lock:
                    scripted = hubspot.fail and hubspot.fail_on in self.path
                    failure = hubspot.fail.pop(0) if scripted else None
                if failure is not None:
                    if failure == 429:
                        body = _error("You have reached your secondly limit.", "RATE_LIMITS")
                        body.update({"errorType": "RATE_LIMIT", "policyName": "SECONDLY"})
                        self._answer(429, body, {"Retry-After": "1"})
                    else:
                        self._answer(failure, _error("Internal error", "INTERNAL_ERROR"))
                    return
                status, body = hubspot.route(method, self.path, json.loads(raw) if raw else {})
                self._answer(status, body)

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    # -- data ---------------------------------------------------------------------------
    def put(
        self, kind: str, object_id: str, properties: dict[str, Any], modified: dt.datetime
    ) -> None:
        getattr(self, kind)[object_id] = record(object_id, properties, modified, kind)
        self._sorted.pop(kind, None)

    def _ordered(self, kind: str) -> list[tuple[int, str, dict[str, Any]]]:
        if kind not in self._sorted:
            rows = [
                (_ms(item["properties"][MODIFIED[kind]]), object_id, item)
                for object_id, item in getattr(self, kind).items()
            ]
            self._sorted[kind] = sorted(rows, key=lambda row: (row[0], row[1]))
        return self._sorted[kind]

    # -- routes -------------------------------------------------------------------------
    def route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        url = urlparse(path)
        url = url._replace(path=url.path.rstrip("/"))  # the client asks for /crm/v3/owners/
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        if method == "GET" and url.path == "/crm/v3/owners":
            return 200, self._list(self.owners, query)
        if method == "POST" and parts[:3] == ["crm", "v3", "objects"] and parts[-1] == "search":
            return self._search(parts[3], body)
        if method == "GET" and url.path == "/crm/v3/objects/contacts":
            items = (
                list(self.archived_contacts.values())
                if query.get("archived", "").lower() == "true"  # the client sends True
                else list(self.contacts.values())
            )
            return 200, self._list(items, query)
        if method == "POST" and url.path == "/crm/v4/associations/deals/companies/batch/read":
            results = [
                {
                    "from": {"id": item["id"]},
                    "to": [
                        {
                            "toObjectId": int(self.deal_companies[item["id"]]),
                            "associationTypes": [
                                {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"},
                                {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None},
                            ],
                        }
                    ],
                }
                for item in body.get("inputs", [])
                if item["id"] in self.deal_companies
            ]
            return 200, {
                "status": "COMPLETE",
                "results": results,
                "startedAt": hs_time(dt.datetime(2026, 1, 1)),
                "completedAt": hs_time(dt.datetime(2026, 1, 1)),
            }
        return 404, _error(f"Unable to infer object type from: {url.path}", "OBJECT_NOT_FOUND")

    def _list(self, items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
        limit = min(int(query.get("limit", "10")), 100)
        start = int(query.get("after", "0"))
        page = items[start : start + limit]
        body: dict[str, Any] = {"results": page}
        if start + limit < len(items):
            after = str(start + limit)
            body["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
        return body

    def _search(self, kind: str, body: dict[str, Any]) -> tuple[int, Any]:
        if kind not in MODIFIED:
            return 400, _error(f"Unknown object type {kind}", "VALIDATION_ERROR")
        limit = int(body.get("limit", 10))
        if limit > 200:
            return 400, _error("limit must be at most 200", "VALIDATION_ERROR")
        after = int(body.get("after") or 0)
        if after + limit > self.search_limit:
            return 400, _error("There was a problem with the request.", "VALIDATION_ERROR")
        since = None
        for group in body.get("filterGroups", []):
            for condition in group.get("filters", []):
                if condition["propertyName"] == MODIFIED[kind] and condition["operator"] == "GTE":
                    since = int(condition["value"])
        rows = self._ordered(kind)
        if since is not None:
            import bisect

            rows = rows[bisect.bisect_left(rows, (since, "")) :]
        wanted = set(body.get("properties") or []) | {MODIFIED[kind], "hs_object_id", "createdate"}
        page = [
            {**item, "properties": {k: v for k, v in item["properties"].items() if k in wanted}}
            for _, _, item in rows[after : after + limit]
        ]
        answer: dict[str, Any] = {"total": len(rows), "results": page}
        if after + limit < len(rows):
            answer["paging"] = {"next": {"after": str(after + limit)}}
        return 200, answer

    # -- lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> FakeHubSpot:
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _error(message: str, category: str) -> dict[str, Any]:
    return {
        "status": "error",
        "message": message,
        "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf",
        "category": category,
    }
