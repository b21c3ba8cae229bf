"""`csbot brief ACCOUNT` and `csbot qbr ACCOUNT`: the account brief and the QBR draft.

Thin: parse options, call `playbooks.prep`, print Markdown or JSON.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.cli.errors import CliError
from bot.cli.forecast_cmd import parse_day


def register(app: typer.Typer) -> None:
    """Add `csbot brief` and `csbot qbr` to the csbot app."""

    @app.command("brief")
    def brief(
        account: Annotated[str, typer.Argument(help="Account id or exact name")],
        as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD")] = None,
        output: Annotated[str, typer.Option("--format", help="markdown or json")] = "markdown",
    ) -> None:
        """One account's brief: health, usage, people, tickets, surveys, renewal, next steps."""
        # deferred: keeps csbot --help fast
        from bot.runtime import build_runtime
        from playbooks.library import load_library
        from playbooks.prep.brief import build_brief, render_markdown
        from playbooks.prep.facts import AccountNotFound

        if output not in ("markdown", "json"):
            raise CliError(f"--format: {output!r} is not one of markdown, json")
        runtime = build_runtime()
        day = parse_day(as_of, "--as-of", runtime.clock.now().date())
        try:
            library = load_library(runtime.settings.playbook_dir)
            result = build_brief(runtime.engine, account, day, library)
        except AccountNotFound as error:
            raise CliError(str(error)) from None
        if output == "json":
            typer.echo(json.dumps(result.to_json(), indent=2, default=str))
        else:
            typer.echo(render_markdown(result), nl=False)

    @app.command("qbr")
    def qbr(
        account: Annotated[str, typer.Argument(help="Account id or exact name")],
        as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD")] = None,
        meeting: Annotated[
            str | None, typer.Option("--date", help="QBR date (default: a week from --as-of)")
        ] = None,
    ) -> None:
        """Draft the QBR (Markdown), store it for review and print it."""
        import datetime as dt

        # deferred: keeps csbot --help fast
        from bot.runtime import build_runtime
        from playbooks.prep.facts import AccountNotFound
        from playbooks.prep.qbr import store_qbr_draft
        from storage.db import session_scope

        runtime = build_runtime()
        day = parse_day(as_of, "--as-of", runtime.clock.now().date())
        when = parse_day(meeting, "--date", day + dt.timedelta(days=7))
        try:
            with session_scope(runtime.engine) as session:
                draft = store_qbr_draft(
                    runtime.engine,
                    session,
                    account,
                    day,
                    when,
                    source="on_demand",
                    actor="cli",
                    clock=runtime.clock,
                )
        except AccountNotFound as error:
            raise CliError(str(error)) from None
        typer.echo(draft.markdown, nl=False)
