"""`csbot forecast`: renewals in the next 180 days, the quarter's GRR and NRR, and the backtest.

Thin: parse options, call `scoring.forecast`, render with rich (or JSON).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.cli.errors import CliError, UsageError


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def parse_day(value: str | None, option: str, default: dt.date) -> dt.date:
    """A YYYY-MM-DD option value, or `default` when absent; a usage error (exit 2) naming
    the option."""
    if value is None:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: not a date (YYYY-MM-DD): {value!r}") from None


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=160)


def register(app: typer.Typer) -> None:
    """Add `csbot forecast` to the csbot app."""

    @app.command("forecast")
    def forecast(
        as_of: Annotated[
            str | None, typer.Option("--as-of", help="Forecast as of this date (YYYY-MM-DD)")
        ] = None,
        output: Annotated[str, typer.Option("--format", help="table or json")] = "table",
        backtest: Annotated[
            bool,
            typer.Option("--backtest", help="Replay past quarters against a naive forecast"),
        ] = False,
        days: Annotated[int, typer.Option("--days", min=1, max=730)] = 180,
    ) -> None:
        """Each renewal's odds and expected ARR; the quarter's GRR and NRR with an 80% interval."""
        # deferred: keeps csbot --help fast
        from bot.runtime import build_runtime
        from scoring.forecast.backtest import ForecastBacktestError, backtest_forecast
        from scoring.forecast.service import forecast_renewals

        if output not in ("table", "json"):
            raise CliError(f"--format: {output!r} is not one of table, json")
        runtime = build_runtime()
        day = parse_day(as_of, "--as-of", runtime.clock.now().date())
        if backtest:
            try:
                replay = backtest_forecast(runtime.engine, end=day if as_of else None)
            except ForecastBacktestError as error:
                raise CliError(str(error)) from None
            if output == "json":
                typer.echo(json.dumps(replay.to_json(), indent=2))
                return
            table = Table(title="Forecast backtest: GRR of the ARR renewing each quarter")
            for column in (
                "quarter",
                "renewals",
                "ARR",
                "actual",
                "forecast",
                "80% interval",
                "error",
                "naive",
                "naive error",
            ):
                table.add_column(column, justify="left" if column == "quarter" else "right")
            for q in replay.quarters:
                table.add_row(
                    q.quarter,
                    str(q.renewals),
                    f"{q.base_arr:,.0f}",
                    _pct(q.actual_grr),
                    _pct(q.forecast_grr),
                    f"{_pct(q.interval[0])} – {_pct(q.interval[1])}",
                    _pct(q.error),
                    _pct(q.naive_grr),
                    _pct(q.naive_error),
                )
            console = _console()
            console.print(table)
            console.print(
                f"Mean absolute GRR error: forecast {_pct(replay.mae())}, "
                f"naive (last quarter's rate) {_pct(replay.mae(naive=True))}"
            )
            return
        result = forecast_renewals(runtime.engine, day, horizon_days=days)
        if output == "json":
            typer.echo(json.dumps(result.to_json(), indent=2))
            return
        console = _console()
        r, p = result.renewing, result.portfolio
        console.print(
            f"[bold]{result.quarter}[/] as of {result.as_of}: ARR renewing {r.base_arr:,.0f} · "
            f"GRR {_pct(r.grr)} ({_pct(r.grr_low)}–{_pct(r.grr_high)}) · "
            f"NRR {_pct(r.nrr)} ({_pct(r.nrr_low)}–{_pct(r.nrr_high)})\n"
            f"Whole book ARR {p.base_arr:,.0f} · GRR {_pct(p.grr)} ({_pct(p.grr_low)}–"
            f"{_pct(p.grr_high)}) · NRR {_pct(p.nrr)} ({_pct(p.nrr_low)}–{_pct(p.nrr_high)})"
        )
        table = Table(title=f"Renewals in the next {days} days")
        for column in (
            "Renews",
            "Account",
            "Segment",
            "Band",
            "ARR",
            "P(renew)",
            "Expected ARR",
            "From",
        ):
            table.add_column(
                column, justify="right" if column in ("ARR", "P(renew)", "Expected ARR") else "left"
            )
        for item in result.renewals:
            table.add_row(
                item.renewal_date.isoformat(),
                item.name,
                item.segment,
                item.band,
                f"{item.arr:,.0f}",
                f"{item.p_renew:.0%}",
                f"{item.expected_arr:,.0f}",
                item.source,
            )
        console.print(table)
