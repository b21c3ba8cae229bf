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
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold
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
from scoring.churn.metrics import at_threshold, evaluate
from scoring.churn.outcome import CandidateResult, TrainingOutcome, evaluate_model
from scoring.churn.pipelines import CalibrationError, fit_calibrated
from scoring.churn.registry import store_outcome
from scoring.churn.snapshots import (
    FrameCache,
    SignalsFn,
    SnapshotSet,
    data_span,
    grid_dates,
    stack_frames,
    with_trajectory,
)
from scoring.churn.thresholds import (
    expected_calibration_error,
    reliability_table,
    threshold_for_precision,
)
from scoring.config import ConfigSource, ScoringConfig, resolve_config
from scoring.health_model import HealthChoice, choose_health, store_health_choice
from scoring.learned_health import learned_columns
from storage.db import session_scope

__all__ = [
    "CandidateResult",
    "TrainReport",
    "TrainingError",
    "TrainingOutcome",
    "build_training_set",
    "evaluate_model",
    "label_snapshots",
    "train_and_promote",
    "train_on_snapshots",
]


class TrainingError(ValueError):
    """Training cannot proceed (no data, no churn in the window, …); the message says why."""


def label_snapshots(
    snaps: SnapshotSet,
    events: dict[str, list[int]],
    feedback: list[FeedbackLabel],
    cutoff: dt.date,
    cfg: TrainingConfig,
) -> SnapshotSet:
    """The rows usable for training at `cutoff`, labelled, weighted by feedback.

    Keeps only snapshots with date + horizon <= cutoff, and only churn events and feedback
    known by the cutoff (feedback: about a date on or before it and given on or before it),
    so nothing after the cutoff can leak into a label.
    """
    c = cutoff.toordinal()
    snaps = snaps.subset(snaps.dates + cfg.horizon_days <= c)
    known_events = {a: [d for d in days if d <= c] for a, days in events.items()}
    known_events = {a: days for a, days in known_events.items() if days}
    known_feedback = [f for f in feedback if f.known_by(cutoff)]
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


def grouped_cv_predictions(
    algorithm: str, snaps: SnapshotSet, features: list[str], cfg: TrainingConfig
) -> np.ndarray:
    """Out-of-fold churn risk for every row, folds by account (StratifiedGroupKFold over
    accounts labelled by whether they ever churn): weekly snapshots of one account are
    near duplicates, so they never sit on both sides of a fold."""
    churned = _churned_accounts(snaps)
    ever = np.fromiter((a in churned for a in snaps.account_ids), bool, len(snaps))
    folds = min(cfg.cv_folds, len(churned))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=cfg.random_state)
    out = np.full(len(snaps), np.nan)
    for fit_idx, held_idx in splitter.split(np.zeros((len(snaps), 1)), ever, snaps.account_ids):
        mask = np.zeros(len(snaps), dtype=bool)
        mask[fit_idx] = True
        model = _fit_model(algorithm, snaps.subset(mask), features, cfg)
        held = snaps.subset(~mask)
        out[held_idx] = model.predict_risk(held.columns(model.features))
    return out


def _churned_accounts(snaps: SnapshotSet) -> set[str]:
    return set(snaps.account_ids[snaps.y == 1].tolist())


def _evaluate(snaps: SnapshotSet, risk: np.ndarray, cfg: TrainingConfig) -> dict[str, float | None]:
    return evaluate(
        snaps.y,
        risk,
        threshold=cfg.alert_threshold,
        horizon_days=cfg.horizon_days,
        account_ids=snaps.account_ids,
        dates=snaps.dates,
        churn_dates=snaps.churn_dates,
    )


def _with_threshold(
    metrics: dict[str, float | None], y: np.ndarray, risk: np.ndarray, cfg: TrainingConfig
) -> tuple[dict[str, float | None], float | None]:
    """Metrics plus the alert threshold chosen for the team's precision on held-out rows,
    with precision/recall at that threshold, the reliability table's ECE."""
    chosen = threshold_for_precision(y, risk, cfg.alert_precision) if cfg.alert_precision else None
    line = cfg.alert_threshold if chosen is None else chosen
    precision, recall = at_threshold(y, risk, line)
    table = reliability_table(y, risk)
    out = dict(metrics)
    out.update(
        alert_threshold=line,
        alert_threshold_chosen=chosen is not None,  # type: ignore[dict-item]
        precision_at_alert=precision,
        recall_at_alert=recall,
        ece=expected_calibration_error(table),
    )
    return out, chosen


def train_on_snapshots(snaps: SnapshotSet, cutoff: dt.date, cfg: TrainingConfig) -> TrainingOutcome:
    """Compare the candidates on held-out data; refit the winner on every row.

    Held out by time when the history allows it (a later window, purged by one horizon);
    otherwise by account-grouped cross-validation (`grouped_cv_predictions`); a model that
    could be validated neither way is still fitted, and the note says so in words the CLI
    prints."""
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
    held_out: dict[str, np.ndarray] = {}
    note = ""
    method = "none"
    can_validate = (
        len(train) > 0
        and int(train.y.sum()) >= cfg.min_positive_rows
        and len(_churned_accounts(train)) >= 2
        and 0 < int(validation.y.sum()) < len(validation)
    )
    if can_validate:
        method = "time"
        for algorithm in cfg.algorithms:
            try:
                model = _fit_model(algorithm, train, features, cfg)
            except CalibrationError as error:
                note += f"{algorithm}: {error}. "
                continue
            metrics, risk = evaluate_model(model, validation, cfg)
            held_out[algorithm] = risk
            candidates.append(CandidateResult(algorithm, metrics, model))
    if not candidates and len(_churned_accounts(snaps)) >= max(3, 2 * cfg.stack_folds):
        method = "grouped_cv"
        validation = snaps
        for algorithm in cfg.algorithms:
            try:
                risk = grouped_cv_predictions(algorithm, snaps, features, cfg)
            except CalibrationError as error:
                note += f"{algorithm}: {error}. "
                continue
            held_out[algorithm] = risk
            candidates.append(CandidateResult(algorithm, _evaluate(snaps, risk, cfg), None))  # type: ignore[arg-type]
        if candidates:
            folds = min(cfg.cv_folds, len(_churned_accounts(snaps)))
            note += (
                "too little history for a time-based validation "
                f"(training rows with churn: {int(train.y.sum())}, validation churns: "
                f"{int(validation.y.sum()) if method != 'grouped_cv' else int(snaps.y.sum())}); "
                f"validated by {folds}-fold account-grouped cross-validation instead. "
            )
    if candidates:
        best = max(
            candidates,
            key=lambda c: (_score(c.metrics, cfg.selection_metric), _score(c.metrics, "roc_auc")),
        )
        chosen, validation_model = best.algorithm, best.model
        best.metrics, threshold = _with_threshold(best.metrics, validation.y, held_out[chosen], cfg)
    else:
        method = "none"
        chosen, validation_model, threshold = cfg.algorithms[0], None, None
        note += (
            "NOT VALIDATED: too little history for a time-based validation "
            f"(training rows with churn: {int(train.y.sum())}, validation churns: "
            f"{int(validation.y.sum())}) and too few churned accounts "
            f"({len(_churned_accounts(snaps))}) for account-grouped cross-validation; "
            f"fitted {chosen} on every labelled snapshot, its risks are unchecked. "
        )
    try:
        model = _fit_model(chosen, snaps, features, cfg)
    except CalibrationError as error:
        raise TrainingError(f"cannot fit {chosen} on the labelled snapshots: {error}") from None
    model.alert_threshold = threshold
    day = dt.date.fromordinal
    timed = method == "time"
    return TrainingOutcome(
        cutoff=cutoff,
        horizon_days=cfg.horizon_days,
        features=features,
        candidates=candidates,
        chosen=chosen,
        model=model,
        validation_model=validation_model if timed else None,
        train_from=day(int(snaps.dates.min())),
        train_to=day(int(snaps.dates.max())),
        validation_from=day(int(validation.dates.min())) if timed else None,
        validation_to=day(int(validation.dates.max())) if timed else None,
        validation_train_to=day(int(train.dates.max())) if timed else None,
        n_rows=len(snaps),
        n_positive=n_pos,
        note=note.strip(),
        validation=validation if timed else None,
        validation_method=method,
        alert_threshold=threshold,
        held_out_risk=held_out.get(chosen),
        held_out_y=validation.y if candidates else None,
    )


@dataclass
class TrainReport:
    outcome: TrainingOutcome
    version: str
    promoted: bool
    note: str
    #: The health score chosen at this training (learned or rules, and its lines); None
    #: when the snapshots do not carry the health signals (a hand-built signals function).
    health: HealthChoice | None = None
    health_version: str | None = None


def choose_health_on(
    snaps: SnapshotSet, cfg: TrainingConfig, config: ScoringConfig
) -> HealthChoice | None:
    """`health_model.choose_health` on the labelled snapshots (None without the signals)."""
    columns = learned_columns(snaps.names, snaps.X, list(config.signals))
    if len(columns) < len(config.signals) / 2 or len(snaps) == 0:
        return None
    return choose_health(
        columns,
        snaps.y,
        snaps.account_ids,
        config,
        min_churned=cfg.learned_health_min_churned,
        at_risk_precision=cfg.alert_precision,
        critical_precision=cfg.critical_precision,
        sample_weight=snaps.weight,
    )


def train_and_promote(
    engine: Engine,
    as_of: dt.date,
    clock: Any,
    *,
    horizon_days: int | None = None,
    cfg: TrainingConfig | None = None,
    signals_fn: SignalsFn | None = None,
    progress: Callable[[int, int], None] | None = None,
    scoring_config: ConfigSource = None,
) -> TrainReport:
    """Train on what was known by `as_of`, store the version, promote it if it wins; choose
    the health score (learned or rules) and its lines on the same history and store it
    as the active health version."""
    cfg = cfg or TrainingConfig()
    if horizon_days is not None:
        cfg = dataclasses.replace(cfg, horizon_days=horizon_days)
    snaps = build_training_set(engine, as_of, cfg, signals_fn=signals_fn, progress=progress)
    outcome = train_on_snapshots(snaps, as_of, cfg)
    health = choose_health_on(snaps, cfg, resolve_config(scoring_config))
    with session_scope(engine) as session:
        row = store_outcome(session, outcome, clock, cfg)
        health_row = (
            store_health_choice(
                session,
                health,
                clock,
                horizon_days=cfg.horizon_days,
                train_from=outcome.train_from,
                train_to=outcome.train_to,
            )
            if health is not None
            else None
        )
        return TrainReport(
            outcome,
            row.version,
            bool(row.active),
            row.promotion_note or "",
            health,
            health_row.version if health_row else None,
        )
