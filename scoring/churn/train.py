"""Training: snapshots → labelled set → time-based split → candidates → the chosen model.

The split is by time. The validation window is the latest labelled snapshot dates
(`validation_share` of the span, at least `min_validation_days`). Training rows are only
snapshots whose outcome window ended before the validation window starts (a purge of one
horizon): weekly snapshots of the same account before a churn are near duplicates, so
without the gap the same churn would be learned in training and "predicted" in validation.

Each candidate is fitted and calibrated on the training rows and scored on the validation
window; the best on `selection_metric` (PR AUC: churn is rare) wins. The deployed model is
then refitted with the winning recipe on every labelled snapshot (the freshest behaviour
matters most); the validation-phase model is kept beside it so a later challenger can be
compared with it on a window neither has seen (see `registry`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Engine

from scoring.churn.artefact import ChurnModel
from scoring.churn.config import TrainingConfig
from scoring.churn.labels import (
    FeedbackLabel,
    apply_feedback,
    churn_labels,
    load_churn_events,
    load_feedback,
    merge_feedback_churns,
    next_churn,
)
from scoring.churn.metrics import evaluate
from scoring.churn.pipelines import CalibrationError, fit_calibrated
from scoring.churn.snapshots import (
    FrameCache,
    SignalsFn,
    SnapshotSet,
    data_span,
    grid_dates,
    stack_frames,
    with_trajectory,
)


class TrainingError(ValueError):
    """Training cannot proceed (no data, no churn in the window, …); the message says why."""


@dataclass
class CandidateResult:
    algorithm: str
    metrics: dict[str, float | None]
    model: ChurnModel


@dataclass
class TrainingOutcome:
    """Everything a training run produced, before it is stored."""

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

    @property
    def chosen_metrics(self) -> dict[str, float | None]:
        for candidate in self.candidates:
            if candidate.algorithm == self.chosen:
                return candidate.metrics
        return {}


def label_snapshots(
    snaps: SnapshotSet,
    events: dict[str, list[int]],
    feedback: list[FeedbackLabel],
    cutoff: dt.date,
    cfg: TrainingConfig,
) -> SnapshotSet:
    """The rows usable for training at `cutoff`, labelled, weighted by feedback.

    Keeps only snapshots with date + horizon <= cutoff, and only churn events and feedback
    known by the cutoff, so nothing after the cutoff can leak into a label.
    """
    c = cutoff.toordinal()
    snaps = snaps.subset(snaps.dates + cfg.horizon_days <= c)
    known_events = {a: [d for d in days if d <= c] for a, days in events.items()}
    known_events = {a: days for a, days in known_events.items() if days}
    known_feedback = [f for f in feedback if f.as_of.toordinal() <= c]
    known_events = merge_feedback_churns(known_events, known_feedback)
    snaps.churn_dates = next_churn(snaps.account_ids, snaps.dates, known_events)
    snaps.y = churn_labels(snaps.dates, snaps.churn_dates, cfg.horizon_days)
    weight, keep = apply_feedback(
        snaps.account_ids,
        snaps.dates,
        snaps.y,
        known_feedback,
        horizon_days=cfg.horizon_days,
        not_a_risk_weight=cfg.not_a_risk_weight,
        window_days=cfg.feedback_window_days,
    )
    snaps.weight = weight
    return snaps.subset(keep & (weight > 0))


def build_training_set(
    engine: Engine,
    cutoff: dt.date,
    cfg: TrainingConfig,
    *,
    cache: FrameCache | None = None,
    signals_fn: SignalsFn | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SnapshotSet:
    """Snapshots on the grid from warm-up to cutoff − horizon, labelled as of `cutoff`."""
    span = data_span(engine)
    if span is None:
        raise TrainingError("no usage data in the database: import data before training")
    first = span[0] + dt.timedelta(days=cfg.warmup_days)
    last = cutoff - dt.timedelta(days=cfg.horizon_days)
    dates = grid_dates(first, last, cfg.snapshot_every_days)
    if cfg.trajectory:  # earlier dates too, for the changes of the first snapshots
        dates = grid_dates(span[0], last, cfg.snapshot_every_days)
    if not dates:
        raise TrainingError(
            f"no snapshot has a closed {cfg.horizon_days}-day outcome window by {cutoff}: "
            f"data start {span[0]}, warm-up {cfg.warmup_days} days"
        )
    cache = cache or FrameCache(engine, signals_fn)
    snaps = stack_frames(cache.get(dates, progress))
    if cfg.trajectory:
        snaps = with_trajectory(snaps)
        snaps = snaps.subset(snaps.dates >= first.toordinal())
    events = load_churn_events(engine, known_by=cutoff)
    feedback = load_feedback(engine, known_by=cutoff)
    return label_snapshots(snaps, events, feedback, cutoff, cfg)


def select_features(names: list[str], cfg: TrainingConfig) -> list[str]:
    wanted = list(cfg.features) if cfg.features is not None else list(names)
    missing = [name for name in wanted if name not in names]
    if missing:
        raise TrainingError(f"features not among the signals: {', '.join(missing)}")
    return [name for name in wanted if name not in cfg.exclude_features]


def _varies(X: np.ndarray) -> np.ndarray:
    """Columns with at least two distinct finite values (others carry no information)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns are expected
        low = np.nanmin(np.where(np.isfinite(X), X, np.nan), axis=0) if len(X) else None
        high = np.nanmax(np.where(np.isfinite(X), X, np.nan), axis=0) if len(X) else None
    if low is None or high is None:
        return np.zeros(X.shape[1], dtype=bool)
    return np.isfinite(low) & np.isfinite(high) & (high > low)


def _fit_model(
    algorithm: str, snaps: SnapshotSet, features: list[str], cfg: TrainingConfig
) -> ChurnModel:
    X = snaps.columns(features)
    varies = _varies(X)
    features = [name for name, keep in zip(features, varies, strict=True) if keep]
    X = X[:, varies]
    anchor = (
        features.index(cfg.anchor_feature)
        if cfg.stack_anchor and cfg.anchor_feature in features
        else None
    )
    estimator = fit_calibrated(
        algorithm,
        X,
        snaps.y.astype(np.int64),
        snaps.weight,
        snaps.account_ids,
        calibration_share=cfg.calibration_share,
        random_state=cfg.random_state,
        threads=cfg.openmp_threads,
        anchor=anchor,
        folds=cfg.stack_folds,
    )
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        baselines = (
            np.nanmedian(np.where(np.isfinite(X), X, np.nan), axis=0) if len(X) else np.zeros(0)
        )
    return ChurnModel(
        algorithm=algorithm,
        features=features,
        baselines=np.nan_to_num(baselines, nan=0.0),
        horizon_days=cfg.horizon_days,
        estimator=estimator,
    )


def evaluate_model(
    model: ChurnModel, snaps: SnapshotSet, cfg: TrainingConfig
) -> tuple[dict[str, float | None], np.ndarray]:
    risk = model.predict_risk(snaps.columns(model.features))
    metrics = evaluate(
        snaps.y,
        risk,
        threshold=cfg.alert_threshold,
        horizon_days=cfg.horizon_days,
        account_ids=snaps.account_ids,
        dates=snaps.dates,
        churn_dates=snaps.churn_dates,
    )
    return metrics, risk


def _score(metrics: dict[str, Any], key: str) -> float:
    value = metrics.get(key)
    return float(value) if value is not None else float("-inf")


def time_split(snaps: SnapshotSet, cfg: TrainingConfig) -> tuple[np.ndarray, np.ndarray, int]:
    """Masks (train, validation) and the first validation date ordinal."""
    first, last = int(snaps.dates.min()), int(snaps.dates.max())
    val_days = max(cfg.min_validation_days, round((last - first) * cfg.validation_share))
    v0 = last - val_days
    validation = snaps.dates > v0
    train = snaps.dates + cfg.horizon_days <= v0
    return train, validation, v0 + 1


def train_on_snapshots(snaps: SnapshotSet, cutoff: dt.date, cfg: TrainingConfig) -> TrainingOutcome:
    """Compare the candidates on a time-based split; refit the winner on every row."""
    if len(snaps) == 0:
        raise TrainingError(f"no labelled snapshots by {cutoff}")
    n_pos = int(snaps.y.sum())
    if n_pos < cfg.min_positive_rows:
        raise TrainingError(
            f"only {n_pos} snapshot(s) precede a churn within {cfg.horizon_days} days by "
            f"{cutoff}; need at least {cfg.min_positive_rows} to train"
        )
    features = select_features(snaps.names, cfg)
    train_mask, val_mask, _ = time_split(snaps, cfg)
    train, validation = snaps.subset(train_mask), snaps.subset(val_mask)
    candidates: list[CandidateResult] = []
    note = ""
    can_validate = (
        len(train) > 0
        and int(train.y.sum()) >= cfg.min_positive_rows
        and 0 < int(validation.y.sum()) < len(validation)
    )
    if can_validate:
        for algorithm in cfg.algorithms:
            try:
                model = _fit_model(algorithm, train, features, cfg)
            except CalibrationError as error:
                note += f"{algorithm}: {error}. "
                continue
            metrics, _ = evaluate_model(model, validation, cfg)
            candidates.append(CandidateResult(algorithm, metrics, model))
    if candidates:
        best = max(
            candidates,
            key=lambda c: (_score(c.metrics, cfg.selection_metric), _score(c.metrics, "roc_auc")),
        )
        chosen, validation_model = best.algorithm, best.model
    else:
        chosen, validation_model = cfg.algorithms[0], None
        note += (
            "too little history for a time-based validation "
            f"(training rows with churn: {int(train.y.sum())}, validation churns: "
            f"{int(validation.y.sum())}); fitted {chosen} on every labelled snapshot unvalidated. "
        )
    model = _fit_model(chosen, snaps, features, cfg)
    day = dt.date.fromordinal
    return TrainingOutcome(
        cutoff=cutoff,
        horizon_days=cfg.horizon_days,
        features=features,
        candidates=candidates,
        chosen=chosen,
        model=model,
        validation_model=validation_model,
        train_from=day(int(snaps.dates.min())),
        train_to=day(int(snaps.dates.max())),
        validation_from=day(int(validation.dates.min())) if candidates else None,
        validation_to=day(int(validation.dates.max())) if candidates else None,
        validation_train_to=day(int(train.dates.max())) if candidates else None,
        n_rows=len(snaps),
        n_positive=n_pos,
        note=note.strip(),
        validation=validation if candidates else None,
    )


@dataclass
class TrainReport:
    outcome: TrainingOutcome
    version: str
    promoted: bool
    note: str


def train_and_promote(
    engine: Engine,
    as_of: dt.date,
    clock: Any,
    *,
    horizon_days: int | None = None,
    cfg: TrainingConfig | None = None,
    signals_fn: SignalsFn | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TrainReport:
    """Train on what was known by `as_of`, store the version, promote it if it wins."""
    from scoring.churn.registry import store_outcome
    from storage.db import session_scope

    cfg = cfg or TrainingConfig()
    if horizon_days is not None:
        cfg = dataclasses.replace(cfg, horizon_days=horizon_days)
    snaps = build_training_set(engine, as_of, cfg, signals_fn=signals_fn, progress=progress)
    outcome = train_on_snapshots(snaps, as_of, cfg)
    with session_scope(engine) as session:
        row = store_outcome(session, outcome, clock, cfg)
        return TrainReport(outcome, row.version, bool(row.active), row.promotion_note or "")
