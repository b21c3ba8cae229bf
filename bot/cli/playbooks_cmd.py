"""`csbot playbooks …`: list, validate and report on playbooks; start and advance runs.

The playbooks, storage and rich modules are imported inside the commands (see bot/cli/__init__).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bot.cli.data_check import require_in_range
from bot.cli.errors import CliError, UsageError
from bot.cli.output import make_console
from storage.enums import Source

if TYPE_CHECKING:
    # deferred: keeps csbot --help fast
    from bot.runtime import Runtime
    from playbooks.model import Playbook


playbooks_app = typer.Typer(
    help="Playbooks: the library, runs, and what they achieved.", no_args_is_help=True
)


class ReportFormat(StrEnum):
    table = "table"
    json = "json"


def _library(runtime: Runtime) -> dict[str, Playbook]:
    # deferred: keeps csbot --help fast
    from playbooks.errors import PlaybookFormatError
    from playbooks.library import load_library

    extra = runtime.settings.playbook_dir
    if extra is not None and not Path(extra).is_dir():  # a wrong setting: a usage error
        raise UsageError(f"CSBOT_PLAYBOOK_DIR: {extra} is not a directory")
    try:
        return load_library(extra)
    except PlaybookFormatError as error:
        raise CliError("invalid playbook(s) in CSBOT_PLAYBOOK_DIR:\n" + str(error)) from None


@playbooks_app.command("list")
def list_playbooks() -> None:
    """Every playbook available (shipped and from CSBOT_PLAYBOOK_DIR)."""
    from rich.table import Table

    # deferred: keeps csbot --help fast
    from bot.runtime import build_runtime
    from playbooks.loader import load_dir

    runtime = build_runtime()
    library = _library(runtime)
    custom = (
        set(load_dir(runtime.settings.playbook_dir)) if runtime.settings.playbook_dir else set()
    )
    table = Table(title=f"{len(library)} playbooks (* from CSBOT_PLAYBOOK_DIR)")
    table.add_column("playbook", no_wrap=True)
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
    make_console().print(table)


@playbooks_app.command("validate")
def validate(
    path: Path = typer.Argument(
        None, help="A playbook YAML file, or a directory of them (default: the shipped library)"
    ),
) -> None:
    """Check a playbook file, or every one in a directory; list each problem as
    file:line: key: problem."""
    # deferred: keeps csbot --help fast
    from playbooks.errors import PlaybookFormatError
    from playbooks.library import LIBRARY_DIR
    from playbooks.loader import load_dir, load_file

    path = path or LIBRARY_DIR
    if not path.exists():
        raise UsageError(f"{path}: no such file or directory")
    try:
        found = list(load_dir(path)) if path.is_dir() else [load_file(path).name]
    except PlaybookFormatError as error:
        raise CliError(
            f"{len(error.problems)} problem(s) in {path}:\n" + "\n".join(error.problems)
        ) from None
    make_console().print(f"{len(found)} playbook(s) valid in {path}: {', '.join(found)}")


@playbooks_app.command("report")
def report(
    since: dt.datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="First day"),
    until: dt.datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="Last day"),
    output: ReportFormat = typer.Option(ReportFormat.table, "--format", help="table or json"),
    wide: bool = typer.Option(False, "--wide", help="Also median days, outcomes and ARR"),
) -> None:
    """Per playbook: runs, completion, outcomes, save rate and ARR, against a baseline."""
    from rich.table import Table

    # deferred: keeps csbot --help fast
    from bot.runtime import build_runtime
    from playbooks.report import playbook_report
    from storage.db import session_scope

    runtime = build_runtime()
    last = until.date() if until else runtime.clock.now().date()
    first = since.date() if since else last - dt.timedelta(days=180)
    if first > last:
        raise UsageError(f"--since {first} is after --until {last}")
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
    columns = ["playbook", "started", "done", "save rate", "baseline", "lift"]
    if wide:
        columns += ["median days", "outcomes", "ARR kept", "ARR lost"]
    for column in columns:
        table.add_column(column, no_wrap=column in ("playbook", "lift"), overflow="fold")
    for r in results:
        cells = {
            "playbook": r.playbook,
            "started": str(r.runs_started),
            "done": str(r.runs_completed),
            "save rate": _pct(r.save_rate),
            "baseline": f"{_pct(r.baseline_save_rate)} (n={r.baseline_accounts})",
            "lift": "—" if r.lift is None else f"{r.lift * 100:+.0f} pts",
            "median days": "—"
            if r.median_days_to_complete is None
            else f"{r.median_days_to_complete:g}",
            "outcomes": ", ".join(f"{k} {v}" for k, v in r.outcomes.items()) or "—",
            "ARR kept": f"{r.arr_kept:,.0f}",
            "ARR lost": f"{r.arr_lost:,.0f}",
        }
        table.add_row(*(cells[column] for column in columns))
    console = make_console(wide=wide)
    console.print(table if results else f"no playbook runs started {first} – {last}")


def _whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return Source.CLI


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
    from rich.table import Table

    # deferred: keeps csbot --help fast
    from bot.runtime import build_runtime
    from playbooks import engine as playbook_engine
    from playbooks.errors import PlaybookError
    from storage.db import session_scope

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
                source=Source.CLI,
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
    make_console().print(table)


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
        raise UsageError("give exactly one of --done or --skip")
    # deferred: keeps csbot --help fast
    from bot.runtime import build_runtime
    from playbooks import engine as playbook_engine
    from playbooks.errors import PlaybookError
    from storage.db import session_scope

    runtime = build_runtime()
    try:
        with session_scope(runtime.engine) as session:
            step = playbook_engine.advance_step(
                session,
                step_id=step_id,
                status="done" if done else "skipped",
                actor=by or _whoami(),
                source=Source.CLI,
                clock=runtime.clock,
                note=note,
            )
            run = playbook_engine.get_run(session, step.run_id)
    except PlaybookError as error:
        raise CliError(str(error)) from None
    make_console().print(f"step {step_id} {step.status}; run {run.id} is {run.status}")


@playbooks_app.command("evaluate")
def evaluate(
    as_of: dt.datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="Score date"),
) -> None:
    """Evaluate every trigger on the scores of AS_OF (default today) and start runs."""
    # deferred: keeps csbot --help fast
    from bot.runtime import build_runtime
    from playbooks import engine as playbook_engine
    from storage.db import session_scope

    runtime = build_runtime()
    library = _library(runtime)
    day = as_of.date() if as_of else runtime.clock.now().date()
    require_in_range(runtime.engine, day, doing="evaluating triggers")
    with session_scope(runtime.engine) as session:
        runs = playbook_engine.evaluate_triggers(
            session, as_of=day, library=library, clock=runtime.clock
        )
        started = Counter(run.playbook for run in runs)
    make_console().print(
        f"{len(runs)} run(s) started for {day}"
        + "".join(f"\n  {name}: {count}" for name, count in sorted(started.items()))
    )


def register(app: typer.Typer) -> None:
    app.add_typer(playbooks_app, name="playbooks")
