"""The `csbot` command line: one Typer app, one module per command group.

Each module in `COMMAND_MODULES` exposes `register(app)`; `main()` turns a bad setting or
a known user error into one line on stderr and a non-zero exit, never a traceback
(2 for usage errors, 1 for everything that went wrong at run time).

Command modules import their heavy dependencies (SQLAlchemy, scikit-learn, slack_sdk, the
scoring and storage packages) inside the command functions, not at module level: every
module is imported to build `csbot --help`, which must answer in well under a second.
"""

from __future__ import annotations

import importlib
import os
import sys

import typer

from bot.cli.errors import RUNTIME_EXIT, USAGE_EXIT, describe

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
    "bot.cli.replay_cmd",
    "bot.cli.alerts_cmd",
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

DEBUG_VARIABLE = "CSBOT_DEBUG"


def main() -> None:
    """Run the command; any failure becomes `csbot: <one line>` (set CSBOT_DEBUG=1 to see
    the traceback of an unexpected error)."""

    try:
        app(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as error:
        # deferred: keeps csbot --help fast
        from bot.settings import SettingsError

        if isinstance(error, SettingsError):
            print(f"csbot: invalid setting: {error}", file=sys.stderr)
            sys.exit(USAGE_EXIT)
        # deferred: keeps csbot --help fast
        from bot.runtime import SchemaBehindError

        if isinstance(error, SchemaBehindError):
            print(f"csbot: {error}", file=sys.stderr)
            sys.exit(RUNTIME_EXIT)
        known = describe(error)
        if known is not None:
            message, code = known
            print(f"csbot: {message}", file=sys.stderr)
            sys.exit(code)
        if os.environ.get(DEBUG_VARIABLE):
            raise
        print(
            f"csbot: unexpected error ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'no detail'}); "
            f"set {DEBUG_VARIABLE}=1 to see where, and please report it",
            file=sys.stderr,
        )
        sys.exit(RUNTIME_EXIT)
