"""Answers to repeated queries, kept per release so an identical request skips the engine.

A release never changes once published, so an answer stays right for as long as its release is
served: no expiry is needed, only a bound on memory. ETags already spare clients that revalidate
(``If-None-Match`` → 304); this spares the many that do not (SPARQLWrapper, scripts in a loop,
several users opening the same example query), which otherwise pay for a full evaluation.

Each web worker process has its own cache; the byte bound is per process. Whether a
response came from it is stated in a ``Cache-Status`` header (RFC 9211).
"""

from __future__ import annotations

import threading
from typing import NamedTuple

from cachetools import LRUCache

CACHE_NAME = "kusei"


class Key(NamedTuple):
    release: str
    query: str
    default_graph_uris: tuple[str, ...]
    named_graph_uris: tuple[str, ...]
    format: str  # the short name of the format the body is written in


class _Entry(NamedTuple):
    body: bytes
    key_size: int


def _size(entry: _Entry) -> int:
    return len(entry.body) + entry.key_size


class ResultCache:
    """An LRU map from :class:`Key` to answer bytes, bounded by ``max_bytes`` (keys counted too)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()  # request threads share it; cachetools is not thread-safe
        self._entries: LRUCache[Key, _Entry] = LRUCache(maxsize=max(1, max_bytes), getsizeof=_size)
        self._release: str | None = None

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def get(self, key: Key) -> bytes | None:
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
        return entry.body if entry is not None else None

    def put(self, key: Key, body: bytes) -> bool:
        """Keep ``body``; False if it is too big to keep (over an eighth of the cache)."""
        entry = _Entry(body, len(key.query.encode("utf-8")) + sum(map(len, key.default_graph_uris))
                       + sum(map(len, key.named_graph_uris)))
        # One huge answer must not flush everything else out.
        if not self.enabled or _size(entry) > self.max_bytes // 8:
            return False
        with self._lock:
            if key.release != self._release:
                # Answers of an older release can never be asked for again: free them at once.
                self._entries.clear()
                self._release = key.release
            self._entries[key] = entry
        return True

    def clear(self) -> None:
        """Forget every answer (tests compare two paths on the same miss)."""
        with self._lock:
            self._entries.clear()

    @property
    def size(self) -> int:
        with self._lock:
            return int(self._entries.currsize)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def status(hit: bool, stored: bool = False) -> str:
    """The ``Cache-Status`` field value (RFC 9211) for this response."""
    if hit:
        return f"{CACHE_NAME}; hit"
    return f"{CACHE_NAME}; fwd=miss" + ("; stored" if stored else "")
