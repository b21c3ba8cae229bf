"""The `csbot` command line: one Typer app, one module per command group.

Each module in `COMMAND_MODULES` exposes `register(app)`; `main()` turns a bad setting or
a known user error into one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer

from bot.cli.errors import CliError
from bot.runtime import SchemaBehindError
from bot.settings import SettingsError

COMMAND_MODULES = (
    "bot.cli.demo_cmd",
    "bot.cli.db_cmd",
    "bot.cli.ingest_cmd",
    "bot.cli.score_cmd",
    "bot.cli.model_cmd",
    "bot.cli.playbooks_cmd",
    "bot.cli.digest_cmd",
    "bot.cli.serve_cmd",
    "bot.cli.jobs_cmd",
    "bot.cli.forecast_cmd",
    "bot.cli.brief_cmd",
    "bot.cli.voc_cmd",
    "bot.cli.sync_cmd",
)

app = typer.Typer(
    name="csbot",
    help="csbot: every account scored every night; each CSM told which need them today.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main() -> None:
    try:
        app(standalone_mode=True)
    except SettingsError as error:
        print(f"csbot: invalid setting: {error}", file=sys.stderr)
        sys.exit(2)
    except (CliError, SchemaBehindError) as error:
        print(f"csbot: {error}", file=sys.stderr)
        sys.exit(1)
