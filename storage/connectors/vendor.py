"""One retry policy for calls made through a vendor's own client library.

hubspot-api-client and stripe each raise their own exceptions and each retry in their own
way (or not at all). Connectors switch the clients' retries off and wrap every page call
in `call`, so every source honours 429 and `Retry-After` the same way as the httpx
sources (storage/ingest/connectors.py): exponential backoff for 429, 5xx and dropped
connections, `Retry-After` when the API gives one, and a `SourceError` naming the request
and the API's own message once the attempts run out or the status cannot be retried.

What a vendor's exception means (status, headers, message) is read by a small `explain`
function each connector supplies, so this module knows no vendor.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from storage.ingest.connectors import RETRY_STATUSES, SourceError

T = TypeVar("T")


@dataclass(frozen=True)
class Failure:
    """What a client's exception says: HTTP status (None: no answer, e.g. a dropped
    connection), response headers and the API's own message."""

    status: int | None
    headers: Mapping[str, str] = field(default_factory=dict)
    message: str = ""


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a `Retry-After` header (any case), None when absent or not a number."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(str(value).strip()))
            except ValueError:
                return None
    return None


@dataclass
class Retrying:
    """Calls a vendor client with backoff; counts requests and retries for the report."""

    explain: Callable[[Exception], Failure | None]
    """A client's exception → Failure; None for exceptions that are not the API's (bugs)."""
    max_attempts: int = 6
    backoff: float = 0.5
    max_backoff: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    requests: int = 0
    retries: int = 0

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """`fn()` (one request), retried while a retry can fix it; `what` names the request
        in the error ("POST /crm/v3/objects/companies/search")."""
        for attempt in range(1, self.max_attempts + 1):
            self.requests += 1
            try:
                return fn()
            except Exception as error:  # noqa: BLE001 - sorted by `explain` just below
                failure = self.explain(error)
                if failure is None:
                    raise
                retryable = failure.status is None or failure.status in RETRY_STATUSES
                if not retryable or attempt == self.max_attempts:
                    status = "no answer" if failure.status is None else f"HTTP {failure.status}"
                    said = f": {failure.message}" if failure.message else ""
                    raise SourceError(f"{what}: {status} after {attempt} attempts{said}") from error
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                asked = retry_after(failure.headers)
                if asked is not None:
                    delay = min(self.max_backoff, asked)
                self.retries += 1
                self.sleep(delay)
        raise AssertionError("unreachable")
