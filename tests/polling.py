"""Waiting in tests for something another thread or process does, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(
    what: Callable[[], Any], timeout: float, message: str = "", poll: float = 0.02
) -> Any:
    """Poll `what` until it returns something truthy and return that; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(poll)
    raise AssertionError(f"timed out waiting for {message or what}")
