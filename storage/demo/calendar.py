"""The demo's time axis: a window of days ending on the portfolio's last day.

Everything the generator draws is indexed by day number (0 = first day of the window);
this module converts between those numbers and dates and holds the shared day-level
rhythms (weekends, the year-end holidays, August).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np

DAYS_PER_MONTH = 30.44


@dataclass(frozen=True)
class Window:
    """Days `start` … `end` inclusive; day i is `start + i`."""

    start: dt.date
    end: dt.date

    @classmethod
    def ending(cls, end: dt.date, months: int) -> Window:
        return cls(start=end - dt.timedelta(days=round(months * DAYS_PER_MONTH)), end=end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def day(self, when: dt.date) -> int:
        return (when - self.start).days

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=int(day))

    @cached_property
    def date_strings(self) -> list[str]:
        """ISO date of every day of the window, for fast row formatting."""
        return [(self.start + dt.timedelta(days=i)).isoformat() for i in range(self.days)]

    @cached_property
    def weekday(self) -> np.ndarray:
        """0 = Monday … 6 = Sunday, per day."""
        first = self.start.weekday()
        return (np.arange(self.days) + first) % 7

    @cached_property
    def rhythm(self) -> np.ndarray:
        """How much of a normal working day's product use happens on each day."""
        factor = np.where(self.weekday < 5, 1.0, np.where(self.weekday == 5, 0.07, 0.05))
        for i in range(self.days):
            when = self.start + dt.timedelta(days=i)
            if (when.month == 12 and when.day >= 23) or (when.month == 1 and when.day <= 2):
                factor[i] *= 0.3
            elif when.month == 8:
                factor[i] *= 0.85
        return factor


_CLOCK = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]


def clock_string(seconds: int) -> str:
    """'HH:MM:SS' for a second of the day (0 … 86399)."""
    return _CLOCK[seconds]


def clock_strings() -> list[str]:
    """'HH:MM:SS' for every second of the day, indexable by second."""
    return _CLOCK


def iso(when: dt.datetime | dt.date | None) -> str:
    """ISO-8601 text as the contract wants it; '' for None (an empty cell)."""
    if when is None:
        return ""
    if isinstance(when, dt.datetime):
        return when.replace(microsecond=0).isoformat()
    return when.isoformat()
