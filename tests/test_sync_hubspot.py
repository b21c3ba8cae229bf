"""`csbot sync hubspot` against a local HubSpot serving CRM v3 shapes: the recipes, owner
resolution through the mapping, idempotent re-sync, incremental reads, a 429 half-way and
--dry-run, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from storage.connectors import hubspot, run_sync
from storage.connectors.runner import stored_cursors
from storage.ingest.mapping import parse_mapping
from tests.fakes.hubspot_server import TOKEN, FakeHubSpot

T0 = dt.datetime(2026, 3, 1, 9, 0)

MAPPING_TEXT = """
reporting_currency: USD
rates: {EUR: 1.1}
values:
  accounts.segment: {Enterprise: enterprise, "Mid-Market": mid_market}
owners:
  field: csm_owner
  fallback: [hubspot_owner_id]
hubspot:
  segment_property: tier
"""
MAPPING = parse_mapping(MAPPING_TEXT, "mapping.yml")


def populate(api: FakeHubSpot) -> None:
    api.owners = [
        {
            "id": "101",
            "email": "Ana.CSM@Example.com",
            "firstName": "Ana",
            "lastName": "Silva",
            "userId": 9001,
            "createdAt": "2025-01-01T00:00:00Z",
            "updatedAt": "2025-01-01T00:00:00Z",
            "archived": False,
        },
        {
            "id": "202",
            "email": "ae@example.com",
            "firstName": "Al",
            "lastName": "Exec",
            "userId": 9002,
            "createdAt": "2025-01-01T00:00:00Z",
            "updatedAt": "2025-01-01T00:00:00Z",
            "archived": False,
        },
    ]
    api.put(
        "companies",
        "5001",
        {
            "name": "Acme",
            "domain": "acme.com",
            "tier": "Enterprise",
            "csm_owner": "101",
            "hubspot_owner_id": "202",
            "createdate": "2024-01-05T10:00:00.000Z",
        },
        T0,
    )
    api.put(
        "companies",
        "5002",
        {
            "name": "  Globex  ",
            "domain": "globex.io",
            "tier": "Mid-Market",
            "hubspot_owner_id": "202",
        },
        T0 + dt.timedelta(minutes=1),
    )
    api.put(
        "companies",
        "5003",
        {"name": "Initech", "domain": None, "tier": None},
        T0 + dt.timedelta(minutes=2),
    )
    api.put(
        "contacts",
        "701",
        {
            "email": "Jane@Acme.com",
            "firstname": "Jane",
            "lastname": "Doe",
            "associatedcompanyid": "5001",
            "hs_buying_role": "CHAMPION;INFLUENCER",
        },
        T0,
    )
    api.put(
        "contacts",
        "702",
        {
            "email": "bob@globex.io",
            "firstname": "Bob",
            "lastname": None,
            "associatedcompanyid": None,
            "hs_buying_role": "BUDGET_HOLDER",
        },
        T0,
    )
    api.put(
        "contacts",
        "703",
        {
            "email": "nobody@elsewhere.org",
            "firstname": "No",
            "lastname": "Company",
            "associatedcompanyid": None,
        },
        T0,
    )
    gone = {
        "email": "old@acme.com",
        "firstname": "Old",
        "lastname": "Timer",
        "associatedcompanyid": "5001",
    }
    api.archived_contacts["704"] = {
        **__import__("tests.fakes.hubspot_server", fromlist=["record"]).record(
            "704", gone, T0, "contacts"
        ),
        "archived": True,
        "archivedAt": "2026-02-10T12:00:00.000Z",
    }
    deals = {
        "801": (
            {
                "dealname": "Acme 2025",
                "amount": "10000",
                "closedate": "2025-01-15T00:00:00Z",
                "dealstage": "closedwon",
                "dealtype": "newbusiness",
                "deal_currency_code": "USD",
            },
            "5001",
        ),
        "802": (
            {
                "dealname": "Acme renewal 2026",
                "amount": "12000",
                "closedate": "2026-01-15T00:00:00Z",
                "dealstage": "closedwon",
                "dealtype": "existingbusiness",
                "deal_currency_code": "USD",
            },
            "5001",
        ),
        "803": (
            {
                "dealname": "Globex 2025",
                "amount": "5000",
                "closedate": "2025-02-01T00:00:00Z",
                "dealstage": "closedwon",
                "dealtype": "newbusiness",
                "deal_currency_code": "EUR",
            },
            "5002",
        ),
        "804": (
            {
                "dealname": "Globex renewal",
                "amount": "5000",
                "closedate": "2026-02-01T00:00:00Z",
                "dealstage": "closedlost",
                "dealtype": "existingbusiness",
                "deal_currency_code": "EUR",
            },
            "5002",
        ),
        "805": (
            {
                "dealname": "Initech pilot",
                "amount": "900",
                "closedate": "2026-04-01T00:00:00Z",
                "dealstage": "appointmentscheduled",
                "dealtype": "newbusiness",
            },
            "5003",
        ),
    }
    for i, (deal_id, (props, company)) in enumerate(deals.items()):
        api.put("deals", deal_id, props, T0 + dt.timedelta(minutes=i))
        api.deal_companies[deal_id] = company


@pytest.fixture
def api() -> Iterator[FakeHubSpot]:
    with FakeHubSpot() as server:
        populate(server)
        yield server


def sync(engine, api: FakeHubSpot, sleeps: list[float] | None = None, **options):
    connector = hubspot.connector(
        TOKEN,
        api.url,
        sleep=(sleeps if sleeps is not None else []).append,
        max_attempts=options.pop("max_attempts", 4),
    )
    return run_sync(engine, connector, mapping=MAPPING, **options)


def rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def test_full_sync_maps_companies_contacts_and_deals(engine, api):
    report = sync(engine, api)
    assert report.ok, report.error
    assert rows(
        engine, "SELECT account_id, name, segment, owner FROM accounts ORDER BY account_id"
    ) == [
        ("5001", "Acme", "enterprise", "ana.csm@example.com"),  # the CSM field, not the AE owner
        ("5002", "Globex", "mid_market", "ae@example.com"),  # no CSM set: the fallback field
        ("5003", "Initech", None, None),
    ]
    assert rows(
        engine,
        "SELECT contact_id, account_id, email, role, left_at IS NOT NULL FROM contacts ORDER BY contact_id",
    ) == [
        ("701", "5001", "jane@acme.com", "champion", False),
        ("702", "5002", "bob@globex.io", "finance", False),  # no company: matched by domain
        ("704", "5001", "old@acme.com", None, True),  # archived: left_at
    ]
    contracts = rows(
        engine,
        "SELECT contract_id, account_id, start_date, end_date, arr FROM contracts ORDER BY contract_id",
    )
    assert [(c[0], c[1], str(c[2]), str(c[3]), round(c[4], 2)) for c in contracts] == [
        ("deal-801", "5001", "2025-01-15", "2026-01-14", 10000.0),
        ("deal-802", "5001", "2026-01-15", "2027-01-14", 12000.0),  # a new term; 801 keeps its end
        ("deal-803", "5002", "2025-02-01", "2026-01-31", 5500.0),  # EUR at 1.1
    ]
    events = rows(
        engine,
        "SELECT account_id, kind, arr_change, detail FROM lifecycle ORDER BY account_id, kind",
    )
    assert [(a, k, round(c, 2) if c is not None else None, d) for a, k, c, d in events] == [
        ("5001", "expanded", 2000.0, "hubspot deal 802"),
        ("5001", "renewed", 2000.0, "hubspot deal 802"),
        ("5002", "churned", -5500.0, "hubspot deal 804"),
    ]
    assert report.writes == 3 + 3 + 3 + 3 + 2  # accounts, contacts, contracts, events, domain links


def test_a_second_sync_with_no_changes_writes_nothing(engine, api):
    assert sync(engine, api).ok
    api.requests.clear()
    again = sync(engine, api)
    assert again.ok and again.writes == 0
    searches = [path for method, path in api.requests if path.endswith("/search")]
    assert len(searches) == 3  # one page each: only what changed since the cursor


def test_a_change_is_synced_alone(engine, api):
    assert sync(engine, api).ok
    api.put(
        "companies",
        "5002",
        {
            "name": "Globex Corp",
            "domain": "globex.io",
            "tier": "Mid-Market",
            "hubspot_owner_id": "202",
        },
        T0 + dt.timedelta(hours=1),
    )
    again = sync(engine, api)
    companies = next(o for o in again.objects if o.object == "companies")
    assert (companies.read, companies.inserted, companies.updated) == (
        2,
        0,
        1,
    )  # + the one at the cursor
    assert again.writes == 1
    assert rows(engine, "SELECT name FROM accounts WHERE account_id = '5002'") == [("Globex Corp",)]


def test_429_honours_retry_after(engine, api):
    api.fail = [429]
    sleeps: list[float] = []
    assert sync(engine, api, sleeps).ok
    assert sleeps == [1.0]


def test_429_mid_sync_keeps_what_synced_and_resumes_without_duplicates(engine, api):
    api.fail_on, api.fail = "contacts/search", [429, 429]
    failed = sync(engine, api, max_attempts=2)
    assert failed.error == (
        f"hubspot: contacts: POST {api.url}/crm/v3/objects/contacts/search: "
        "HTTP 429 after 2 attempts: You have reached your secondly limit."
    )
    assert rows(engine, "SELECT count(*) FROM accounts") == [(3,)]  # what synced is kept
    assert stored_cursors(engine, "hubspot").keys() == {"companies"}
    resumed = sync(engine, api)
    assert resumed.ok, resumed.error
    assert [(o.object, o.inserted, o.updated) for o in resumed.objects] == [
        ("owners", 0, 0),
        ("companies", 0, 0),
        ("contacts", 3, 0),
        ("deals", 6, 0),
    ]
    assert rows(engine, "SELECT count(*) FROM contacts") == [(3,)]
    assert rows(engine, "SELECT count(*) FROM contracts") == [(3,)]
    assert stored_cursors(engine, "hubspot").keys() == {"companies", "contacts", "deals"}


def test_dry_run_writes_nothing(engine, api):
    report = sync(engine, api, dry_run=True)
    assert report.ok and report.writes == 14  # what would be written
    assert rows(engine, "SELECT count(*) FROM accounts") == [(0,)]
    assert rows(engine, "SELECT count(*) FROM sync_cursors") == [(0,)]
    assert rows(engine, "SELECT count(*) FROM sync_links") == [(0,)]


def test_a_refused_token_names_source_object_and_message(engine, api):
    connector = hubspot.connector("wrong", api.url, sleep=[].append)
    report = run_sync(engine, connector, mapping=MAPPING)
    assert report.error is not None
    assert report.error.startswith("hubspot: owners: GET ")
    assert report.error.endswith("HTTP 401 after 1 attempts: Authentication credentials not found.")


def test_searches_past_the_result_limit_restart_from_the_last_time(engine, api, monkeypatch):
    api.search_limit = 2
    monkeypatch.setattr(hubspot, "SEARCH_LIMIT", 2)
    connector = hubspot.connector(TOKEN, api.url, sleep=[].append, page_size=1)
    report = run_sync(engine, connector, mapping=MAPPING)
    assert report.ok, report.error
    assert rows(engine, "SELECT count(*) FROM accounts") == [(3,)]
    assert rows(engine, "SELECT count(*) FROM contracts") == [(3,)]
