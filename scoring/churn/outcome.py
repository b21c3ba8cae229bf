"""What a training run produced (`TrainingOutcome`) and how a fitted model is scored on a
labelled snapshot set (`evaluate_model`).

Its own module so both `train` (which produces outcomes) and `registry` (which stores them
and scores the champion) import it, without importing each other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from scoring.churn.artefact import ChurnModel
from scoring.churn.config import TrainingConfig
from scoring.churn.metrics import evaluate
from scoring.churn.snapshots import SnapshotSet


@dataclass
class CandidateResult:
    algorithm: str
    metrics: dict[str, float | None]
    #: The fit scored on the validation window; None under cross-validation (one fit per fold).
    model: ChurnModel | None


@dataclass
class TrainingOutcome:
    """Everything a training run produced, before it is stored.

    `validation_method` is "time" (a later window, purged by one horizon), "grouped_cv"
    (account-grouped cross-validation when the history is too short for a time split) or
    "none" (not validated; `note` says so and the CLI prints it).
    """

    cutoff: dt.date
    horizon_days: int
    features: list[str]
    candidates: list[CandidateResult]
    chosen: str
    model: ChurnModel  # refitted on every labelled snapshot: what gets deployed
    validation_model: ChurnModel | None
    train_from: dt.date
    train_to: dt.date
    validation_from: dt.date | None
    validation_to: dt.date | None
    validation_train_to: dt.date | None
    n_rows: int
    n_positive: int
    note: str = ""
    validation: SnapshotSet | None = field(default=None, repr=False)
    validation_method: str = "time"
    #: The alert threshold chosen on held-out predictions for the team's precision
    #: (`thresholds.threshold_for_precision`); None: the configured fallback applies.
    alert_threshold: float | None = None
    #: Held-out risk and labels the threshold and reliability table were computed from.
    held_out_risk: np.ndarray | None = field(default=None, repr=False)
    held_out_y: np.ndarray | None = field(default=None, repr=False)

    @property
    def chosen_metrics(self) -> dict[str, float | None]:
        for candidate in self.candidates:
            if candidate.algorithm == self.chosen:
                return candidate.metrics
        return {}


def evaluate_model(
    model: ChurnModel, snaps: SnapshotSet, cfg: TrainingConfig, threshold: float | None = None
) -> tuple[dict[str, float | None], np.ndarray]:
    """Metrics of `model` on `snaps` (alerts at `threshold`, default the configured one)."""
    risk = model.predict_risk(snaps.columns(model.features))
    metrics = evaluate(
        snaps.y,
        risk,
        threshold=cfg.alert_threshold if threshold is None else threshold,
        horizon_days=cfg.horizon_days,
        account_ids=snaps.account_ids,
        dates=snaps.dates,
        churn_dates=snaps.churn_dates,
    )
    return metrics, risk
