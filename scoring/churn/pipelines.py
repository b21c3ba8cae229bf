"""The candidate classifiers and their calibration.

- Logistic regression: median imputation with missing-value indicators, standard scaling,
  L2-regularised, `class_weight="balanced"` for the rare churn class.
- Histogram gradient boosting: handles missing values natively (a learned branch for NaN is
  better than an imputed median for trees), shallow trees, L2 leaf regularisation. 100
  trees at a learning rate of 0.1 backtest the same as 200 at 0.05 on six demo seeds (ROC
  AUC within 0.001, PR AUC within 0.011) at half the fitting and predicting time, which
  cross-fitting needs to keep 500k rows within 2 minutes. Its
  imbalance is handled by the log-loss itself plus the calibration, not by class weights:
  any sample weight sends scikit-learn's histogram builder down a path measured 7× slower
  (40k rows × 88 features: 12.6 s against 1.8 s of CPU), which alone would break the
  500k-rows-in-2-minutes target, while account-grouped cross-validation on the demo
  portfolio gave the same ROC/PR AUC with and without `class_weight="balanced"`.
  Feedback weights (`labels.apply_feedback`) are still passed when any row has one.

Stacking on the rule-based health: the features include scoring's rule health
(`snapshots.RULE_HEALTH`), and the calibration step is a logistic regression over the
model's log-odds and the rules' log-odds. Trees given the health only as one feature among
~90 under-used it on churns of a kind rare in the training window; the meta-learner keeps
the experts' ranking where the model is unsure. Measured by `csbot backtest` (90 days) on
demo seeds 7, 11 and 23, fitting that step on one 20% hold-out of accounts
(`AnchoredCalibration`) lifted ROC AUC from 0.980/0.952/0.961 to 0.988/0.955/0.983; fitting
it on out-of-fold predictions over two account folds (`CrossFittedStack`, the default)
gives 0.990/0.957/0.990 and PR AUC 0.917/0.933/0.911 (hold-out: 0.892/0.921/0.881), and on
three seeds never used while tuning (31, 41, 53) ROC 0.996/0.986/0.996 against the hold-out's
0.992/0.984/0.987 and the rules' 0.978/0.948/0.986. A hold-out sees a handful of churned
accounts, so the weight it gives the rules swings between retrains.

Class weighting distorts probabilities, so every candidate is calibrated with a sigmoid
(`CalibratedClassifierCV` over the frozen fitted pipeline) on accounts held out from the
fit. Holding out whole accounts (not random rows) matters: weekly snapshots of one account
are near duplicates, and calibrating on rows the model has effectively seen would make the
probabilities over-confident.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits


def logistic_regression(random_state: int = 0) -> Pipeline:
    return Pipeline(
        [
            (
                "impute",
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            ),
            ("scale", StandardScaler()),
            (
                "model",
                LogisticRegression(
                    C=0.01, class_weight="balanced", max_iter=2000, random_state=random_state
                ),
            ),
        ]
    )


def hist_gradient_boosting(random_state: int = 0) -> Pipeline:
    return Pipeline(
        [
            (
                "model",
                HistGradientBoostingClassifier(
                    learning_rate=0.1,
                    max_iter=100,
                    max_leaf_nodes=7,
                    min_samples_leaf=40,
                    l2_regularization=1.0,
                    early_stopping=False,
                    random_state=random_state,
                ),
            )
        ]
    )


CANDIDATES: dict[str, Callable[[int], Pipeline]] = {
    "logistic_regression": logistic_regression,
    "hist_gradient_boosting": hist_gradient_boosting,
}


class CalibrationError(ValueError):
    """Too few positives among the held-out accounts to fit a calibration."""


def calibration_split(
    y: np.ndarray, groups: np.ndarray, share: float, random_state: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (fit, calibrate): whole accounts held out, stratified by label."""
    n_splits = max(2, round(1 / share))
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    with warnings.catch_warnings():  # few churned accounts: fewer than n_splits is fine
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        fit_idx, cal_idx = next(splitter.split(np.zeros((y.size, 1)), y, groups))
    return fit_idx, cal_idx


class AnchoredCalibration(ClassifierMixin, BaseEstimator):
    """Calibration that stacks the fitted model on an anchor score (the rule-based health).

    A logistic regression on held-out accounts over two inputs: the logit of the fitted
    model's probability and the anchor column (health / 100). With the anchor's weight at
    zero it is exactly Platt's sigmoid calibration; otherwise it learns how much of the
    experts' score the model has not already absorbed. The base model is frozen.
    """

    def __init__(self, model: Pipeline, anchor: int, fill: float = 0.5) -> None:
        self.model = model
        self.anchor = anchor
        self.fill = fill

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        # Both inputs on the log-odds scale: the rules' risk is 1 − health / 100.
        return np.column_stack(
            [
                _logit(self.model.predict_proba(X)[:, 1]),
                _anchor_logit(X, self.anchor, self.fill),
            ]
        )

    def fit(
        self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> AnchoredCalibration:
        self.meta_ = LogisticRegression(C=1.0, max_iter=1000)
        self.meta_.fit(self._inputs(X), y, sample_weight=sample_weight)
        self.classes_ = self.meta_.classes_
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.meta_.predict_proba(self._inputs(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _anchor_logit(X: np.ndarray, anchor: int, fill: float) -> np.ndarray:
    """The rules' risk on the log-odds scale: logit(1 − health / 100); missing → `fill`."""
    health = np.asarray(X[:, anchor], dtype=np.float64) / 100.0
    health = np.clip(np.where(np.isfinite(health), health, fill), 0.01, 0.99)
    return np.log((1 - health) / health)


class CrossFittedStack(ClassifierMixin, BaseEstimator):
    """K copies of a pipeline, each fitted on the other folds' accounts; a logistic
    meta-learner fitted on every row's out-of-fold log-odds (and the anchor's, when given).

    Against one calibration hold-out, every churned account informs the meta-learner
    (a hold-out of 20% of accounts sees a handful of churns, so the weight it gives the
    rules swings from one retrain to the next), and every row trains K − 1 of the K models.
    The cost is K fits on (K − 1)/K of the rows. Predictions average the K models'
    log-odds, then apply the meta-learner. Without an anchor this is Platt scaling on
    out-of-fold predictions.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        folds: int = 2,
        anchor: int | None = None,
        fill: float = 0.5,
        random_state: int = 0,
    ) -> None:
        self.pipeline = pipeline
        self.folds = folds
        self.anchor = anchor
        self.fill = fill
        self.random_state = random_state

    def _inputs(self, model_logit: np.ndarray, X: np.ndarray) -> np.ndarray:
        if self.anchor is None:
            return model_logit[:, None]
        return np.column_stack([model_logit, _anchor_logit(X, self.anchor, self.fill)])

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> CrossFittedStack:
        splitter = StratifiedGroupKFold(
            n_splits=self.folds, shuffle=True, random_state=self.random_state
        )
        out_of_fold = np.zeros(y.size, dtype=np.float64)
        self.models_: list[Pipeline] = []
        weighted = sample_weight is not None and not np.all(sample_weight == 1.0)
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="The least populated class", category=UserWarning
            )
            splits = list(splitter.split(np.zeros((y.size, 1)), y, groups))
        for fit_idx, held_idx in splits:
            if len(np.unique(y[fit_idx])) < 2 or len(np.unique(y[held_idx])) < 2:
                raise CalibrationError(
                    f"too few churned accounts to split them into {self.folds} folds"
                )
            model = clone(self.pipeline)
            if weighted:
                assert sample_weight is not None
                model.fit(X[fit_idx], y[fit_idx], model__sample_weight=sample_weight[fit_idx])
            else:
                model.fit(X[fit_idx], y[fit_idx])
            out_of_fold[held_idx] = _logit(model.predict_proba(X[held_idx])[:, 1])
            self.models_.append(model)
        self.meta_ = LogisticRegression(C=1.0, max_iter=1000)
        self.meta_.fit(self._inputs(out_of_fold, X), y, sample_weight=sample_weight)
        self.classes_ = self.meta_.classes_
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        model_logit = np.mean([_logit(m.predict_proba(X)[:, 1]) for m in self.models_], axis=0)
        return self.meta_.predict_proba(self._inputs(model_logit, X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def fit_calibrated(
    algorithm: str,
    X: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    groups: np.ndarray,
    *,
    calibration_share: float,
    random_state: int = 0,
    threads: int | None = 1,
    anchor: int | None = None,
    folds: int = 0,
) -> ClassifierMixin:
    """Fit `algorithm` on most accounts, then a sigmoid calibration on the held-out ones
    (stacked on the rule-based health when `anchor`, its column, is given).

    `threads` caps OpenMP threads (gradient boosting): on a small shared machine two
    spinning OpenMP threads competing with other processes can be several times slower
    than one.
    """
    if algorithm not in CANDIDATES:
        known = ", ".join(CANDIDATES)
        raise ValueError(f"unknown algorithm {algorithm!r} (known: {known})")
    if folds >= 2:
        stack = CrossFittedStack(
            CANDIDATES[algorithm](random_state), folds, anchor, random_state=random_state
        )
        with threadpool_limits(limits=threads, user_api="openmp"):
            return stack.fit(X, y, groups, sample_weight=weight)
    fit_idx, cal_idx = calibration_split(y, groups, calibration_share, random_state)
    if len(np.unique(y[cal_idx])) < 2 or len(np.unique(y[fit_idx])) < 2:
        raise CalibrationError("too few churned accounts to hold some out for calibration")
    pipeline = CANDIDATES[algorithm](random_state)
    calibrated: ClassifierMixin
    if anchor is not None:
        calibrated = AnchoredCalibration(pipeline, anchor)
    else:
        calibrated = CalibratedClassifierCV(FrozenEstimator(pipeline), method="sigmoid")
    with threadpool_limits(limits=threads, user_api="openmp"), warnings.catch_warnings():
        fit_weight = weight[fit_idx]
        if np.all(fit_weight == 1.0):
            pipeline.fit(X[fit_idx], y[fit_idx])
        else:
            pipeline.fit(X[fit_idx], y[fit_idx], model__sample_weight=fit_weight)
        # The frozen pipeline is not refitted, so weights apply to the sigmoid only: intended.
        warnings.filterwarnings("ignore", message="Since FrozenEstimator", category=UserWarning)
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        calibrated.fit(X[cal_idx], y[cal_idx], sample_weight=weight[cal_idx])
    return calibrated
