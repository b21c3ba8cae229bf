"""How long evaluating every playbook trigger takes after a scoring run.

Synthesises N accounts with today's AccountScore, a month of earlier scores, contracts and
a sprinkling of events (urgent tickets, departed champions, detractors, overdue invoices,
milestones), then times: loading every account's context (bulk queries), evaluating every
shipped trigger (pure), and the whole `evaluate_triggers` including starting the runs,
their steps and audit entries. A second evaluation shows the cost when runs are active.

    .venv/bin/python bench/bench_triggers.py 10000            # SQLite in a temp dir
    .venv/bin/python bench/bench_triggers.py 10000 --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlmodel import Session, SQLModel

import storage.models  # noqa: F401  (registers the tables)
from playbooks.context_loader import load_contexts
from playbooks.evaluate import evaluate_triggers, fired_triggers, run_history
from playbooks.library import load_library
from storage.clock import FixedClock
from storage.db import make_engine
from storage.models import (
    Account,
    AccountScore,
    Contact,
    Contract,
    Invoice,
    LifecycleEvent,
    PlaybookRun,
    PlaybookStep,
    SurveyResponse,
    Ticket,
)

AS_OF = dt.date(2026, 6, 1)
NOW = dt.datetime(2026, 6, 1, 6, 0)
HISTORY_DAYS = (1, 7, 14, 29)
BANDS = [("healthy", 85), ("neutral", 70), ("at_risk", 50), ("critical", 30)]
SEGMENTS = ("enterprise", "mid_market", "smb")


def synthesise(engine, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    accounts, contracts, scores, tickets, contacts, surveys, invoices, lifecycle = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    for i in range(n):
        account_id = f"ACC{i:06d}"
        age = rng.randint(1, 1500)
        start = AS_OF - dt.timedelta(days=age)
        arr = round(rng.lognormvariate(10, 1), 0)
        renewal = AS_OF + dt.timedelta(days=rng.randint(1, 365))
        accounts.append(
            {
                "account_id": account_id,
                "name": f"Account {i}",
                "segment": rng.choice(SEGMENTS),
                "owner": f"csm{i % 40}@example.com",
                "created_at": dt.datetime.combine(start, dt.time()),
            }
        )
        contracts.append(
            {
                "contract_id": f"K{i}",
                "account_id": account_id,
                "start_date": start,
                "end_date": renewal,
                "arr": arr,
            }
        )
        band, health = rng.choices(BANDS, weights=(50, 30, 15, 5))[0]
        for back in (0, *HISTORY_DAYS):
            drift = 0 if back == 0 else rng.gauss(back * 0.3, 5)
            scores.append(
                {
                    "account_id": account_id,
                    "as_of": AS_OF - dt.timedelta(days=back),
                    "health": max(0.0, min(100.0, health + drift)),
                    "band": band if back == 0 or rng.random() < 0.9 else rng.choice(BANDS)[0],
                    "churn_risk": rng.betavariate(1.5, 6),
                    "stakeholder_band": rng.choices(
                        ("healthy", "watch", "concern", "critical"), weights=(60, 20, 15, 5)
                    )[0],
                    "renewal_date": renewal,
                    "arr": arr,
                    "direction": "steady",
                    "expansion": 0.0,
                    "limited_history": False,
                    "reasons": [{"text": "Logins down 46% against the 90-day baseline"}],
                    "stakeholders": {
                        "engaged_contacts": rng.randint(0, 6),
                        "target": 4,
                        "roles": {"champion": {"contact": f"Champion {i}"}},
                    },
                    "signals": {
                        "login_change": rng.uniform(-0.8, 0.4),
                        "seat_saturation_days": rng.choice((0, 0, 0, 10, 25, 40)),
                        "license_utilisation": rng.uniform(0.4, 1.0),
                        "advanced_feature_adoption": rng.uniform(0, 0.6),
                        "tenure_days": age,
                    },
                }
            )
        if rng.random() < 0.05:
            tickets.append(
                {
                    "ticket_id": f"T{i}",
                    "account_id": account_id,
                    "opened_at": NOW - dt.timedelta(hours=rng.randint(1, 200)),
                    "priority": "urgent",
                }
            )
        if rng.random() < 0.03:
            contacts.append(
                {
                    "contact_id": f"C{i}",
                    "account_id": account_id,
                    "role": rng.choice(("champion", "executive_sponsor")),
                    "left_at": NOW - dt.timedelta(days=rng.randint(0, 60)),
                }
            )
        if rng.random() < 0.1:
            surveys.append(
                {
                    "response_id": f"S{i}",
                    "account_id": account_id,
                    "submitted_at": NOW - dt.timedelta(days=rng.randint(0, 30)),
                    "kind": "nps",
                    "score": rng.randint(0, 10),
                }
            )
        if rng.random() < 0.04:
            invoices.append(
                {
                    "invoice_id": f"I{i}",
                    "account_id": account_id,
                    "due_at": NOW - dt.timedelta(days=rng.randint(1, 60)),
                    "amount": 1000.0,
                }
            )
        if age < 120 and rng.random() < 0.5:
            lifecycle.append(
                {
                    "account_id": account_id,
                    "occurred_at": dt.datetime.combine(start, dt.time()) + dt.timedelta(days=20),
                    "kind": "milestone",
                    "detail": "first_value",
                }
            )
    with Session(engine) as session:
        for model, rows in (
            (Account, accounts),
            (Contract, contracts),
            (AccountScore, scores),
            (Ticket, tickets),
            (Contact, contacts),
            (SurveyResponse, surveys),
            (Invoice, invoices),
            (LifecycleEvent, lifecycle),
        ):
            for start in range(0, len(rows), 5000):
                session.execute(insert(model), rows[start : start + 5000])
        session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("accounts", type=int, nargs="?", default=10_000)
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        engine = make_engine(url)
        SQLModel.metadata.drop_all(engine)
        SQLModel.metadata.create_all(engine)
        library = load_library()
        playbooks = [p for p in library.values() if p.trigger is not None]
        windows = {d for p in playbooks for d in p.health_windows()}

        t0 = time.perf_counter()
        synthesise(engine, args.accounts)
        t_synth = time.perf_counter() - t0

        with Session(engine) as session:
            t0 = time.perf_counter()
            contexts = load_contexts(session, AS_OF, health_windows=windows)
            t_load = time.perf_counter() - t0
            t0 = time.perf_counter()
            history = run_history(session, [p.name for p in playbooks])
            fired = fired_triggers(contexts, playbooks, history)
            t_eval = time.perf_counter() - t0

        clock = FixedClock(NOW)
        with Session(engine, expire_on_commit=False) as session:
            t0 = time.perf_counter()
            runs = evaluate_triggers(session, as_of=AS_OF, library=library, clock=clock)
            session.commit()
            t_full = time.perf_counter() - t0
            by_playbook = Counter(run.playbook for run in runs)
        with Session(engine) as session:
            t0 = time.perf_counter()
            again = evaluate_triggers(session, as_of=AS_OF, library=library, clock=clock)
            session.commit()
            t_again = time.perf_counter() - t0
            steps = session.scalar(select(func.count()).select_from(PlaybookStep))
            stored = session.scalar(select(func.count()).select_from(PlaybookRun))

        backend = engine.url.get_backend_name()
        print(f"accounts: {args.accounts:,} ({backend}); synthesised in {t_synth:.1f}s")
        print(f"load contexts (bulk queries):      {t_load:6.2f}s  ({len(contexts):,} accounts)")
        print(
            f"evaluate {len(playbooks)} triggers (pure):      {t_eval:6.2f}s  "
            f"({len(contexts) * len(playbooks):,} evaluations, {len(fired):,} fired)"
        )
        print(
            f"evaluate_triggers + start runs:    {t_full:6.2f}s  "
            f"({len(runs):,} runs, {steps:,} steps, {stored:,} stored)"
        )
        print(f"second evaluation (runs active):   {t_again:6.2f}s  ({len(again)} new runs)")
        for name, count in sorted(by_playbook.items()):
            print(f"  {name:28s} {count:6,}")
        engine.dispose()


if __name__ == "__main__":
    main()
