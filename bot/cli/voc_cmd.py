"""`csbot voc` and `csbot voc-route`: voice-of-the-customer themes and who owns them.

Thin: parse options, call `scoring.voc`, render with rich (or JSON).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.cli.errors import CliError
from bot.cli.forecast_cmd import parse_day


def register(app: typer.Typer) -> None:
    """Add `csbot voc` and `csbot voc-route` to the csbot app."""

    @app.command("voc")
    def voc(
        start: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD)")] = None,
        end: Annotated[str | None, typer.Option("--to", help="Last day (default today)")] = None,
        output: Annotated[str, typer.Option("--format", help="table or json")] = "table",
        themes: Annotated[int | None, typer.Option("--themes", min=2, max=30)] = None,
    ) -> None:
        """Survey comments and ticket subjects grouped into themes (default: the last 90 days)."""
        # deferred: keeps csbot --help fast
        from bot.runtime import build_runtime
        from scoring.voc.service import voc_report

        if output not in ("table", "json"):
            raise CliError(f"--format: {output!r} is not one of table, json")
        runtime = build_runtime()
        last = parse_day(end, "--to", runtime.clock.now().date())
        first = parse_day(start, "--from", last - dt.timedelta(days=89))
        if first > last:
            raise CliError(f"--from {first} is after --to {last}")
        report = voc_report(runtime.engine, start=first, end=last, n_themes=themes)
        if output == "json":
            typer.echo(json.dumps(report.to_json(), indent=2))
            return
        console = Console()
        if not console.is_terminal:
            console = Console(width=160)
        table = Table(title=f"Themes {first} – {last} ({report.documents} comments and subjects)")
        for column in ("Theme", "Volume", "Trend", "Tone", "Accounts", "ARR", "Owner", "Examples"):
            table.add_column(column, overflow="fold")
        for view in report.themes:
            t = view.theme
            table.add_row(
                t.label,
                str(t.volume),
                "new" if t.trend is None else f"{t.trend:+.0%}",
                f"{t.tone:+.2f}",
                str(len(t.accounts)),
                f"{view.arr:,.0f}",
                view.owner or "–",
                " | ".join(t.examples),
            )
        console.print(table)

    @app.command("voc-route")
    def voc_route(
        term: Annotated[str, typer.Argument(help="A theme term, e.g. sso")],
        owner: Annotated[str | None, typer.Argument(help="Owner email or Slack id")] = None,
        remove: Annotated[bool, typer.Option("--remove", help="Remove the route")] = False,
    ) -> None:
        """Route themes whose top terms include TERM to OWNER (or --remove the route)."""
        # deferred: keeps csbot --help fast
        from bot.runtime import build_runtime
        from scoring.voc.service import route_theme, unroute_theme
        from storage.db import session_scope

        runtime = build_runtime()
        with session_scope(runtime.engine) as session:
            if remove:
                if not unroute_theme(session, term):
                    raise CliError(f"no route for {term!r}")
                typer.echo(f"Removed the route for {term!r}.")
                return
            if not owner:
                raise CliError("voc-route: give an OWNER, or --remove")
            route_theme(session, term, owner, actor="cli", clock=runtime.clock)
        typer.echo(f"Themes about {term!r} go to {owner}.")
