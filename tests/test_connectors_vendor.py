"""The shared retry policy for vendor clients (storage/connectors/vendor.py), on its own:
which failures are retried, how long it waits, and what the final error says."""

from __future__ import annotations

import pytest

from storage.connectors.vendor import Failure, Retrying, retry_after
from storage.ingest.connectors import SourceError


class Refused(Exception):
    def __init__(self, failure: Failure) -> None:
        self.failure = failure


def explain(error: Exception) -> Failure | None:
    return error.failure if isinstance(error, Refused) else None


def flaky(*failures: Failure):
    """A call that fails with each failure in turn, then answers 'ok'."""
    left = list(failures)

    def call() -> str:
        if left:
            raise Refused(left.pop(0))
        return "ok"

    return call


def test_429_waits_what_retry_after_asks_and_5xx_backs_off():
    sleeps: list[float] = []
    retrying = Retrying(explain, sleep=sleeps.append, backoff=0.5)
    call = flaky(Failure(429, {"Retry-After": "3"}), Failure(503), Failure(None, message="reset"))
    assert retrying.call("GET /x", call) == "ok"
    assert sleeps == [3.0, 1.0, 2.0]  # Retry-After, then 0.5 * 2**1, 0.5 * 2**2
    assert (retrying.requests, retrying.retries) == (4, 3)


def test_gives_up_naming_the_request_status_and_message():
    retrying = Retrying(explain, sleep=[].append, max_attempts=2)
    with pytest.raises(SourceError) as raised:
        retrying.call("GET /v1/invoices", flaky(*[Failure(429, {}, "slow down")] * 3))
    assert str(raised.value) == "GET /v1/invoices: HTTP 429 after 2 attempts: slow down"
    with pytest.raises(SourceError) as refused:
        retrying.call("GET /v1/customers", flaky(Failure(401, {}, "Invalid API Key")))
    assert str(refused.value) == "GET /v1/customers: HTTP 401 after 1 attempts: Invalid API Key"


def test_exceptions_that_are_not_the_apis_propagate():
    retrying = Retrying(explain, sleep=[].append)

    def broken() -> str:
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        retrying.call("GET /x", broken)
    assert retrying.retries == 0


def test_retry_after_header_any_case():
    assert retry_after({"retry-after": "1.5"}) == 1.5
    assert retry_after({"Retry-After": "soon"}) is None
    assert retry_after({}) is None
