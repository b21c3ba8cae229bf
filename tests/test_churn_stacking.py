"""Stacking on the rule-based health: the column, its calibration and its reasons."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import roc_auc_score

from scoring.churn.artefact import ChurnModel, dump_model, load_model
from scoring.churn.pipelines import (
    AnchoredCalibration,
    CalibrationError,
    CrossFittedStack,
    fit_calibrated,
)
from scoring.churn.reasons import reason_text
from scoring.churn.snapshots import RULE_HEALTH, TRAJECTORY_SIGNALS, with_rule_health
from scoring.service import frame_health, resolve_config
from scoring.signals import SignalFrame


def _scoring_frame(n: int = 6) -> SignalFrame:
    config = resolve_config(None)
    rng = np.random.default_rng(3)
    names = [*config.signals, "extra"]
    values = rng.uniform(0, 100, size=(n, len(names)))
    values[0, :] = np.nan  # an account with no data at all
    ids = [f"a{i}" for i in range(n)]
    return SignalFrame(dt.date(2026, 6, 1), ids, names, values, {"segment": [None] * n})


def test_rule_health_column_is_scorings_health() -> None:
    frame = _scoring_frame()
    out = with_rule_health(frame)
    assert out.names == [*frame.names, RULE_HEALTH]
    expected = np.asarray(frame_health(frame, resolve_config(None)).health, dtype=float)
    np.testing.assert_allclose(out.values[:, -1], expected)
    np.testing.assert_array_equal(out.values[:, :-1], frame.values)
    assert with_rule_health(out) is out  # already there: unchanged
    assert RULE_HEALTH in TRAJECTORY_SIGNALS  # its 28/84-day change is a feature too


def test_frames_without_the_rule_signals_are_left_alone() -> None:
    frame = SignalFrame(dt.date(2026, 6, 1), ["a"], ["logins_30d"], np.array([[3.0]]))
    assert with_rule_health(frame) is frame


def _problem(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Known answer: churn log-odds = the rules' log-odds + a usage effect."""
    rng = np.random.default_rng(seed)
    health = rng.uniform(5, 95, size=n)
    usage = rng.normal(size=n)
    rules_logit = np.log((100 - health) / health)
    logit = -2.0 + 1.5 * rules_logit - 1.0 * usage
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < p).astype(np.int64)
    X = np.column_stack([usage, rng.normal(size=n), health])
    return X, y, p, np.repeat(np.arange(n // 10), 10)


@pytest.mark.parametrize("algorithm", ["logistic_regression", "hist_gradient_boosting"])
def test_anchored_calibration_is_calibrated_and_ranks_well(algorithm: str) -> None:
    X, y, _, groups = _problem(8_000, seed=1)
    model = fit_calibrated(
        algorithm, X, y, np.ones(y.size), groups, calibration_share=0.25, anchor=2
    )
    assert isinstance(model, AnchoredCalibration)
    X_test, y_test, p_test, _ = _problem(6_000, seed=2)
    risk = model.predict_proba(X_test)[:, 1]
    assert risk.mean() == pytest.approx(p_test.mean(), abs=0.015)
    assert np.mean((risk - y_test) ** 2) < np.mean((p_test - y_test) ** 2) * 1.06
    assert roc_auc_score(y_test, risk) > roc_auc_score(y_test, p_test) - 0.01
    assert model.predict(X_test).shape == y_test.shape


def test_anchored_calibration_tolerates_missing_health_and_pickles() -> None:
    X, y, _, groups = _problem(3_000, seed=4)
    estimator = fit_calibrated(
        "logistic_regression", X, y, np.ones(y.size), groups, calibration_share=0.25, anchor=2
    )
    model = ChurnModel("logistic_regression", ["usage", "noise", RULE_HEALTH], np.zeros(3), 90,
                       estimator)  # fmt: skip
    X_new = X[:5].copy()
    X_new[0, 2] = np.nan
    again = load_model(dump_model(model))
    risk = again.predict_risk(X_new)
    assert np.all(np.isfinite(risk)) and np.all((risk > 0) & (risk < 1))
    np.testing.assert_allclose(risk, model.predict_risk(X_new))


def test_without_an_anchor_calibration_is_the_plain_sigmoid() -> None:
    X, y, _, groups = _problem(3_000, seed=4)
    model = fit_calibrated("logistic_regression", X, y, np.ones(y.size), groups,
                           calibration_share=0.25)  # fmt: skip
    assert isinstance(model, CalibratedClassifierCV)


def test_health_reasons_read_as_the_health_score() -> None:
    row = {RULE_HEALTH: 48.0}
    assert reason_text(RULE_HEALTH, 48.0, 70.0, row) == "Rule-based health score 48"
    assert (
        reason_text(f"{RULE_HEALTH}_change_28d", -14.0, 0.0, row)
        == "Rule-based health score 48 (down 14 in 28 days)"
    )
    assert reason_text(RULE_HEALTH, 48.0, 70.0) == "Rule-based health score 48 against a typical 70"


@pytest.mark.parametrize("algorithm", ["logistic_regression", "hist_gradient_boosting"])
def test_cross_fitted_stack_is_calibrated_and_ranks_well(algorithm: str) -> None:
    X, y, _, groups = _problem(8_000, seed=1)
    model = fit_calibrated(
        algorithm, X, y, np.ones(y.size), groups, calibration_share=0.25, anchor=2, folds=2
    )
    assert isinstance(model, CrossFittedStack) and len(model.models_) == 2
    X_test, y_test, p_test, _ = _problem(6_000, seed=2)
    risk = model.predict_proba(X_test)[:, 1]
    assert risk.mean() == pytest.approx(p_test.mean(), abs=0.015)
    assert np.mean((risk - y_test) ** 2) < np.mean((p_test - y_test) ** 2) * 1.06
    assert roc_auc_score(y_test, risk) > roc_auc_score(y_test, p_test) - 0.01
    assert model.meta_.coef_.shape == (1, 2)  # the model's log-odds and the rules'
    assert model.meta_.coef_[0, 0] > 0.5


def test_the_meta_learner_sees_only_out_of_fold_predictions() -> None:
    """On labels that are pure noise, boosting fits its own rows well; a meta-learner fitted
    on those in-fold predictions would trust it. Out of fold, it learns to ignore it."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(4_000, 5))
    y = (rng.random(4_000) < 0.2).astype(np.int64)
    groups = np.repeat(np.arange(400), 10)
    stack = fit_calibrated("hist_gradient_boosting", X, y, np.ones(y.size), groups,
                           calibration_share=0.25, folds=2)  # fmt: skip
    in_fold = stack.models_[0].predict_proba(X)[:, 1]
    assert roc_auc_score(y, in_fold) > 0.6  # it memorised its half of the rows
    assert abs(float(stack.meta_.coef_[0, 0])) < 0.3
    risk = stack.predict_proba(X)[:, 1]
    assert risk.std() < 0.05 and risk.mean() == pytest.approx(y.mean(), abs=0.02)


def test_cross_fitted_stack_without_anchor_pickles_and_refuses_too_few_churns() -> None:
    X, y, _, groups = _problem(3_000, seed=4)
    estimator = fit_calibrated("logistic_regression", X, y, np.ones(y.size), groups,
                               calibration_share=0.25, folds=2)  # fmt: skip
    assert estimator.meta_.coef_.shape == (1, 1)  # Platt scaling on out-of-fold predictions
    model = ChurnModel("logistic_regression", ["usage", "noise", "h"], np.zeros(3), 90, estimator)
    np.testing.assert_allclose(load_model(dump_model(model)).predict_risk(X[:9]),
                               model.predict_risk(X[:9]))  # fmt: skip
    y_one = np.zeros_like(y)
    y_one[:10] = 1  # one churned account: cannot sit on both sides of two folds
    with pytest.raises(CalibrationError, match="2 folds"):
        fit_calibrated("logistic_regression", X, y_one, np.ones(y.size), groups,
                       calibration_share=0.25, folds=2)  # fmt: skip


def test_the_teams_scoring_config_feeds_the_models_rule_health(tmp_path) -> None:
    """Nightly scoring and training compute the rule-health column with CSBOT_SCORING_CONFIG,
    not the shipped defaults: the model must see the health the team's CSMs see."""
    from sklearn.linear_model import LogisticRegression

    from scoring.churn.apply import predict_frame
    from scoring.config import load_config

    override = tmp_path / "scoring.yml"
    override.write_text(
        "dimensions: {engagement: 0.9, relationship: 0.05, support: 0.03, contract: 0.02}\n"
    )
    custom = load_config(override)
    frame = _scoring_frame(40)
    default_health = with_rule_health(frame).values[:, -1]
    custom_health = with_rule_health(frame, custom).values[:, -1]
    assert not np.allclose(default_health[1:], custom_health[1:])

    health = np.linspace(0, 100, 50)[:, None]
    estimator = LogisticRegression().fit(health, (health[:, 0] < 50).astype(int))
    model = ChurnModel("logistic_regression", [RULE_HEALTH], np.array([50.0]), 90, estimator)
    risk, reasons = predict_frame(model, frame, config=custom)
    expected = model.predict_risk(custom_health[:, None])
    np.testing.assert_allclose(risk, expected)
    assert not np.allclose(risk, model.predict_risk(default_health[:, None]))
    told = {i: r["value"] for i, rs in enumerate(reasons) for r in rs if r["signal"] == RULE_HEALTH}
    assert told  # and the reasons quote the team's health, not the default one
    for i, value in told.items():
        assert value == pytest.approx(custom_health[i])
