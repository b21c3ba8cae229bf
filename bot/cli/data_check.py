"""One line, before a command works on a date the imported data cannot describe.

`train`, `backtest` and `playbooks evaluate` (like `score` and `digest`) would otherwise
read the end of the import as every account's usage collapsing, or learn from days with
no data at all; they stop and name the imported range instead. With no usage imported at
all there is no range to hold a date to, and the command goes on (it says what it lacks).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.cli.errors import CliError


def require_in_range(engine: Any, day: dt.date, *, doing: str, option: str = "--as-of") -> None:
    """Raise CliError ("not training: 2026-06-01 is 14 days after the imported data (…);
    pass --as-of a date in that range") when `day` is outside the imported data."""
    from storage.data_range import data_range, outside_range

    span = data_range(engine)
    problem = outside_range(day, span) if span is not None else None
    if problem:
        raise CliError(f"not {doing}: {problem}; pass {option} a date in that range")
