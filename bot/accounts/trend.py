"""Health trend as text: twelve weekly points turned into a sparkline (▁▂▃▄▅▆▇█).

Trajectory matters more than state, so every digest line carries its trend. Text works in
Slack, the terminal and notifications alike, with no image hosting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

BARS = "▁▂▃▄▅▆▇█"
GAP = "·"
WEEKS = 12
MIN_RANGE = 20.0  # points: a wobble of 3 points must not look like a cliff


def weekly_points(
    history: Iterable[tuple[dt.date, float]], as_of: dt.date, weeks: int = WEEKS
) -> tuple[float | None, ...]:
    """The latest health in each of the `weeks` seven-day windows ending on `as_of`, oldest
    first; None for a week with no score."""
    points: list[float | None] = [None] * weeks
    latest: list[dt.date | None] = [None] * weeks
    for day, health in history:
        age = (as_of - day).days
        if age < 0 or age >= weeks * 7:
            continue
        slot = weeks - 1 - age // 7
        if latest[slot] is None or day > latest[slot]:  # type: ignore[operator]
            latest[slot] = day
            points[slot] = float(health)
    return tuple(points)


def sparkline(points: Sequence[float | None]) -> str:
    """One bar per point, scaled to the series' range (at least `MIN_RANGE` points wide,
    centred), so a flat series sits in the middle and a fall shows as a fall. Weeks before
    the first score are left out, and a single point is no trend: "" then."""
    first = next((i for i, p in enumerate(points) if p is not None), len(points))
    points = points[first:]
    values = [p for p in points if p is not None]
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    if high - low < MIN_RANGE:
        middle = (high + low) / 2
        low, high = middle - MIN_RANGE / 2, middle + MIN_RANGE / 2
    span = high - low
    bars = []
    for point in points:
        if point is None:
            bars.append(GAP)
            continue
        index = round((point - low) / span * (len(BARS) - 1))
        bars.append(BARS[min(len(BARS) - 1, max(0, index))])
    return "".join(bars)


STEADY_WITHIN = 5.0  # points over 30 days that still read as "steady"


def trend_word(delta_30d: float | None, steady_within: float = STEADY_WITHIN) -> str:
    """The word shown next to the 30-day change, from that same number, so "(-1 in 30 d)"
    never reads "rising" (the stored direction also looks at the 7-day change)."""
    if delta_30d is None or abs(delta_30d) < steady_within:
        return "steady"
    return "rising" if delta_30d > 0 else "falling"
