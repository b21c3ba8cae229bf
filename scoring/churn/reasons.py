"""Why the model gives an account its risk, in parts that add up.

Each signal (with its 28/84-day changes, one group) gets its Shapley-style share of the
change in log-odds from the baseline account (every signal at its training median) to
this account (`logit_contributions`: permutation sampling with the efficiency property
exact). The shares add up to logit(risk) − logit(baseline risk) exactly; `impact` turns
them into probability points that add up to (risk − baseline risk) × 100. One-at-a-time
swaps to the median, used before, summed to 1.7× the change on the demo. Timing
(`days_to_renewal`: "Renewal in 45 days") is shown as context, not as a cause.

The stacked rule-based health (`rule_health`) stays among the reasons, worded
"Rule-based health score 46": on at-risk accounts it is usually the largest impact, which
is the honest answer (the model mostly agrees with the rules there), and the health score's
own reasons, shown beside it, already say why it is 46. The reasons after it are what the
model adds to the rules (for example "Renewal in 70 days").
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from scoring.churn.artefact import ChurnModel
from scoring.churn.snapshots import RULE_HEALTH
from scoring.signals.registry import describe as scoring_describe

_CHANGE = re.compile(r"(.+)_change_(\d+)d")


def signal_label(signal: str) -> str:
    """Plain words for a signal without a sentence in scoring's registry."""
    text = signal.replace("_", " ").replace(" 30d", " (30 days)").replace(" 90d", " (90 days)")
    return text.capitalize()


def describe(signal: str, row: Mapping[str, float | None]) -> str | None:
    """Scoring's sentence for the signal (the health reasons' wording), None if it has none.

    The stacked rule-based health reads "Rule-based health score 48" (and, as a change,
    "Rule-based health score 48 (down 14 in 28 days)"): the CSM sees the model building on
    the score they already know rather than a bare feature name.
    """
    if signal == RULE_HEALTH:
        value = row.get(RULE_HEALTH)
        return (
            None if value is None or math.isnan(value) else f"Rule-based health score {value:.0f}"
        )
    try:
        return scoring_describe(signal, row)
    except (KeyError, TypeError, ValueError):
        return None


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "no data"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if value == int(value):
        return f"{int(value)}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def reason_text(
    signal: str, value: float, baseline: float, row: Mapping[str, float | None] | None = None
) -> str:
    """Scoring's sentence when it has one ("Executive sponsor silent for 52 days"), else
    "Seat saturation days 12 against a typical 40"."""
    change = _CHANGE.fullmatch(signal)
    if change is not None:
        base, days = change.group(1), change.group(2)
        level = (describe(base, row) if row is not None else None) or signal_label(base)
        if math.isnan(value):
            return f"{level} (no value {days} days ago to compare with)"
        word = "up" if value > 0 else "down" if value < 0 else "unchanged"
        amount = "" if value == 0 else f" {_fmt(abs(value))}"
        return f"{level} ({word}{amount} in {days} days)"
    if row is not None:
        sentence = describe(signal, row)
        if sentence:
            return sentence
    label = "Rule-based health score" if signal == RULE_HEALTH else signal_label(signal)
    if math.isnan(value):
        return f"{label}: no data (typical {_fmt(baseline)})"
    return f"{label} {_fmt(value)} against a typical {_fmt(baseline)}"


#: Signals that say when, not why: shown as context beside the reasons, never as a cause.
TIMING_SIGNALS = ("days_to_renewal",)


def feature_groups(features: Sequence[str]) -> list[list[int]]:
    """Column indices grouped by base signal: a signal and its 28/84-day changes move
    together in a reason ("Logins down 40% (down 12 in 28 days)")."""
    groups: dict[str, list[int]] = {}
    for j, name in enumerate(features):
        match = _CHANGE.fullmatch(name)
        groups.setdefault(match.group(1) if match else name, []).append(j)
    return list(groups.values())


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def logit_contributions(
    model: ChurnModel,
    X: np.ndarray,
    groups: list[list[int]] | None = None,
    *,
    permutations: int = 6,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shapley-style contributions of each feature group to each account's log-odds.

    Interventional Shapley values estimated by permutation sampling: for each random
    order of the groups (and its reverse: antithetic pairs halve the variance), the
    baseline row (every feature at its training median) takes the account's values one
    group at a time, and each group is credited with the change in log-odds its step
    caused. Every order's credits telescope to logit(risk) − logit(baseline risk), so the
    average over orders does too: contributions add up exactly (the efficiency property),
    whatever the number of orders. Vectorised over accounts: one predict call per group
    per order.

    Returns (contributions n × groups, baseline log-odds n, account log-odds n)."""
    groups = groups if groups is not None else feature_groups(model.features)
    n, k = X.shape[0], len(groups)
    baseline_row = np.asarray(model.baselines, dtype=np.float64)
    start = np.tile(baseline_row, (n, 1))
    base = _logit(model.predict_risk(start))
    full = _logit(model.predict_risk(X))
    out = np.zeros((n, k))
    if n == 0 or k == 0:
        return out, base, full
    rng = np.random.default_rng(seed)
    pairs = max(1, permutations // 2)
    # groups where no account differs from the baseline contribute nothing: skip them
    moving = [g for g, cols in enumerate(groups) if not np.all(X[:, cols] == baseline_row[cols])]
    orders = []
    for _ in range(pairs):
        order = list(rng.permutation(moving))
        orders.extend([order, order[::-1]])
    for order in orders:
        work = start.copy()
        previous = base
        for g in order:
            cols = groups[g]
            work[:, cols] = X[:, cols]
            current = _logit(model.predict_risk(work))
            out[:, g] += current - previous
            previous = current
        # the last step reaches X exactly, so the telescoped sum is full − base
    out /= len(orders)
    return out, base, full


def impacts(model: ChurnModel, X: np.ndarray, risk: np.ndarray | None = None) -> np.ndarray:
    """n_accounts × n_features impacts in probability points (×100) that add up exactly
    to (risk − baseline risk) × 100: each group's Shapley log-odds share of the change,
    credited to the group's first column (`logit_contributions`)."""
    groups = feature_groups(model.features)
    contributions, base, full = logit_contributions(model, X, groups)
    points = _to_points(contributions, base, full)
    out = np.zeros(X.shape, dtype=np.float64)
    for g, cols in enumerate(groups):
        out[:, cols[0]] = points[:, g]
    return out


def _to_points(contributions: np.ndarray, base: np.ndarray, full: np.ndarray) -> np.ndarray:
    """Log-odds contributions → probability points, additive: each group's share of the
    log-odds change times the probability change (× 100)."""
    change = (1 / (1 + np.exp(-full)) - 1 / (1 + np.exp(-base))) * 100.0
    total = contributions.sum(axis=1)
    safe = np.where(np.abs(total) > 1e-12, total, 1.0)
    share = np.where(np.abs(total[:, None]) > 1e-12, contributions / safe[:, None], 0.0)
    return share * change[:, None]


def model_reasons(
    model: ChurnModel,
    X: np.ndarray,
    risk: np.ndarray | None = None,
    *,
    top: int = 5,
    min_points: float = 0.5,
    rows: Sequence[Mapping[str, float | None]] | None = None,
) -> list[list[dict[str, Any]]]:
    """Up to `top` causes per account, sorted by |impact|, ignoring tiny ones, then the
    timing context ("Renewal in 45 days", `kind` "context") when the model used it.

    Each reason carries `impact` (probability points) and `log_odds` (its Shapley
    contribution); over all groups these add up exactly to the change from the baseline
    account (every signal at its training median), so the shown causes are a true part of
    the whole. `rows` (each account's full signal row) lets the text use scoring's
    sentences. `baseline` is the value the signal was compared with (the training median).
    """
    if X.shape[0] == 0:
        return []
    groups = feature_groups(model.features)
    contributions, base, full = logit_contributions(model, X, groups)
    points = _to_points(contributions, base, full)
    lead = [cols[0] for cols in groups]
    timing = [g for g, j in enumerate(lead) if model.features[j] in TIMING_SIGNALS]
    cause = np.ones(len(groups), dtype=bool)
    cause[timing] = False
    ranked = np.where(cause[None, :], np.abs(points), -1.0)
    order = np.argsort(-ranked, axis=1, kind="stable")[:, :top]
    result: list[list[dict[str, Any]]] = []
    for i in range(X.shape[0]):
        reasons = []
        for g in order[i]:
            if not cause[g] or abs(points[i, g]) < min_points:
                break
            reasons.append(_reason(model, X, i, lead[g], points[i, g], contributions[i, g], rows))
        for g in timing:
            item = _reason(model, X, i, lead[g], points[i, g], contributions[i, g], rows)
            if item["value"] is not None:
                item["kind"] = "context"
                reasons.append(item)
        result.append(reasons)
    return result


def _reason(
    model: ChurnModel,
    X: np.ndarray,
    i: int,
    j: int,
    impact: float,
    log_odds: float,
    rows: Sequence[Mapping[str, float | None]] | None,
) -> dict[str, Any]:
    value = float(X[i, j])
    baseline = float(model.baselines[j])
    if math.isnan(value) or value == baseline:
        direction = "flat"
    else:
        direction = "up" if value > baseline else "down"
    signal = model.features[j]
    return {
        "signal": signal,
        "value": None if math.isnan(value) else value,
        "baseline": baseline,
        "direction": direction,
        "impact": round(float(impact), 2),
        "log_odds": round(float(log_odds), 4),
        "kind": "cause",
        "text": reason_text(signal, value, baseline, rows[i] if rows else None),
    }
