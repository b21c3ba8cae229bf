"""`python -m storage.demo OUT_DIR [--accounts N] [--seed S] ...`: write a demo portfolio."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from storage.demo.generate import generate_portfolio
from storage.demo.scenarios import SCENARIOS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m storage.demo",
        description="Write a synthetic book of business as import-contract CSV files.",
    )
    parser.add_argument("out_dir", type=Path, help="directory for the CSV files")
    parser.add_argument("--accounts", type=int, default=300, help="number of accounts")
    parser.add_argument("--seed", type=int, default=7, help="random seed (same seed, same files)")
    parser.add_argument("--months", type=int, default=18, help="months of history")
    parser.add_argument(
        "--end", type=dt.date.fromisoformat, default=dt.date(2026, 11, 20), help="last day"
    )
    parser.add_argument(
        "--usage-density", type=float, default=1.0, help="scale of product-usage rows"
    )
    parser.add_argument(
        "--scenario",
        default="default",
        choices=["default", *SCENARIOS],
        help="a churn story (storage/demo/scenarios.py); default: the default book",
    )
    args = parser.parse_args(argv)
    if args.accounts < 1 or args.months < 1 or args.usage_density <= 0:
        parser.error("--accounts, --months and --usage-density must be positive")
    summary = generate_portfolio(
        args.out_dir,
        seed=args.seed,
        accounts=args.accounts,
        end=args.end,
        months=args.months,
        usage_density=args.usage_density,
        scenario=args.scenario,
    )
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
