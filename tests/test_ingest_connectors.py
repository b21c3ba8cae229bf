"""The REST connector pattern against a real local HTTP server: cursor and page
pagination, retries on 429/5xx/timeouts with backoff, and the contract's validation."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from storage.ingest import ContractViolation, import_directory
from storage.ingest.connectors import (
    CursorPagination,
    PagePagination,
    RestSource,
    SourceError,
    import_from_api,
)
from tests.test_ingest_support import dump_tables, write_rows_csv

TICKETS = [
    {
        "id": 100 + i,
        "org": "A1",
        "created": f"2026-04-{i + 1:02d}T10:00:00Z",
        "urgency": ["low", "normal", "high", "urgent"][i % 4],
        "title": f"Issue {i}",
    }
    for i in range(7)
]


class FakeDesk:
    """A support-desk API: /tickets (cursor) and /paged (page numbers), with scripted
    failures (`fail` = statuses to answer before succeeding; "slow" = a timeout)."""

    def __init__(self) -> None:
        self.fail: list[int | str] = []
        self.requests: list[str] = []
        desk = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                desk.requests.append(self.path)
                if desk.fail:
                    failure = desk.fail.pop(0)
                    if failure == "slow":
                        time.sleep(0.5)
                    else:
                        self.send_response(int(failure))
                        if failure == 429:
                            self.send_header("Retry-After", "1")
                        self.end_headers()
                        return
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/tickets":
                    start = int(query.get("cursor", "0"))
                    size = int(query["limit"])
                    page = TICKETS[start : start + size]
                    more = start + size < len(TICKETS)
                    payload = {"data": page, "meta": {"next": str(start + size) if more else None}}
                elif url.path == "/paged":
                    page, size = int(query["page"]), int(query["per_page"])
                    payload = {"items": TICKETS[(page - 1) * size : page * size]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeDesk:
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def desk() -> Iterator[FakeDesk]:
    with FakeDesk() as server:
        yield server


def ticket_row(record: dict) -> dict:
    return {
        "ticket_id": f"Z{record['id']}",
        "account_id": record["org"],
        "opened_at": record["created"],
        "priority": record["urgency"],
        "subject": record["title"],
    }


def source(desk: FakeDesk, sleeps: list[float], **kwargs) -> RestSource:
    options = {
        "base_url": desk.url,
        "path": "/tickets",
        "entity": "tickets",
        "map_record": ticket_row,
        "pagination": CursorPagination(next_cursor="meta.next", limit=3),
        "sleep": sleeps.append,
        **kwargs,
    }
    return RestSource(**options)


@pytest.fixture
def with_account(engine, tmp_path):
    write_rows_csv(tmp_path / "accounts.csv", [{"account_id": "A1", "name": "Acme"}])
    import_directory(engine, tmp_path)
    return engine


def test_cursor_pagination_imports_every_record(with_account, desk):
    sleeps: list[float] = []
    report = import_from_api(with_account, source(desk, sleeps))
    assert (report.read, report.inserted, report.committed) == (7, 7, True)
    assert desk.requests == [
        "/tickets?limit=3",
        "/tickets?limit=3&cursor=3",
        "/tickets?limit=3&cursor=6",
    ]
    assert sorted(row[0] for row in dump_tables(with_account)["tickets"]) == [
        f"Z{100 + i}" for i in range(7)
    ]
    again = import_from_api(with_account, source(desk, sleeps))
    assert (again.inserted, again.updated) == (0, 7)


def test_page_pagination(with_account, desk):
    pages = PagePagination(records="items", size=4)
    report = import_from_api(with_account, source(desk, [], path="/paged", pagination=pages))
    assert report.inserted == 7
    assert desk.requests == ["/paged?page=1&per_page=4", "/paged?page=2&per_page=4"]


def test_retries_429_5xx_and_timeouts_with_backoff(with_account, desk):
    desk.fail = [429, 503, "slow", 500]
    sleeps: list[float] = []
    report = import_from_api(with_account, source(desk, sleeps, timeout=0.2, backoff=0.1))
    assert report.inserted == 7
    # 429 honours Retry-After (1 s); then exponential backoff 0.2, 0.4, 0.8.
    assert sleeps == [1.0, 0.2, 0.4, 0.8]


def test_gives_up_after_max_attempts_and_commits_nothing(with_account, desk):
    desk.fail = [502] * 10
    api = source(desk, [], max_attempts=3, backoff=0.01)
    with pytest.raises(SourceError, match="HTTP 502 after 3 attempts"):
        import_from_api(with_account, api)
    assert api.requests_made == 3
    assert dump_tables(with_account)["tickets"] == []


def test_a_client_error_is_not_retried(with_account, desk):
    api = source(desk, [], path="/nowhere")
    with pytest.raises(SourceError, match="HTTP 404 after 1 attempts"):
        import_from_api(with_account, api)


def test_api_rows_go_through_the_contract(with_account, desk):
    def bad_priority(record: dict) -> dict:
        return {**ticket_row(record), "priority": "p1" if record["id"] == 102 else "low"}

    with pytest.raises(ContractViolation) as raised:
        import_from_api(with_account, source(desk, [], map_record=bad_priority))
    assert [str(p) for p in raised.value.problems] == [
        f"{desk.url}/tickets:3: priority: unknown value 'p1' "
        "(expected one of: low, normal, high, urgent)"
    ]
    assert dump_tables(with_account)["tickets"] == []
