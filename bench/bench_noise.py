"""Benchmark: how many messages each person gets, on the demo book and a 1,000-account book,
over 30 simulated days of every scheduled job (`csbot replay`, nothing posted).

For each book: generate it (`storage.demo`), import it, then replay the last `--days` days
of its history (the nightly job scores each day). Prints, per book:

- max messages per person per day (target <= 3, digest included) and the median (<= 1);
- reminders per person per day, at most (<= 1);
- messages about an account with low risk and no other reason (target 0);
- what the budget held back, and the wall time of the replay.

    .venv/bin/python bench/bench_noise.py                      # demo (300) and 1,000 accounts
    .venv/bin/python bench/bench_noise.py --books demo --days 7
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

BOOKS = {"demo": 300, "book1000": 1000}
TARGETS = {
    "max_per_person_day": 3,
    "median_per_person_day": 1,
    "max_reminders_per_person_day": 1,
    "low_risk_messages": 0,
}


def build_book(directory: Path, accounts: int, seed: int, train: bool) -> tuple[str, dt.date]:
    """Generate and import a book into a fresh SQLite file (and, with `train`, fit the
    churn model as `csbot demo` does); (database URL, last data day)."""
    from storage.demo.generate import generate_portfolio
    from storage.ingest.importer import import_directory

    data = directory / "data"
    summary = generate_portfolio(data, accounts=accounts, seed=seed)
    url = f"sqlite:///{directory / 'csbot.db'}"
    from storage import migrate
    from storage.db import make_engine

    engine = make_engine(url)
    migrate.ensure_schema(engine)
    import_directory(engine, data, skip_invalid=True)
    if train:
        from scoring.churn.config import TrainingConfig
        from scoring.churn.train import train_and_promote
        from storage.clock import FixedClock

        clock = FixedClock(dt.datetime.combine(summary.end, dt.time(6)))
        cutoff = summary.end - dt.timedelta(days=30)  # only what was known before the replay
        train_and_promote(
            engine, as_of=cutoff, clock=clock, cfg=TrainingConfig(snapshot_every_days=14)
        )
    engine.dispose()
    return url, summary.end


def run_book(
    name: str, accounts: int, days: int, seed: int, tick: int, train: bool
) -> dict[str, float]:
    from bot.runtime import Runtime
    from bot.scheduling.replay import replay, summary
    from bot.settings import load_settings

    with tempfile.TemporaryDirectory() as scratch:
        began = time.perf_counter()
        url, end = build_book(Path(scratch), accounts, seed, train)
        built = time.perf_counter() - began
        runtime = Runtime(settings=load_settings(database_url=url, timezone="UTC", _env_file=None))
        start = end - dt.timedelta(days=days - 1)
        began = time.perf_counter()
        report = replay(runtime, start=start, days=days, tick_minutes=tick, workdir=Path(scratch))
        figures = summary(report)
        figures["replay_seconds"] = round(time.perf_counter() - began, 1)
        figures["build_seconds"] = round(built, 1)
        figures["job_errors"] = float(len(report.errors))
        figures["unbudgeted"] = float(len(report.unbudgeted))
        figures["accounts"] = float(accounts)
        if report.errors:
            print(f"{name}: first job error: {report.errors[0]}")
        print(f"{name}: held because {dict(report.held_reasons)}")
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--books", nargs="+", choices=sorted(BOOKS), default=list(BOOKS))
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tick", type=int, default=60, help="minutes between digest ticks")
    parser.add_argument("--no-train", action="store_true", help="skip the churn model")
    args = parser.parse_args()
    results = {}
    for name in args.books:
        results[name] = run_book(
            name, BOOKS[name], args.days, args.seed, args.tick, not args.no_train
        )
    print(json.dumps(results, indent=2))
    for name, figures in results.items():
        verdicts = ", ".join(
            f"{key} {figures[key]:g} ({'ok' if figures[key] <= limit else 'OVER'} <= {limit})"
            for key, limit in TARGETS.items()
        )
        print(f"{name} ({int(figures['accounts'])} accounts, {int(figures['people'])} recipients, "
              f"{args.days} days): {verdicts}; held {figures['held']:g}")  # fmt: skip


if __name__ == "__main__":
    main()
