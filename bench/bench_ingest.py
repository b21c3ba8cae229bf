"""Benchmark: usage CSV → database through `csbot ingest`'s importer, against the
databases' own bulk loaders as the physical reference, in one run.

    .venv/bin/python bench/bench_ingest.py --rows 200000
    .venv/bin/python bench/bench_ingest.py --rows 3000000 --postgres-url postgresql://…

Prints rows/s for SQLite (target ≥ 200,000 rows/s) and the ratio against the sqlite3
CLI's `.import` of the same file into a bare table; the same for PostgreSQL (COPY path)
against `psql \\copy` when a PostgreSQL URL is given (or CSBOT_TEST_POSTGRES_URL); and
the peak RSS after importing a file a tenth the size and after the full file, to show
memory stays flat in file size.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from storage.db import make_engine
from storage.ingest.contract import ENTITIES
from storage.ingest.importer import import_source, load_account_ids
from storage.ingest.readers import CsvSource

EVENTS = ["login", "report_view", "dashboard", "export", "api_call", "share", "alert_rule"]


def write_accounts(path: Path, count: int) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account_id", "name", "segment", "owner"])
        for i in range(count):
            writer.writerow([f"A{i:05d}", f"Account {i}", "smb", f"csm{i % 20}@example.com"])


def write_usage(path: Path, rows: int, accounts: int, seed: int = 7) -> None:
    """A day-ordered event log, streamed to disk (never held in memory)."""
    rng = random.Random(seed)
    start = dt.datetime(2025, 1, 1)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account_id", "contact_id", "timestamp", "event", "quantity"])
        chunk = []
        for i in range(rows):
            account = rng.randrange(accounts)
            contact = "" if i % 5 == 0 else f"C{account:05d}-{rng.randrange(8)}"
            when = start + dt.timedelta(seconds=i * 7)
            chunk.append(
                [
                    f"A{account:05d}",
                    contact,
                    when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    EVENTS[i % len(EVENTS)],
                    rng.randrange(1, 4),
                ]
            )
            if len(chunk) == 10_000:
                writer.writerows(chunk)
                chunk.clear()
        writer.writerows(chunk)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def import_usage(engine, usage: Path) -> tuple[float, int, int]:
    entity = ENTITIES["usage"]
    known = load_account_ids(engine)
    started, cpu = time.perf_counter(), time.process_time()
    report = import_source(engine, entity, CsvSource(usage, entity), known)
    elapsed = time.perf_counter() - started
    print(f"        (cpu {time.process_time() - cpu:.2f} s of {elapsed:.2f} s wall)")
    if not report.committed:
        raise SystemExit(f"import failed: {report.problems[:5]}")
    return elapsed, report.inserted, report.updated


def import_accounts(engine, accounts: Path) -> None:
    entity = ENTITIES["accounts"]
    import_source(engine, entity, CsvSource(accounts, entity), set())


def bench_sqlite(work: Path, usage: Path, accounts: Path, rows: int) -> None:
    db = work / "bench.db"
    engine = make_engine(f"sqlite:///{db}")
    SQLModel.metadata.create_all(engine)
    import_accounts(engine, accounts)
    seconds, inserted, _ = import_usage(engine, usage)
    ours = rows / seconds
    print(
        f"sqlite  csbot import : {rows:>10,} rows in {seconds:7.2f} s = {ours:>10,.0f} rows/s"
        f"  (inserted {inserted:,}; target ≥ 200,000 rows/s)"
    )
    again, _, updated = import_usage(engine, usage)
    print(
        f"sqlite  re-import    : {rows:>10,} rows in {again:7.2f} s = {rows / again:>10,.0f} rows/s"
        f"  (updated {updated:,}: idempotent)"
    )
    engine.dispose()
    cli = shutil.which("sqlite3")
    if cli is None:
        print("sqlite  .import      : sqlite3 CLI not installed (apt-get install -y sqlite3)")
        return
    bare = work / "bare.db"
    script = (
        "CREATE TABLE usage_bare (account_id TEXT, contact_id TEXT, timestamp TEXT, "
        "event TEXT, quantity REAL);\n"
        f".import --csv --skip 1 {usage} usage_bare\n"
    )
    started, cpu = time.perf_counter(), children_cpu()
    subprocess.run([cli, str(bare)], input=script, text=True, check=True)
    reference = time.perf_counter() - started
    print(f"        (cpu {children_cpu() - cpu:.2f} s of {reference:.2f} s wall)")
    print(
        f"sqlite3 .import bare : {rows:>10,} rows in {reference:7.2f} s = "
        f"{rows / reference:>10,.0f} rows/s"
    )
    print(
        f"sqlite  ratio        : csbot takes {seconds / reference:.2f}× the time of .import "
        "(which validates nothing, converts nothing and maintains no key or index)"
    )


def bench_postgres(url: str, usage: Path, accounts: Path, rows: int) -> None:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(scoped.render_as_string(hide_password=False))
    try:
        SQLModel.metadata.create_all(engine)
        import_accounts(engine, accounts)
        seconds, inserted, _ = import_usage(engine, usage)
        print(
            f"pg      csbot import : {rows:>10,} rows in {seconds:7.2f} s = "
            f"{rows / seconds:>10,.0f} rows/s  (inserted {inserted:,})"
        )
        again, _, updated = import_usage(engine, usage)
        print(
            f"pg      re-import    : {rows:>10,} rows in {again:7.2f} s = "
            f"{rows / again:>10,.0f} rows/s  (updated {updated:,}: idempotent)"
        )
        psql = shutil.which("psql")
        if psql is None:
            print("pg      \\copy        : psql not installed")
            return
        with engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE TABLE usage_bare (account_id text, contact_id text, "
                    '"timestamp" timestamp, event text, quantity double precision)'
                )
            )
        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        command = f"SET search_path TO {schema}; \\copy usage_bare FROM '{usage}' CSV HEADER"
        started = time.perf_counter()
        subprocess.run(
            [psql, plain, "-q", "-v", "ON_ERROR_STOP=1"], input=command, text=True, check=True
        )
        reference = time.perf_counter() - started
        print(
            f"psql \\copy bare      : {rows:>10,} rows in {reference:7.2f} s = "
            f"{rows / reference:>10,.0f} rows/s"
        )
        print(f"pg      ratio        : csbot takes {seconds / reference:.2f}× the time of \\copy")
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--postgres-url", default=os.environ.get("CSBOT_TEST_POSTGRES_URL"))
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="csbot-bench-") as scratch:
        work = Path(scratch)
        accounts, usage = work / "accounts.csv", work / "usage.csv"
        small = work / "usage_small.csv"
        write_accounts(accounts, args.accounts)
        started = time.perf_counter()
        write_usage(usage, args.rows, args.accounts)
        write_usage(small, max(1, args.rows // 10), args.accounts, seed=8)
        size = usage.stat().st_size / 1e6
        print(
            f"generated {args.rows:,} usage rows ({size:.0f} MB) in "
            f"{time.perf_counter() - started:.1f} s; python {sys.version.split()[0]}"
        )
        # Memory: the peak after a file a tenth the size, then after the whole file.
        warm = make_engine(f"sqlite:///{work / 'warm.db'}")
        SQLModel.metadata.create_all(warm)
        import_accounts(warm, accounts)
        import_usage(warm, small)
        warm.dispose()
        rss_small = peak_rss_mb()
        if not args.skip_sqlite:
            bench_sqlite(work, usage, accounts, args.rows)
        if args.postgres_url:
            bench_postgres(args.postgres_url, usage, accounts, args.rows)
        print(
            f"peak RSS: {rss_small:.0f} MB after {args.rows // 10:,} rows; "
            f"{peak_rss_mb():.0f} MB after {args.rows:,} rows (flat = streaming)"
        )


if __name__ == "__main__":
    main()
