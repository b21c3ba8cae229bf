"""`csbot sync SOURCE [--since DATE] [--dry-run]`: pull a source's changes into csbot.

Sources: hubspot, salesforce, zendesk, stripe, usage-sql, usage-files (docs/sources/).
Prints one row per object (records read; rows inserted, updated, deleted; links; skipped)
and the first problems of skipped records. Exits 2 for a usage error (unknown source,
missing settings, bad --since, a wrong mapping file) and 1 when the source failed — after
keeping what had synced.
"""

from __future__ import annotations

import datetime as dt

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

PROBLEMS_SHOWN = 10


def _usage(message: str) -> typer.Exit:
    typer.echo(f"csbot: {message}", err=True)
    return typer.Exit(2)


def sync(
    source: str = typer.Argument(
        ..., help="hubspot, salesforce, zendesk, stripe, usage-sql or usage-files"
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        help="Read changes since this date (YYYY-MM-DD) instead of the stored cursor.",
        show_default=False,
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Read and validate; count what would be written; write nothing."
    ),
) -> None:
    """Sync one source incrementally (only what changed since the last sync)."""
    # deferred: keeps csbot --help fast
    from bot.runtime import build_runtime
    from storage.connectors.registry import SOURCES, NotConfigured, build
    from storage.ingest.mapping import MappingError, load_mapping

    if source not in SOURCES:
        raise _usage(f"unknown source {source!r} (expected one of: {', '.join(SOURCES)})")
    since_value = None
    if since is not None:
        try:
            since_value = dt.datetime.fromisoformat(since).isoformat()
        except ValueError:
            raise _usage(f"--since: not a date (YYYY-MM-DD): {since!r}") from None
    runtime = build_runtime()
    try:
        connector = build(source, runtime.settings)
    except NotConfigured as error:
        raise _usage(f"sync {source}: {error}") from None
    try:
        mapping = load_mapping(runtime.settings.mapping_file)
    except MappingError as error:
        for problem in error.problems:
            typer.echo(f"csbot: {problem}", err=True)
        raise typer.Exit(2) from None
    # deferred: keeps csbot --help fast
    from storage.connectors import run_sync

    report = run_sync(
        runtime.engine,
        connector,
        since=since_value,
        dry_run=dry_run,
        mapping=mapping,
        clock=runtime.clock,
    )
    console = Console(highlight=False)
    title = f"Sync of {source}" + (" (dry run: nothing written)" if dry_run else "")
    table = Table(title=title, title_justify="left")
    table.add_column("object")
    for name in ("read", "inserted", "updated", "deleted", "links", "skipped", "seconds"):
        table.add_column(name, justify="right")
    for item in report.objects:
        table.add_row(
            item.object,
            f"{item.read:,}",
            f"{item.inserted:,}",
            f"{item.updated:,}",
            f"{item.deleted:,}",
            f"{item.links:,}",
            f"{item.rejected:,}",
            f"{item.seconds:.2f}",
        )
    console.print(table)
    verb = "would write" if dry_run else "wrote"
    console.print(
        f"{source}: {verb} {report.writes:,} rows in {report.seconds:.2f} s "
        f"({report.requests:,} requests)"
    )
    for skipped in report.problems[:PROBLEMS_SHOWN]:
        console.print(f"skipped: {escape(str(skipped))}", soft_wrap=True)
    if report.problem_count > PROBLEMS_SHOWN:
        console.print(f"… and {report.problem_count - PROBLEMS_SHOWN:,} more skipped")
    for item in report.objects:
        if item.unmatched:
            named = ", ".join(item.unmatched_records[:PROBLEMS_SHOWN])
            more = item.unmatched - min(len(item.unmatched_records), PROBLEMS_SHOWN)
            console.print(
                f"{item.object}: {item.unmatched:,} matched no account, left out: "
                f"{escape(named)}" + (f" … and {more:,} more" if more else ""),
                soft_wrap=True,
            )
    if report.error is not None:
        typer.echo(f"csbot: {report.error} (what synced before is kept)", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `csbot sync` to the csbot app."""
    app.command("sync")(sync)
