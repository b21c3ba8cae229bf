"""`csbot score`: score every account as of a date, store the rows, print them.

Scoring, SQLAlchemy and the models are imported inside the command (see bot/cli/__init__).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.errors import CliError, UsageError
from storage.enums import Band

if TYPE_CHECKING:
    from rich.console import Console

    from storage.models import AccountScore

BAND_STYLE: dict[str, str] = {
    Band.HEALTHY: "green",
    Band.NEUTRAL: "yellow",
    Band.AT_RISK: "dark_orange",
    Band.CRITICAL: "red",
}


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


NARROW_COLUMNS = ("Account", "Health", "Band", "Δ30d", "Churn", "Why")
WIDE_COLUMNS = ("Exp.", "People", "Renewal", "ARR")


def render_table(
    scores: list[AccountScore], names: dict[str, str], console: Console, *, wide: bool = False
) -> None:
    """One row per account; the renewal, ARR, expansion and people columns with `wide`
    (without them the table fits 80 columns)."""
    from rich.table import Table

    table = Table(
        title=f"Account health as of {scores[0].as_of}" if scores else "No accounts", expand=False
    )
    shown = [*NARROW_COLUMNS[:-1], *(WIDE_COLUMNS if wide else ()), NARROW_COLUMNS[-1]]
    for column in shown:
        table.add_column(
            column,
            justify="left"
            if column in ("Account", "Band", "People", "Renewal", "Why")
            else "right",
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
        cells = {
            "Account": name,
            "Health": f"{score.health:.0f}",
            "Band": band,
            "Δ30d": _fmt_delta(score.health_delta_30d),
            "Churn": "–" if score.churn_risk is None else f"{score.churn_risk:.0%}",
            "Exp.": f"{score.expansion:.2f}",
            "People": score.stakeholder_band,
            "Renewal": score.renewal_date.isoformat() if score.renewal_date else "–",
            "ARR": f"{score.arr:,.0f}",
            "Why": "; ".join(against) or "–",
        }
        table.add_row(*(cells[column] for column in shown))
    console.print(table)


def print_signals(console: Console) -> None:
    """Every signal: its dimension, unit and meaning (from scoring.signals.registry)."""
    from rich.table import Table

    from scoring.signals import SIGNALS

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
        wide: Annotated[
            bool, typer.Option("--wide", help="All columns (renewal, ARR, …): wider than 80")
        ] = False,
    ) -> None:
        """Score every live account as of a date, store one row each (re-running replaces them), print."""
        from bot.cli.output import make_console, write_lines

        if list_signals:
            print_signals(make_console(wide=wide))
            return
        if as_of is None:
            day = None
        else:
            try:
                day = dt.date.fromisoformat(as_of)
            except ValueError:
                raise UsageError(f"--as-of: not a date (YYYY-MM-DD): {as_of!r}") from None
        from bot.runtime import build_runtime
        from scoring.config import ConfigError, load_config

        runtime = build_runtime()
        day = day or runtime.clock.now().date()
        path = config or runtime.settings.scoring_config
        try:
            cfg = load_config(path)
        except ConfigError as error:
            raise CliError(str(error)) from None
        from storage.data_range import data_range, outside_range

        problem = outside_range(day, data_range(runtime.engine))
        if problem:
            raise CliError(f"not scoring: {problem}; pass --as-of a date in that range")
        from scoring.service import score_portfolio
        from scoring.trend import attention_rank

        scores = attention_rank(
            score_portfolio(runtime.engine, day, config=cfg, clock=runtime.clock), cfg.attention
        )
        if output is Format.jsonl:
            write_lines(json.dumps(_clean(score_json(item)), allow_nan=False) for item in scores)
            return
        from sqlalchemy import select
        from sqlmodel import Session, col

        from storage.models import Account

        with Session(runtime.engine) as session:
            names: dict[str, str] = {
                account_id: name
                for account_id, name in session.execute(
                    select(col(Account.account_id), col(Account.name))
                ).all()
            }
        render_table(scores, names, make_console(wide=wide), wide=wide)
