"""Per-release memo for page data that only changes with the data (counts, the vocabulary)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from kusei.release import Release

T = TypeVar("T")

_lock = threading.Lock()
_memo: dict[tuple[str, str, str], object] = {}
# Keys are per release and a server holds one or two releases; the cap only stops a slow leak
# across many swaps in a long-running process.
_MAX_ENTRIES = 256


def cached(release: Release, key: str, compute: Callable[[], T]) -> T:
    # The path is part of the key: two data directories (tests) may both hold a release "dev1".
    full_key = (str(release.path), release.id, key)
    with _lock:
        if full_key in _memo:
            return _memo[full_key]  # type: ignore[return-value]
    value = compute()  # outside the lock: a slow computation must not block other pages
    with _lock:
        if len(_memo) >= _MAX_ENTRIES:
            _memo.clear()
        _memo[full_key] = value
    return value
