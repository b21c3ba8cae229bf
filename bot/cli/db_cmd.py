"""`csbot db …`: schema migrations."""

from __future__ import annotations

import typer
from rich.console import Console

from bot.runtime import build_runtime
from storage import migrate
from storage.db import make_engine

db_app = typer.Typer(help="Database schema: apply and inspect migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade() -> None:
    """Apply every pending migration to CSBOT_DATABASE_URL."""
    runtime = build_runtime()
    engine = make_engine(runtime.settings.database_url)
    before = migrate.current_revision(engine)
    migrate.upgrade(engine)
    after = migrate.current_revision(engine)
    Console().print(f"database at revision {after} (was {before or 'empty'})")


@db_app.command("current")
def current() -> None:
    """Show the schema revision of the database and the newest one available."""
    runtime = build_runtime()
    engine = make_engine(runtime.settings.database_url)
    Console().print(
        f"current: {migrate.current_revision(engine) or 'empty'}; head: {migrate.head_revision(engine)}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
