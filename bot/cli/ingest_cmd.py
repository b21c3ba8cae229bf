"""`csbot ingest DIR`: import a data-contract directory (docs/data-contract.md).

Prints one table row per file (read, inserted, updated, rejected, seconds), a progress bar
while a large file loads, and a summary line; on bad rows, the first problems as
`file:line: column: problem`. Exits 1 when a file was refused (nothing of it committed);
with `--skip-invalid` a file's bad rows are set aside instead, and the exit is 0.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from bot.cli.errors import CliError

PROBLEMS_SHOWN = 20
BAR_MIN_BYTES = 5_000_000
"""Files smaller than this load too fast for a progress bar to help."""


class _FileBars:
    """One transient rich progress bar per large file."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, update: object) -> None:
        # deferred: keeps csbot --help fast
        from storage.ingest import ProgressUpdate

        assert isinstance(update, ProgressUpdate)
        total = update.bytes_total or 0
        if total < BAR_MIN_BYTES:
            return
        task = self.tasks.get(update.file)
        if task is None:
            task = self.progress.add_task(update.file, total=total)
            self.tasks[update.file] = task
        self.progress.update(task, completed=update.bytes_done)
        if update.done:
            self.progress.remove_task(task)


def _files_table(report: object) -> Table:
    # deferred: keeps csbot --help fast
    from storage.ingest import ImportReport

    assert isinstance(report, ImportReport)
    table = Table(title=f"Import of {report.directory}", title_justify="left")
    table.add_column("file")
    for name in ("read", "inserted", "updated", "rejected", "seconds"):
        table.add_column(name, justify="right")
    table.add_column("status")
    for file in report.files:
        if file.committed:
            status = "[green]ok[/]" if not file.rejected else "[yellow]partial[/]"
        else:
            status = "[red]refused[/]"
        table.add_row(
            file.file,
            f"{file.read:,}",
            f"{file.inserted:,}",
            f"{file.updated:,}",
            f"{file.rejected:,}",
            f"{file.seconds:.2f}",
            status,
        )
    return table


def ingest(
    directory: Path | None = typer.Argument(
        None,
        help="Directory of contract files (accounts.csv, usage.jsonl, …); "
        "default CSBOT_IMPORT_DIR.",
        show_default=False,
    ),
    skip_invalid: bool = typer.Option(
        False,
        "--skip-invalid",
        help="Commit the good rows of a file with bad ones; write the bad ones to a rejects file.",
    ),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Where rejects files go (default DIR/rejects).", show_default=False
    ),
    mapping: Path | None = typer.Option(
        None,
        "--mapping",
        help="Mapping file (docs/mapping.md); default CSBOT_MAPPING_FILE, else DIR/mapping.yml.",
        show_default=False,
    ),
) -> None:
    """Import a directory of data-contract files (docs/data-contract.md) idempotently."""
    # deferred: keeps csbot --help fast
    from bot.runtime import build_runtime
    from storage.db import sqlite_path
    from storage.ingest import import_directory
    from storage.ingest.mapping import MappingError, load_mapping

    runtime = build_runtime(create_database=True)  # ingest may create the database
    path = directory or runtime.settings.import_dir
    if path is None:
        raise CliError("no directory given and CSBOT_IMPORT_DIR is not set")
    if not path.is_dir():
        raise CliError(f"{path}: not a directory")
    console = Console()
    chosen = mapping or runtime.settings.mapping_file  # else import_directory reads DIR/mapping.yml
    mapping_file = None
    if chosen is not None:
        try:
            mapping_file = load_mapping(chosen)
        except MappingError as error:
            for line in error.problems:
                console.print(escape(line), soft_wrap=True, highlight=False)
            raise typer.Exit(1) from None
    database_file = sqlite_path(runtime.settings.database_url)
    if database_file is not None and not database_file.exists():
        console.print(f"creating a new database at {database_file}", markup=False)
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        report = import_directory(
            runtime.engine,
            path,
            skip_invalid=skip_invalid,
            rejects_dir=rejects,
            file_progress=_FileBars(progress),
            mapping=mapping_file,
        )
    elapsed = time.perf_counter() - started
    for warning in report.all_warnings():
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    if report.files:
        console.print(_files_table(report))
    read = sum(f.read for f in report.files)
    inserted = sum(f.inserted for f in report.files)
    updated = sum(f.updated for f in report.files)
    rejected = sum(f.rejected for f in report.files)
    refused = [f.file for f in report.files if not f.committed]
    console.print(
        f"{len(report.files)} file{'s' if len(report.files) != 1 else ''}, {read:,} rows read: {inserted:,} inserted, "
        f"{updated:,} updated, {rejected:,} rejected in {elapsed:.2f} s"
        + (f"; refused: {', '.join(refused)}" if refused else "")
    )
    for file in report.files:
        if file.rejects_path is not None:
            console.print(f"rejected rows of {file.file} written to {file.rejects_path}")
    if report.ok:
        return
    for problem in report.all_problems()[:PROBLEMS_SHOWN]:
        console.print(escape(str(problem)), soft_wrap=True, highlight=False)
    if report.problem_count > PROBLEMS_SHOWN:
        console.print(f"… and {report.problem_count - PROBLEMS_SHOWN:,} more")
    if refused or report.problems:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `csbot ingest` to the csbot app."""
    app.command("ingest")(ingest)
