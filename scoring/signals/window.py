"""Time windows as bound datetimes, and the live-account index every query maps into.

Every window ends at `end` = the start of the day after D (exclusive), so "dated ≤ D"
means `< end`. SQL receives the window edges as bound parameters: no database date
arithmetic, so the same expressions run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np

DAY = np.timedelta64(1, "D")
NAIVE_MOMENTS = {dt.datetime, type(None)}
EPOCH = dt.datetime(1970, 1, 1)
SECOND = dt.timedelta(seconds=1)


@dataclass(frozen=True)
class Window:
    as_of: dt.date

    @property
    def start(self) -> dt.datetime:
        """Midnight at the start of D."""
        return dt.datetime.combine(self.as_of, dt.time())

    @property
    def end(self) -> dt.datetime:
        """Midnight after D: rows dated ≤ D are those strictly before this."""
        return self.start + dt.timedelta(days=1)

    def back(self, days: int) -> dt.datetime:
        """The start of a window of `days` days ending with D."""
        return self.end - dt.timedelta(days=days)

    def days_before_end(self, moments: Sequence[Any]) -> np.ndarray:
        """(end − moment) in fractional days for datetimes or dates; NaN for None."""
        return days_between(self.end, moments)


def days_between(end: dt.datetime, moments: Sequence[Any]) -> np.ndarray:
    out = np.full(len(moments), np.nan)
    if not len(moments):
        return out
    if set(map(type, moments)) <= NAIVE_MOMENTS:
        # Whole seconds since the epoch by timedelta arithmetic (floored, as numpy truncates
        # to seconds): a sixth of numpy's time converting datetime objects itself.
        present = np.fromiter((m is not None for m in moments), dtype=bool, count=len(moments))
        try:
            seconds = np.fromiter(
                ((m - EPOCH) // SECOND for m in moments if m is not None), dtype=np.int64
            )
        except TypeError:  # an aware datetime: numpy's conversion below
            pass
        else:
            out[present] = days(np.datetime64(end, "s") - seconds.astype("datetime64[s]"))
            return out
    present = np.array([m is not None for m in moments], dtype=bool)
    if present.any():
        stamps = np.array(
            [_as_datetime(m) for m in moments if m is not None], dtype="datetime64[s]"
        )
        out[present] = days(np.datetime64(end, "s") - stamps)
    return out


def days(deltas: np.ndarray) -> np.ndarray:
    """numpy timedelta64 values as fractional days (float)."""
    return np.asarray(deltas).astype("timedelta64[us]").astype(np.float64) / 86_400e6


def _as_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, str):  # SQLite may hand back text for computed expressions
        return dt.datetime.fromisoformat(value)
    raise TypeError(f"not a date or datetime: {value!r}")


@dataclass
class Population:
    """The live accounts as of D, in a fixed order every signal array follows."""

    account_ids: list[str]
    extras: dict[str, list[Any]] = field(default_factory=dict)
    created_days: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        self.index = {account_id: i for i, account_id in enumerate(self.account_ids)}

    @property
    def n(self) -> int:
        return len(self.account_ids)

    def positions(self, account_ids: Iterable[str]) -> np.ndarray:
        """Row positions of `account_ids`; −1 for accounts not in the population."""
        return np.fromiter(map(self.index.get, account_ids, repeat(-1)), dtype=np.int64)

    def scatter(self, account_ids: Sequence[str], values: Any, fill: float = np.nan) -> np.ndarray:
        """An n-vector with `values` placed at the rows of `account_ids` (others `fill`)."""
        out = np.full(self.n, fill, dtype=float)
        if len(account_ids):
            pos = self.positions(account_ids)
            keep = pos >= 0
            out[pos[keep]] = np.asarray(values, dtype=float)[keep]
        return out

    def bincount(self, positions: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Sum of `weights` (or counts) per account row, ignoring positions < 0."""
        keep = positions >= 0
        w = None if weights is None else np.asarray(weights, dtype=float)[keep]
        return np.bincount(positions[keep], weights=w, minlength=self.n).astype(float)
