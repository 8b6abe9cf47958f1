"""Fair shares of the query slots: per client address, a bound on queries at once and on query time
per minute, server-wide (as the Wikidata Query Service bounds each client).

The web layer names the client of the request in :data:`CLIENT` (its address as the WSGI server,
or a trusted proxy, gives it); :func:`kusei.endpoint.query.service.execute` then holds a share of
that client before it waits for one of the server's slots. Past either bound the client is refused
(:class:`OverShare`, rendered as 429 with ``Retry-After``) — at once when its minute's query time
is spent, after a short wait for one of its own shares when it runs ``max_queries`` already — and
other clients are not touched: a client running runaway queries holds at most ``max_queries`` of
the slots, and only until its minute's budget is spent. Only the time a query runs is charged,
not the time it waited.

Both bounds hold across the web workers of one server, in files beside the query slots: a query
holds an ``flock`` on one of its client's ``max_queries`` lock files (the kernel drops it if the
process dies), and the query time a client used is a ledger of recent queries in a file of its
own. Clients are hashed into :data:`BUCKETS` buckets, so the files are bounded however many
addresses arrive; two clients sharing a bucket share their bounds.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from kusei.endpoint.query import slots

# The client (address) of the request being served, set by the web layer for each request.
CLIENT: ContextVar[str | None] = ContextVar("kusei_client", default=None)
WINDOW = 60.0  # seconds over which a client's query time is counted
BUCKETS = 4096
POLL_SECONDS = 0.005


class OverShare(Exception):
    """The client is over its share: too many queries at once, or its minute's query time spent."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ClientShares:
    def __init__(self, directory: Path, max_queries: int, seconds_per_minute: float) -> None:
        self.directory = directory
        self.max_queries = max_queries
        self.seconds_per_minute = seconds_per_minute
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    @contextmanager
    def hold(self, client: str, wait: float, patience: float = 0.0) -> Iterator[Callable[[float], None]]:
        """One of ``client``'s shares for the block, waiting up to ``wait`` seconds for one to free
        up; :class:`OverShare` if none does, or at once if its minute's query time is spent. The
        block calls the function it is given with the seconds its query ran, charged to the client.

        A client with nothing else running (its other shares free) may wait ``patience`` seconds for
        a query slot within the block (:data:`slots.PATIENCE`): when others' queries hold every
        slot, it waits its turn rather than be refused for their doing."""
        bucket = int.from_bytes(hashlib.sha256(client.encode()).digest()[:4], "big") % BUCKETS
        if self.seconds_per_minute:
            retry = self._budget_wait(bucket, time.monotonic())
            if retry is not None:
                raise OverShare(f"Your address used its {self.seconds_per_minute:g} s of query time in "
                                f"the last minute; try again in {retry} s.", retry)
        fd, index = self._take(bucket, wait) if self.max_queries else (None, -1)
        used = [0.0]
        token = None
        if patience > 0:
            token = slots.PATIENCE.set(patience if fd is not None and self._alone(bucket, index) else 0.0)
        try:
            yield lambda seconds: used.__setitem__(0, used[0] + seconds)
        finally:
            if token is not None:
                slots.PATIENCE.reset(token)
            if fd is not None:
                os.close(fd)  # releases the share
            if self.seconds_per_minute and used[0] > 0:
                self._charge(bucket, used[0])

    def _take(self, bucket: int, wait: float) -> tuple[int, int]:
        deadline = time.monotonic() + wait
        while True:
            for index in range(self.max_queries):
                fd = slots.try_lock(self._share(bucket, index), create=True)
                if fd is not None:
                    return fd, index
            if time.monotonic() >= deadline:
                raise OverShare(f"Your address already runs {self.max_queries} queries at once, the most "
                                "one client may, and none ended in time; wait for one to finish.", 1)
            time.sleep(POLL_SECONDS)

    def _share(self, bucket: int, index: int) -> Path:
        return self.directory / f"client-{bucket}-{index}.lock"

    def _alone(self, bucket: int, mine: int) -> bool:
        """Whether the client holds no share but ``mine``: each other one can be locked now. (Two of
        its queries checking at once may each see the other's brief lock: both then count as not
        alone, the cautious side.)"""
        for index in range(self.max_queries):
            if index == mine:
                continue
            fd = slots.try_lock(self._share(bucket, index), create=True)
            if fd is None:
                return False
            os.close(fd)
        return True

    def _ledger(self, bucket: int) -> Path:
        return self.directory / f"budget-{bucket}"

    def _budget_wait(self, bucket: int, now: float) -> int | None:
        """Seconds until the client's recent query time is under the budget again; None if it is now."""
        try:
            with self._ledger(bucket).open("rb") as handle:
                fcntl.flock(handle, fcntl.LOCK_SH)
                spent = _recent(handle.read(), now)
        except FileNotFoundError:
            return None
        used = sum(spent.values())
        if used < self.seconds_per_minute:
            return None
        for second in sorted(spent):  # the oldest leave the window first
            used -= spent[second]
            if used < self.seconds_per_minute:
                return max(1, math.ceil(second + 1 + WINDOW - now))
        return 1

    def _charge(self, bucket: int, seconds: float) -> None:
        now = time.monotonic()
        fd = os.open(self._ledger(bucket), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "r+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            spent = _recent(handle.read(), now)
            spent[int(now)] = spent.get(int(now), 0.0) + seconds
            handle.seek(0)
            handle.truncate()
            handle.write("".join(f"{second} {used:.3f}\n" for second, used in sorted(spent.items())).encode())


def _recent(data: bytes, now: float) -> dict[int, float]:
    """The ledger: query seconds charged per second (of the monotonic clock, which every process of
    the machine shares) within the window before ``now``. At most one line per second."""
    spent: dict[int, float] = {}
    for line in data.decode("ascii", "replace").splitlines():
        try:
            second, used = int(line.split()[0]), float(line.split()[1])
        except (ValueError, IndexError):
            continue  # a line cut short by a process killed mid-write
        if second + 1 > now - WINDOW:
            spent[second] = spent.get(second, 0.0) + used
    return spent
