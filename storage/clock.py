"""The one source of "now" for csbot.

Every schedule, due date and as-of computation takes a `Clock` instead of reading the
system time, so tests can move time without sleeping and scores can be computed as of
any date. All datetimes csbot stores are naive UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """Current naive-UTC datetime."""
        ...


class SystemClock:
    """The wall clock, in naive UTC."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass
class FixedClock:
    """A clock that only moves when told to: for tests and as-of replays."""

    current: dt.datetime = field(default_factory=lambda: dt.datetime(2026, 1, 1))

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> dt.datetime:
        self.current = self.current + dt.timedelta(**delta)
        return self.current

    def set(self, when: dt.datetime) -> None:
        self.current = when


def utc_naive(value: dt.datetime) -> dt.datetime:
    """Convert an aware datetime to naive UTC; leave a naive one as it is (taken as UTC)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)
