"""Errors a command reports as one line (the file, field or argument at fault).

`CliError` is raised by commands themselves. `describe` turns the failures of the world
around a command (a database that is down or missing, an unsupported URL, Slack out of
reach) into the same one line, so `csbot` never shows a traceback to a person. It imports
nothing heavy at module level: `csbot --help` must stay fast.
"""

from __future__ import annotations

import socket
from urllib.error import URLError

USAGE_EXIT = 2
RUNTIME_EXIT = 1


class CliError(Exception):
    """A user-facing error: printed as `csbot: <message>` with exit code 1."""


class UsageError(CliError):
    """A bad argument or option: printed as `csbot: <message>` with exit code 2."""


def _first_line(text: object) -> str:
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def _database_problem(error: BaseException) -> str | None:
    """One line for SQLAlchemy's connection failures (server down, database missing)."""
    from sqlalchemy.exc import DBAPIError, NoSuchModuleError, OperationalError

    if isinstance(error, NoSuchModuleError):
        return f"CSBOT_DATABASE_URL: {_first_line(error)}"
    if isinstance(error, OperationalError):
        original = _first_line(getattr(error, "orig", None) or error)
        if "does not exist" in original and "database" in original:
            return (
                f"the database does not exist ({original}): create it (createdb) and run "
                "`csbot db upgrade`, or fix CSBOT_DATABASE_URL"
            )
        if "no such table" in original:
            return f"the database has no csbot schema ({original}): run `csbot db upgrade`"
        return (
            f"cannot use the database ({original}): check CSBOT_DATABASE_URL and that the "
            "database server is running"
        )
    if isinstance(error, DBAPIError):
        return f"database error: {_first_line(getattr(error, 'orig', None) or error)}"
    return None


def _slack_problem(error: BaseException) -> str | None:
    """One line for Slack out of reach or refusing the token."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    if isinstance(error, SlackApiError):
        code = (getattr(error, "response", None) or {}).get("error", "error")
        return (
            f"Slack refused the request ({code}): check CSBOT_SLACK_BOT_TOKEN and the app's scopes"
        )
    if isinstance(error, URLError | ConnectionError | socket.timeout | TimeoutError):
        reason = getattr(error, "reason", None) or error
        return (
            f"cannot reach Slack ({_first_line(reason) or type(error).__name__}): check "
            "CSBOT_SLACK_API_URL and the network, then run the command again"
        )
    if isinstance(error, SlackClientError):
        return f"Slack client error: {_first_line(error)}"
    return None


def describe(error: BaseException) -> tuple[str, int] | None:
    """(one-line message, exit code) for an error a person can act on; None if unknown."""
    if isinstance(error, UsageError):
        return str(error), USAGE_EXIT
    if isinstance(error, CliError):
        return str(error), RUNTIME_EXIT
    # deferred: keeps csbot --help fast
    from storage.db import DatabaseMissing, DatabaseUrlError

    if isinstance(error, DatabaseUrlError):
        return f"invalid setting: CSBOT_DATABASE_URL: {error}", USAGE_EXIT
    if isinstance(error, DatabaseMissing):
        return str(error), RUNTIME_EXIT
    for probe in (_database_problem, _slack_problem):
        message = probe(error)
        if message:
            return message, RUNTIME_EXIT
    if isinstance(error, PermissionError | FileNotFoundError | IsADirectoryError):
        return f"{error.strerror}: {error.filename}", RUNTIME_EXIT
    if isinstance(error, MemoryError):
        return "out of memory", RUNTIME_EXIT
    return None
