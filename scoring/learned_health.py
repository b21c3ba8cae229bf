"""A health score learned from the team's own outcomes, still 0–100 with additive reasons.

The shipped health score weighs signals by the YAML's judgement. Once a portfolio's
history holds enough churn (`min_churned` accounts, 20 by default), the same form is fitted
on it instead:

    g_i(x)  = the signal's learned shape: an isotonic (monotone) fit of "did not churn
              within the horizon" on the signal, in the direction the YAML gives it
              (`bad` → `good`), rescaled to 0..1 goodness
    logit P(churn) = b + Σ β_i (0.5 − g_i),  β_i ≥ 0 (a constrained logistic regression)
    health  = 100 × Σ w_i g_i / Σ w_i over the signals an account has, w_i = β_i / Σ β

so health stays monotone in every signal in its known direction, missing signals drop out
as in the rules (`scoring.health`), and each reason's impact 100 × (w_i / W) × (g_i − 0.5)
still sums exactly to health − 50. The weights are fitted with missing values at the
neutral 0.5, the exact counterpart of dropping them from the logistic sum.

Held-out quality comes from account-grouped cross-validation (`fit_with_validation`):
shapes and weights are refitted without each fold's accounts and score them; the at-risk
and critical lines are chosen on those held-out health values for the team's precisions
(`scoring.churn.thresholds.health_line_for_precision`), falling back to the YAML's 60/40,
lowered where 60 would flag more accounts than churn (`thresholds.capped_line`).

Segment overrides still apply, as they do to the rules' health: a segment that weighs a
signal (or a dimension) differently from the base YAML scales the learned weight by the
same ratio (segment weight / base weight, both normalised as `scoring.health` does), so a
segment that sets a signal's weight to 0 drops it and one that doubles a dimension doubles
its learned share. A signal the base YAML weighs at 0 keeps its learned weight. Edge
overrides (`good`/`bad`) do not apply: the learned shapes replace the edges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

from scoring.churn.thresholds import capped_line, health_line_for_precision
from scoring.config import Bands, ScoringConfig
from scoring.health import NEUTRAL_POINT, HealthResult, health_signals, segment_weights

DEFAULT_MIN_CHURNED = 20


@dataclass
class SignalShape:
    """A monotone map of one signal to 0..1 goodness: knots of an isotonic fit."""

    x: np.ndarray
    g: np.ndarray

    def __call__(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        out = np.interp(np.nan_to_num(values, nan=0.0), self.x, self.g)
        return np.where(np.isnan(values), np.nan, out)


@dataclass
class LearnedHealth:
    """Learned shapes and weights (`weights` sum to 1; zero for signals with no signal)."""

    signals: list[str]
    shapes: dict[str, SignalShape]
    weights: np.ndarray
    intercept: float
    scale: float  # Σ β: the logit change from all-bad to all-good is `scale`
    n_rows: int = 0
    n_churned: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    #: Health lines chosen for the team's precision (None: the configured bands apply).
    at_risk_line: float | None = None
    critical_line: float | None = None

    def goodness(self, columns: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """n × signals goodness in 0..1; NaN where the account has no value."""
        g = np.full((n, len(self.signals)), np.nan)
        for j, name in enumerate(self.signals):
            if name in self.shapes and name in columns:
                g[:, j] = self.shapes[name](np.asarray(columns[name], dtype=np.float64))
        return g

    def scores(
        self,
        columns: Mapping[str, np.ndarray],
        n: int,
        segments: Sequence[str | None] | None = None,
        config: ScoringConfig | None = None,
    ) -> HealthResult:
        """Health and per-signal impacts (same form as `scoring.health.health_scores`);
        with `segments` and `config`, each segment's overrides scale the learned weights."""
        g = self.goodness(columns, n)
        if segments is None or config is None or not config.segments:
            return _health_from_goodness(g, self.weights, self.signals)
        health = np.zeros(n)
        impacts = np.zeros((n, len(self.signals)))
        labels = np.array([s or "" for s in segments], dtype=object)
        for segment in set(labels.tolist()):
            rows = np.flatnonzero(labels == segment)
            weights = self.weights * segment_factors(self.signals, config, segment or None)
            part = _health_from_goodness(g[rows], weights, self.signals)
            health[rows], impacts[rows] = part.health, part.impacts
        return HealthResult(health=health, impacts=impacts, signals=list(self.signals))


def segment_factors(
    signals: Sequence[str], config: ScoringConfig, segment: str | None
) -> np.ndarray:
    """Per signal: the segment's YAML weight over the base YAML weight (1 where the base
    weighs it 0 or the segment has no override)."""
    if not segment or segment not in config.segments:
        return np.ones(len(signals))
    names = health_signals(config)
    base, _ = segment_weights(config, None)
    own, _ = segment_weights(config, segment)
    index = {name: i for i, name in enumerate(names)}
    out = np.ones(len(signals))
    for j, name in enumerate(signals):
        i = index.get(name)
        if i is not None and base[i] > 0:
            out[j] = own[i] / base[i]
    return out


def _health_from_goodness(g: np.ndarray, weights: np.ndarray, names: list[str]) -> HealthResult:
    present = ~np.isnan(g) & (weights[None, :] > 0)
    w = np.where(present, weights[None, :], 0.0)
    total = w.sum(axis=1, keepdims=True)
    share = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
    impacts = 100.0 * share * (np.nan_to_num(g, nan=0.5) - 0.5)
    health = NEUTRAL_POINT + impacts.sum(axis=1)
    return HealthResult(health=np.clip(health, 0.0, 100.0), impacts=impacts, signals=list(names))


def fit_shape(values: np.ndarray, y: np.ndarray, increasing: bool) -> SignalShape | None:
    """Isotonic fit of "did not churn" on the signal (monotone in the known direction),
    rescaled so the worst value maps to 0 and the best to 1; None without information."""
    known = ~np.isnan(values)
    if known.sum() < 20 or len(np.unique(values[known])) < 2:
        return None
    iso = IsotonicRegression(increasing=increasing, out_of_bounds="clip")
    iso.fit(values[known], 1.0 - y[known])
    x = np.asarray(iso.X_thresholds_, dtype=np.float64)
    g = np.asarray(iso.y_thresholds_, dtype=np.float64)
    # Rescale on the fitted values of the middle 90% of rows: the isotonic fit's extreme
    # steps sit on a handful of rows at either end and would set the scale by noise.
    fitted = iso.predict(values[known])
    low, high = (float(v) for v in np.percentile(fitted, [5, 95]))
    if high - low < 1e-9:
        return None
    return SignalShape(x=x, g=np.clip((g - low) / (high - low), 0.0, 1.0))


def _fit_weights(
    Z: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, l2: float
) -> tuple[np.ndarray, float]:
    """Logistic regression of y on Z (columns 0.5 − g) with coefficients ≥ 0 (L-BFGS-B)."""
    n, k = Z.shape
    sw = sample_weight / sample_weight.mean()

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        b, beta = theta[0], theta[1:]
        z = b + Z @ beta
        p = 1.0 / (1.0 + np.exp(-z))
        value = float(np.sum(sw * (np.logaddexp(0.0, z) - y * z)) / n + l2 * beta @ beta)
        residual = sw * (p - y) / n
        grad = np.concatenate([[residual.sum()], Z.T @ residual + 2 * l2 * beta])
        return value, grad

    rate = np.clip(y.mean(), 1e-4, 1 - 1e-4)
    start = np.concatenate([[np.log(rate / (1 - rate))], np.full(k, 0.1)])
    bounds = [(None, None)] + [(0.0, None)] * k
    result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
    return np.asarray(result.x[1:], dtype=np.float64), float(result.x[0])


def fit_learned_health(
    columns: Mapping[str, np.ndarray],
    y: np.ndarray,
    config: ScoringConfig,
    *,
    sample_weight: np.ndarray | None = None,
    l2: float = 1e-4,
    shapes: bool = True,
) -> LearnedHealth:
    """Fit shapes and weights on labelled rows (`columns`: signal name → values).

    `shapes=False` keeps the YAML's linear goodness and learns only the weights."""
    names = [name for name in config.signals if name in columns]
    y = np.asarray(y, dtype=np.float64)
    n = y.size
    fitted: dict[str, SignalShape] = {}
    for name in names:
        norm = config.signals[name]
        values = np.asarray(columns[name], dtype=np.float64)
        if shapes:
            shape = fit_shape(values, y, increasing=norm.good > norm.bad)
        else:
            lo, hi = sorted((norm.bad, norm.good))
            shape = SignalShape(
                x=np.array([lo, hi]),
                g=np.array([0.0, 1.0]) if norm.good > norm.bad else np.array([1.0, 0.0]),
            )
        if shape is not None:
            fitted[name] = shape
    model = LearnedHealth(
        signals=names, shapes=fitted, weights=np.zeros(len(names)), intercept=0.0, scale=0.0
    )
    g = model.goodness(columns, n)
    Z = 0.5 - np.nan_to_num(g, nan=0.5)
    weight = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    beta, intercept = _fit_weights(Z, y, weight, l2)
    scale = float(beta.sum())
    model.weights = beta / scale if scale > 0 else np.zeros(len(names))
    model.intercept = intercept
    model.scale = scale
    model.n_rows = n
    return model


def fit_with_validation(
    columns: Mapping[str, np.ndarray],
    y: np.ndarray,
    groups: np.ndarray,
    config: ScoringConfig,
    *,
    default_health: np.ndarray,
    at_risk_precision: float | None,
    critical_precision: float | None,
    folds: int = 5,
    random_state: int = 0,
    sample_weight: np.ndarray | None = None,
) -> tuple[LearnedHealth, np.ndarray]:
    """The learned health fitted on every row, with its account-grouped cross-validated
    health per row (returned), ROC AUC of learned and default health on those rows, and
    the lines chosen on the held-out values."""
    y = np.asarray(y, dtype=np.int64)
    churned = set(np.asarray(groups)[y == 1].tolist())
    ever = np.fromiter((g in churned for g in groups), bool, y.size)
    held = np.full(y.size, np.nan)
    k = max(2, min(folds, len(churned)))
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=random_state)
    for fit_idx, held_idx in splitter.split(np.zeros((y.size, 1)), ever, groups):
        part = fit_learned_health(
            {name: np.asarray(v)[fit_idx] for name, v in columns.items()},
            y[fit_idx],
            config,
            sample_weight=None if sample_weight is None else sample_weight[fit_idx],
        )
        held[held_idx] = part.scores(
            {name: np.asarray(v)[held_idx] for name, v in columns.items()}, held_idx.size
        ).health
    model = fit_learned_health(columns, y, config, sample_weight=sample_weight)
    model.n_churned = len(churned)
    both = 0 < y.sum() < y.size
    model.metrics = {
        "validation_method": f"{k}-fold account-grouped cross-validation",
        "roc_auc_learned": float(roc_auc_score(y, -held)) if both else None,
        "roc_auc_default": float(roc_auc_score(y, -default_health)) if both else None,
    }
    if at_risk_precision:
        model.at_risk_line = health_line_for_precision(y, held, at_risk_precision)
        if model.at_risk_line is None:
            # No line reaches the precision: the 60 fallback may not flag more than churn.
            model.at_risk_line = capped_line(None, config.bands.neutral, y, held)
            if critical_precision:
                model.critical_line = capped_line(None, config.bands.at_risk, y, held, 0.5)
    if critical_precision and model.critical_line is None:
        model.critical_line = health_line_for_precision(y, held, critical_precision)
    return model, held


def lines_to_bands(bands: Bands, at_risk_line: float | None, critical_line: float | None) -> Bands:
    """The configured bands with the chosen lines: `at_risk_line` is where "at risk"
    starts (the YAML's `neutral`, 60) and `critical_line` where "critical" starts (its
    `at_risk`, 40). Kept ordered: healthy > neutral > at_risk."""
    neutral = bands.neutral if at_risk_line is None else round(float(at_risk_line), 2)
    critical = bands.at_risk if critical_line is None else round(float(critical_line), 2)
    neutral = min(max(neutral, 1.0), 99.0)
    critical = min(critical, neutral - 0.5)
    healthy = max(bands.healthy, neutral + 0.5)
    return Bands(healthy=min(healthy, 100.0), neutral=neutral, at_risk=max(critical, 0.0))


def learned_columns(
    names: Sequence[str], X: np.ndarray, wanted: Sequence[str]
) -> dict[str, np.ndarray]:
    """Named columns of a stacked matrix (the health signals among `names`)."""
    index = {name: j for j, name in enumerate(names)}
    return {name: X[:, index[name]] for name in wanted if name in index}
