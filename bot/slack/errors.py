"""Errors a Slack interaction may end in, and the one place they become a user's message.

Handlers raise; `describe_error` turns the error into the short sentence a person sees
(ephemeral), so no handler formats its own error text and no stack trace reaches Slack.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.delivery.errors import SlackDeliveryError
from playbooks import errors as playbook_errors

logger = logging.getLogger(__name__)


class SlackUserError(Exception):
    """Something the person asked for cannot be done; the message says why."""


class PermissionDenied(SlackUserError):
    """The caller may not change this run or account (not its owner, manager or an admin)."""


class UnknownAccount(SlackUserError):
    """No account matches the name or id given."""


class BadInput(SlackUserError):
    """Malformed input (a command argument, a modal field)."""


def describe_error(error: BaseException) -> str:
    """The sentence shown to the person for `error`; unexpected errors are logged, not shown."""

    if isinstance(error, SlackUserError):
        return str(error)
    if isinstance(error, SlackApiError | SlackDeliveryError):
        if isinstance(error, SlackDeliveryError):
            code = error.code
        else:
            code = error.response.get("error") if error.response is not None else "unknown"
        logger.warning("Slack refused a call: %s", code)
        return (
            f"Slack refused csbot's message ({code}). Anything you changed is saved; "
            "`/cs playbook status <account>` shows the current state."
        )
    if isinstance(error, playbook_errors.NotFound):
        return f"Not found: {error}"
    if isinstance(error, playbook_errors.InvalidTransition):
        return f"Nothing changed: {error}"
    if isinstance(error, playbook_errors.PlaybookError):
        return str(error)
    logger.exception("unexpected error in a Slack interaction", exc_info=error)
    return "Sorry, something went wrong on csbot's side; it has been logged. Try again shortly."
