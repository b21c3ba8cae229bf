"""ChurnSim's B2B CRM book (`crm5`), simulated by the `fightchurn` package, written in csbot's
data contract.

ChurnSim is the simulator from "Fighting Churn With Data" (Carl Gold, MIT licence). Its
customers, plans (monthly, biannual and annual; seats; add-ons), upsell, downsell and churn
all come from the package's own code: this module drives `ChurnSimulation` month by month
through its own `run_simulation`, keeping customers in memory instead of the PostgreSQL
tables the package writes by default, and only converts what it produced:

- accounts: one per simulated customer; segment from its plan tier (starter and basic:
  smb, standard: mid_market, advanced and premier: enterprise); owners round-robin over
  four CSMs;
- contracts: one per subscription term (the plan row plus its add-ons, ARR = 12 × MRR,
  seats = the plan's user limit, end date = the day before the next renewal, or the
  simulator's own mid-term churn date);
- contacts: one per simulated user slot (slot 0 is the admin, the rest end users);
- usage: a `login` row per user slot per day it did anything (ChurnSim has no logins),
  and per account, day and event type one account-level row whose quantity is the count;
- lifecycle: `churned` on the day the simulator ended the customer, `expanded` or
  `contracted` when a new term's ARR differs from the last, `renewed` for terms of six
  months or more.

ChurnSim simulates no tickets, surveys, touchpoints or invoices, so none are written: a
source with no data must be neutral for csbot, never good news.

The simulator's own monthly churn probability is kept for each customer (`SimBook.
month_end_risk`) as a reference score: it is what the book's churn really depends on, plus
a random 1.5% a month that no data predicts.

Usage: python bench/books/churnsim.py OUT_DIR [--customers 100] [--months 24] [--seed 1]
Needs the simulator: pip install -e '.[bench]' && pip install --no-deps fightchurn
(fightchurn pins SQLAlchemy 1.4, which csbot cannot run with, so it is installed without
its pinned dependencies; the `bench` extra holds the ones the simulation imports).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import io
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MODEL = "crm5"
CSMS = tuple(f"csm{k}@churnsim.example" for k in range(1, 5))
SEGMENT_BY_TIER = {
    "starter": "smb",
    "basic": "smb",
    "standard": "mid_market",
    "advanced": "enterprise",
    "premier": "enterprise",
}
DEFAULT_END = dt.date(2026, 11, 20)


class SimulatorMissing(RuntimeError):
    """fightchurn (or one of the modules its simulation imports) is not installed."""


@dataclass
class SimBook:
    """What one simulation produced, kept in memory."""

    start: dt.date
    end: dt.date
    seed: int
    customers: list[Any]
    churn_dates: dict[int, dt.date]
    behaviours: list[str]
    #: (customer id, month-end date, the simulator's probability of a churn intent that month)
    month_end_risk: list[tuple[int, dt.date, float]] = field(default_factory=list)


def account_id(customer_id: int) -> str:
    return f"cs-{customer_id:05d}"


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The simulator prints a line per customer; keep the bench's output readable."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def _config(seed: int, customers: int, start: dt.date, end: dt.date) -> Any:
    try:
        import fightchurn.churnsim as package
        from omegaconf import OmegaConf
    except ImportError as error:
        raise SimulatorMissing(
            f"the ChurnSim simulator is not installed ({error.name}): "
            "pip install -e '.[bench]' && pip install --no-deps fightchurn"
        ) from None
    conf = Path(package.__file__).parent / "conf"
    cfg = OmegaConf.merge(
        OmegaConf.load(conf / "default.yaml"), OmegaConf.load(conf / f"{MODEL}.yaml")
    )
    for key in ("defaults", "hydra"):
        cfg.pop(key, None)
    cfg.init_customers = customers
    cfg.start_date = start.isoformat()
    cfg.end_date = end.isoformat()
    cfg.random_seed = seed
    cfg.n_parallel = 1
    return cfg


def simulate(
    *, seed: int = 1, customers: int = 100, months: int = 24, end: dt.date = DEFAULT_END
) -> SimBook:
    """Run ChurnSim's crm5 model from `months` before `end` to `end`, in memory."""
    start = _months_before(end, months)
    cfg = _config(seed, customers, start, end)
    try:
        from fightchurn.churnsim.churnsim import ChurnSimulation
        from fightchurn.churnsim.customer import Customer
    except ImportError as error:
        raise SimulatorMissing(
            f"the ChurnSim simulator cannot be imported ({error.name}): "
            "pip install -e '.[bench]' && pip install --no-deps fightchurn"
        ) from None

    class InMemorySimulation(ChurnSimulation):  # type: ignore[misc]
        """The package's simulation with its database writes replaced by lists."""

        def first_sim_setup(self, force: bool) -> None:
            self.remove_tmp_files()

        def sim_rate_debug_query(self) -> None:
            return None

        def add_customer_to_database(self, customer: Any) -> None:
            book.customers.append(customer)

        def customer_events_subs_to_database(self, customer: Any) -> None:
            return None

        def customer_month_end(self, customer: Any, next_month: dt.date) -> bool:
            # The same deterministic utility the package computes inside the call below.
            utility = self.util_mod.utility_function(customer)
            intent = self.args.acausal_churn + (1 - self.args.acausal_churn) * float(
                self.util_mod.churn_probability(utility)
            )
            churned = bool(super().customer_month_end(customer, next_month))
            book.month_end_risk.append((customer.id, next_month, intent))
            if churned:
                book.churn_dates[customer.id] = next_month
            return churned

    book = SimBook(start=start, end=end, seed=seed, customers=[], churn_dates={}, behaviours=[])
    saved = {k: os.environ.get(k) for k in ("CHURN_OUT_DIR",)}
    saved_ids = (Customer.ID_FILE, Customer.ID_LOCK_FILE, dict(Customer.date_multipliers))
    with tempfile.TemporaryDirectory(prefix="churnsim-") as scratch:
        os.environ["CHURN_OUT_DIR"] = scratch
        Customer.ID_FILE = os.path.join(scratch, "customer_id.txt")
        Customer.ID_LOCK_FILE = os.path.join(scratch, "customer_id.lock")
        Customer.date_multipliers = {}
        random.seed(seed)  # as the package's own entry point does; numpy is seeded by it
        try:
            with _quiet():
                simulation = InMemorySimulation(cfg)
                simulation.run_simulation(force=True)
        finally:
            Customer.ID_FILE, Customer.ID_LOCK_FILE, Customer.date_multipliers = saved_ids
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    book.behaviours = [str(name) for name in simulation.util_mod.behave_names]
    return book


def _months_before(end: dt.date, months: int) -> dt.date:
    month = end.month - 1 - months
    year = end.year + month // 12
    return dt.date(year, month % 12 + 1, 1)


def _tier(plan: str) -> str:
    return plan.split("_")[0]


def _contracts(customer: Any, churn: dt.date | None) -> list[dict[str, Any]]:
    """One contract per term: the subscription rows that start on the same day."""
    terms: dict[dt.date, list[tuple[Any, ...]]] = defaultdict(list)
    for row in customer.subscriptions:
        terms[row[1]].append(row)
    out = []
    for n, start in enumerate(sorted(terms), start=1):
        rows = terms[start]
        base = rows[0]  # add_subscriptions writes the plan first, then its add-ons
        ends = [row[2] for row in rows if row[2] is not None]
        end = min(ends) if ends else start
        if churn is not None and start < churn <= end:
            end = churn
        out.append(
            {
                "contract_id": f"{account_id(customer.id)}-k{n}",
                "start": start,
                "end": max(start, end - dt.timedelta(days=1)),
                "arr": round(12.0 * sum(float(row[3]) for row in rows), 2),
                "seats": int(base[4]) if base[5] == "users" and base[4] is not None else "",
                "plan": str(base[0]),
                "bill_period": int(base[6]),
            }
        )
    return out


def write_contract(book: SimBook, out_dir: Path) -> dict[str, int]:
    """Write the book as contract CSV files in `out_dir`; return rows per file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    names = ("accounts", "contracts", "contacts", "usage", "lifecycle")
    handles = {
        name: (out_dir / f"{name}.csv").open("w", encoding="utf-8", newline="") for name in names
    }
    try:
        writers = {
            name: csv.writer(handle, lineterminator="\n") for name, handle in handles.items()
        }
        writers["accounts"].writerow(
            ("account_id", "name", "segment", "industry", "owner", "created_at", "plan")
        )
        writers["contracts"].writerow(
            ("contract_id", "account_id", "start_date", "end_date", "arr", "seats", "plan")
        )
        writers["contacts"].writerow(
            ("contact_id", "account_id", "name", "email", "role", "left_at")
        )
        writers["usage"].writerow(("account_id", "contact_id", "timestamp", "event", "quantity"))
        writers["lifecycle"].writerow(("account_id", "occurred_at", "kind", "arr_change", "detail"))
        counts = dict.fromkeys(names, 0)
        for customer in sorted(book.customers, key=lambda c: c.id):
            aid = account_id(customer.id)
            churn = book.churn_dates.get(customer.id)
            contracts = _contracts(customer, churn)
            if not contracts:
                continue
            top = max(contracts, key=lambda k: k["arr"])
            writers["accounts"].writerow(
                (
                    aid,
                    f"ChurnSim customer {customer.id}",
                    SEGMENT_BY_TIER.get(_tier(top["plan"]), "smb"),
                    "",
                    CSMS[customer.id % len(CSMS)],
                    customer.start_date.isoformat(),
                    _tier(contracts[0]["plan"]),
                )
            )
            counts["accounts"] += 1
            for k in contracts:
                writers["contracts"].writerow(
                    (
                        k["contract_id"],
                        aid,
                        k["start"].isoformat(),
                        k["end"].isoformat(),
                        k["arr"],
                        k["seats"],
                        k["plan"],
                    )
                )
            counts["contracts"] += len(contracts)
            counts["lifecycle"] += _write_lifecycle(writers["lifecycle"], aid, contracts, churn)
            slots, rows = _usage_rows(customer, book.behaviours, aid, churn)
            for slot in range(slots):
                writers["contacts"].writerow(
                    (
                        f"{aid}-u{slot}",
                        aid,
                        f"User {slot} of customer {customer.id}",
                        f"user{slot}@{aid}.churnsim.example",
                        "admin" if slot == 0 else "end_user",
                        "",
                    )
                )
            counts["contacts"] += slots
            writers["usage"].writerows(rows)
            counts["usage"] += len(rows)
    finally:
        for handle in handles.values():
            handle.close()
    return counts


def _write_lifecycle(
    writer: Any, aid: str, contracts: list[dict[str, Any]], churn: dt.date | None
) -> int:
    rows = []
    for before, after in zip(contracts, contracts[1:], strict=False):
        change = round(after["arr"] - before["arr"], 2)
        at = after["start"].isoformat()
        if change > 0:
            rows.append((aid, at, "expanded", change, f"{before['plan']} → {after['plan']}"))
        elif change < 0:
            rows.append((aid, at, "contracted", change, f"{before['plan']} → {after['plan']}"))
        if after["bill_period"] >= 6:
            rows.append((aid, at, "renewed", change, f"contract {after['contract_id']}"))
    if churn is not None:
        rows.append(
            (aid, churn.isoformat(), "churned", -contracts[-1]["arr"], "churned (ChurnSim)")
        )
    writer.writerows(rows)
    return len(rows)


def _usage_rows(
    customer: Any, behaviours: list[str], aid: str, churn: dt.date | None
) -> tuple[int, list[tuple[Any, ...]]]:
    """(user slots seen, rows): daily logins per slot and daily counts per event type."""
    if not customer.events:
        return 0, []
    times = np.array([e[0] for e in customer.events], dtype="datetime64[s]")
    kinds = np.array([int(e[1]) for e in customer.events], dtype=np.int64)
    slots = np.array([int(e[2]) for e in customer.events], dtype=np.int64)
    if churn is not None:  # the simulator's last month runs to the churn date
        keep = times < np.datetime64(churn.isoformat())
        times, kinds, slots = times[keep], kinds[keep], slots[keep]
    if not times.size:
        return 0, []
    days = times.astype("datetime64[D]")
    rows: list[tuple[Any, ...]] = []
    # A login per user slot per active day, at its first event of the day.
    order = np.lexsort((times, slots, days))
    d, s, t = days[order], slots[order], times[order]
    first = np.ones(d.size, dtype=bool)
    first[1:] = (d[1:] != d[:-1]) | (s[1:] != s[:-1])
    for day_time, slot in zip(t[first].tolist(), s[first].tolist(), strict=True):
        rows.append((aid, f"{aid}-u{slot}", day_time.isoformat(), "login", 1))
    # Per day and event type, one account-level row with the count.
    order = np.lexsort((kinds, days))
    d, k = days[order], kinds[order]
    starts = np.flatnonzero(np.r_[True, (d[1:] != d[:-1]) | (k[1:] != k[:-1])])
    counts = np.diff(np.r_[starts, d.size])
    for day, kind, count in zip(
        d[starts].tolist(), k[starts].tolist(), counts.tolist(), strict=True
    ):
        rows.append((aid, "", f"{day.isoformat()}T12:00:00", behaviours[kind], count))
    return int(slots.max()) + 1, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write ChurnSim's crm5 book as csbot contract files."
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--customers", type=int, default=100, help="customers at the start")
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=DEFAULT_END)
    args = parser.parse_args(argv)
    if args.customers < 1 or args.months < 2:
        parser.error("--customers must be at least 1 and --months at least 2")
    started = time.perf_counter()
    try:
        book = simulate(seed=args.seed, customers=args.customers, months=args.months, end=args.end)
    except SimulatorMissing as error:
        print(f"churnsim: {error}", file=sys.stderr)
        return 1
    counts = write_contract(book, args.out_dir)
    print(
        f"ChurnSim {MODEL} (seed {args.seed}) {book.start} … {book.end}: "
        f"{len(book.customers)} customers, {len(book.churn_dates)} churned, "
        f"{time.perf_counter() - started:.0f} s"
    )
    for name, count in counts.items():
        print(f"  {name:<10} {count:>10,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
