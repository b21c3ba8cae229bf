"""Keep request bodies, response_urls and tokens out of the logs of the Slack libraries.

slack_bolt and slack_sdk log what passes through them: bolt writes a whole request body
at INFO when a signature is wrong and parts of it (values, submissions) when a request
is unhandled; slack_sdk logs every Web API body and every `response_url` it posts to at
DEBUG, and the `response_url` again at INFO when it retries. csbot therefore:

- checks signatures itself before bolt sees a request (`bot.web.slack`), with bolt's own
  verification turned off;
- hands bolt a logger of its own (`bolt_logger`) at WARNING whose filter replaces any
  message carrying a body by its first words; bolt copies that logger's level and filter
  to every logger it creates;
- caps the libraries' loggers at WARNING (`quiet_libraries`), whatever CSBOT_LOG_LEVEL says.
csbot's own log lines name ids (user, channel, outbox key), never texts.
"""

from __future__ import annotations

import logging

LIBRARY_LOGGERS = ("slack_bolt", "slack_sdk", "httpx", "httpcore", "urllib3", "websockets")
BOLT_LOGGER = "csbot.bolt"
BODY_MARKERS = (
    "body:",
    "body=",
    "Unhandled request (",
    "for the request (",
    "response_url",
    "token=",
    "xoxb-",
    "xoxp-",
    "xapp-",
)


class NoBodies(logging.Filter):
    """Cut a record's message before the first marker of a body, URL or token."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot be formatted is dropped, not shown raw
            return False
        cut = min((message.find(m) for m in BODY_MARKERS if m in message), default=-1)
        if cut >= 0:
            record.msg = message[:cut].rstrip(" (:,") + " (request details not logged)"
            record.args = ()
        return True


def quiet_libraries(level: int = logging.WARNING) -> None:
    """Cap the Slack and HTTP libraries' loggers at `level` (never lower it)."""
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < level:
            logger.setLevel(level)


def bolt_logger() -> logging.Logger:
    """The logger to pass as `App(logger=…)`: WARNING and the `NoBodies` filter, which
    bolt copies to the loggers of its middleware and listeners."""
    quiet_libraries()
    logger = logging.getLogger(BOLT_LOGGER)
    logger.setLevel(logging.WARNING)
    if not any(isinstance(f, NoBodies) for f in logger.filters):
        logger.addFilter(NoBodies())
    return logger
