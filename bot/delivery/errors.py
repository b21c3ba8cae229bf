"""Slack Web API failures mapped to narrow exceptions: callers handle meaning, not strings.

`classify` turns whatever `slack_sdk` raised (an HTTP 429 or 5xx, `ok: false` with an
error code, a timeout or a dropped connection) into one of these classes. The sender
decides per class: wait and retry, back off and retry, or give up on the message.
"""

from __future__ import annotations

import http.client
import socket
from urllib.error import URLError

from slack_sdk.errors import SlackApiError

DEFAULT_RETRY_AFTER_SECONDS = 30

CHANNEL_ERRORS = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "channel_is_archived",
        "user_not_found",
        "cannot_dm_bot",
        "user_disabled",
        "message_not_found",
        "cant_update_message",
    }
)
TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "no_permission",
        "missing_scope",
        "ekm_access_denied",
        "team_access_not_granted",
    }
)


class SlackDeliveryError(Exception):
    """A Slack call failed; `code` is Slack's error code or a short description."""

    #: True when Slack may have acted on the request although we got no answer.
    outcome_unknown = False
    retryable = False

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or code)
        self.code = code


class RateLimited(SlackDeliveryError):
    """HTTP 429 (or `ratelimited`): wait `retry_after` seconds. Nothing was posted."""

    retryable = True

    def __init__(self, retry_after: float, code: str = "ratelimited") -> None:
        super().__init__(code, f"{code}: retry after {retry_after:g}s")
        self.retry_after = retry_after


class SlackUnavailable(SlackDeliveryError):
    """A 5xx, a timeout or a dropped connection: retry with backoff; Slack may have posted."""

    retryable = True
    outcome_unknown = True


class ChannelUnavailable(SlackDeliveryError):
    """The channel or user is gone, archived or closed to the bot: retrying will not help."""


class TokenRevoked(SlackDeliveryError):
    """The bot token is invalid, revoked or lacks a scope: nothing will get through."""


class MessageRejected(SlackDeliveryError):
    """Slack refused this message (`invalid_blocks`, `msg_too_long`, …): not retried."""


class UnexpectedError(SlackDeliveryError):
    """Anything else the client raised; not retried, and Slack may or may not have posted."""

    outcome_unknown = True


def _retry_after(error: SlackApiError) -> float:
    headers = {
        str(k).lower(): v for k, v in (getattr(error.response, "headers", None) or {}).items()
    }
    value = headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(0.0, float(value)) if value is not None else DEFAULT_RETRY_AFTER_SECONDS
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER_SECONDS


def classify(error: Exception) -> SlackDeliveryError:
    """The narrow exception for anything a `WebClient` call raised."""
    if isinstance(error, SlackDeliveryError):
        return error
    if isinstance(error, SlackApiError):
        status = getattr(error.response, "status_code", 200) or 200
        data = getattr(error.response, "data", None)
        code = str(data.get("error") if isinstance(data, dict) else "") or f"http_{status}"
        if status == 429 or code == "ratelimited":
            return RateLimited(_retry_after(error))
        if status >= 500 or code in {
            "internal_error",
            "fatal_error",
            "service_unavailable",
            "request_timeout",
        }:
            return SlackUnavailable(code if code != f"http_{status}" else f"http_{status}")
        if code in TOKEN_ERRORS:
            return TokenRevoked(code)
        if code in CHANNEL_ERRORS:
            return ChannelUnavailable(code)
        return MessageRejected(code)
    if isinstance(error, TimeoutError | socket.timeout):
        return SlackUnavailable("timeout")
    if isinstance(error, URLError):
        reason = error.reason
        if isinstance(reason, TimeoutError | socket.timeout):
            return SlackUnavailable("timeout")
        return SlackUnavailable("connection_error", f"connection_error: {reason}")
    if isinstance(error, ConnectionError | OSError | http.client.HTTPException):
        return SlackUnavailable("connection_error", f"connection_error: {type(error).__name__}")
    return UnexpectedError(f"unexpected_{type(error).__name__}")
