"""Benchmark: compute_signals + score_portfolio on a synthetic portfolio with daily usage.

Generates N accounts with 12 months of per-contact usage (≈ 2,000 rows per account,
so 10,000 accounts ≈ 20M rows) straight into the database with bulk inserts (sqlite3
executemany / PostgreSQL COPY), then prints, from one run:
- the wall time of compute_signals + score_portfolio as of the last day,
- the time of one aggregate scan of usage (SELECT account_id, count(*), sum(quantity)
  FROM usage GROUP BY account_id), and the ratio of the two (aim: ≤ 3×),
- the peak resident memory of the process (aim: < 1 GB).

    .venv/bin/python bench/bench_scoring.py --accounts 300
    .venv/bin/python bench/bench_scoring.py --accounts 10000 --database-url postgresql+psycopg://…
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import storage.models  # noqa: E402,F401
from storage.db import is_sqlite, make_engine  # noqa: E402
from storage.demo.columns import CONTRACT_COLUMNS

AS_OF = dt.date(2026, 6, 1)
DAYS = 365
FEATURES = (
    "report_view",
    "dashboard_view",
    "search",
    "export",
    "comment",
    "dashboard_create",
    "workflow_automation",
    "alert_rule",
    "custom_field",
)
ROLES = (
    "executive_sponsor",
    "champion",
    "decision_maker",
    "admin",
    "end_user",
    "end_user",
    "end_user",
    "end_user",
)
STAMP = "%Y-%m-%d %H:%M:%S.%f"


def _stamp(day: dt.date, hour: int) -> str:
    return dt.datetime.combine(day, dt.time(hour)).strftime(STAMP)


def generate(engine: Engine, n_accounts: int, seed: int = 7, chunk: int = 200) -> int:
    """Write a synthetic portfolio; return the number of usage rows."""
    rng = np.random.default_rng(seed)
    first_day = AS_OF - dt.timedelta(days=DAYS - 1)
    days = [first_day + dt.timedelta(days=i) for i in range(DAYS)]
    weekday = np.array([d.weekday() < 5 for d in days])
    day_stamps = np.array([_stamp(d, 9) for d in days], dtype=object)
    usage_rows = 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        small: dict[str, list[tuple]] = {
            k: []
            for k in (
                "accounts",
                "contracts",
                "contacts",
                "touchpoints",
                "tickets",
                "surveys",
                "invoices",
                "lifecycle",
            )
        }
        for start in range(0, n_accounts, chunk):
            batch = []
            for a in range(start, min(start + chunk, n_accounts)):
                account_id = f"A{a:06d}"
                segment = ("smb", "mid_market", "enterprise")[a % 3]
                n_contacts = int(rng.integers(4, 11))
                seats = int(n_contacts * rng.uniform(0.9, 1.6))
                arr = float(rng.choice([12_000, 30_000, 80_000, 200_000]))
                created = first_day - dt.timedelta(days=int(rng.integers(0, 700)))
                small["accounts"].append(
                    (
                        account_id,
                        f"Account {a}",
                        segment,
                        None,
                        f"csm{a % 16}@example.com",
                        _stamp(created, 0),
                        None,
                    )
                )
                end = AS_OF + dt.timedelta(days=int(rng.integers(5, 360)))
                small["contracts"].append(
                    (
                        f"C{a:06d}",
                        account_id,
                        (end - dt.timedelta(days=365)).isoformat(),
                        end.isoformat(),
                        arr,
                        seats,
                        None,
                    )
                )
                decline = rng.random() < 0.2
                for c in range(n_contacts):
                    contact_id = f"{account_id}-P{c}"
                    small["contacts"].append(
                        (
                            contact_id,
                            account_id,
                            f"Person {c}",
                            f"p{c}@{account_id}.example",
                            ROLES[c % len(ROLES)],
                            None,
                        )
                    )
                    p = np.where(weekday, 0.75, 0.1) * rng.uniform(0.4, 1.0)
                    if decline:
                        p = p * np.linspace(1.0, 0.2, DAYS)
                    active = np.flatnonzero(rng.random(DAYS) < p)
                    feature = rng.integers(0, len(FEATURES), len(active))
                    qty = rng.integers(1, 6, len(active)).astype(float)
                    stamps = day_stamps[active]
                    batch.extend(
                        zip(
                            [account_id] * len(active),
                            [contact_id] * len(active),
                            stamps,
                            ["login"] * len(active),
                            [1.0] * len(active),
                            strict=True,
                        )
                    )
                    batch.extend(
                        zip(
                            [account_id] * len(active),
                            [contact_id] * len(active),
                            stamps,
                            [FEATURES[f] for f in feature],
                            qty,
                            strict=True,
                        )
                    )
                for k in range(int(rng.integers(4, 16))):
                    day = days[int(rng.integers(0, DAYS))]
                    kind = ("email_out", "email_in", "call", "meeting", "qbr")[k % 5]
                    small["touchpoints"].append(
                        (
                            f"T{a:06d}-{k}",
                            account_id,
                            f"{account_id}-P{k % n_contacts}",
                            _stamp(day, 14),
                            kind,
                            "held" if rng.random() < 0.85 else "missed",
                        )
                    )
                for k in range(int(rng.integers(0, 8))):
                    day = days[int(rng.integers(0, DAYS))]
                    closed = (
                        None
                        if rng.random() < 0.2
                        else _stamp(day + dt.timedelta(days=int(rng.integers(0, 10))), 16)
                    )
                    small["tickets"].append(
                        (
                            f"K{a:06d}-{k}",
                            account_id,
                            f"{account_id}-P{k % n_contacts}",
                            _stamp(day, 11),
                            closed,
                            ("low", "normal", "high", "urgent")[k % 4],
                            "Export is slow",
                            "Exports time out again and the team is frustrated."
                            if decline
                            else "Thanks, could you point us to the docs?",
                            int(rng.integers(1, 6)) if closed else None,
                        )
                    )
                for k in range(int(rng.integers(0, 4))):
                    day = days[int(rng.integers(0, DAYS))]
                    small["surveys"].append(
                        (
                            f"S{a:06d}-{k}",
                            account_id,
                            f"{account_id}-P{k % n_contacts}",
                            _stamp(day, 12),
                            "nps",
                            float(rng.integers(3, 11)),
                            "Great product" if not decline else "Too many outages",
                        )
                    )
                for k in range(4):
                    due = AS_OF - dt.timedelta(days=90 * k + 10)
                    paid = (
                        None
                        if (k == 0 and rng.random() < 0.1)
                        else _stamp(due + dt.timedelta(days=int(rng.integers(-5, 20))), 10)
                    )
                    small["invoices"].append(
                        (
                            f"I{a:06d}-{k}",
                            account_id,
                            _stamp(due - dt.timedelta(days=30), 0),
                            _stamp(due, 0),
                            paid,
                            arr / 4,
                        )
                    )
            usage_rows += len(batch)
            _bulk(
                engine,
                cursor,
                "usage",
                ("account_id", "contact_id", "timestamp", "event", "quantity"),
                batch,
            )
            raw.commit()
        columns = {name: CONTRACT_COLUMNS[name] for name in small}
        for name, cols in columns.items():
            _bulk(engine, cursor, name, cols, small[name])
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return usage_rows


def _bulk(engine: Engine, cursor, name: str, columns: tuple[str, ...], rows: list[tuple]) -> None:  # type: ignore[no-untyped-def]
    if not rows:
        return
    quoted = ", ".join(f'"{c}"' for c in columns)
    if is_sqlite(engine):
        marks = ", ".join("?" for _ in columns)
        cursor.executemany(f'INSERT INTO "{name}" ({quoted}) VALUES ({marks})', rows)
        return
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
        buffer.write("\n")
    with cursor.copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy:
        copy.write(buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument(
        "--reuse", action="store_true", help="score the data already in the database"
    )
    args = parser.parse_args()

    from scoring.service import score_portfolio
    from scoring.signals import compute_signals
    from storage.clock import FixedClock

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    engine = make_engine(url)
    if not args.reuse:
        SQLModel.metadata.drop_all(engine)
        SQLModel.metadata.create_all(engine)
        began = time.perf_counter()
        rows = generate(engine, args.accounts)
        print(
            f"generated {args.accounts:,} accounts, {rows:,} usage rows in {time.perf_counter() - began:.1f} s"
        )

    with engine.connect() as conn:
        began = time.perf_counter()
        conn.execute(
            text("SELECT account_id, count(*), sum(quantity) FROM usage GROUP BY account_id")
        ).all()
        scan = time.perf_counter() - began
    clock = FixedClock(dt.datetime.combine(AS_OF, dt.time(6)))
    # A nightly run finds yesterday's history stored: score 30 and 7 days back first
    # (their time is printed, not counted), so trends come from stored rows.
    for days in (30, 7):
        began = time.perf_counter()
        score_portfolio(engine, AS_OF - dt.timedelta(days=days), clock=clock)
        print(
            f"history: scored as of D-{days} in {time.perf_counter() - began:.2f} s (cold start, not counted)"
        )
    began = time.perf_counter()
    frame = compute_signals(engine, AS_OF)
    signals_time = time.perf_counter() - began
    began = time.perf_counter()
    scores = score_portfolio(engine, AS_OF, clock=clock, frame=frame)
    score_time = time.perf_counter() - began
    total = signals_time + score_time
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"database: {engine.url.get_backend_name()}, accounts scored: {len(scores):,}")
    print(
        f"compute_signals: {signals_time:.2f} s; score_portfolio (health, reasons, store): {score_time:.2f} s"
    )
    print(
        f"total: {total:.2f} s; aggregate usage scan: {scan:.2f} s; ratio: {total / scan:.2f}x (aim ≤ 3x)"
    )
    print(f"peak RSS: {peak_mb:.0f} MB (aim < 1024 MB)")
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
