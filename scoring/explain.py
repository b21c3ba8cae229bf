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
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

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


DIRECTIONS = ("flat", "up", "down")


def explain_all(
    values: np.ndarray,
    names: Sequence[str],
    rows: Sequence[Row],
    signals: Sequence[str],
    impacts: np.ndarray,
    totals: np.ndarray,
) -> list[list[dict[str, Any]]]:
    """`explain` of every account at once, the same reasons to the last bit.

    `values` (accounts × `names`) and `rows` hold the same signals, as a matrix for the
    numbers and as plain rows for the sentences; `impacts` (accounts × `signals`) and
    `totals` are what `explain` takes per account. Rounding, the remainder's placement,
    directions and order are computed over arrays; what stays per reason is its sentence
    and its dict (a portfolio has ~30 reasons an account, 300,000 for 10,000 accounts).
    """
    n, m = impacts.shape
    if n == 0:
        return []
    column = {name: j for j, name in enumerate(names)}
    defs = [SIGNALS[name] for name in signals]
    clean = round_like_python(values, 4)
    nothing = np.full(n, np.nan)

    def side(source: list[int | None]) -> np.ndarray:
        return np.column_stack([nothing if j is None else clean[:, j] for j in source])

    value = side([column.get(d.value_of or name) for d, name in zip(defs, signals, strict=True)])
    baseline = side([column.get(d.baseline) if d.baseline else None for d in defs])

    keep = np.abs(impacts) >= 0.005
    rounded = round_like_python(impacts, 2)
    final = np.where(keep, rounded, 0.0)
    largest = np.where(keep, np.abs(rounded), -1.0).argmax(axis=1)
    for i in np.flatnonzero(keep.any(axis=1)).tolist():
        kept = rounded[i, keep[i]].tolist()  # in signal order, summed as explain sums
        j = int(largest[i])
        target = round(float(totals[i]), 2)
        final[i, j] = round(float(rounded[i, j]) + target - sum(kept), 2)

    with np.errstate(invalid="ignore"):
        known = ~np.isnan(value) & ~np.isnan(baseline)
        flat = np.abs(value - baseline) <= FLAT_TOLERANCE * np.maximum(np.abs(baseline), 1e-9)
        compared = np.where(flat, 0, np.where(value > baseline, 1, 2))
    pushed = np.where(np.abs(final) < 0.005, 0, np.where(final > 0, 1, 2))
    direction = np.where(known, compared, pushed).tolist()

    include = keep & (final != 0)
    rank = np.empty(m, dtype=np.int64)
    rank[sorted(range(m), key=lambda j: signals[j])] = np.arange(m)
    order = np.lexsort((np.broadcast_to(rank, (n, m)), -np.abs(final), ~include), axis=1)
    counts = include.sum(axis=1).tolist()
    impact_of, value_of, baseline_of = final.tolist(), _plain(value), _plain(baseline)
    texts = [d.text for d in defs]
    # NaN or infinite numbers (never produced by health_scores) make explain's sort order
    # depend on how the sort compares them: such accounts are explained one by one.
    odd = set(np.flatnonzero(~np.isfinite(impacts).all(axis=1) | ~np.isfinite(totals)).tolist())
    out = []
    for i, row in enumerate(rows):
        if i in odd:
            out.append(
                explain(row, dict(zip(signals, impacts[i].tolist(), strict=True)), float(totals[i]))
            )
            continue
        reasons = []
        for j in order[i, : counts[i]].tolist():
            reasons.append(
                {
                    "signal": signals[j],
                    "value": value_of[i][j],
                    "baseline": baseline_of[i][j],
                    "direction": DIRECTIONS[direction[i][j]],
                    "impact": impact_of[i][j],
                    "text": texts[j](row),
                }
            )
        out.append(reasons)
    return out


def round_like_python(x: np.ndarray, digits: int) -> np.ndarray:
    """`round(v, digits)` of every element, bit for bit as Python rounds a float.

    numpy scales, rounds to an integer and divides back; the division gives the same
    double as Python (both are the double nearest k / 10**digits), and the integer k is
    the same unless the scaled value lies within rounding error of a half. Those elements
    (and huge ones) are rounded by Python itself."""
    scale = 10.0**digits
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = x * scale
        out = np.rint(scaled) / scale
        size = np.abs(scaled)
        unsure = np.isfinite(x) & (
            ~np.isfinite(scaled)
            | (size >= 2.0**52)
            | (np.abs(scaled - np.floor(scaled) - 0.5) <= 8 * np.spacing(size))
        )
    for index in zip(*np.nonzero(unsure), strict=True):
        out[index] = round(float(x[index]), digits)
    return out


def _plain(matrix: np.ndarray) -> list[list[float | None]]:
    """Rows of Python floats, None for NaN."""
    objects = matrix.astype(object)
    objects[np.isnan(matrix)] = None
    return objects.tolist()  # type: ignore[no-any-return]
