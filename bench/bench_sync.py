"""Connector sync speed: HubSpot shapes from a local server, and a nightly warehouse import.

1. 100,000 HubSpot records (20,000 companies, 60,000 contacts, 20,000 deals) synced into an
   empty database at the connector's default page size (100): target < 3 minutes.
2. The same sync again with nothing changed: target < 10% of (1), with zero writes.
3. The nightly import of one day of usage for 10,000 accounts (5 events each) from a
   warehouse through `CSBOT_USAGE_SQL`, the previous day already synced: target < 10 s.

    python bench/bench_sync.py [--database-url URL] [--records 100000]

The HubSpot server is tests/fakes/hubspot_server.py (CRM v3 search, owners and v4
associations in HubSpot's shapes) on 127.0.0.1, in this process, on its own threads.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage import migrate  # noqa: E402
from storage.connectors import hubspot, run_sync, usage_sql  # noqa: E402
from storage.db import make_engine  # noqa: E402
from tests.fakes.hubspot_server import TOKEN, FakeHubSpot  # noqa: E402

T0 = dt.datetime(2026, 1, 1)
EVENTS = ("login", "report_viewed", "export", "dashboard_created", "api_call")


def populate(api: FakeHubSpot, records: int) -> int:
    companies, deals = records // 5, records // 5
    contacts = records - companies - deals
    api.owners = [
        {
            "id": str(100 + i),
            "email": f"csm{i}@example.com",
            "firstName": "C",
            "lastName": str(i),
            "userId": 9000 + i,
            "createdAt": "2025-01-01T00:00:00Z",
            "updatedAt": "2025-01-01T00:00:00Z",
            "archived": False,
        }
        for i in range(40)
    ]
    for i in range(companies):
        api.put(
            "companies",
            str(10_000 + i),
            {
                "name": f"Company {i}",
                "domain": f"company{i}.example",
                "industry": "Software",
                "hubspot_owner_id": str(100 + i % 40),
                "createdate": "2024-01-01T00:00:00.000Z",
            },
            T0 + dt.timedelta(seconds=i),
        )
    for i in range(contacts):
        api.put(
            "contacts",
            str(500_000 + i),
            {
                "email": f"person{i}@company{i % companies}.example",
                "firstname": "Person",
                "lastname": str(i),
                "associatedcompanyid": str(10_000 + i % companies),
                "hs_buying_role": ("CHAMPION", "END_USER", "DECISION_MAKER")[i % 3],
            },
            T0 + dt.timedelta(seconds=i),
        )
    for i in range(deals):
        deal_id = str(900_000 + i)
        renewal = i >= companies // 2
        api.put(
            "deals",
            deal_id,
            {
                "dealname": f"Deal {i}",
                "amount": str(10_000 + i % 7 * 1000),
                "closedate": f"{2025 if not renewal else 2026}-0{1 + i % 9}-15T00:00:00Z",
                "dealstage": "closedlost" if i % 13 == 0 else "closedwon",
                "dealtype": "existingbusiness" if renewal else "newbusiness",
                "deal_currency_code": "USD",
            },
            T0 + dt.timedelta(seconds=i),
        )
        api.deal_companies[deal_id] = str(10_000 + i % (companies // 2))
    return companies


def warehouse(path: Path, accounts: int, days: list[dt.date]) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS product_usage (account TEXT, contact TEXT, day TEXT, "
            "event TEXT, quantity REAL)"
        )
        connection.executemany(
            "INSERT INTO product_usage VALUES (?, ?, ?, ?, ?)",
            (
                (str(10_000 + a), None, day.isoformat(), event, float(1 + (a + e) % 9))
                for day in days
                for a in range(accounts)
                for e, event in enumerate(EVENTS)
            ),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, FakeHubSpot() as api:
        url = args.database_url or f"sqlite:///{scratch}/bench.db"
        engine = make_engine(url)
        migrate.upgrade(engine)
        companies = populate(api, args.records)

        started = time.perf_counter()
        first = run_sync(engine, hubspot.connector(TOKEN, api.url))
        full = time.perf_counter() - started
        assert first.ok, first.error
        read = sum(o.read for o in first.objects)
        print(
            f"full sync: {args.records:,} HubSpot records ({read:,} rows mapped, "
            f"{first.writes:,} writes, {first.requests:,} requests) in {full:.1f} s "
            f"(target < 180 s)"
        )

        started = time.perf_counter()
        again = run_sync(engine, hubspot.connector(TOKEN, api.url))
        resync = time.perf_counter() - started
        assert again.ok, again.error
        print(
            f"no-change re-sync: {again.writes} writes, {again.requests} requests in "
            f"{resync:.2f} s = {100 * resync / full:.1f}% of the full sync (target < 10%, 0 writes)"
        )

        accounts = min(10_000, companies)
        store = Path(scratch) / "warehouse.db"
        yesterday, today = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
        warehouse(store, accounts, [yesterday])
        sql = "SELECT account, contact, day, event, quantity FROM product_usage WHERE day >= :since"
        usage = usage_sql.connector(f"sqlite:///{store}", sql)
        assert run_sync(engine, usage).ok
        warehouse(store, accounts, [today])
        started = time.perf_counter()
        nightly = run_sync(engine, usage_sql.connector(f"sqlite:///{store}", sql))
        seconds = time.perf_counter() - started
        assert nightly.ok, nightly.error
        rows = nightly.objects[0]
        print(
            f"nightly usage import: one day for {accounts:,} accounts ({rows.read:,} rows read, "
            f"{rows.inserted:,} inserted, {rows.updated:,} updated) in {seconds:.2f} s "
            f"(target < 10 s)"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
