"""Which health score is active (learned or the YAML's rules) and its band lines, stored
as a model version of kind "health" beside the churn models.

`choose_health` runs at every training (`csbot train`, the weekly retrain): with at least
`min_churned` churned accounts in the labelled history it fits `learned_health`, else it
keeps the YAML weights; either way it chooses the at-risk and critical lines for the
team's precisions on held-out (learned) or observed (rules) health, falling back to the
configured 60/40 when no line reaches them. Nightly scoring asks `active_health` and
scores with `health_with` / `bands_with`; without any stored choice it is the rules, 60/40.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import joblib
import numpy as np
from sqlalchemy import func
from sqlmodel import Session, select

from scoring.churn.thresholds import capped_line, health_line_for_precision
from scoring.config import Bands, ScoringConfig
from scoring.health import HealthResult, frame_health, health_scores
from scoring.learned_health import LearnedHealth, fit_with_validation, lines_to_bands
from storage.clock import Clock
from storage.models import ModelVersion

KIND = "health"


@dataclass
class HealthChoice:
    """`kind` "learned" (use `learned`) or "rules" (the YAML weights)."""

    kind: str
    learned: LearnedHealth | None
    at_risk_line: float | None
    critical_line: float | None
    n_churned: int
    note: str
    metrics: dict[str, Any] = field(default_factory=dict)


def choose_health(
    columns: Mapping[str, np.ndarray],
    y: np.ndarray,
    groups: np.ndarray,
    config: ScoringConfig,
    *,
    min_churned: int,
    at_risk_precision: float | None,
    critical_precision: float | None,
    sample_weight: np.ndarray | None = None,
) -> HealthChoice:
    """Learned health when the history holds `min_churned` churned accounts, else rules."""
    y = np.asarray(y, dtype=np.int64)
    n = y.size
    default = health_scores(columns, [None] * n, config).health  # type: ignore[arg-type]
    churned = len(set(np.asarray(groups)[y == 1].tolist()))
    if churned >= min_churned:
        learned, _ = fit_with_validation(
            columns,
            y,
            groups,
            config,
            default_health=default,
            at_risk_precision=at_risk_precision,
            critical_precision=critical_precision,
            sample_weight=sample_weight,
        )
        m = learned.metrics
        note = (
            f"learned weights and shapes from {churned} churned accounts "
            f"(cross-validated ROC AUC {_f(m.get('roc_auc_learned'))} against "
            f"{_f(m.get('roc_auc_default'))} for the YAML weights)"
        )
        return HealthChoice(
            "learned", learned, learned.at_risk_line, learned.critical_line, churned, note, m
        )
    at_risk = (
        health_line_for_precision(y, default, at_risk_precision) if at_risk_precision else None
    )
    critical = (
        health_line_for_precision(y, default, critical_precision) if critical_precision else None
    )
    note = f"YAML weights: {churned} churned account(s) in history, {min_churned} needed to learn"
    if at_risk_precision and at_risk is None:
        # No line reaches the precision: the fallback may not flag more than churn does.
        at_risk = capped_line(None, config.bands.neutral, y, default)
        critical = critical or capped_line(None, config.bands.at_risk, y, default, 0.5)
        if at_risk is not None:
            note += f"; at-risk line lowered to {at_risk:.1f} to flag no more than churn"
    return HealthChoice("rules", None, at_risk, critical, churned, note)


def _f(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}"


def health_with(choice: HealthChoice | None, frame: Any, config: ScoringConfig) -> HealthResult:
    """Health of every account of a signal frame under the active choice."""
    if choice is None or choice.learned is None:
        return frame_health(frame, config)
    columns = {name: frame.column(name) for name in choice.learned.signals if name in frame.names}
    n = len(frame.account_ids)
    return choice.learned.scores(columns, n, frame.extras.get("segment", [None] * n), config)


def bands_with(choice: HealthChoice | None, config: ScoringConfig) -> Bands:
    """The configured bands with the chosen lines (60/40 when none was chosen)."""
    if choice is None:
        return config.bands
    return lines_to_bands(config.bands, choice.at_risk_line, choice.critical_line)


def describe_lines(choice: HealthChoice | None, config: ScoringConfig) -> str:
    bands = bands_with(choice, config)
    chosen = choice is not None and choice.at_risk_line is not None
    how = "chosen for the team's precision" if chosen else "configured fallback"
    return f"at risk below {bands.neutral:g}, critical below {bands.at_risk:g} ({how})"


def store_health_choice(
    session: Session,
    choice: HealthChoice,
    clock: Clock,
    *,
    horizon_days: int,
    train_from: dt.date | None,
    train_to: dt.date | None,
) -> ModelVersion:
    """Store the choice as the active health version (the previous one is deactivated)."""
    for row in session.exec(
        select(ModelVersion).where(ModelVersion.kind == KIND, ModelVersion.active == True)  # noqa: E712
    ):
        row.active = False
        session.add(row)
    count = session.exec(
        select(func.count()).select_from(ModelVersion).where(ModelVersion.kind == KIND)
    ).one()
    number = int(count) + 1
    while session.get(ModelVersion, f"health-v{number}") is not None:
        number += 1
    buffer = io.BytesIO()
    joblib.dump(choice, buffer, compress=3)
    learned = choice.learned
    row = ModelVersion(
        version=f"health-v{number}",
        kind=KIND,
        algorithm=choice.kind,
        created_at=clock.now(),
        horizon_days=horizon_days,
        train_from=train_from,
        train_to=train_to,
        features=list(learned.signals) if learned else [],
        metrics={
            **choice.metrics,
            "at_risk_line": choice.at_risk_line,
            "critical_line": choice.critical_line,
            "churned_accounts": choice.n_churned,
            "weights": (
                {
                    name: round(float(w), 4)
                    for name, w in zip(learned.signals, learned.weights, strict=True)
                    if w > 0
                }
                if learned
                else None
            ),
        },
        active=True,
        promotion_note=choice.note,
        blob=buffer.getvalue(),
    )
    session.add(row)
    session.flush()
    return row


_CACHE: dict[str, HealthChoice] = {}


def active_health(session: Session) -> HealthChoice | None:
    """The stored active health choice (cached per version), None before any training."""
    version = session.exec(
        select(ModelVersion.version).where(ModelVersion.kind == KIND, ModelVersion.active == True)  # noqa: E712
    ).first()
    if version is None:
        return None
    if version not in _CACHE:
        blob = session.exec(select(ModelVersion.blob).where(ModelVersion.version == version)).one()
        choice = joblib.load(io.BytesIO(blob))
        if not isinstance(choice, HealthChoice):
            raise TypeError(f"{version} holds {type(choice).__name__}, not a HealthChoice")
        _CACHE.clear()
        _CACHE[version] = choice
    return _CACHE[version]
