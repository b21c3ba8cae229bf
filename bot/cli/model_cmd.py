"""`csbot train`, `csbot models`, `csbot backtest`: the churn model's commands.

Thin: parse options, call `scoring.churn`, render with rich (or JSON).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from bot.cli.errors import CliError

METRIC_COLUMNS = (
    ("roc_auc", "ROC AUC"),
    ("pr_auc", "PR AUC"),
    ("precision_at_decile", "P@decile"),
    ("recall_at_decile", "R@decile"),
    ("precision_at_threshold", "P@thr"),
    ("recall_at_threshold", "R@thr"),
    ("brier", "Brier"),
    ("median_lead_days", "lead (d)"),
)

DATE_FORMATS = ["%Y-%m-%d"]


def make_console(stderr: bool = False) -> Console:
    """A console wide enough for the metrics tables even when output is piped."""
    console = Console(stderr=stderr)
    return console if console.is_terminal else Console(stderr=stderr, width=160)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.0f}"
    return str(value)


def _cell(key: str, value: Any) -> str:
    if key == "median_lead_days" and value is not None:
        return f"{value:.0f}"
    return _fmt(value)


def metrics_table(title: str, rows: dict[str, dict[str, Any]]) -> Table:
    table = Table(title=title)
    table.add_column("")
    for _, label in METRIC_COLUMNS:
        table.add_column(label, justify="right")
    for name, metrics in rows.items():
        table.add_row(name, *(_cell(key, (metrics or {}).get(key)) for key, _ in METRIC_COLUMNS))
    return table


def _train_feature_file(
    path: Path, label: str | None, id_column: str | None, console: Console
) -> None:
    # deferred: keeps csbot --help fast
    from bot.settings import load_settings
    from scoring.churn.features_table import (
        FeatureTableError,
        read_feature_table,
        train_feature_table,
    )

    if not label:
        raise CliError("--features needs --label COLUMN (the churn column of the file)")
    threshold = load_settings().risk_alert_threshold
    try:
        table = read_feature_table(path, label, id_column)
    except FeatureTableError as error:
        raise CliError(str(error)) from None
    for name in table.dropped or []:
        console.print(
            f"[yellow]warning:[/] {path}: column {name!r} has a different value on every row "
            "(an id?); not used as a feature (name it with --id to silence this)"
        )
    report = train_feature_table(table, threshold=threshold)
    console.print(
        f"{path}: {report.n_rows} rows ({report.positive_share:.1%} churned), "
        f"{len(report.numeric)} numeric and {len(report.categorical)} categorical columns; "
        f"stratified {report.folds}-fold cross-validation (each fold trains on about "
        f"{report.n_train} rows and scores {report.n_test})."
    )
    console.print(
        metrics_table(
            f"Cross-validated mean over {report.folds} folds (alert threshold {threshold})",
            report.metrics,
        )
    )
    spread = report.spread or {}
    for name, means in report.metrics.items():
        console.print(
            f"{name}: ROC AUC {_fmt(means.get('roc_auc'))} ± "
            f"{_fmt(spread.get(name, {}).get('roc_auc'))}, PR AUC {_fmt(means.get('pr_auc'))} ± "
            f"{_fmt(spread.get(name, {}).get('pr_auc'))} (mean ± standard deviation over folds)"
        )
    console.print(f"Better on mean PR AUC: [bold]{report.chosen}[/]")


def train(
    as_of: dt.datetime | None = typer.Option(
        None,
        "--as-of",
        formats=DATE_FORMATS,
        help="Train on what was known by this date (default: today).",
    ),
    horizon_days: int | None = typer.Option(
        None,
        "--horizon-days",
        min=1,
        help="Churn within this many days after a snapshot (default 90).",
    ),
    features: Path | None = typer.Option(
        None,
        "--features",
        help="Bring your own features: a CSV file (trains and reports, stores nothing).",
    ),
    label: str | None = typer.Option(None, "--label", help="With --features: the churn column."),
    id_column: str | None = typer.Option(
        None, "--id", help="With --features: the id column (not a feature)."
    ),
    snapshot_days: int = typer.Option(
        7, "--snapshot-days", min=1, help="Days between training snapshots (weekly by default)."
    ),
) -> None:
    """Train churn models, print each candidate's validation metrics and the promotion decision."""
    console = make_console()
    if features is not None:
        _train_feature_file(features, label, id_column, console)
        return
    if label or id_column:
        raise CliError("--label and --id go with --features FILE.csv")
    # deferred: keeps csbot --help fast
    from bot.runtime import build_runtime
    from scoring.churn.snapshots import default_signals_fn
    from scoring.churn.train import TrainingError, train_and_promote

    runtime = build_runtime()
    cfg = runtime.settings.churn_training(horizon_days, snapshot_days)
    cutoff = as_of.date() if as_of else runtime.clock.now().date()
    try:
        with console.status(f"Building snapshots up to {cutoff} and training…"):
            report = train_and_promote(
                runtime.engine,
                cutoff,
                runtime.clock,
                cfg=cfg,
                signals_fn=default_signals_fn(runtime.settings.scoring_config),
                scoring_config=runtime.settings.scoring_config,
            )
    except TrainingError as error:
        raise CliError(str(error)) from None
    outcome = report.outcome
    console.print(
        f"Snapshots {outcome.train_from} … {outcome.train_to}: {outcome.n_rows} rows, "
        f"{outcome.n_positive} followed by a churn within {outcome.horizon_days} days; "
        f"{len(outcome.features)} features."
    )
    if outcome.candidates:
        console.print(
            metrics_table(
                f"Validation {outcome.validation_from} … {outcome.validation_to} "
                f"(trained on snapshots to {outcome.validation_train_to})",
                {c.algorithm: c.metrics for c in outcome.candidates},
            )
        )
        console.print(f"Chosen on {cfg.selection_metric}: [bold]{outcome.chosen}[/]")
    console.print(f"Stored [bold]{report.version}[/]: {report.note}")
    if outcome.alert_threshold is not None:
        console.print(
            f"Alert threshold {outcome.alert_threshold:.3f}: chosen on held-out predictions "
            f"for a precision of {cfg.alert_precision:.0%} (CSBOT_ALERT_PRECISION)"
        )
    else:
        console.print(
            f"Alert threshold {cfg.alert_threshold}: the configured fallback "
            f"(no line reached a precision of {cfg.alert_precision or 0:.0%} on held-out rows)"
        )
    if report.health is not None:
        # deferred: keeps csbot --help fast
        from scoring.config import resolve_config
        from scoring.health_model import describe_lines

        lines = describe_lines(report.health, resolve_config(runtime.settings.scoring_config))
        console.print(f"Health {report.health_version}: {report.health.note}; {lines}")


def models() -> None:
    """List the stored churn model versions, their metrics, which is active and why."""
    # deferred: keeps csbot --help fast
    from bot.runtime import build_runtime
    from scoring.churn.registry import list_versions
    from storage.db import session_scope

    runtime = build_runtime()
    console = make_console()
    with session_scope(runtime.engine) as session:
        console.print(_health_line(session, runtime.settings.scoring_config))
        rows = list_versions(session)
        if not rows:
            console.print("No churn model yet: run `csbot train`.")
            return
        table = Table(title="Churn models")
        for column in (
            "version",
            "active",
            "algorithm",
            "created",
            "trained on",
            "validation window",
            "PR AUC",
            "ROC AUC",
            "Brier",
            "promotion",
        ):
            table.add_column(column)
        for row in rows:
            validation = (row.metrics or {}).get("validation") or {}
            table.add_row(
                row.version,
                "✓" if row.active else "",
                row.algorithm,
                row.created_at.strftime("%Y-%m-%d %H:%M"),
                f"{row.train_from} … {row.train_to}",
                f"{row.validation_from} … {row.validation_to}" if row.validation_from else "–",
                _fmt(validation.get("pr_auc")),
                _fmt(validation.get("roc_auc")),
                _fmt(validation.get("brier")),
                row.promotion_note or "",
            )
    console.print(table)


def _health_line(session: Any, scoring_config: Any) -> str:
    """Which health score is active: learned weights (and from what) or the YAML's."""
    # deferred: keeps csbot --help fast
    from scoring.config import resolve_config
    from scoring.health_model import active_health, describe_lines
    from scoring.learned_health import DEFAULT_MIN_CHURNED

    config = resolve_config(scoring_config)
    choice = active_health(session)
    if choice is None:
        return (
            "Health: YAML weights (no training yet; weights are learned once history holds "
            f"{DEFAULT_MIN_CHURNED} churned accounts); " + describe_lines(None, config)
        )
    return f"Health: {choice.note}; {describe_lines(choice, config)}"


def backtest(
    start: dt.datetime | None = typer.Option(
        None, "--from", formats=DATE_FORMATS, help="First evaluation date."
    ),
    end: dt.datetime | None = typer.Option(
        None, "--to", formats=DATE_FORMATS, help="Last evaluation date."
    ),
    output: str = typer.Option("table", "--format", help="table or json"),
    plots: Path | None = typer.Option(
        None, "--plots", help="Write calibration and score-distribution PNGs here."
    ),
    horizon_days: int | None = typer.Option(None, "--horizon-days", min=1),
    every_days: int = typer.Option(
        14, "--every-days", min=7, help="Days between evaluation dates."
    ),
    retrain_days: int = typer.Option(28, "--retrain-days", min=7, help="Days between retrains."),
    snapshot_days: int = typer.Option(
        7, "--snapshot-days", min=1, help="Days between training snapshots (weekly by default)."
    ),
) -> None:
    """Replay history: rules vs the model vs a usage-only model, against what happened."""
    # deferred: keeps csbot --help fast
    from bot.runtime import build_runtime
    from scoring.churn.backtest import ROWS, BacktestError, default_rules_fn, run_backtest
    from scoring.churn.snapshots import default_signals_fn

    if output not in ("table", "json"):
        raise CliError(f"--format: {output!r} is not one of table, json")
    runtime = build_runtime()
    cfg = runtime.settings.churn_training(horizon_days, snapshot_days)
    console = make_console(stderr=output == "json")
    try:
        with console.status("Replaying history…") as status:

            def progress(label: str, done: int, total: int) -> None:
                status.update(f"{label}: {done}/{total}")

            result = run_backtest(
                runtime.engine,
                start=start.date() if start else None,
                end=end.date() if end else None,
                cfg=cfg,
                every_days=every_days,
                retrain_days=retrain_days,
                signals_fn=default_signals_fn(runtime.settings.scoring_config),
                rules_fn=default_rules_fn(runtime.settings.scoring_config),
                progress=progress,
                scoring_config=runtime.settings.scoring_config,
            )
    except BacktestError as error:
        raise CliError(str(error)) from None
    if plots is not None:
        # deferred: keeps csbot --help fast
        from scoring.churn.plots import write_plots

        written = write_plots(result, plots, threshold=cfg.alert_threshold)
        console.print("Plots: " + ", ".join(str(p) for p in written))
    if output == "json":
        typer.echo(json.dumps(result.to_json(), indent=2))
        return
    console.print(
        metrics_table(
            f"Backtest {result.start} … {result.end}: {len(result.eval_dates)} dates, "
            f"{result.n_accounts} accounts, {result.n_churned} churned within "
            f"{cfg.horizon_days} days (alerts: rules at the at-risk band, learned health at "
            "its chosen line, models at each retrain's chosen threshold)",
            {row: result.metrics[row] for row in ROWS},
        )
    )
    calibration = result.calibration.get("model")
    if calibration:
        table = Table(
            title=f"Model calibration: Brier {_fmt(calibration['brier'])}, "
            f"expected calibration error {_fmt(calibration['ece'])}"
        )
        for column in ("predicted risk", "rows", "mean predicted", "observed churn"):
            table.add_column(column, justify="right")
        for row in calibration["reliability"]:
            if row["rows"]:
                table.add_row(
                    f"{row['from']:.1f}–{row['to']:.1f}",
                    str(row["rows"]),
                    _fmt(row["predicted"]),
                    _fmt(row["observed"]),
                )
        console.print(table)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the csbot app."""
    app.command("train")(train)
    app.command("models")(models)
    app.command("backtest")(backtest)
