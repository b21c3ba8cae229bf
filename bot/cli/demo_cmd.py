"""`csbot demo`: a synthetic book of business, imported, scored and shown as each CSM's digest.

The first thing a new user runs: nothing to configure, SQLite created on the spot, under a
minute on a laptop. With Slack configured, `--post` sends the same digests to Slack.

The demo writes into its own database (`csbot-demo.db`, or `--database URL`), never into
CSBOT_DATABASE_URL: a `.env` pointing at real data must not get demo accounts mixed in.
It also refuses any database that holds accounts it did not create (demo ids look like
`acct-00042`).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bot.cli.errors import CliError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress
    from sqlalchemy import Engine

    # deferred: keeps csbot --help fast
    from bot.runtime import Runtime

DEMO_END = dt.date(2026, 11, 20)
DEMO_SNAPSHOT_DAYS = 14
DEMO_DATABASE_URL = "sqlite:///csbot-demo.db"
DEMO_ACCOUNT_ID = re.compile(r"acct-\d{5}")
"""The ids `storage.demo` gives its accounts; any other id is someone's real data."""


def foreign_accounts(engine: Engine, limit: int = 3) -> tuple[int, list[str]]:
    """How many accounts in the database the demo did not create, and a few of their ids."""
    from sqlalchemy import select
    from sqlmodel import col

    # deferred: keeps csbot --help fast
    from storage.models import Account

    with engine.connect() as connection:
        ids = connection.execute(select(col(Account.account_id))).scalars().all()
    foreign = [account_id for account_id in ids if not DEMO_ACCOUNT_ID.fullmatch(account_id)]
    return len(foreign), foreign[:limit]


class DemoSteps:
    """The demo's stages, each timed and shown as one progress line."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}

    @contextmanager
    def step(self, label: str) -> Iterator[Callable[[float, float], None]]:
        task = self.progress.add_task(label, total=None)

        def advance(done: float, total: float) -> None:
            self.progress.update(task, completed=done, total=total)

        started = time.perf_counter()
        yield advance
        self.timings[label] = time.perf_counter() - started
        self.progress.update(task, completed=1, total=1, description=f"{label} ✓")


def run_demo(
    runtime: Runtime,
    *,
    data_dir: Path,
    accounts: int,
    seed: int,
    end: dt.date,
    train: bool,
    console: Console,
) -> dict[str, Any]:
    """Generate, import, score (and train), trigger playbooks; return what the digest needs."""
    # deferred: keeps csbot --help fast
    from playbooks.engine import evaluate_triggers
    from playbooks.library import load_library
    from scoring.service import score_portfolio
    from storage.clock import FixedClock
    from storage.db import session_scope
    from storage.demo import generate_portfolio
    from storage.ingest import import_directory

    clock = FixedClock(dt.datetime.combine(end, dt.time(6, 0)))
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    engine = runtime.engine
    library = load_library(runtime.settings.playbook_dir)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        steps = DemoSteps(progress)
        with steps.step(f"Generating {accounts} accounts over 18 months (seed {seed})") as advance:
            summary = generate_portfolio(
                data_dir, seed=seed, accounts=accounts, end=end, progress=advance
            )
        with steps.step(f"Importing {data_dir}") as advance:
            report = import_directory(engine, data_dir, progress=advance)
        if train:
            # deferred: keeps csbot --help fast
            from scoring.churn.config import TrainingConfig
            from scoring.churn.train import TrainingError, train_and_promote

            # A fortnightly snapshot grid keeps the demo under a minute; `csbot train`
            # uses the weekly default.
            with steps.step("Training the churn model on the portfolio's history") as advance:
                try:
                    train_and_promote(
                        engine,
                        as_of=end,
                        clock=clock,
                        cfg=TrainingConfig(snapshot_every_days=DEMO_SNAPSHOT_DAYS),
                        progress=advance,
                    )
                except TrainingError as error:
                    console.print(f"[yellow]No churn model: {error}[/]")
        with steps.step(f"Scoring every account as of {end}"):
            scores = score_portfolio(engine, end, clock=clock)
        with (
            steps.step("Starting playbooks whose triggers fired"),
            session_scope(engine) as session,
        ):
            started = evaluate_triggers(session, as_of=end, library=library, clock=clock)
    return {
        "summary": summary,
        "import": report,
        "scores": scores,
        "runs_started": len(started),
        "timings": steps.timings,
        "clock": clock,
        "library": library,
    }


def demo(
    post: bool = typer.Option(
        False, "--post", help="Also send the digests to Slack (needs CSBOT_SLACK_BOT_TOKEN)."
    ),
    accounts: int = typer.Option(300, min=10, max=5000, help="How many accounts to generate."),
    seed: int = typer.Option(7, help="Random seed: the same seed gives the same portfolio."),
    data_dir: Path = typer.Option(Path("demo-data"), help="Where the generated import files go."),
    train: bool = typer.Option(True, help="Train the churn model so digests show churn risk."),
    user: str | None = typer.Option(None, help="Show only this CSM's digest (owner email)."),
    database: str = typer.Option(
        DEMO_DATABASE_URL,
        "--database",
        help="The demo's own database (never CSBOT_DATABASE_URL); it must hold only demo accounts.",
    ),
    wait: float = typer.Option(
        120.0, "--wait", min=0, help="With --post: seconds to wait for rate-limited messages."
    ),
) -> None:
    """Generate a demo book of business, import and score it, and show each CSM's digest."""
    from rich.console import Console

    # deferred: keeps csbot --help fast
    from bot.accounts.attention import attention_rules
    from bot.digests.service import build_digests
    from bot.digests.terminal import print_digest
    from bot.runtime import Runtime
    from bot.settings import load_settings
    from storage.db import session_scope, sqlite_path

    console = Console()
    settings = load_settings(database_url=database)
    runtime = Runtime(settings=settings, create_database=True)
    if post and not runtime.settings.slack_online:
        raise CliError(
            "--post needs CSBOT_SLACK_BOT_TOKEN (the demo shows digests offline without it)"
        )
    path = sqlite_path(settings.database_url)
    is_new = path is not None and not path.exists()
    count, examples = foreign_accounts(runtime.engine)
    if count:
        raise CliError(
            f"{runtime.settings.database_url} holds {count} account(s) the demo did not create "
            f"(e.g. {', '.join(examples)}): the demo will not write into real data; "
            f"use --database with a new database (default {DEMO_DATABASE_URL})"
        )
    if is_new:
        console.print(f"Created a new database for the demo: {path}")
    started = time.perf_counter()
    result = run_demo(
        runtime,
        data_dir=data_dir,
        accounts=accounts,
        seed=seed,
        end=DEMO_END,
        train=train,
        console=console,
    )
    with session_scope(runtime.engine) as session:
        digests = build_digests(
            session,
            DEMO_END,
            size=runtime.settings.digest_size,
            library=result["library"],
            rules=attention_rules(session, runtime.settings),
        )
    digests = [d for d in digests if user is None or d.owner == user]
    for digest in digests:
        print_digest(digest, console)
    if post:
        # deferred: keeps csbot --help fast
        from bot.cli.delivery_report import drain_queued, finish_delivery
        from bot.digests.post import queue_and_deliver, queued_parts

        with session_scope(runtime.engine) as session:
            queued = queue_and_deliver(
                session, digests, as_of=DEMO_END, runtime=runtime, clock=result["clock"]
            )
            keys = [
                row.idempotency_key
                for item in digests
                for row in queued_parts(session, item.owner, DEMO_END)
            ]
        # Delivery runs on the real clock: Retry-After and pacing are real waits.
        report = drain_queued(runtime, keys, wait)
        console.print(
            f"Queued {queued.queued} digest message(s); "
            f"{queued.sent + report.delivered} delivered to Slack now."
        )
        finish_delivery(report, console)
    console.print(
        f"{len(result['scores'])} accounts scored, {result['runs_started']} playbook runs "
        f"started, {len(digests)} digests, in {time.perf_counter() - started:.1f} s. "
        f"Database: {runtime.settings.database_url} "
        f"(look further with CSBOT_DATABASE_URL={runtime.settings.database_url} csbot …)",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
