"""One structured log line per event (a delivery, a job run): `event key=value …` as JSON.

Lines carry ids only (outbox id, idempotency key, channel, job name, holder), never the
text of a message or a token, so logs can be shipped anywhere.
"""

from __future__ import annotations

import json
import logging
from typing import Any


def log_event(
    logger: logging.Logger, event: str, *, level: int = logging.INFO, **fields: Any
) -> None:
    """Log `{"event": event, **fields}` as one JSON line (values that are not JSON become str)."""
    if logger.isEnabledFor(level):
        logger.log(level, json.dumps({"event": event, **fields}, default=str, sort_keys=False))
