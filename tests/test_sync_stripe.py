"""`csbot sync stripe` against a local Stripe serving list objects (`has_more`,
`starting_after`): customers matched by metadata and email domain, subscription periods as
contract terms, upgrades and cancellations as lifecycle, invoices with voids."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from storage.clock import FixedClock
from storage.connectors import run_sync, stripe
from storage.ingest import import_directory
from storage.ingest.mapping import parse_mapping
from tests.fakes.api_server import FakeApi
from tests.test_ingest_support import write_rows_csv

KEY = "rk_test_csbot"
MAPPING = parse_mapping("rates: {EUR: 1.1}\n", "mapping.yml")


def epoch(day: str) -> int:
    return int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp())


def listing(items: list[dict[str, Any]], path: str):
    def handle(query: dict[str, str], body: Any) -> tuple[int, Any]:
        rows = list(items)
        if "created[gte]" in query:
            rows = [r for r in rows if r["created"] >= int(query["created[gte]"])]
        if query.get("status") != "all" and path == "/v1/subscriptions":
            rows = [r for r in rows if r["status"] != "canceled"]
        if "starting_after" in query:
            ids = [r["id"] for r in rows]
            rows = rows[ids.index(query["starting_after"]) + 1 :]
        limit = int(query.get("limit", "10"))
        return 200, {
            "object": "list",
            "data": rows[:limit],
            "has_more": len(rows) > limit,
            "url": path,
        }

    return handle


def subscription(
    sub_id: str,
    customer: str,
    quantity: int,
    unit: int,
    currency: str,
    start: str,
    end: str,
    status: str = "active",
    interval: str = "month",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "currency": currency,
        "created": epoch(start),
        "current_period_start": epoch(start),
        "current_period_end": epoch(end),
        "canceled_at": extra.get("canceled_at"),
        "ended_at": extra.get("ended_at"),
        "items": {
            "object": "list",
            "has_more": False,
            "data": [
                {
                    "id": f"si_{sub_id}",
                    "object": "subscription_item",
                    "quantity": quantity,
                    "price": {
                        "id": "price_1",
                        "object": "price",
                        "currency": currency,
                        "unit_amount": unit,
                        "nickname": "Pro",
                        "product": "prod_1",
                        "recurring": {"interval": interval, "interval_count": 1},
                    },
                }
            ],
        },
    }


class Billing:
    def __init__(self) -> None:
        self.customers = [
            {
                "id": "cus_1",
                "object": "customer",
                "email": "billing@acme.com",
                "metadata": {},
                "created": epoch("2025-01-01"),
            },
            {
                "id": "cus_2",
                "object": "customer",
                "email": "ap@globex.io",
                "metadata": {"csbot_account_id": "A2"},
                "created": epoch("2025-01-01"),
            },
            {
                "id": "cus_3",
                "object": "customer",
                "email": "x@nowhere.net",
                "metadata": {},
                "created": epoch("2025-01-01"),
            },
        ]
        self.subscriptions = [
            subscription(
                "sub_1", "cus_1", 10, 5000, "usd", "2026-02-01", "2026-03-01"
            ),  # $500/month x 12
            subscription(
                "sub_2",
                "cus_2",
                1,
                100000,
                "eur",
                "2025-06-01",
                "2026-06-01",
                interval="year",
                status="canceled",
                canceled_at=epoch("2026-01-10"),
                ended_at=epoch("2026-01-10"),
            ),
            subscription("sub_3", "cus_3", 1, 100, "usd", "2026-02-01", "2026-03-01"),
        ]
        self.invoices = [
            {
                "id": f"in_{i}",
                "object": "invoice",
                "customer": "cus_1",
                "status": "paid" if i % 2 else "open",
                "created": epoch("2026-02-01") + i,
                "due_date": epoch("2026-03-01"),
                "amount_due": 600000,
                "currency": "usd",
                "status_transitions": {
                    "finalized_at": epoch("2026-02-01"),
                    "paid_at": epoch("2026-02-05") if i % 2 else None,
                },
            }
            for i in range(5)
        ]


@pytest.fixture
def billing(engine, tmp_path) -> Iterator[tuple[Billing, FakeApi]]:
    write_rows_csv(
        tmp_path / "accounts.csv",
        [{"account_id": "A1", "name": "Acme"}, {"account_id": "A2", "name": "Globex"}],
    )
    assert import_directory(engine, tmp_path).ok
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sync_links (source, kind, external_id, account_id) VALUES ('hubspot', 'domain', 'acme.com', 'A1')"
            )
        )
    data = Billing()
    routes = {
        ("GET", "/v1/customers"): listing(data.customers, "/v1/customers"),
        ("GET", "/v1/subscriptions"): listing(data.subscriptions, "/v1/subscriptions"),
        ("GET", "/v1/invoices"): listing(data.invoices, "/v1/invoices"),
    }
    refused = (
        401,
        {
            "error": {
                "message": "Invalid API Key provided: rk_test_***",
                "type": "invalid_request_error",
            }
        },
    )
    with FakeApi(routes, authorization=f"Bearer {KEY}", unauthorized=refused) as api:
        yield data, api


def sync(engine, api: FakeApi, key: str = KEY, **options):
    connector = stripe.connector(key, api.url, sleep=[].append, page_size=2, max_attempts=3)
    clock = FixedClock(dt.datetime(2026, 2, 20, 12, 0))
    return run_sync(engine, connector, mapping=MAPPING, clock=clock, **options)


def rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def test_subscriptions_become_terms_and_cancellations_churn(engine, billing):
    data, api = billing
    report = sync(engine, api)
    assert report.ok, report.error
    contracts = rows(
        engine,
        "SELECT contract_id, account_id, start_date, end_date, arr, seats FROM contracts ORDER BY contract_id",
    )
    assert [(c[0], c[1], str(c[2]), str(c[3]), round(c[4], 2), c[5]) for c in contracts] == [
        (f"sub_1:{epoch('2026-02-01')}", "A1", "2026-02-01", "2026-02-28", 6000.0, 10),
        (
            f"sub_2:{epoch('2025-06-01')}",
            "A2",
            "2025-06-01",
            "2026-05-31",
            1100.0,
            1,
        ),  # EUR 1,000 at 1.1
    ]
    events = rows(engine, "SELECT account_id, kind, arr_change FROM lifecycle")
    assert [(a, k, round(c, 2)) for a, k, c in events] == [("A2", "churned", -1100.0)]
    assert rows(engine, "SELECT count(*), sum(amount) FROM invoices") == [(5, 30000.0)]
    assert sync(engine, api).writes == 0


def test_a_renewal_adds_a_term_and_an_upgrade_is_an_expansion(engine, billing):
    data, api = billing
    assert sync(engine, api).ok
    data.subscriptions[0] = subscription(
        "sub_1", "cus_1", 12, 5000, "usd", "2026-02-01", "2026-03-01"
    )
    upgraded = sync(engine, api)
    assert upgraded.ok
    events = rows(
        engine, "SELECT kind, arr_change, occurred_at FROM lifecycle WHERE account_id = 'A1'"
    )
    assert [(k, round(c, 2), str(w)[:16]) for k, c, w in events] == [
        ("expanded", 1200.0, "2026-02-20 12:00")
    ]
    data.subscriptions[0] = subscription(
        "sub_1", "cus_1", 12, 5000, "usd", "2026-03-01", "2026-04-01"
    )
    assert sync(engine, api).ok
    assert rows(engine, "SELECT count(*) FROM contracts WHERE account_id = 'A1'") == [
        (2,)
    ]  # February kept


def test_voided_invoices_are_deleted_and_a_bad_key_is_named(engine, billing):
    data, api = billing
    assert sync(engine, api).ok
    data.invoices[0] = {**data.invoices[0], "status": "void"}
    again = sync(engine, api)
    assert rows(engine, "SELECT count(*) FROM invoices") == [(4,)]
    assert next(o for o in again.objects if o.object == "invoices").deleted == 1
    failed = sync(engine, api, key="rk_wrong")
    assert failed.error is not None
    assert failed.error.startswith("stripe: customers: GET ")
    assert failed.error.endswith("HTTP 401 after 1 attempts: Invalid API Key provided: rk_test_***")


RATE_LIMITED = (
    429,
    {
        "error": {
            "message": "Request rate limit exceeded. You can make up to 25 requests per second.",
            "type": "invalid_request_error",
            "code": "rate_limit",
        }
    },
    {"Retry-After": "2", "Request-Id": "req_test429"},
)


def test_429_mid_sync_keeps_what_synced_and_resumes_without_duplicates(engine, billing):
    """Through the stripe library: Retry-After is waited; past the attempts the sync stops
    at invoices, keeps customers and subscriptions, and the next sync adds only the rest."""
    data, api = billing
    sleeps: list[float] = []
    connector = stripe.connector(KEY, api.url, sleep=sleeps.append, page_size=2, max_attempts=2)
    api.fail_on, api.fail = "/v1/invoices", [RATE_LIMITED, RATE_LIMITED]
    failed = run_sync(engine, connector, mapping=MAPPING)
    assert failed.error == (
        f"stripe: invoices: GET {api.url}/v1/invoices: HTTP 429 after 2 attempts: "
        "Request rate limit exceeded. You can make up to 25 requests per second."
    )
    assert sleeps == [2.0]
    assert rows(engine, "SELECT count(*) FROM contracts") == [(2,)]  # kept
    assert rows(engine, "SELECT count(*) FROM invoices") == [(0,)]
    api.fail_on, api.fail = "/v1/invoices", [RATE_LIMITED]  # one 429 half-way, then fine
    resumed = sync(engine, api)
    assert resumed.ok, resumed.error
    written = {o.object: (o.inserted, o.updated) for o in resumed.objects}
    assert written == {"customers": (0, 0), "subscriptions": (0, 0), "invoices": (5, 0)}
    assert rows(engine, "SELECT count(*) FROM invoices") == [(5,)]
    assert sync(engine, api).writes == 0


def test_dry_run_writes_nothing(engine, billing):
    data, api = billing
    tables = ("accounts", "contracts", "invoices", "lifecycle", "sync_links", "sync_cursors")
    before = {table: rows(engine, f"SELECT count(*) FROM {table}") for table in tables}
    dry = sync(engine, api, dry_run=True)
    assert dry.ok and dry.writes > 0
    assert {table: rows(engine, f"SELECT count(*) FROM {table}") for table in tables} == before


def test_customers_matching_no_account_are_named(engine, billing):
    data, api = billing
    data.customers.append(
        {"id": "cus_stray", "object": "customer", "email": "x@nowhere.example", "metadata": {}}
    )
    report = sync(engine, api)
    assert report.ok, report.error
    customers = next(o for o in report.objects if o.object == "customers")
    assert "customer cus_stray" in customers.unmatched_records
    assert customers.unmatched == len(customers.unmatched_records)
