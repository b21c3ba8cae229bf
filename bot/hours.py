"""Local clock times people choose: quiet hours ("20:00-07:00"), digest days ("mon,tue"),
and where a UTC instant falls in a person's own time zone. Pure, no I/O: the settings
validate with it and the noise budget decides with it.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS = frozenset(range(5))


def parse_time(text: str) -> dt.time:
    """ "07:30" → 07:30; a ValueError naming the text otherwise."""
    try:
        hours, minutes = text.strip().split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"expected a time HH:MM, got {text!r}") from None


def parse_span(text: str | None) -> tuple[dt.time, dt.time] | None:
    """ "20:00-07:00" → (20:00, 07:00); "" or None → None (no quiet hours)."""
    if not text or not text.strip():
        return None
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"expected quiet hours as HH:MM-HH:MM, got {text!r}")
    span = parse_time(start), parse_time(end)
    if span[0] == span[1]:
        raise ValueError(f"quiet hours {text!r} start and end at the same time")
    return span


def parse_days(text: str | None) -> frozenset[int]:
    """ "mon,tue,fri" → {0, 1, 4} (Monday is 0); empty → weekdays."""
    if not text or not text.strip():
        return WEEKDAYS
    days = set()
    for part in text.split(","):
        name = part.strip().lower()[:3]
        if name not in DAY_NAMES:
            raise ValueError(f"unknown day {part.strip()!r}; use mon, tue, … sun")
        days.add(DAY_NAMES.index(name))
    return frozenset(days)


def format_days(days: frozenset[int]) -> str:
    return ",".join(DAY_NAMES[day] for day in sorted(days))


def local(now_utc: dt.datetime, tz: str) -> dt.datetime:
    """A naive-UTC instant in `tz` (aware)."""
    return now_utc.replace(tzinfo=dt.UTC).astimezone(zoneinfo.ZoneInfo(tz))


def in_span(moment: dt.time, span: tuple[dt.time, dt.time] | None) -> bool:
    """Is `moment` inside the span (which may wrap midnight)?"""
    if span is None:
        return False
    start, end = span
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def span_end_after(local_now: dt.datetime, span: tuple[dt.time, dt.time]) -> dt.datetime:
    """The first moment at or after `local_now` (aware) when the span is over."""
    end = local_now.replace(hour=span[1].hour, minute=span[1].minute, second=0, microsecond=0)
    if end <= local_now:
        end += dt.timedelta(days=1)
    return end
