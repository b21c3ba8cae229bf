"""`csbot sync zendesk` against a local Zendesk serving the incremental export API's shapes
(time-based organizations, cursor-based users and tickets, cursor-paginated satisfaction
ratings, deleted tickets, 429 with Retry-After), on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from storage.connectors import run_sync, zendesk
from storage.ingest import import_directory
from storage.ingest.mapping import parse_mapping
from tests.fakes.api_server import FakeApi
from tests.test_ingest_support import write_rows_csv

EMAIL, TOKEN = "ops@example.com", "zd-token"
AUTH = "Basic " + base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
MAPPING = parse_mapping("values:\n  satisfaction: {Good: 5, BAD: 2}\n", "mapping.yml")
T0 = int(dt.datetime(2026, 3, 1, tzinfo=dt.UTC).timestamp())


def stamp(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Desk:
    """In-memory Zendesk: records with `updated_at` (epoch) served by the export endpoints."""

    def __init__(self) -> None:
        self.organizations: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.tickets: dict[int, dict[str, Any]] = {}
        self.ratings: dict[int, dict[str, Any]] = {}
        self.api: FakeApi

    def put(self, kind: str, record: dict[str, Any], at: int) -> None:
        getattr(self, kind)[record["id"]] = {**record, "updated_at": stamp(at), "_t": at}

    def _after(self, kind: str, query: dict[str, str]) -> list[dict[str, Any]]:
        items = sorted(getattr(self, kind).values(), key=lambda r: (r["_t"], r["id"]))
        if "cursor" in query:
            t, i = map(int, base64.b64decode(query["cursor"]).decode().split("|"))
            return [r for r in items if (r["_t"], r["id"]) > (t, i)]
        start = int(query.get("start_time", "0"))
        return [r for r in items if r["_t"] >= start]

    def cursor_export(self, kind: str):
        def handle(query: dict[str, str], body: Any) -> tuple[int, Any]:
            size = int(query.get("per_page", "1000"))
            rest = self._after(kind, query)
            page, more = rest[:size], len(rest) > size
            last = page[-1] if page else None
            cursor = (
                base64.b64encode(f"{last['_t']}|{last['id']}".encode()).decode()
                if last
                else query.get("cursor")
            )
            clean = [{k: v for k, v in r.items() if k != "_t"} for r in page]
            return 200, {
                kind: clean,
                "after_url": f"{self.api.url}/api/v2/incremental/{kind}/cursor.json?cursor={cursor}&per_page={size}"
                if cursor
                else None,
                "after_cursor": cursor,
                "before_url": None,
                "before_cursor": None,
                "end_of_stream": not more,
            }

        return handle

    def organizations_export(self, query: dict[str, str], body: Any) -> tuple[int, Any]:
        rest = self._after("organizations", query)
        page = rest[:2]
        end = page[-1]["_t"] if page else int(query.get("start_time", "0"))
        more = len(rest) > 2
        return 200, {
            "organizations": [{k: v for k, v in r.items() if k != "_t"} for r in page],
            "next_page": f"{self.api.url}/api/v2/incremental/organizations.json?start_time={end + (0 if more else 1)}",
            "count": len(page),
            "end_of_stream": not more,
            "end_time": end + 1 if not more else end,
        }

    def ratings_list(self, query: dict[str, str], body: Any) -> tuple[int, Any]:
        size = int(query.get("page[size]", "100"))
        items = self._after("ratings", {"start_time": query.get("start_time", "0")})
        start = int(query.get("page[after]", "0"))
        page = items[start : start + size]
        more = start + size < len(items)
        return 200, {
            "satisfaction_ratings": [{k: v for k, v in r.items() if k != "_t"} for r in page],
            "meta": {"has_more": more, "after_cursor": str(start + size), "before_cursor": None},
            "links": {
                "next": f"{self.api.url}/api/v2/satisfaction_ratings?page[size]={size}&page[after]={start + size}&start_time={query.get('start_time', '0')}"
                if more
                else None,
                "prev": None,
            },
        }


def populate(desk: Desk) -> None:
    desk.put(
        "organizations",
        {
            "id": 1,
            "name": "Acme",
            "external_id": None,
            "domain_names": ["acme.com"],
            "deleted_at": None,
        },
        T0,
    )
    desk.put(
        "organizations",
        {"id": 2, "name": "Globex", "external_id": "A2", "domain_names": [], "deleted_at": None},
        T0 + 1,
    )
    desk.put(
        "organizations",
        {
            "id": 3,
            "name": "Stranger",
            "external_id": None,
            "domain_names": ["nowhere.net"],
            "deleted_at": None,
        },
        T0 + 2,
    )
    desk.put(
        "organizations",
        {"id": 4, "name": "Gone", "external_id": "A1", "domain_names": [], "deleted_at": stamp(T0)},
        T0 + 3,
    )
    user = {"role": "end-user", "active": True, "suspended": False}
    desk.put(
        "users",
        {**user, "id": 11, "name": "Jane", "email": "Jane@ACME.com", "organization_id": 1},
        T0,
    )
    desk.put(
        "users",
        {**user, "id": 12, "name": "Bob", "email": "bob@globex.io", "organization_id": 2},
        T0 + 1,
    )
    desk.put(
        "users",
        {
            **user,
            "id": 13,
            "name": "Agent",
            "email": "agent@example.com",
            "organization_id": None,
            "role": "agent",
        },
        T0 + 2,
    )
    desk.put(
        "users",
        {
            **user,
            "id": 14,
            "name": "Old",
            "email": "old@acme.com",
            "organization_id": None,
            "suspended": True,
        },
        T0 + 3,
    )
    ticket = {
        "priority": "high",
        "subject": "Export broken",
        "description": "It fails",
        "satisfaction_rating": None,
    }
    desk.put(
        "tickets",
        {
            **ticket,
            "id": 101,
            "organization_id": 1,
            "requester_id": 11,
            "status": "solved",
            "created_at": stamp(T0 - 86400),
            "satisfaction_rating": {"score": "good"},
        },
        T0,
    )
    desk.put(
        "tickets",
        {
            **ticket,
            "id": 102,
            "organization_id": 2,
            "requester_id": 12,
            "status": "open",
            "created_at": stamp(T0 - 3600),
            "priority": None,
            "satisfaction_rating": {"score": "bad"},
        },
        T0 + 1,
    )
    desk.put(
        "tickets",
        {
            **ticket,
            "id": 103,
            "organization_id": 3,
            "requester_id": 99,
            "status": "new",
            "created_at": stamp(T0),
        },
        T0 + 2,
    )
    desk.put(
        "tickets",
        {
            **ticket,
            "id": 104,
            "organization_id": None,
            "requester_id": 14,
            "status": "pending",
            "created_at": stamp(T0),
        },
        T0 + 3,
    )
    desk.put(
        "ratings",
        {
            "id": 501,
            "score": "good",
            "ticket_id": 101,
            "requester_id": 11,
            "organization_id": 1,
            "comment": "Quick!",
            "created_at": stamp(T0),
        },
        T0,
    )
    desk.put(
        "ratings",
        {
            "id": 502,
            "score": "offered",
            "ticket_id": 102,
            "requester_id": 12,
            "organization_id": 2,
            "comment": None,
            "created_at": stamp(T0),
        },
        T0 + 1,
    )


@pytest.fixture
def desk(engine, tmp_path) -> Iterator[Desk]:
    write_rows_csv(
        tmp_path / "accounts.csv",
        [{"account_id": "A1", "name": "Acme"}, {"account_id": "A2", "name": "Globex"}],
    )
    write_rows_csv(
        tmp_path / "contacts.csv",
        [{"contact_id": "C1", "account_id": "A1", "email": "jane@acme.com", "role": "champion"}],
    )
    assert import_directory(engine, tmp_path).ok
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sync_links (source, kind, external_id, account_id) VALUES ('hubspot', 'domain', 'acme.com', 'A1')"
            )
        )
    server = Desk()
    routes = {
        ("GET", "/api/v2/incremental/organizations.json"): server.organizations_export,
        ("GET", "/api/v2/incremental/users/cursor.json"): server.cursor_export("users"),
        ("GET", "/api/v2/incremental/tickets/cursor.json"): server.cursor_export("tickets"),
        ("GET", "/api/v2/satisfaction_ratings"): server.ratings_list,
    }
    with FakeApi(
        routes, authorization=AUTH, unauthorized=(401, {"error": "Couldn't authenticate you"})
    ) as api:
        server.api = api
        populate(server)
        yield server


def sync(engine, desk: Desk, sleeps: list[float] | None = None, **options):
    connector = zendesk.connector(
        desk.api.url,
        EMAIL,
        TOKEN,
        sleep=(sleeps if sleeps is not None else []).append,
        page_size=2,
        max_attempts=3,
    )
    return run_sync(engine, connector, mapping=MAPPING, **options)


def rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def test_sync_matches_organizations_users_and_maps_tickets(engine, desk):
    report = sync(engine, desk)
    assert report.ok, report.error
    assert rows(
        engine,
        "SELECT kind, external_id, account_id, contact_id FROM sync_links WHERE source = 'zendesk' ORDER BY kind, external_id",
    ) == [
        ("organization", "1", "A1", None),  # by the CRM domain
        ("organization", "2", "A2", None),  # by external_id
        ("user", "11", "A1", "C1"),  # the CRM contact, by email whatever its case
        ("user", "12", "A2", "zd-12"),
        ("user", "14", "A1", "zd-14"),  # by email domain
    ]
    assert rows(
        engine, "SELECT contact_id, role, left_at IS NOT NULL FROM contacts ORDER BY contact_id"
    ) == [
        ("C1", "champion", False),  # kept as the CRM wrote it
        ("zd-12", None, False),
        ("zd-14", None, True),  # suspended: left
    ]
    assert rows(
        engine,
        "SELECT ticket_id, account_id, contact_id, priority, closed_at IS NOT NULL, csat FROM tickets ORDER BY ticket_id",
    ) == [
        ("zd-101", "A1", "C1", "high", True, 5),
        ("zd-102", "A2", "zd-12", None, False, 2),  # "bad" is 2 in this mapping
        ("zd-104", "A1", "zd-14", "high", False, None),  # no organization: the requester's account
    ]
    assert rows(engine, "SELECT response_id, account_id, kind, score, comment FROM surveys") == [
        ("zd-csat-501", "A1", "csat", 5.0, "Quick!")
    ]


def test_resync_writes_nothing_then_takes_deletions_and_deactivations(engine, desk):
    assert sync(engine, desk).ok
    again = sync(engine, desk)
    assert again.ok and again.writes == 0, again.as_dict()
    desk.put(
        "tickets",
        {
            "id": 104,
            "status": "deleted",
            "organization_id": None,
            "requester_id": 14,
            "created_at": stamp(T0),
            "priority": None,
            "subject": None,
            "description": None,
            "satisfaction_rating": None,
        },
        T0 + 100,
    )
    desk.put(
        "users",
        {
            "id": 11,
            "name": "Jane",
            "email": "jane@acme.com",
            "organization_id": 1,
            "role": "end-user",
            "active": False,
            "suspended": False,
        },
        T0 + 100,
    )
    third = sync(engine, desk)
    assert third.ok, third.error
    assert rows(engine, "SELECT ticket_id FROM tickets ORDER BY ticket_id") == [
        ("zd-101",),
        ("zd-102",),
    ]
    assert rows(
        engine, "SELECT contact_id, role, left_at IS NOT NULL FROM contacts WHERE contact_id = 'C1'"
    ) == [("C1", "champion", True)]
    assert third.writes == 2


def test_429_with_retry_after_then_an_error_names_source_object_and_message(engine, desk):
    desk.api.fail_on = "tickets"
    desk.api.fail = [(429, {"error": "TooManyRequests"}, {"Retry-After": "7"})]
    sleeps: list[float] = []
    assert sync(engine, desk, sleeps).ok
    assert sleeps == [7.0]
    desk.api.fail_on = "satisfaction_ratings"
    desk.api.fail = [
        (403, {"error": "Forbidden", "description": "You do not have access to this page."}, {})
    ]
    failed = sync(engine, desk, since="2026-01-01")
    assert failed.error is not None
    assert failed.error.startswith("zendesk: satisfaction_ratings: GET ")
    assert failed.error.endswith("HTTP 403 after 1 attempts: You do not have access to this page.")


def test_dry_run_writes_nothing(engine, desk):
    report = sync(engine, desk, dry_run=True)
    assert report.ok and report.writes > 0
    assert rows(engine, "SELECT count(*) FROM tickets") == [(0,)]
    assert rows(engine, "SELECT count(*) FROM sync_cursors") == [(0,)]
