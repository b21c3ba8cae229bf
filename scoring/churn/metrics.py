"""Evaluation metrics for churn scores, pure functions of labels and scores.

Ranking metrics come from scikit-learn; the operational ones (top decile, alert
threshold, lead time) are what a CS team feels: how many flagged accounts really churn,
how many churners get flagged, and how early.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

METRIC_KEYS = (
    "roc_auc",
    "pr_auc",
    "precision_at_decile",
    "recall_at_decile",
    "precision_at_threshold",
    "recall_at_threshold",
    "brier",
    "median_lead_days",
)


def _arrays(y: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y_arr = np.asarray(y, dtype=np.int64)
    s_arr = np.asarray(scores, dtype=np.float64)
    if y_arr.shape != s_arr.shape:
        raise ValueError(f"labels ({y_arr.shape}) and scores ({s_arr.shape}) differ in shape")
    return y_arr, s_arr


def _both_classes(y: np.ndarray) -> bool:
    return bool(y.size) and 0 < int(y.sum()) < y.size


def roc_auc(y: ArrayLike, scores: ArrayLike) -> float | None:
    """Area under the ROC curve; None when only one class is present."""
    y_arr, s_arr = _arrays(y, scores)
    return float(roc_auc_score(y_arr, s_arr)) if _both_classes(y_arr) else None


def pr_auc(y: ArrayLike, scores: ArrayLike) -> float | None:
    """Average precision (area under the precision-recall curve); None without positives."""
    y_arr, s_arr = _arrays(y, scores)
    return float(average_precision_score(y_arr, s_arr)) if _both_classes(y_arr) else None


def brier(y: ArrayLike, scores: ArrayLike) -> float | None:
    """Mean squared error of probabilities (lower is better)."""
    y_arr, s_arr = _arrays(y, scores)
    return float(brier_score_loss(y_arr, s_arr)) if y_arr.size else None


def _precision_recall(y: np.ndarray, flagged: np.ndarray) -> tuple[float | None, float | None]:
    hits = int((y[flagged] == 1).sum())
    n_flagged = int(flagged.sum())
    positives = int(y.sum())
    precision = hits / n_flagged if n_flagged else None
    recall = hits / positives if positives else None
    return precision, recall


def at_top_decile(y: ArrayLike, scores: ArrayLike) -> tuple[float | None, float | None]:
    """Precision and recall among the ceil(10%) highest scores (ties broken by position)."""
    y_arr, s_arr = _arrays(y, scores)
    if not y_arr.size:
        return None, None
    k = math.ceil(y_arr.size / 10)
    top = np.argsort(-s_arr, kind="stable")[:k]
    flagged = np.zeros(y_arr.size, dtype=bool)
    flagged[top] = True
    return _precision_recall(y_arr, flagged)


def at_threshold(
    y: ArrayLike, scores: ArrayLike, threshold: float
) -> tuple[float | None, float | None]:
    """Precision and recall of the alerts `score >= threshold`."""
    y_arr, s_arr = _arrays(y, scores)
    return _precision_recall(y_arr, s_arr >= threshold)


def lead_days(
    account_ids: ArrayLike,
    dates: ArrayLike,
    scores: ArrayLike,
    churn_dates: ArrayLike,
    threshold: float,
    horizon_days: int,
) -> list[int]:
    """Days from the first alert to the churn, one entry per alerted churn.

    `dates` and `churn_dates` are date ordinals; `churn_dates[i]` is the next churn of that
    row's account on or after its date (-1 when none). The run-up of a churn on day c is the
    snapshots dated c - horizon … c; its first alert is the earliest of them scoring at or
    above the threshold. Churns never alerted are not in the list (recall counts them).
    """
    accounts = np.asarray(account_ids, dtype=object)
    d = np.asarray(dates, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    c = np.asarray(churn_dates, dtype=np.int64)
    in_run_up = (c >= 0) & (c - d <= horizon_days) & (c >= d) & (s >= threshold)
    first: dict[tuple[str, int], int] = {}
    for account, day, churn in zip(accounts[in_run_up], d[in_run_up], c[in_run_up], strict=True):
        key = (str(account), int(churn))
        if key not in first or day < first[key]:
            first[key] = int(day)
    return [churn - day for (_, churn), day in first.items()]


def median_lead_days(
    account_ids: ArrayLike,
    dates: ArrayLike,
    scores: ArrayLike,
    churn_dates: ArrayLike,
    threshold: float,
    horizon_days: int,
) -> float | None:
    leads = lead_days(account_ids, dates, scores, churn_dates, threshold, horizon_days)
    return float(np.median(leads)) if leads else None


def evaluate(
    y: ArrayLike,
    scores: ArrayLike,
    *,
    threshold: float,
    horizon_days: int,
    account_ids: ArrayLike | None = None,
    dates: ArrayLike | None = None,
    churn_dates: ArrayLike | None = None,
) -> dict[str, float | None]:
    """All metrics of `METRIC_KEYS` (lead time only when account ids and dates are given)."""
    p_dec, r_dec = at_top_decile(y, scores)
    p_thr, r_thr = at_threshold(y, scores, threshold)
    lead = None
    if account_ids is not None and dates is not None and churn_dates is not None:
        lead = median_lead_days(account_ids, dates, scores, churn_dates, threshold, horizon_days)
    return {
        "roc_auc": roc_auc(y, scores),
        "pr_auc": pr_auc(y, scores),
        "precision_at_decile": p_dec,
        "recall_at_decile": r_dec,
        "precision_at_threshold": p_thr,
        "recall_at_threshold": r_thr,
        "brier": brier(y, scores),
        "median_lead_days": lead,
    }
