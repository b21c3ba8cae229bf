"""Errors a command reports as one line (the file, field or argument at fault)."""


class CliError(Exception):
    """A user-facing error: printed as `csbot: <message>` with exit code 1."""
