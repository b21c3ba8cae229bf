"""Reasons: each signal's share of a score as data and as one plain sentence.

A reason is `{signal, value, baseline, direction, impact, text}`. `value` and `baseline`
are in the units of the sentence: for a change signal (login_change) they are the
current and baseline counts it compares; for others the value is the signal itself and
the baseline is None. `direction` compares value with baseline when there is one, and
otherwise says which way the signal pushes the score (down = against the account).
Impacts are rounded to 0.01 and the rounding remainder goes to the largest, so they add
up exactly to (score − neutral point).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from scoring.signals.registry import SIGNALS

Row = Mapping[str, float | None]
FLAT_TOLERANCE = 0.05


def _clean(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), 4)


def reason(signal: str, row: Row, impact: float) -> dict[str, Any]:
    """One reason for `signal` of an account whose signals are `row`."""
    definition = SIGNALS[signal]
    value = _clean(row.get(definition.value_of or signal))
    baseline = _clean(row.get(definition.baseline)) if definition.baseline else None
    if baseline is not None and value is not None:
        if abs(value - baseline) <= FLAT_TOLERANCE * max(abs(baseline), 1e-9):
            direction = "flat"
        else:
            direction = "up" if value > baseline else "down"
    else:
        direction = "flat" if abs(impact) < 0.005 else ("up" if impact > 0 else "down")
    return {
        "signal": signal,
        "value": value,
        "baseline": baseline,
        "direction": direction,
        "impact": impact,
        "text": definition.text(row),
    }


def explain(
    row: Row, impacts: Mapping[str, float], total: float | None = None
) -> list[dict[str, Any]]:
    """Reasons for every signal with a non-zero impact, largest |impact| first.

    `total` is the exact sum the rounded impacts must reach (score − neutral point);
    by default the sum of `impacts` rounded to 0.01.
    """
    rounded = {name: round(value, 2) for name, value in impacts.items() if abs(value) >= 0.005}
    target = round(sum(impacts.values()) if total is None else total, 2)
    if rounded:
        largest = max(rounded, key=lambda name: abs(rounded[name]))
        rounded[largest] = round(rounded[largest] + target - sum(rounded.values()), 2)
    reasons = [reason(name, row, impact) for name, impact in rounded.items() if impact != 0]
    reasons.sort(key=lambda r: (-abs(r["impact"]), r["signal"]))
    return reasons


def headline(reasons: list[dict[str, Any]], limit: int = 3) -> str:
    """The top reasons against the account joined into one line for a digest."""
    against = [r["text"] for r in reasons if r["impact"] < 0][:limit]
    return "; ".join(against)
