"""Benchmark: build every CSM's digest for 200 CSMs and 10,000 accounts, and render it.

Synthesises accounts and twelve weeks of AccountScore rows (one today and one per week
back, with reasons and signals of realistic size) in a fresh database, then times
`build_digests` (the three queries, ranking, sparklines, playbook suggestions) and the
Block Kit rendering and validation of every digest.

    .venv/bin/python bench/bench_digest.py --scale 0.05     # 10 CSMs, 500 accounts
    .venv/bin/python bench/bench_digest.py                  # 200 CSMs, 10,000 accounts
    .venv/bin/python bench/bench_digest.py --database-url postgresql+psycopg://…
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session, SQLModel

import storage.models  # noqa: F401  (registers the tables)
from bot.delivery.limits import validate_message
from bot.digests.messages import digest_messages
from bot.digests.service import build_digests
from playbooks.library import load_library
from storage.db import make_engine
from storage.models import Account, AccountScore

AS_OF = dt.date(2026, 6, 1)
CSMS, ACCOUNTS, WEEKS = 200, 10_000, 12
BANDS = ((80, "healthy"), (60, "neutral"), (40, "at_risk"), (0, "critical"))
SIGNALS = ("login_change", "sponsor_silent_days", "urgent_open", "nps_last", "license_utilisation")


def band_of(health: float) -> str:
    return next(name for floor, name in BANDS if health >= floor)


def synthesise(engine, csms: int, accounts: int, seed: int = 1) -> int:
    rng = random.Random(seed)
    account_rows, score_rows = [], []
    for i in range(accounts):
        account_id = f"acc-{i:06d}"
        account_rows.append(
            {"account_id": account_id, "name": f"Account {i}", "owner": f"csm{i % csms:03d}@x.io"}
        )
        health = rng.uniform(20, 95)
        slope = rng.gauss(0, 1.5)
        arr = round(rng.lognormvariate(10.5, 1.0), 2)
        renewal = AS_OF + dt.timedelta(days=rng.randint(-10, 365))
        for week in range(WEEKS):
            value = max(0.0, min(100.0, health - slope * week + rng.gauss(0, 2)))
            reasons = [
                {
                    "signal": signal,
                    "value": rng.random(),
                    "baseline": rng.random(),
                    "direction": "down",
                    "impact": -rng.uniform(0, 12),
                    "text": f"{signal.replace('_', ' ')} moved {rng.randint(5, 60)}% against its baseline",
                }
                for signal in rng.sample(SIGNALS, 3)
            ]
            score_rows.append(
                {
                    "account_id": account_id,
                    "as_of": AS_OF - dt.timedelta(days=7 * week),
                    "health": value,
                    "band": band_of(value),
                    "health_delta_30d": -slope * 4,
                    "health_delta_7d": -slope,
                    "direction": "falling" if slope > 1 else "rising" if slope < -1 else "steady",
                    "churn_risk": min(1.0, max(0.0, (100 - value) / 100 + rng.gauss(0, 0.1))),
                    "expansion": rng.random() ** 3,
                    "stakeholder_band": rng.choice(("healthy", "watch", "concern", "critical")),
                    "renewal_date": renewal,
                    "arr": arr,
                    "limited_history": False,
                    "reasons": reasons,
                    "churn_reasons": [],
                    "expansion_reasons": [
                        {"signal": "seat_saturation_days", "text": "Seats 95% used"}
                    ],
                    "stakeholders": {"band": "watch", "roles": {}},
                    "signals": {name: rng.random() for name in SIGNALS * 8},
                }
            )
    with Session(engine) as session:
        session.execute(insert(Account.__table__), account_rows)  # type: ignore[attr-defined]
        for start in range(0, len(score_rows), 5000):
            session.execute(insert(AccountScore.__table__), score_rows[start : start + 5000])  # type: ignore[attr-defined]
        session.commit()
    return len(score_rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 200 CSMs, 10,000 accounts")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--size", type=int, default=8, help="accounts per digest")
    args = parser.parse_args()
    csms = max(1, round(CSMS * args.scale))
    accounts = max(csms, round(ACCOUNTS * args.scale))
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        SQLModel.metadata.drop_all(engine)
        SQLModel.metadata.create_all(engine)
        started = time.perf_counter()
        rows = synthesise(engine, csms, accounts)
        print(
            f"synthesised {accounts} accounts, {rows} score rows: {time.perf_counter() - started:.2f} s"
        )
        library = load_library()
        timings = {}
        for label, lib in (
            ("without playbook suggestions", None),
            ("with playbook suggestions", library),
        ):
            with Session(engine) as session:
                started = time.perf_counter()
                digests = build_digests(session, AS_OF, size=args.size, library=lib)
                timings[label] = time.perf_counter() - started
            print(f"build_digests {label}: {timings[label]:.2f} s for {len(digests)} CSMs")
        started = time.perf_counter()
        rendered = [message for digest in digests for message in digest_messages(digest)]
        render = time.perf_counter() - started
        print(f"render {len(rendered)} Block Kit messages (slack_sdk models): {render:.2f} s")
        started = time.perf_counter()
        for message in rendered:
            validate_message(message)
        print(
            f"validate_message on each (re-parse, optional): {time.perf_counter() - started:.2f} s"
        )
        shown = sum(len(d.items) for d in digests)
        print(
            f"digest build for {csms} CSMs and {accounts} accounts: "
            f"{timings['with playbook suggestions'] + render:.2f} s end to end "
            f"({shown} accounts listed, {sum(d.total_needing for d in digests)} qualified)"
        )
        if args.database_url:
            SQLModel.metadata.drop_all(engine)
        engine.dispose()


if __name__ == "__main__":
    main()
