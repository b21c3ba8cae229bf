"""Errors the playbook engine raises; the Slack and CLI layers show their message as is."""

from __future__ import annotations


class PlaybookError(Exception):
    """Base class: a playbook operation that cannot be done, with a message for a person."""


class NotFound(PlaybookError):
    """The run, step, account or playbook named does not exist."""


class InvalidTransition(PlaybookError):
    """The move is impossible from the current state; the message names that state."""


class PlaybookFormatError(PlaybookError):
    """One or more playbook files are invalid; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))
