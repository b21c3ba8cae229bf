"""`csbot jobs`, `csbot run-job NAME`, `csbot outbox [--failed]`, `csbot outbox retry`.

What operators need when a digest did not arrive: which jobs run when and when they last
succeeded, a way to run one now, and the outbox with each message's error.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.cli.errors import CliError, UsageError
from storage.enums import OutboxStatus

console = Console()


def build_runtime(clock: Any = None) -> Any:
    """The runtime, imported on use: SQLAlchemy must not load for `csbot --help`."""
    # deferred: keeps csbot --help fast
    from bot.runtime import build_runtime as build

    return build(clock=clock)


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def jobs() -> None:
    """List the scheduled jobs, their next run (UTC), last success and current lease."""
    from sqlmodel import Session, col, select

    # deferred: keeps csbot --help fast
    from bot.scheduling import leases, registry
    from bot.scheduling.runner import last_runs, lease_name, next_runs
    from storage.models.delivery import JobRun

    runtime = build_runtime()
    now = runtime.clock.now()
    upcoming = next_runs(runtime.settings, now)
    succeeded = last_runs(runtime)
    with Session(runtime.engine) as session:
        latest: dict[str, JobRun] = {}
        for run in session.exec(select(JobRun).order_by(col(JobRun.started_at).desc()).limit(500)):
            latest.setdefault(run.job, run)
    table = Table(title=f"csbot jobs (times UTC; now {_when(now)})")
    for column in ("job", "schedule", "next run", "last success", "last run", "held by"):
        table.add_column(column)
    for name, spec in registry.JOBS.items():
        schedule = escape(str(spec.trigger(runtime.settings))) if spec.trigger else "run-job only"
        last = latest.get(name)
        ok = succeeded.get(name)
        lease = leases.current(runtime.engine, lease_name(name))
        held = lease.holder if lease and lease.expires_at > now else ""
        last_text = f"{last.status} {_when(last.started_at)}" if last else "—"
        table.add_row(
            name,
            schedule,
            _when(upcoming.get(name)),
            _when(ok.finished_at if ok else None),
            last_text,
            held,
        )
    console.print(table)


def run_job_command(
    name: str = typer.Argument(..., help="job name (see `csbot jobs`)"),
    once: bool = typer.Option(
        False, "--once", help="skip if this occurrence (day, hour, week) already ran"
    ),
    at: str | None = typer.Option(
        None, "--at", help='run as if at this UTC time, "YYYY-MM-DD HH:MM" (posts for real)'
    ),
) -> None:
    """Run one job now (or as if at --at), under its lease (refuses while another process
    runs it)."""
    # deferred: keeps csbot --help fast
    from bot.scheduling import registry
    from bot.scheduling.runner import run_job
    from storage.clock import FixedClock

    if name not in registry.JOBS:
        raise UsageError(f"no job named {name!r}; jobs: {', '.join(registry.JOBS)}")
    clock = None
    if at is not None:
        try:
            clock = FixedClock(dt.datetime.strptime(at.strip(), "%Y-%m-%d %H:%M"))
        except ValueError:
            raise typer.BadParameter(f'--at: expected "YYYY-MM-DD HH:MM", got {at!r}') from None
    runtime = build_runtime(clock=clock)
    outcome = run_job(runtime, name, force=not once, wait=False)
    if outcome.status == "skipped_held":
        raise CliError(f"job {name} is running in {outcome.detail.get('held_by')}; try later")
    if outcome.status == "skipped_done":
        console.print(f"job {name}: already ran for {outcome.slot}; nothing to do")
        return
    if outcome.status == "error":
        raise CliError(f"job {name} failed (job run {outcome.run_id}): {outcome.error}")
    skipped = (outcome.detail or {}).get("skipped")
    if skipped:
        raise CliError(f"job {name} did nothing: {skipped}")
    console.print(f"job {name} ok (job run {outcome.run_id}): {json.dumps(outcome.detail)}")


outbox_app = typer.Typer(help="Messages queued for Slack and their delivery state.")


@outbox_app.callback(invoke_without_command=True)
def outbox(
    ctx: typer.Context,
    failed: bool = typer.Option(False, "--failed", help="only failed messages"),
    status: str | None = typer.Option(
        None, help="only this status (pending, sending, sent, failed)"
    ),
    limit: int = typer.Option(50, min=1, help="newest N messages"),
) -> None:
    """List outbox messages (newest first) with their last error."""
    if ctx.invoked_subcommand is not None:
        return
    from sqlmodel import Session

    # deferred: keeps csbot --help fast
    from bot.delivery.outbox import list_messages
    from storage.models.delivery import OUTBOX_STATUSES

    wanted = OutboxStatus.FAILED if failed else status
    if wanted is not None and wanted not in OUTBOX_STATUSES:
        raise UsageError(f"--status must be one of {', '.join(OUTBOX_STATUSES)}, not {wanted!r}")
    runtime = build_runtime()
    with Session(runtime.engine) as session:
        rows = list_messages(session, status=wanted, limit=limit)
    table = Table(title=f"outbox ({wanted or 'all'}, newest {limit})")
    for column in ("id", "key", "kind", "channel", "status", "tries", "next try / sent", "error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        when = row.sent_at if row.status == OutboxStatus.SENT else row.next_attempt_at
        table.add_row(
            str(row.id),
            escape(row.idempotency_key),
            row.kind,
            row.posted_channel or row.channel,
            row.status + (" ?" if row.outcome_unknown and row.status != OutboxStatus.SENT else ""),
            str(row.attempts),
            _when(when),
            escape(row.last_error or ""),
        )
    console.print(table)
    if not rows:
        console.print("no messages")
    with Session(runtime.engine) as session:
        # deferred: keeps csbot --help fast
        from bot.delivery.budget import held_summary

        held = held_summary(session)
    if held:
        waiting = Table(title="held back by the noise budget (for the digest and App Home)")
        for column in ("recipient", "kind", "why", "count"):
            waiting.add_column(column, overflow="fold")
        for recipient, kind, reason, count in held:
            waiting.add_row(escape(recipient), kind, reason, str(count))
        console.print(waiting)
        console.print(f"{sum(row[3] for row in held)} update(s) held in all")


@outbox_app.command("retry")
def outbox_retry(
    ids: list[int] = typer.Argument(None, help="outbox ids (default: every failed message)"),
) -> None:
    """Put failed messages back in the queue; the scheduler's sender delivers them."""
    from sqlmodel import Session

    # deferred: keeps csbot --help fast
    from bot.delivery.outbox import retry_failed

    runtime = build_runtime()
    with Session(runtime.engine) as session:
        count = retry_failed(session, clock=runtime.clock, ids=ids or None)
        session.commit()
    console.print(f"{count} failed message(s) queued again")


@outbox_app.command("deliver")
def outbox_deliver() -> None:
    """Deliver due messages now (what the scheduler's `deliver` job does every 20 s)."""
    # deferred: keeps csbot --help fast
    from bot.scheduling.runner import run_job

    runtime = build_runtime()
    if not runtime.settings.slack_online:
        raise CliError("CSBOT_SLACK_BOT_TOKEN is not set: cannot deliver to Slack")
    outcome = run_job(runtime, "deliver", wait=False)
    if outcome.status == "error":
        raise CliError(f"delivery failed: {outcome.error}")
    console.print(json.dumps(outcome.detail or {"status": outcome.status}))


def register(app: typer.Typer) -> None:
    """Add this group's commands to the csbot app."""
    app.command("jobs")(jobs)
    app.command("run-job")(run_job_command)
    app.add_typer(outbox_app, name="outbox")
