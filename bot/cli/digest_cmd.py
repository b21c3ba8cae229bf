"""`csbot digest`: each CSM's digest from the stored scores, printed or posted to Slack.

Without `--post` it prints the terminal rendering `csbot demo` uses. With `--post` it
queues the digests in the outbox (one per CSM per day, by key) and delivers them, so a
cron line that runs twice posts once. Delivery waits (up to `--wait` seconds) for
rate-limited or backing-off messages, then says what is still pending and when it is
retried; a message that failed for good makes the exit code 1.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import typer

from bot.cli.errors import CliError, UsageError

if TYPE_CHECKING:
    from sqlmodel import Session

    # deferred: keeps csbot --help fast
    from bot.settings import Settings


def _parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--as-of: {value!r} is not a date (use YYYY-MM-DD)") from None


def latest_scored(session: Session, on_or_before: dt.date | None) -> dt.date | None:
    from sqlmodel import func, select

    # deferred: keeps csbot --help fast
    from storage.models import AccountScore

    query = select(func.max(AccountScore.as_of))
    if on_or_before is not None:
        query = query.where(AccountScore.as_of <= on_or_before)
    return session.exec(query).one()


def digest(
    as_of: str | None = typer.Option(
        None, "--as-of", help="Digest date (YYYY-MM-DD); default: the latest scored date."
    ),
    user: str | None = typer.Option(None, "--user", help="Only this CSM (owner email)."),
    post: bool = typer.Option(
        False, "--post", help="Queue in the outbox and deliver to Slack (once per CSM per day)."
    ),
    output: str = typer.Option(
        "text", "--format", help="text, or json: each CSM's selected accounts (scoring.attention)."
    ),
    wait: float = typer.Option(
        120.0,
        "--wait",
        min=0,
        help="With --post: seconds to wait for rate-limited messages before leaving them queued.",
    ),
) -> None:
    """Build each CSM's digest from the stored scores; print it, or post it with --post."""
    from rich.console import Console
    from sqlmodel import select

    # deferred: keeps csbot --help fast
    from bot.accounts.attention import attention_rules
    from bot.digests.service import build_digests
    from bot.digests.terminal import print_digest
    from bot.runtime import build_runtime
    from playbooks.library import load_library
    from storage.data_range import data_range, outside_range
    from storage.db import session_scope
    from storage.models import Account

    wanted = _parse_date(as_of)
    if output not in ("text", "json"):
        raise CliError(f"--format: {output!r} is not one of text, json")
    if output == "json" and post:
        raise CliError("--format json prints; it does not go with --post")
    runtime = build_runtime()
    if post and not runtime.settings.slack_online:
        raise CliError("--post needs a Slack bot token: set CSBOT_SLACK_BOT_TOKEN")
    console = Console()
    library = load_library(runtime.settings.playbook_dir)
    with session_scope(runtime.engine) as session:
        day = wanted or latest_scored(session, runtime.clock.now().date())
        if day is None or latest_scored(session, day) is None:
            raise CliError(
                f"no scores stored{f' on or before {day}' if day else ''}: run `csbot score` first"
            )
        span = data_range(runtime.engine)
        problem = outside_range(day, span) if span is not None else None
        if problem:
            raise CliError(f"no digest: {problem}; pass --as-of a date in that range")
        owners = None
        if user is not None:
            known = session.exec(select(Account.owner).where(Account.owner == user)).first()
            if known is None:
                raise CliError(f"--user: no accounts are owned by {user!r}")
            owners = [user]
        if output == "json":
            typer.echo(
                json.dumps(_attention_json(session, day, runtime.settings, owners), indent=2)
            )
            return
        digests = build_digests(
            session,
            day,
            size=runtime.settings.digest_size,
            library=library,
            owners=owners,
            rules=attention_rules(session, runtime.settings),
        )
        if not post:
            for item in digests:
                print_digest(item, console)
            if not digests:
                console.print(f"No scored accounts with an owner as of {day}.")
            return
        # deferred: keeps csbot --help fast
        from bot.cli.delivery_report import drain_queued, finish_delivery
        from bot.digests.post import queue_and_deliver, queued_parts

        result = queue_and_deliver(
            session, digests, as_of=day, runtime=runtime, clock=runtime.clock
        )
        keys = [
            row.idempotency_key
            for item in digests
            for row in queued_parts(session, item.owner, day)
        ]
    report = drain_queued(runtime, keys, wait)
    earlier = result.queued - result.new
    console.print(
        f"Digests for {day}: {result.queued} message(s) in the outbox "
        f"({result.new} new, {earlier} queued by an earlier run); "
        f"{result.sent + report.delivered} sent now, "
        f"{len(report.failed)} failed, {len(report.pending)} pending."
    )
    if result.unreachable:
        console.print(
            f"Not queued, no Slack user found for: {', '.join(result.unreachable)} "
            "(map them in CSBOT_USER_MAPPING_FILE, or set CSBOT_DIGEST_CHANNEL)"
        )
    finish_delivery(report, console)


def _attention_json(
    session: Session, day: dt.date, settings: Settings, owners: list[str] | None
) -> dict[str, Any]:
    """{"as_of", "per_csm", "csms": [{"owner", "accounts": [entry, …]}]} from the one
    attention ranking (`scoring.attention.load_attention`)."""
    # deferred: keeps csbot --help fast
    from scoring.attention import AttentionSettings, load_attention
    from scoring.churn.registry import alert_threshold

    attention = AttentionSettings(
        per_csm=settings.digest_size,
        alert_threshold=alert_threshold(session, settings.risk_alert_threshold),
    )
    ranked = load_attention(session, day, attention, owners)
    return {
        "as_of": day.isoformat(),
        "per_csm": attention.per_csm,
        "alert_threshold": attention.alert_threshold,
        "csms": [
            {"owner": owner, "accounts": [entry.to_json() for entry in entries]}
            for owner, entries in ranked.items()
            if owner is not None
        ],
    }


def register(app: typer.Typer) -> None:
    """Add this group's commands to the csbot app."""
    app.command("digest")(digest)
