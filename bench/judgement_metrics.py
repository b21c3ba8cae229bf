"""The bench's own measures of judgement, pure functions of plain arrays and lists.

- `bootstrap_ci`: a 95% interval for a ranking metric, resampling *accounts* (each account
  contributes all its snapshots), because snapshots of one account are not independent;
- `expected_calibration_error`: fixed-width bins, the gap between predicted and observed
  churn weighted by how many rows fall in each bin;
- `churned_arr_caught`: the share of churned ARR whose account appeared in its CSM's digest
  at least `min_lead` (and at most `max_lead`) days before it churned;
- `attention_precision`: the share of digest entries whose account churned or expanded
  within `window` days after the entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

Metric = Callable[[np.ndarray, np.ndarray, np.ndarray], float]


def weighted_roc_auc(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> float:
    return float(roc_auc_score(y, s, sample_weight=w))


def weighted_pr_auc(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> float:
    return float(average_precision_score(y, s, sample_weight=w))


def bootstrap_ci(
    y: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    groups: Sequence[str] | np.ndarray,
    metric: Metric,
    *,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float] | None:
    """Percentile interval of `metric` over `n_boot` resamples of the groups (accounts).

    A resample draws as many accounts as there are, with replacement; an account drawn k
    times weighs its rows k times. Resamples with a single class are skipped; None when
    fewer than half the resamples are usable.
    """
    y_arr = np.asarray(y, dtype=np.int64)
    s_arr = np.asarray(scores, dtype=np.float64)
    _, index = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
    n_groups = int(index.max()) + 1 if index.size else 0
    if n_groups == 0:
        return None
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        counts = np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)
        weights = counts[index].astype(np.float64)
        used = weights > 0
        positives = weights[used & (y_arr == 1)].sum()
        if positives == 0 or positives == weights[used].sum():
            continue
        values.append(metric(y_arr[used], s_arr[used], weights[used]))
    if len(values) < n_boot / 2:
        return None
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def expected_calibration_error(
    y: Sequence[int] | np.ndarray, p: Sequence[float] | np.ndarray, bins: int = 10
) -> float | None:
    """Σ_b (n_b / N) · |mean predicted_b − observed rate_b| over `bins` equal-width bins of [0, 1]."""
    y_arr = np.asarray(y, dtype=np.float64)
    p_arr = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    if not y_arr.size:
        return None
    which = np.minimum((p_arr * bins).astype(np.int64), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(p_arr[inside].mean() - y_arr[inside].mean())
    return float(total)


def churned_arr_caught(
    entries: Iterable[tuple[str, int]],
    churns: Mapping[str, tuple[int, float]],
    *,
    min_lead: int = 30,
    max_lead: int = 180,
) -> float | None:
    """Share of churned ARR caught early.

    `entries` are (account, day) digest appearances (days as ordinals); `churns` maps each
    churned account to (churn day, ARR lost). A churn is caught when its account appeared
    on a day d with min_lead ≤ churn − d ≤ max_lead. None when no ARR churned.
    """
    total = sum(arr for _, arr in churns.values())
    if total <= 0:
        return None
    seen: dict[str, list[int]] = {}
    for account, day in entries:
        seen.setdefault(account, []).append(day)
    caught = sum(
        arr
        for account, (churn, arr) in churns.items()
        if any(min_lead <= churn - day <= max_lead for day in seen.get(account, ()))
    )
    return caught / total


def attention_precision(
    entries: Sequence[tuple[str, int]],
    outcomes: Mapping[str, Sequence[int]],
    *,
    window: int = 90,
) -> float | None:
    """Share of digest entries (account, day) whose account churned or expanded in
    (day, day + window]; `outcomes` maps an account to its churn and expansion days."""
    if not entries:
        return None
    hits = sum(
        any(day < when <= day + window for when in outcomes.get(account, ()))
        for account, day in entries
    )
    return hits / len(entries)


def precision_recall(
    y: Sequence[int] | np.ndarray, flagged: Sequence[bool] | np.ndarray
) -> tuple[float | None, float | None]:
    """Precision and recall of the rows flagged (None when nothing is flagged / no positives)."""
    y_arr = np.asarray(y, dtype=np.int64)
    f_arr = np.asarray(flagged, dtype=bool)
    hits = int((y_arr[f_arr] == 1).sum())
    n_flagged = int(f_arr.sum())
    positives = int(y_arr.sum())
    return (hits / n_flagged if n_flagged else None, hits / positives if positives else None)
