"""The stored form of a trained churn model: the fitted pipeline plus what explains it.

A `ChurnModel` is pickled with joblib into `ModelVersion.blob`. It carries the feature
order it was trained on and each feature's baseline (the training median), so a frame
with more, fewer or reordered signals is aligned by name, and reasons can be computed.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
from threadpoolctl import threadpool_limits


@dataclass
class ChurnModel:
    algorithm: str
    features: list[str]
    baselines: np.ndarray
    horizon_days: int
    estimator: Any  # a fitted scikit-learn classifier with predict_proba
    #: The same recipe fitted only on rows before the validation window (for fair
    #: champion/challenger comparisons on later windows), and its last training snapshot.
    validation_estimator: Any = None
    validation_train_to: dt.date | None = None
    #: The feature order of `validation_estimator`: it was fitted on fewer rows, where
    #: other columns may have been constant and dropped, so it can differ from `features`.
    validation_features: list[str] | None = None
    #: The alert threshold chosen on held-out predictions for the team's precision
    #: (None: the configured `alert_threshold` applies).
    alert_threshold: float | None = None

    def align(self, names: list[str], values: np.ndarray) -> np.ndarray:
        """Columns of `values` (named `names`) in this model's feature order; absent → NaN."""
        index = {name: i for i, name in enumerate(names)}
        out = np.full((values.shape[0], len(self.features)), np.nan, dtype=np.float64)
        for j, name in enumerate(self.features):
            i = index.get(name)
            if i is not None:
                out[:, j] = values[:, i]
        return out

    def validation_view(self) -> ChurnModel | None:
        """This model as it was before seeing its validation window (None if unvalidated)."""
        if self.validation_estimator is None:
            return None
        features = getattr(self, "validation_features", None) or self.features
        baselines = (
            self.baselines
            if features == self.features
            else np.zeros(len(features), dtype=np.float64)
        )
        return ChurnModel(
            self.algorithm, list(features), baselines, self.horizon_days, self.validation_estimator
        )

    def predict_risk(self, X: np.ndarray) -> np.ndarray:
        """Calibrated churn probability per row of an aligned matrix."""
        if X.shape[0] == 0:
            return np.zeros(0, dtype=np.float64)
        with threadpool_limits(limits=1, user_api="openmp"):
            return np.asarray(self.estimator.predict_proba(X)[:, 1], dtype=np.float64)


def dump_model(model: ChurnModel) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    return buffer.getvalue()


def load_model(blob: bytes) -> ChurnModel:
    model = joblib.load(io.BytesIO(blob))
    if not isinstance(model, ChurnModel):
        raise TypeError(f"model blob holds {type(model).__name__}, not a ChurnModel")
    return model
