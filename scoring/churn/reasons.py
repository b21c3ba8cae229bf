"""Why the model gives an account its risk: the change in probability when each signal is
set to its baseline (the training median), computed for all accounts at once.

For signal j, every account's row is scored again with column j replaced by the baseline;
impact_j = (risk − risk with j at baseline) × 100, in probability points. A positive impact
means the account's value of j raises its churn risk. One `predict_proba` call per signal
over all accounts keeps it vectorised (signals × one batch, not accounts × signals calls).

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
        from scoring.signals.registry import describe as scoring_describe
    except ImportError:
        return None
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


def impacts(model: ChurnModel, X: np.ndarray, risk: np.ndarray | None = None) -> np.ndarray:
    """n_accounts × n_features matrix of probability-point impacts."""
    if risk is None:
        risk = model.predict_risk(X)
    out = np.zeros(X.shape, dtype=np.float64)
    work = X.copy()
    for j, baseline in enumerate(model.baselines):
        column = work[:, j].copy()
        changed = ~(column == baseline)  # NaN counts as changed (no data vs baseline)
        if not changed.any():
            continue
        work[:, j] = baseline
        out[:, j] = (risk - model.predict_risk(work)) * 100.0
        work[:, j] = column
    return out


def model_reasons(
    model: ChurnModel,
    X: np.ndarray,
    risk: np.ndarray | None = None,
    *,
    top: int = 5,
    min_points: float = 0.5,
    rows: Sequence[Mapping[str, float | None]] | None = None,
) -> list[list[dict[str, Any]]]:
    """Up to `top` reason dicts per account, sorted by |impact|, ignoring tiny ones.

    `rows` (each account's full signal row) lets the text use scoring's sentences, which
    may quote related signals (logins against baseline logins). `baseline` in a reason is
    the value the signal was set to for the comparison (the training median).
    """
    if X.shape[0] == 0:
        return []
    effect = impacts(model, X, risk)
    order = np.argsort(-np.abs(effect), axis=1, kind="stable")[:, :top]
    result: list[list[dict[str, Any]]] = []
    for i in range(X.shape[0]):
        reasons = []
        for j in order[i]:
            impact = float(effect[i, j])
            if abs(impact) < min_points:
                break
            value = float(X[i, j])
            baseline = float(model.baselines[j])
            if math.isnan(value) or value == baseline:
                direction = "flat"
            else:
                direction = "up" if value > baseline else "down"
            signal = model.features[j]
            reasons.append(
                {
                    "signal": signal,
                    "value": None if math.isnan(value) else value,
                    "baseline": baseline,
                    "direction": direction,
                    "impact": round(impact, 2),
                    "text": reason_text(signal, value, baseline, rows[i] if rows else None),
                }
            )
        result.append(reasons)
    return result
