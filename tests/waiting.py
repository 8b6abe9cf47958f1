"""Waiting on something a test can observe, instead of sleeping and hoping it has happened.

``wait_for(condition, "what")`` calls ``condition`` until it returns something true and returns
that. The deadline is generous because the machines that run the tests are shared and loaded:
the wait ends as soon as the thing is seen, so a generous deadline costs nothing when all is
well, and when it passes the failure names what never happened and the last thing seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
DEADLINE = 60.0


class NeverHappened(AssertionError):
    """What a test waited for did not happen before the deadline."""


def wait_for(condition: Callable[[], T], what: str, timeout: float = DEADLINE, every: float = 0.05,
             seen: Callable[[], object] | None = None) -> T:
    """The first true value of ``condition()``, polled every ``every`` seconds for ``timeout`` seconds.

    ``what`` says what is awaited ("both workers up"); ``seen``, if given, describes the state
    at the deadline for the failure message (by default the last value of ``condition``).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            state = seen() if seen is not None else value
            raise NeverHappened(f"waited {timeout:g} s for {what}; last seen: {state!r}")
        time.sleep(every)
