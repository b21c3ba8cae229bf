"""`csbot alerts report [--weeks N] [--format table|json]`: per rule and per CSM, how many
digest entries and alerts went out a week, how many the budget held, and how useful people
found them (👍 / 👎)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table


def build_runtime() -> Any:
    """The runtime, imported on use: SQLAlchemy must not load for `csbot --help`."""
    # deferred: keeps csbot --help fast
    from bot.runtime import build_runtime as build

    return build()


console = Console()
alerts_app = typer.Typer(help="Alerts and digest entries: volume and usefulness.")


@alerts_app.command("report")
def report_command(
    weeks: int = typer.Option(4, "--weeks", min=1, max=104, help="how many weeks back"),
    output: str = typer.Option("table", "--format", help="table or json"),
    until_text: str | None = typer.Option(
        None, "--until", help="last day, YYYY-MM-DD (default today)"
    ),
) -> None:
    """Per rule and per CSM: entries a week, held, useful rate."""
    from sqlmodel import Session

    # deferred: keeps csbot --help fast
    from bot.accounts.votes import rate_text, usefulness_report

    if output not in ("table", "json"):
        raise typer.BadParameter(f"--format must be table or json, not {output!r}")
    runtime = build_runtime()
    try:
        until = dt.date.fromisoformat(until_text) if until_text else runtime.clock.now().date()
    except ValueError:
        raise typer.BadParameter(f"--until: expected YYYY-MM-DD, got {until_text!r}") from None
    since = until - dt.timedelta(days=7 * weeks - 1)
    with Session(runtime.engine) as session:
        found = usefulness_report(session, since=since, until=until)
    if output == "json":

        def rows(lines):  # type: ignore[no-untyped-def]
            return [
                {"key": s.key, "per_week": round(s.per_week, 2), "sent": s.sent, "held": s.held,
                 "useful": s.useful, "not_useful": s.not_useful,
                 "useful_rate": None if s.useful_rate is None else round(s.useful_rate, 3)}
                for s in lines
            ]  # fmt: skip

        print(json.dumps({"since": since.isoformat(), "until": until.isoformat(),
                          "by_rule": rows(found.by_rule), "by_csm": rows(found.by_csm)}, indent=2))  # fmt: skip
        return
    for title, lines in (("rule", found.by_rule), ("CSM", found.by_csm)):
        table = Table(title=f"By {title}, {since} to {until}")
        for column in (title, "a week", "held", "useful"):
            table.add_column(column, justify="left" if column == title else "right")
        for line in lines:
            table.add_row(line.key, f"{line.per_week:.1f}", str(line.held), rate_text(line))
        console.print(table)
        if not lines:
            console.print("nothing sent or voted on in this period")


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
