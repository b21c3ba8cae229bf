"""`csbot playbooks …`: list, validate and report on playbooks; start and advance runs."""

from __future__ import annotations

import datetime as dt
import getpass
import json
from collections import Counter
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bot.cli.errors import CliError
from bot.runtime import Runtime, build_runtime
from playbooks import engine as playbook_engine
from playbooks.errors import PlaybookError, PlaybookFormatError
from playbooks.library import LIBRARY_DIR, load_library
from playbooks.loader import load_dir
from playbooks.model import Playbook
from playbooks.report import playbook_report
from storage.db import session_scope

playbooks_app = typer.Typer(
    help="Playbooks: the library, runs, and what they achieved.", no_args_is_help=True
)


class ReportFormat(StrEnum):
    table = "table"
    json = "json"


def _library(runtime: Runtime) -> dict[str, Playbook]:
    try:
        return load_library(runtime.settings.playbook_dir)
    except PlaybookFormatError as error:
        raise CliError("invalid playbook(s) in CSBOT_PLAYBOOK_DIR:\n" + str(error)) from None


@playbooks_app.command("list")
def list_playbooks() -> None:
    """Every playbook available (shipped and from CSBOT_PLAYBOOK_DIR)."""
    runtime = build_runtime()
    library = _library(runtime)
    custom = (
        set(load_dir(runtime.settings.playbook_dir)) if runtime.settings.playbook_dir else set()
    )
    table = Table(title=f"{len(library)} playbooks (* from CSBOT_PLAYBOOK_DIR)")
    table.add_column("playbook", max_width=26, overflow="fold")
    table.add_column("stage")
    table.add_column("trigger", min_width=20, ratio=1)
    table.add_column("steps", justify="right")
    table.add_column("cooldown", justify="right")
    for name, playbook in library.items():
        marker = " *" if name in custom else ""
        table.add_row(
            f"{name}{marker}\n[dim]{playbook.title}[/dim]",
            playbook.stage,
            playbook.trigger.describe() if playbook.trigger else "(started by hand)",
            str(len(playbook.steps)),
            f"{playbook.cooldown_days}d",
        )
    Console().print(table)


@playbooks_app.command("validate")
def validate(
    directory: Path = typer.Argument(LIBRARY_DIR, help="Directory of playbook YAML files"),
) -> None:
    """Check every playbook file in DIRECTORY; list each problem as file:line: key: problem."""
    try:
        found = load_dir(directory)
    except PlaybookFormatError as error:
        raise CliError(
            f"{len(error.problems)} problem(s) in {directory}:\n" + "\n".join(error.problems)
        ) from None
    Console().print(f"{len(found)} playbook(s) valid in {directory}: {', '.join(found)}")


@playbooks_app.command("report")
def report(
    since: dt.datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="First day"),
    until: dt.datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="Last day"),
    output: ReportFormat = typer.Option(ReportFormat.table, "--format", help="table or json"),
) -> None:
    """Per playbook: runs, completion, outcomes, save rate and ARR, against a baseline."""
    runtime = build_runtime()
    last = until.date() if until else runtime.clock.now().date()
    first = since.date() if since else last - dt.timedelta(days=180)
    if first > last:
        raise CliError(f"--since {first} is after --until {last}")
    with session_scope(runtime.engine) as session:
        results = playbook_report(session, since=first, until=last)
    if output is ReportFormat.json:
        payload = {
            "since": first.isoformat(),
            "until": last.isoformat(),
            "playbooks": [r.to_dict() for r in results],
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    table = Table(title=f"Playbook results {first} – {last}")
    table.add_column("playbook", no_wrap=True)
    for column in (
        "started",
        "completed",
        "median days",
        "outcomes",
        "save rate",
        "baseline",
        "lift",
        "ARR kept",
        "ARR lost",
    ):
        table.add_column(column, overflow="fold")
    for r in results:
        table.add_row(
            r.playbook,
            str(r.runs_started),
            str(r.runs_completed),
            "—" if r.median_days_to_complete is None else f"{r.median_days_to_complete:g}",
            ", ".join(f"{k} {v}" for k, v in r.outcomes.items()) or "—",
            _pct(r.save_rate),
            f"{_pct(r.baseline_save_rate)} (n={r.baseline_accounts})",
            "—" if r.lift is None else f"{r.lift * 100:+.0f} pts",
            f"{r.arr_kept:,.0f}",
            f"{r.arr_lost:,.0f}",
        )
    console = Console()
    console.print(table if results else f"no playbook runs started {first} – {last}")


def _whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


@playbooks_app.command("start")
def start(
    account: str = typer.Argument(..., help="Account id"),
    playbook: str = typer.Argument(..., help="Playbook name (see `csbot playbooks list`)"),
    by: str | None = typer.Option(None, help="Who is starting it (default: your login)"),
    reason: str | None = typer.Option(None, help="Why (for the audit log)"),
) -> None:
    """Start PLAYBOOK for ACCOUNT now."""
    runtime = build_runtime()
    library = _library(runtime)
    if playbook not in library:
        raise CliError(f"unknown playbook {playbook!r}; one of {', '.join(library)}")
    try:
        with session_scope(runtime.engine) as session:
            run = playbook_engine.start_run(
                session,
                account_id=account,
                playbook=library[playbook],
                actor=by or _whoami(),
                source="cli",
                clock=runtime.clock,
                reason=reason,
            )
            steps = playbook_engine.run_steps(session, run.id)  # type: ignore[arg-type]
    except PlaybookError as error:
        raise CliError(str(error)) from None
    table = Table(title=f"run {run.id}: {playbook} for {account}")
    for column in ("step", "due", "kind", "owner", "title"):
        table.add_column(column)
    for step in steps:
        table.add_row(
            str(step.id),
            f"{step.due_at:%Y-%m-%d}",
            step.kind,
            step.owner or step.owner_role,
            step.title,
        )
    Console().print(table)


@playbooks_app.command("advance")
def advance(
    step_id: int = typer.Argument(..., help="Step id"),
    done: bool = typer.Option(False, "--done", help="Mark the step done"),
    skip: bool = typer.Option(False, "--skip", help="Mark the step skipped"),
    note: str | None = typer.Option(None, help="A note kept with the step"),
    by: str | None = typer.Option(None, help="Who did it (default: your login)"),
) -> None:
    """Mark STEP_ID done (--done) or skipped (--skip)."""
    if done == skip:
        raise CliError("give exactly one of --done or --skip")
    runtime = build_runtime()
    try:
        with session_scope(runtime.engine) as session:
            step = playbook_engine.advance_step(
                session,
                step_id=step_id,
                status="done" if done else "skipped",
                actor=by or _whoami(),
                source="cli",
                clock=runtime.clock,
                note=note,
            )
            run = playbook_engine.get_run(session, step.run_id)
    except PlaybookError as error:
        raise CliError(str(error)) from None
    Console().print(f"step {step_id} {step.status}; run {run.id} is {run.status}")


@playbooks_app.command("evaluate")
def evaluate(
    as_of: dt.datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="Score date"),
) -> None:
    """Evaluate every trigger on the scores of AS_OF (default today) and start runs."""
    runtime = build_runtime()
    library = _library(runtime)
    day = as_of.date() if as_of else runtime.clock.now().date()
    with session_scope(runtime.engine) as session:
        runs = playbook_engine.evaluate_triggers(
            session, as_of=day, library=library, clock=runtime.clock
        )
        started = Counter(run.playbook for run in runs)
    Console().print(
        f"{len(runs)} run(s) started for {day}"
        + "".join(f"\n  {name}: {count}" for name, count in sorted(started.items()))
    )


def register(app: typer.Typer) -> None:
    app.add_typer(playbooks_app, name="playbooks")
