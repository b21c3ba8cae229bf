"""Stored model versions and the champion/challenger rule.

A newly trained model (the challenger) becomes active only if it beats the active one (the
champion) on the challenger's validation window, on the same metric (PR AUC by default).
The champion is scored on that window with the newest of its fits that has not seen it: its
deployed fit when that fit's training labels closed before the window, otherwise its own
validation-phase fit. If neither qualifies (say, the challenger was trained on an earlier
cut-off), the champion stays. `promotion_note` records the comparison either way.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func
from sqlmodel import Session, col, select

from scoring.churn.artefact import ChurnModel, dump_model, load_model
from scoring.churn.config import TrainingConfig
from scoring.churn.outcome import TrainingOutcome, evaluate_model
from scoring.churn.snapshots import SnapshotSet
from storage.clock import Clock
from storage.models import ModelVersion

METRIC_LABELS = {"pr_auc": "PR AUC", "roc_auc": "ROC AUC"}


def active_version(session: Session) -> ModelVersion | None:
    query = select(ModelVersion).where(ModelVersion.kind == "churn", ModelVersion.active == True)  # noqa: E712
    return session.exec(query).first()


def alert_threshold(session: Session, fallback: float) -> float:
    """The churn risk at which csbot alerts: the active model's line, chosen on held-out
    history for the team's precision (`metrics["alert_threshold"]`), else `fallback`
    (CSBOT_RISK_ALERT_THRESHOLD)."""
    model = active_version(session)
    chosen = (model.metrics or {}).get("alert_threshold") if model else None
    return float(chosen) if chosen is not None else fallback


def list_versions(session: Session) -> list[ModelVersion]:
    query = (
        select(ModelVersion)
        .where(ModelVersion.kind == "churn")
        .order_by(col(ModelVersion.created_at))
    )
    return list(session.exec(query))


def next_version_name(session: Session) -> str:
    count = session.exec(
        select(func.count()).select_from(ModelVersion).where(ModelVersion.kind == "churn")
    ).one()
    number = int(count) + 1
    while session.get(ModelVersion, f"churn-v{number}") is not None:
        number += 1
    return f"churn-v{number}"


def champion_fit_for_window(
    row: ModelVersion, model: ChurnModel, window_from: dt.date
) -> tuple[ChurnModel | None, str]:
    """The champion fit that never saw labels from `window_from` on, and which one it is."""
    horizon = dt.timedelta(days=row.horizon_days)
    if row.train_to is not None and row.train_to + horizon < window_from:
        return model, "deployed fit"
    view = model.validation_view()
    trained_to = model.validation_train_to
    if view is not None and trained_to is not None and trained_to + horizon < window_from:
        return view, "validation-phase fit"
    return None, ""


def decide_promotion(
    challenger: float | None,
    champion: float | None,
    *,
    metric: str,
    champion_version: str | None,
    window: str,
) -> tuple[bool, str]:
    """Promote when there is no champion, or the challenger is strictly better on the window."""
    label = METRIC_LABELS.get(metric, metric)
    if champion_version is None:
        return True, "promoted: no active model to compare with"
    if challenger is None:
        return (
            False,
            f"not promoted: not validated (too little history); {champion_version} stays active",
        )
    if champion is None:
        return False, (
            f"not promoted: {champion_version} cannot be scored on {window} without "
            f"having trained on it; it stays active"
        )
    if challenger > champion:
        return True, (
            f"promoted: {label} {challenger:.3f} beats {champion:.3f} of {champion_version} "
            f"on {window}"
        )
    return False, (
        f"not promoted: {label} {challenger:.3f} does not beat {champion:.3f} of "
        f"{champion_version} on {window}; it stays active"
    )


def decide_by_recorded(
    challenger: float | None, champion: ModelVersion, *, metric: str
) -> tuple[bool, str]:
    """Promotion when the challenger was validated by account-grouped cross-validation: the
    champion has seen every row, so the only figure to compare with is its own recorded
    validation metric (other rows, an older cut-off). The challenger, trained on newer
    history, wins when it is at least as good; the note says the comparison is indirect."""
    label = METRIC_LABELS.get(metric, metric)
    recorded = ((champion.metrics or {}).get("validation") or {}).get(metric)
    if challenger is None:
        return False, f"not promoted: not validated; {champion.version} stays active"
    if recorded is None or challenger >= recorded:
        against = "no recorded figure" if recorded is None else f"{recorded:.3f} recorded"
        return True, (
            f"promoted: cross-validated {label} {challenger:.3f} against {against} for "
            f"{champion.version} (history too short to score both on one window)"
        )
    return False, (
        f"not promoted: cross-validated {label} {challenger:.3f} below {recorded:.3f} "
        f"recorded for {champion.version} (history too short to score both on one window); "
        "it stays active"
    )


def champion_metrics_on(
    row: ModelVersion, validation: SnapshotSet, window_from: dt.date, cfg: TrainingConfig
) -> tuple[dict[str, float | None] | None, str]:
    model = load_model(row.blob)
    fit, which = champion_fit_for_window(row, model, window_from)
    if fit is None:
        return None, ""
    metrics, _ = evaluate_model(fit, validation, cfg)
    return metrics, which


def store_outcome(
    session: Session, outcome: TrainingOutcome, clock: Clock, cfg: TrainingConfig
) -> ModelVersion:
    """Store the challenger and promote it if it beats the champion. The caller commits."""
    champion = active_version(session)
    metric = cfg.selection_metric
    challenger_metrics = outcome.chosen_metrics
    champion_metrics: dict[str, float | None] | None = None
    which = ""
    window = (
        f"{outcome.validation_from}–{outcome.validation_to}"
        if outcome.validation_from is not None
        else "no validation window"
    )
    if champion is not None and outcome.validation is not None and outcome.validation_from:
        champion_metrics, which = champion_metrics_on(
            champion, outcome.validation, outcome.validation_from, cfg
        )
    if champion is not None and outcome.validation_method == "grouped_cv":
        promote, note = decide_by_recorded(challenger_metrics.get(metric), champion, metric=metric)
    else:
        promote, note = decide_promotion(
            challenger_metrics.get(metric),
            (champion_metrics or {}).get(metric) if champion_metrics is not None else None,
            metric=metric,
            champion_version=champion.version if champion else None,
            window=window,
        )
    if which:
        note += f" (champion scored with its {which})"
    if outcome.note:
        note += f". {outcome.note}"
    model = outcome.model
    if outcome.validation_model is not None:
        model.validation_estimator = outcome.validation_model.estimator
        model.validation_train_to = outcome.validation_train_to
        model.validation_features = list(outcome.validation_model.features)
    row = ModelVersion(
        version=next_version_name(session),
        kind="churn",
        algorithm=outcome.chosen,
        created_at=clock.now(),
        horizon_days=outcome.horizon_days,
        train_from=outcome.train_from,
        train_to=outcome.train_to,
        validation_from=outcome.validation_from,
        validation_to=outcome.validation_to,
        features=outcome.features,
        metrics={
            "selection_metric": metric,
            "validation": challenger_metrics,
            "candidates": {c.algorithm: c.metrics for c in outcome.candidates},
            "champion_on_window": champion_metrics,
            "champion_version": champion.version if champion else None,
            "cutoff": outcome.cutoff.isoformat(),
            "rows": outcome.n_rows,
            "positive_rows": outcome.n_positive,
            "alert_threshold": (
                outcome.alert_threshold
                if outcome.alert_threshold is not None
                else cfg.alert_threshold
            ),
            "alert_threshold_chosen": outcome.alert_threshold is not None,
            "alert_precision": cfg.alert_precision,
            "validation_method": outcome.validation_method,
        },
        active=promote,
        promotion_note=note,
        blob=dump_model(model),
    )
    if promote and champion is not None:
        champion.active = False
        session.add(champion)
        session.flush()
    session.add(row)
    session.flush()
    return row
