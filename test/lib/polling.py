"""Polling with a deadline, shared by the namespace suites (never sleep a fixed time and hope)."""
from __future__ import annotations

import time
from typing import Any, Callable


def poll(what: str, fn: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
    """Calls fn until it returns a truthy value; fails with the last value/exception at the deadline."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            value = fn()
            if value:
                return value
            last = value
        except AssertionError as e:
            last = e
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(interval)
