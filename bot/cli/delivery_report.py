"""The end of every command that posts: wait (bounded) for what it queued, then say what
was sent, what is still pending and when it is retried, and fail if anything failed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.cli.errors import CliError

if TYPE_CHECKING:
    from rich.console import Console

    # deferred: keeps csbot --help fast
    from bot.delivery.drain import DrainReport


def drain_queued(runtime: Any, keys: list[str], wait_seconds: float) -> DrainReport:
    """Deliver the rows under `keys` (and anything else due), waiting for retries up to
    `wait_seconds`."""
    # deferred: keeps csbot --help fast
    from bot.delivery.drain import drain
    from bot.delivery.sender import make_sender_client

    client = make_sender_client(runtime.settings)
    return drain(runtime.engine, client, runtime.clock, keys, max_wait_seconds=wait_seconds)


def finish_delivery(report: DrainReport, console: Console) -> None:
    """Print the pending line; raise `CliError` (exit 1) naming what failed for good."""
    pending = report.pending_line()
    if pending:
        console.print(pending, markup=False)
    if report.halted:
        raise CliError(
            f"Slack stopped delivery ({report.halted}): check CSBOT_SLACK_BOT_TOKEN; "
            "queued messages stay in the outbox"
        )
    failed = report.failed_line()
    if failed:
        raise CliError(failed)
