"""The span of dates the imported data covers, and whether a date falls inside it.

Scoring, digests and jobs use it to say — in one line — when they are asked about a date
the data cannot describe: before the first usage event nothing is known, and days after
the last one read as a sudden collapse of usage ("Usage falling 79% a week") that is only
the end of the import. Usage is the densest time series and its table is clustered on the
timestamp, so MIN/MAX are two index lookups.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlmodel import col

from storage.models import UsageEvent

DEFAULT_GRACE_DAYS = 2
"""A nightly import brings data up to yesterday: scoring today is 1 day past the end."""


@dataclass(frozen=True)
class DataRange:
    first: dt.date
    last: dt.date

    def __str__(self) -> str:
        return f"{self.first} to {self.last}"


def data_range(engine: Engine) -> DataRange | None:
    """First and last day with usage data; None when nothing has been imported."""
    with engine.connect() as connection:
        first, last = connection.execute(
            select(func.min(col(UsageEvent.timestamp)), func.max(col(UsageEvent.timestamp)))
        ).one()
    if first is None or last is None:
        return None
    return DataRange(_as_date(first), _as_date(last))


def _as_date(value: dt.datetime | dt.date | str) -> dt.date:
    if isinstance(value, str):  # SQLite aggregates may come back as text
        value = dt.datetime.fromisoformat(value)
    return value.date() if isinstance(value, dt.datetime) else value


def outside_range(
    day: dt.date, span: DataRange | None, *, grace_days: int = DEFAULT_GRACE_DAYS
) -> str | None:
    """None when `day` is inside the data (up to `grace_days` after its end); otherwise a
    one-line reason naming the range. Pure."""
    if span is None:
        return "no usage data has been imported: run `csbot ingest DIR` (or `csbot demo`)"
    if day < span.first:
        return f"{day} is before the imported data ({span})"
    if (day - span.last).days > grace_days:
        return f"{day} is {(day - span.last).days} days after the imported data ({span})"
    return None
