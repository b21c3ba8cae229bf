"""Lines chosen from held-out outcomes for a precision the team sets (pure functions).

A fixed line (risk 0.5, health 60/40) means nothing on a book where 5% of accounts churn
within the horizon: 0.5 never fires there. Instead, the team says how many alerts may be
wrong (`precision`: the share of flagged accounts that must really churn), and the line is
the most permissive one that still reaches it on predictions the model did not fit (a
validation window, out-of-fold predictions, a backtest). When no line reaches the
precision, the caller's fallback applies and says so.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

#: Fewer flagged rows than this and a precision is noise: no line is chosen.
MIN_FLAGGED = 10


def threshold_for_precision(
    y: ArrayLike, scores: ArrayLike, precision: float, *, min_flagged: int = MIN_FLAGGED
) -> float | None:
    """The lowest score t such that rows with score >= t have at least `precision` churn
    share (and at least `min_flagged` rows): the line with the most recall at that
    precision. None when no line qualifies."""
    y_arr = np.asarray(y, dtype=np.float64)
    s_arr = np.asarray(scores, dtype=np.float64)
    ok = np.isfinite(s_arr)
    y_arr, s_arr = y_arr[ok], s_arr[ok]
    if y_arr.size == 0 or y_arr.sum() == 0:
        return None
    order = np.argsort(-s_arr, kind="stable")
    s_sorted, y_sorted = s_arr[order], y_arr[order]
    # Only cut between distinct scores: a line flags every row at or above it.
    last_of_value = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    flagged = np.arange(1, s_sorted.size + 1)
    hits = np.cumsum(y_sorted)
    good = last_of_value & (flagged >= min_flagged) & (hits / flagged >= precision)
    if not good.any():
        return None
    return float(s_sorted[np.flatnonzero(good)[-1]])


def health_line_for_precision(
    y: ArrayLike, health: ArrayLike, precision: float, *, min_flagged: int = MIN_FLAGGED
) -> float | None:
    """The highest health h such that accounts with health < h churn at `precision` or
    more: the at-risk (or critical) line. None when no line qualifies."""
    h = np.asarray(health, dtype=np.float64)
    t = threshold_for_precision(y, -h, precision, min_flagged=min_flagged)
    # health <= -t flagged; the band test is health < line, so the line sits just above.
    return None if t is None else float(np.nextafter(-t, np.inf))


def health_line_for_rate(y: ArrayLike, health: ArrayLike, share: float = 1.0) -> float:
    """The highest health line that flags no more rows (health < line) than `share` × the
    rows that churned: what the churn rate justifies when no line reaches the precision.
    0 (flags nothing) on a book without churn."""
    h = np.sort(np.asarray(health, dtype=np.float64)[np.isfinite(np.asarray(health, float))])
    allowed = int(np.floor(share * float(np.asarray(y, dtype=np.float64).sum())))
    if h.size == 0 or allowed < 1:
        return 0.0
    if allowed >= h.size:
        return float(np.nextafter(h[-1], np.inf))
    return float(h[allowed])  # rows strictly below it: at most `allowed`


def capped_line(
    chosen: float | None, fallback: float, y: ArrayLike, health: ArrayLike, share: float = 1.0
) -> float | None:
    """`chosen` when a line reached the precision; else the configured `fallback`, lowered
    to `health_line_for_rate` when the fallback would flag more accounts than churn (None:
    the fallback applies as it is)."""
    if chosen is not None:
        return chosen
    cap = health_line_for_rate(y, health, share)
    return cap if cap < fallback else None


def reliability_table(
    y: ArrayLike, scores: ArrayLike, bins: int = 10
) -> list[dict[str, float | int | None]]:
    """Fixed-width bins of predicted probability: rows, mean predicted, observed churn share.

    The expected calibration error is Σ rows/N × |observed − predicted| over the bins
    (`expected_calibration_error`)."""
    y_arr = np.asarray(y, dtype=np.float64)
    s_arr = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    index = np.minimum((s_arr * bins).astype(np.int64), bins - 1)
    table: list[dict[str, float | int | None]] = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        table.append(
            {
                "from": round(b / bins, 4),
                "to": round((b + 1) / bins, 4),
                "rows": n,
                "predicted": float(s_arr[mask].mean()) if n else None,
                "observed": float(y_arr[mask].mean()) if n else None,
            }
        )
    return table


def expected_calibration_error(table: list[dict[str, float | int | None]]) -> float | None:
    """Σ rows/N × |observed − predicted| over the reliability table's bins."""
    total = sum(int(row["rows"] or 0) for row in table)
    if not total:
        return None
    error = 0.0
    for row in table:
        n = int(row["rows"] or 0)
        if n:
            error += n / total * abs(float(row["observed"] or 0) - float(row["predicted"] or 0))
    return error
