"""`csbot replay --from DATE --days N [--format table|json]`: what csbot would have sent.

CS operations run it before go-live: every scheduled job over N simulated days on a copy
of the stored data, nothing posted, then messages per person per day by kind and what the
noise budget held back.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from bot.cli.errors import CliError


def build_runtime() -> Any:
    """The runtime, imported on use: SQLAlchemy must not load for `csbot --help`."""
    # deferred: keeps csbot --help fast
    from bot.runtime import build_runtime as build

    return build()


console = Console()


def replay_command(
    start: str = typer.Option(..., "--from", help="first simulated day, YYYY-MM-DD"),
    days: int = typer.Option(7, "--days", min=1, max=120, help="how many days"),
    output: str = typer.Option("table", "--format", help="table or json"),
    tick: int = typer.Option(60, "--tick", min=15, max=240, help="minutes between digest ticks"),
    with_retrain: bool = typer.Option(False, "--with-retrain", help="also run the weekly retrain"),
) -> None:
    """Dry run: run every scheduled job over N simulated days without posting."""
    # deferred: keeps csbot --help fast
    from bot.scheduling.replay import replay, summary

    if output not in ("table", "json"):
        raise typer.BadParameter(f"--format must be table or json, not {output!r}")
    try:
        first = dt.date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter(f"--from: expected YYYY-MM-DD, got {start!r}") from None
    runtime = build_runtime()
    report = replay(
        runtime,
        start=first,
        days=days,
        include=("retrain",) if with_retrain else (),
        tick_minutes=tick,
    )
    if report.errors and not report.sent:
        raise CliError(f"replay: every job failed; first error: {report.errors[0]}")
    if output == "json":
        print(json.dumps({**report.as_json(), "summary": summary(report)}, indent=2))
        return
    table = Table(title=f"What csbot would send, {first} + {days} days (nothing posted)")
    for column in ("recipient", "day", "digest", "alert", "reminders", "leaders", "held"):
        table.add_column(column, justify="left" if column in ("recipient", "day") else "right")
    slots = sorted(set(report.sent) | set(report.held))
    for who, day in slots:
        sent: dict[str, int] = dict(report.sent.get((who, day), {}))
        held = sum(report.held.get((who, day), {}).values())
        table.add_row(
            who,
            day.isoformat(),
            *(str(sent.get(kind, 0) or "") for kind in ("digest", "alert", "reminders", "leaders")),
            str(held or ""),
        )
    console.print(table)
    figures = summary(report)
    console.print(
        f"{int(figures['people'])} recipients · at most {figures['max_per_person_day']:.0f} "
        f"message(s) a person a day (median {figures['median_per_person_day']:g}) · "
        f"{figures['held']:.0f} held for the digest / App Home"
        + (f" · reasons: {dict(report.held_reasons)}" if report.held_reasons else "")
    )
    if report.unbudgeted:
        console.print(f"[red]{len(report.unbudgeted)} message(s) skipped the noise budget[/red]")
    for error in report.errors[:5]:
        console.print(f"[red]job error[/red] {error}")


def register(app: typer.Typer) -> None:
    app.command("replay")(replay_command)
