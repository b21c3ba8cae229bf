"""Calibration on a problem with a known answer: logistic ground truth, rare positives.

Class weighting ("balanced") inflates raw scores several-fold; the held-out sigmoid must
bring them back to the true probabilities.
"""

from __future__ import annotations

import numpy as np
import pytest

from scoring.churn.pipelines import fit_calibrated


def _problem(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    logit = -3.0 + 1.2 * X[:, 0] - 0.8 * X[:, 1]
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < p).astype(np.int64)
    groups = np.repeat(np.arange(n // 10), 10)  # ten rows per "account"
    return X, y, p, groups


@pytest.mark.parametrize("algorithm", ["logistic_regression", "hist_gradient_boosting"])
def test_calibrated_probabilities_match_the_truth(algorithm: str) -> None:
    X, y, _, groups = _problem(9_000, seed=1)
    model = fit_calibrated(algorithm, X, y, np.ones(y.size), groups, calibration_share=0.25)
    X_test, y_test, p_test, _ = _problem(6_000, seed=2)
    risk = model.predict_proba(X_test)[:, 1]
    # mean risk matches the base rate (balanced weights alone would put it near 0.5)
    assert risk.mean() == pytest.approx(p_test.mean(), abs=0.015)
    # Brier close to the Brier of the true probabilities
    brier_true = np.mean((p_test - y_test) ** 2)
    brier_model = np.mean((risk - y_test) ** 2)
    assert brier_model < brier_true * 1.06
    # reliability: in each quintile of predicted risk, predicted ≈ true probability
    edges = np.quantile(risk, [0.2, 0.4, 0.6, 0.8])
    bins = np.digitize(risk, edges)
    for b in range(5):
        in_bin = bins == b
        assert risk[in_bin].mean() == pytest.approx(p_test[in_bin].mean(), abs=0.03)


def test_uncalibrated_balanced_scores_would_fail_the_same_check() -> None:
    """The check above can fail: the raw class-weighted pipeline is far off."""
    from scoring.churn.pipelines import logistic_regression

    X, y, _, _ = _problem(12_000, seed=1)
    raw = logistic_regression().fit(X, y)
    X_test, _, p_test, _ = _problem(8_000, seed=2)
    assert raw.predict_proba(X_test)[:, 1].mean() > p_test.mean() + 0.2
