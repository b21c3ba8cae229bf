"""`csbot db …`: schema migrations. `db upgrade` is the command that creates a database."""

from __future__ import annotations

import typer

db_app = typer.Typer(help="Database schema: apply and inspect migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade() -> None:
    """Apply every pending migration to CSBOT_DATABASE_URL (creating a SQLite file if needed)."""
    from rich.console import Console

    # deferred: keeps csbot --help fast
    from bot.settings import load_settings
    from storage import migrate
    from storage.db import make_engine, sqlite_path

    settings = load_settings()
    path = sqlite_path(settings.database_url)
    created = path is not None and not path.exists()
    engine = make_engine(settings.database_url, create=True)
    before = migrate.current_revision(engine)
    migrate.upgrade(engine)
    after = migrate.current_revision(engine)
    if created:
        Console().print(f"created a new database at {path}", markup=False)
    Console().print(f"database at revision {after} (was {before or 'empty'})")


@db_app.command("current")
def current() -> None:
    """Show the schema revision of the database and the newest one available."""
    from rich.console import Console

    # deferred: keeps csbot --help fast
    from bot.settings import load_settings
    from storage import migrate
    from storage.db import make_engine

    engine = make_engine(load_settings().database_url, create=False)
    Console().print(
        f"current: {migrate.current_revision(engine) or 'empty'}; head: {migrate.head_revision(engine)}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
