"""`csbot score`: score every account as of a date, store the rows, print them."""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlmodel import Session, col

from bot.cli.errors import CliError
from bot.runtime import build_runtime
from scoring.config import ConfigError, load_config
from scoring.service import score_portfolio
from scoring.signals import SIGNALS
from scoring.trend import attention_rank
from storage.models import Account, AccountScore

BAND_STYLE = {"healthy": "green", "neutral": "yellow", "at_risk": "dark_orange", "critical": "red"}


class Format(StrEnum):
    table = "table"
    jsonl = "jsonl"


def score_json(score: AccountScore) -> dict[str, Any]:
    """The jsonl row of one score (None for unknowns, never NaN)."""
    return {
        "account_id": score.account_id,
        "as_of": score.as_of.isoformat(),
        "health": score.health,
        "band": score.band,
        "health_delta_7d": score.health_delta_7d,
        "health_delta_30d": score.health_delta_30d,
        "direction": score.direction,
        "churn_risk": score.churn_risk,
        "model_version": score.model_version,
        "expansion": score.expansion,
        "stakeholder_band": score.stakeholder_band,
        "renewal_date": score.renewal_date.isoformat() if score.renewal_date else None,
        "arr": score.arr,
        "limited_history": score.limited_history,
        "attention": score.attention,
        "reasons": [
            {k: r[k] for k in ("signal", "value", "baseline", "direction", "impact", "text")}
            for r in score.reasons
        ],
        "churn_reasons": score.churn_reasons,
        "expansion_reasons": score.expansion_reasons,
        "stakeholders": score.stakeholders,
    }


def _fmt_delta(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:+.0f}"


def render_table(scores: list[AccountScore], names: dict[str, str], console: Console) -> None:
    table = Table(
        title=f"Account health as of {scores[0].as_of}" if scores else "No accounts", expand=False
    )
    for column, justify in (
        ("Account", "left"),
        ("Health", "right"),
        ("Band", "left"),
        ("Δ30d", "right"),
        ("Churn", "right"),
        ("Exp.", "right"),
        ("People", "left"),
        ("Renewal", "left"),
        ("ARR", "right"),
        ("Why", "left"),
    ):
        table.add_column(
            column,
            justify=justify,  # type: ignore[arg-type]
            overflow="fold",
            no_wrap=column not in ("Account", "Why"),
            ratio=3 if column == "Why" else None,
        )
    for score in scores:
        against = [r["text"] for r in score.reasons if r["impact"] < 0][:2]
        band = f"[{BAND_STYLE.get(score.band, 'white')}]{score.band}[/]"
        name = names.get(score.account_id, score.account_id)
        if score.limited_history:
            name += " [dim](limited history)[/]"
        table.add_row(
            name,
            f"{score.health:.0f}",
            band,
            _fmt_delta(score.health_delta_30d),
            "–" if score.churn_risk is None else f"{score.churn_risk:.0%}",
            f"{score.expansion:.2f}",
            score.stakeholder_band,
            score.renewal_date.isoformat() if score.renewal_date else "–",
            f"{score.arr:,.0f}",
            "; ".join(against) or "–",
        )
    console.print(table)


def print_signals(console: Console) -> None:
    """Every signal: its dimension, unit and meaning (from scoring.signals.registry)."""
    table = Table(title="Signals", expand=False)
    for column in ("Signal", "Dimension", "Unit", "Meaning"):
        table.add_column(column, overflow="fold", no_wrap=column != "Meaning")
    for definition in SIGNALS.values():
        table.add_row(definition.name, definition.dimension, definition.unit, definition.doc)
    console.print(table)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def register(app: typer.Typer) -> None:
    """Add `csbot score` to the csbot app."""

    @app.command("score")
    def score(
        as_of: Annotated[
            str | None,
            typer.Option("--as-of", help="Score as of this date (YYYY-MM-DD); default: today"),
        ] = None,
        output: Annotated[Format, typer.Option("--format", help="table or jsonl")] = Format.table,
        config: Annotated[
            Path | None,
            typer.Option("--config", help="Scoring YAML (default: CSBOT_SCORING_CONFIG)"),
        ] = None,
        list_signals: Annotated[
            bool, typer.Option("--signals", help="List every signal with its meaning, and exit")
        ] = False,
    ) -> None:
        """Score every live account as of a date, store one row each (re-running replaces them), print."""
        if list_signals:
            print_signals(Console())
            return
        runtime = build_runtime()
        if as_of is None:
            day = runtime.clock.now().date()
        else:
            try:
                day = dt.date.fromisoformat(as_of)
            except ValueError:
                raise CliError(f"--as-of: not a date (YYYY-MM-DD): {as_of!r}") from None
        path = config or runtime.settings.scoring_config
        try:
            cfg = load_config(path)
        except ConfigError as error:
            raise CliError(str(error)) from None
        scores = attention_rank(
            score_portfolio(runtime.engine, day, config=cfg, clock=runtime.clock), cfg.attention
        )
        if output is Format.jsonl:
            for item in scores:
                sys.stdout.write(json.dumps(_clean(score_json(item)), allow_nan=False) + "\n")
            return
        with Session(runtime.engine) as session:
            names: dict[str, str] = {
                account_id: name
                for account_id, name in session.execute(
                    select(col(Account.account_id), col(Account.name))
                ).all()
            }
        console = Console()
        if not console.is_terminal:
            console = Console(width=160)
        render_table(scores, names, console)
