"""Replay history: rules, the model and a usage-only model, judged against what happened.

At each evaluation date D (every `every_days` in the period) every live account is scored
three ways:
- rules: risk = 1 − health / 100, health from scoring's pure health function on D's frame;
- model: the full-signal model trained (with the production recipe, `train_on_snapshots`)
  only on snapshots whose outcome was known at the latest retrain date R <= D (retrained
  every `retrain_days`);
- usage_only: the same recipe on logins and feature breadth alone;
- learned_health: the health score as `csbot train` would have chosen it at the latest
  retrain (learned weights with enough churned accounts in the history known then, else
  the YAML's), risk = 1 − health / 100.
Alerts are judged where the product raises them: the rules at the YAML's at-risk band
(health below `bands.neutral`, 60), learned health at the at-risk line chosen at that
retrain, the models at the alert threshold each retrain chose for the team's precision
(or the configured fallback). Feedback counts in a retrain only if it had been given by
the retrain's date. The model rows also carry a fixed-width reliability table and the
expected calibration error.
Each score is compared with whether the account churned within the horizon after D. All
(account, D) pairs of the period are pooled for the metrics; lead time is per churn, from
the first evaluation date in its run-up at or above the alert threshold.
Signal frames are computed once per date and shared by every retrain.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Engine

from scoring.churn.config import USAGE_ONLY_FEATURES, TrainingConfig
from scoring.churn.labels import churn_labels, load_churn_events, load_feedback, next_churn
from scoring.churn.metrics import evaluate
from scoring.churn.snapshots import (
    FrameCache,
    FrameLike,
    SignalsFn,
    data_span,
    grid_dates,
    past_dates,
    stack_frames,
    with_trajectory,
)
from scoring.churn.thresholds import expected_calibration_error, reliability_table
from scoring.churn.train import (
    TrainingError,
    choose_health_on,
    label_snapshots,
    train_on_snapshots,
)
from scoring.config import ConfigSource, resolve_config
from scoring.health import frame_health
from scoring.health_model import HealthChoice, bands_with, health_with

ROWS = ("rules", "learned_health", "model", "usage_only")
RulesFn = Callable[[FrameLike], np.ndarray]


class BacktestError(ValueError):
    """The period cannot be backtested (no data, no closed outcome window, …)."""


def default_rules_fn(config_path: ConfigSource = None) -> RulesFn:
    """Risk from scoring's rule-based health score: 1 − health / 100."""
    config = resolve_config(config_path)

    def rules(frame: FrameLike) -> np.ndarray:
        health = np.asarray(frame_health(frame, config).health, dtype=np.float64)  # type: ignore[arg-type]
        return np.clip(1.0 - health / 100.0, 0.0, 1.0)

    return rules


@dataclass
class BacktestResult:
    metrics: dict[str, dict[str, Any]]
    n_accounts: int
    n_churned: int
    start: dt.date
    end: dt.date
    eval_dates: list[dt.date]
    retrains: list[dict[str, Any]]
    y: np.ndarray = field(repr=False)
    scores: dict[str, np.ndarray] = field(repr=False)

    calibration: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """{"rules": {...}, "learned_health": {...}, "model": {...}, "usage_only": {...},
        "calibration": {row: {"ece", "reliability": [...]}}, "retrains": [...],
        "n_accounts": N, "n_churned": N}"""
        out: dict[str, Any] = {row: self.metrics[row] for row in ROWS}
        out["calibration"] = self.calibration
        out["retrains"] = self.retrains
        out["n_accounts"] = self.n_accounts
        out["n_churned"] = self.n_churned
        return out


def default_period(span: tuple[dt.date, dt.date], cfg: TrainingConfig) -> tuple[dt.date, dt.date]:
    """From the first date with 180 days of labelled snapshots to the last closed window."""
    start = span[0] + dt.timedelta(days=cfg.warmup_days + cfg.horizon_days + 180)
    end = span[1] - dt.timedelta(days=cfg.horizon_days)
    return start, end


def run_backtest(
    engine: Engine,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    cfg: TrainingConfig | None = None,
    every_days: int = 14,
    retrain_days: int = 28,
    signals_fn: SignalsFn | None = None,
    rules_fn: RulesFn | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    scoring_config: ConfigSource = None,
) -> BacktestResult:
    cfg = cfg or TrainingConfig()
    config = resolve_config(scoring_config)
    span = data_span(engine)
    if span is None:
        raise BacktestError("no usage data in the database: import data first")
    default_start, default_end = default_period(span, cfg)
    start = start or default_start
    end = end or default_end
    latest = span[1] - dt.timedelta(days=cfg.horizon_days)
    if end > latest:
        raise BacktestError(
            f"--to {end} is too late: outcomes are known only for dates up to {latest} "
            f"(data end {span[1]} minus the {cfg.horizon_days}-day horizon)"
        )
    if every_days % cfg.snapshot_every_days:
        raise BacktestError(
            f"the evaluation step ({every_days} days) must be a multiple of the snapshot step"
            f" ({cfg.snapshot_every_days})"
        )
    eval_dates = grid_dates(start, end, every_days)
    if not eval_dates:
        raise BacktestError(f"no evaluation date between {start} and {end}")
    rules_fn = rules_fn or default_rules_fn()
    cache = FrameCache(engine, signals_fn)
    first_snapshot = span[0] + dt.timedelta(days=cfg.warmup_days)
    train_dates = grid_dates(
        span[0] if cfg.trajectory else first_snapshot,
        eval_dates[-1] - dt.timedelta(days=cfg.horizon_days),
        cfg.snapshot_every_days,
    )
    past = {d for day in eval_dates for d in past_dates(day)} if cfg.trajectory else set()
    all_dates = sorted(set(train_dates) | set(eval_dates) | {d for d in past if d >= span[0]})

    def tick(label: str) -> Callable[[int, int], None]:
        return lambda done, total: progress(label, done, total) if progress else None

    cache.get(all_dates, tick("Signals per date"))
    history = stack_frames(cache.get(train_dates))
    if cfg.trajectory:
        history = with_trajectory(history)
        history = history.subset(history.dates >= first_snapshot.toordinal())
    events = load_churn_events(engine)
    feedback = load_feedback(engine, known_by=end)
    usage_cfg = dataclasses.replace(
        cfg, features=tuple(f for f in USAGE_ONLY_FEATURES if f in history.names)
    )

    y_parts: list[np.ndarray] = []
    parts: dict[str, list[np.ndarray]] = {row: [] for row in ROWS}
    ids: list[np.ndarray] = []
    days: list[np.ndarray] = []
    retrains: list[dict[str, Any]] = []
    thresholds: dict[str, list[np.ndarray]] = {row: [] for row in ROWS}
    models: dict[str, Any] = {}
    health: HealthChoice | None = None
    last_retrain: dt.date | None = None
    for i, day in enumerate(eval_dates):
        if last_retrain is None or (day - last_retrain).days >= retrain_days:
            last_retrain = day
            info: dict[str, Any] = {"date": day.isoformat()}
            for row, row_cfg in (("model", cfg), ("usage_only", usage_cfg)):
                labelled = label_snapshots(history, events, feedback, day, row_cfg)
                try:
                    outcome = train_on_snapshots(labelled, day, row_cfg)
                except TrainingError as error:
                    raise BacktestError(
                        f"cannot train the {row} model as of {day}: {error}; start later (--from)"
                    ) from None
                models[row] = outcome.model
                info[row] = {
                    "algorithm": outcome.chosen,
                    "rows": outcome.n_rows,
                    "validation": outcome.validation_method,
                    "alert_threshold": outcome.alert_threshold,
                    "note": outcome.note,
                }
                if row == "model":
                    health = choose_health_on(labelled, cfg, config)
            info["health"] = (
                None
                if health is None
                else {
                    "kind": health.kind,
                    "at_risk_line": health.at_risk_line,
                    "critical_line": health.critical_line,
                    "note": health.note,
                }
            )
            retrains.append(info)
        frame = cache.get([day])[0]
        snaps = stack_frames([frame])
        if len(snaps) == 0:
            continue
        if cfg.trajectory:
            earlier = [d for d in past_dates(day) if d >= span[0]]
            snaps = with_trajectory(snaps, past=stack_frames(cache.get(earlier)))
        snaps.churn_dates = next_churn(snaps.account_ids, snaps.dates, events)
        y_parts.append(churn_labels(snaps.dates, snaps.churn_dates, cfg.horizon_days))
        n = len(snaps)
        parts["rules"].append(np.asarray(rules_fn(frame), dtype=np.float64))
        thresholds["rules"].append(np.full(n, _band_threshold(config.bands.neutral)))
        learned = health_with(health, frame, config).health
        parts["learned_health"].append(np.clip(1.0 - np.asarray(learned) / 100.0, 0.0, 1.0))
        line = bands_with(health, config).neutral
        thresholds["learned_health"].append(np.full(n, _band_threshold(line)))
        for row in ("model", "usage_only"):
            model = models[row]
            parts[row].append(model.predict_risk(snaps.columns(model.features)))
            chosen = getattr(model, "alert_threshold", None)
            thresholds[row].append(np.full(n, cfg.alert_threshold if chosen is None else chosen))
        ids.append(snaps.account_ids)
        days.append(snaps.dates)
        if progress:
            progress("Replaying", i + 1, len(eval_dates))
    return _summarise(
        cfg, start, end, eval_dates, retrains, y_parts, parts, ids, days, events, thresholds
    )


def _band_threshold(line: float) -> float:
    """Risk 1 − health/100 at or above which health is below `line` (the band test)."""
    return float(np.nextafter(1.0 - line / 100.0, np.inf))


def _summarise(
    cfg: TrainingConfig,
    start: dt.date,
    end: dt.date,
    eval_dates: list[dt.date],
    retrains: list[dict[str, Any]],
    y_parts: list[np.ndarray],
    parts: dict[str, list[np.ndarray]],
    ids: list[np.ndarray],
    days: list[np.ndarray],
    events: dict[str, list[int]],
    thresholds: dict[str, list[np.ndarray]] | None = None,
) -> BacktestResult:
    if not y_parts:
        raise BacktestError(f"no live account on any evaluation date between {start} and {end}")
    y = np.concatenate(y_parts)
    account_ids = np.concatenate(ids)
    dates = np.concatenate(days)
    churn_dates = next_churn(account_ids, dates, events)
    scores = {row: np.concatenate(parts[row]) for row in ROWS}
    lines = {
        row: (
            np.concatenate(thresholds[row])
            if thresholds and thresholds.get(row)
            else np.full(y.size, cfg.alert_threshold)
        )
        for row in ROWS
    }
    metrics: dict[str, dict[str, Any]] = {
        row: evaluate(
            y,
            scores[row],
            threshold=lines[row],  # type: ignore[arg-type]  # one line per row
            horizon_days=cfg.horizon_days,
            account_ids=account_ids,
            dates=dates,
            churn_dates=churn_dates,
        )
        for row in ROWS
    }
    for row in ROWS:
        metrics[row]["threshold"] = float(np.median(lines[row]))  # median over retrains
        metrics[row]["alerts_per_date"] = float((scores[row] >= lines[row]).sum()) / max(
            len({int(d) for d in dates.tolist()}), 1
        )
    calibration = {}
    for row in ("model", "usage_only"):
        table = reliability_table(y, scores[row])
        calibration[row] = {
            "brier": metrics[row]["brier"],
            "ece": expected_calibration_error(table),
            "reliability": table,
        }
    return BacktestResult(
        metrics=metrics,
        n_accounts=len(set(account_ids.tolist())),
        n_churned=len(set(account_ids[y == 1].tolist())),
        start=start,
        end=end,
        eval_dates=eval_dates,
        retrains=retrains,
        y=y,
        scores=scores,
        calibration=calibration,
    )
