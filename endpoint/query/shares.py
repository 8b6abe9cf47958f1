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

Both bounds hold across the web workers of one server, in two files beside the query slots, each
opened once per process:

- ``shares``: a query holds a POSIX record lock on one byte of its client's ``max_queries`` (the
  kernel drops a process's record locks when it dies, so a killed worker never leaks a share);
- ``budget``: per client, the query seconds charged in each of the last 64 seconds, a fixed table
  mapped into memory, read and written under a record lock on the client's region.

Both are a few system calls on files already open rather than a path lookup, a read and a rewrite
per query: with a file per share and a text ledger, holding a share cost ~200 µs, more than
Oxigraph takes to answer a lookup whole.

A query answered in the web worker (``inline.py``) is only checked against the budget
(:meth:`ClientShares.check`): a client whose minute is spent is refused cheap queries too. It takes
no share and is not charged. The shares bound how many of the server's query processes one client
holds, and such an answer holds none. It is stopped at ``inline.SECONDS`` (50 ms); like any other
request of the web worker, it is bounded by the request rate (``KUSEI_RATE_LIMIT``). The budget
bounds the time of the queries that may run up to ``query_timeout``. Holding a share and charging
it cost ~20 µs of the web worker's CPU per answer, a tenth of a lookup's.

Record locks belong to a process, not a thread, so the threads of one process also keep a set of
the shares they hold. Clients are hashed into :data:`BUCKETS` buckets, so the files are bounded
however many addresses arrive; two clients sharing a bucket share their bounds.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import hashlib
import math
import mmap
import os
import struct
import threading
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
# A bucket's shares are bytes ``bucket * SHARE_STRIDE + index`` of the shares file: record locks may
# lie past its end, so the file stays empty whatever ``max_queries`` is.
SHARE_STRIDE = 1 << 16
# A bucket's ledger: RECORDS records of (second of the monotonic clock, seconds charged in it), the
# record of a second at ``second % RECORDS``. More records than seconds in the window, so a second
# still in it is never overwritten by a newer one.
RECORD = struct.Struct("=qd")
RECORDS = 64
REGION = RECORD.size * RECORDS
LEDGER = struct.Struct("=" + "qd" * RECORDS)  # a bucket's records at once


class OverShare(Exception):
    """The client is over its share: too many queries at once, or its minute's query time spent."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _Files:
    """The two files of one directory, opened once in this process. They are never closed: closing
    any descriptor of a file drops every record lock the process holds on it."""

    def __init__(self, directory: Path) -> None:
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
        self.shares = os.open(directory / "shares", flags, 0o600)
        self.budget = os.open(directory / "budget", flags, 0o600)
        if os.fstat(self.budget).st_size < BUCKETS * REGION:
            os.ftruncate(self.budget, BUCKETS * REGION)  # sparse: a page is written when a client is
        self.ledgers = mmap.mmap(self.budget, BUCKETS * REGION)
        self.held: set[int] = set()  # offsets of the shares this process's threads hold
        self.lock = threading.Lock()  # record locks do not exclude the threads of one process


_opened: dict[str, _Files] = {}
_opened_lock = threading.Lock()


def _files(directory: Path) -> _Files:
    key = os.path.realpath(directory)
    with _opened_lock:
        files = _opened.get(key)
        if files is None:
            files = _opened[key] = _Files(directory)
        return files


def _forget_after_fork() -> None:
    # A child holds none of its parent's record locks, and the parent's threads (and their holds on
    # the in-process locks) are not in it: it opens the files afresh.
    global _opened_lock
    _opened.clear()
    _opened_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


@functools.lru_cache(maxsize=4096)
def _bucket(client: str) -> int:
    return int.from_bytes(hashlib.sha256(client.encode()).digest()[:4], "big") % BUCKETS


class ClientShares:
    def __init__(self, directory: Path, max_queries: int, seconds_per_minute: float) -> None:
        if max_queries >= SHARE_STRIDE:
            raise ValueError(f"max_queries must be under {SHARE_STRIDE}")
        self.directory = directory
        self.max_queries = max_queries
        self.seconds_per_minute = seconds_per_minute
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._files = _files(directory)

    @contextmanager
    def hold(self, client: str, wait: float, patience: float = 0.0) -> Iterator[Callable[[float], None]]:
        """One of ``client``'s shares for the block, waiting up to ``wait`` seconds for one to free
        up; :class:`OverShare` if none does, or at once if its minute's query time is spent. The
        block calls the function it is given with the seconds its query ran, charged to the client.

        A client with nothing else running (its other shares free) may wait ``patience`` seconds for
        a query slot within the block (:data:`slots.PATIENCE`): when others' queries hold every
        slot, it waits its turn rather than be refused for their doing."""
        bucket = _bucket(client)
        self._check_budget(bucket)
        share = self._take(bucket, wait) if self.max_queries else None
        used = [0.0]
        token = None
        if patience > 0:
            token = slots.PATIENCE.set(patience if share is not None and self._alone(bucket, share) else 0.0)
        try:
            yield lambda seconds: used.__setitem__(0, used[0] + seconds)
        finally:
            if token is not None:
                slots.PATIENCE.reset(token)
            if share is not None:
                self._release(share)
            if self.seconds_per_minute and used[0] > 0:
                self._charge(bucket, used[0])

    def check(self, client: str) -> None:
        """:class:`OverShare` if ``client``'s minute's query time is spent, as :meth:`hold` refuses
        it; nothing is held or charged (an answer in the web worker, see the module docstring)."""
        self._check_budget(_bucket(client))

    def _check_budget(self, bucket: int) -> None:
        if not self.seconds_per_minute:
            return
        retry = self._budget_wait(bucket, time.monotonic())
        if retry is not None:
            raise OverShare(f"Your address used its {self.seconds_per_minute:g} s of query time in "
                            f"the last minute; try again in {retry} s.", retry)

    def _take(self, bucket: int, wait: float) -> int:
        deadline = time.monotonic() + wait
        while True:
            for index in range(self.max_queries):
                share = bucket * SHARE_STRIDE + index
                if self._try(share):
                    return share
            if time.monotonic() >= deadline:
                raise OverShare(f"Your address already runs {self.max_queries} queries at once, the most "
                                "one client may, and none ended in time; wait for one to finish.", 1)
            time.sleep(POLL_SECONDS)

    def _try(self, share: int, keep: bool = True) -> bool:
        """Whether ``share`` is free (held by no thread of any process); taken if ``keep``."""
        files = self._files
        with files.lock:
            if share in files.held:
                return False
            try:
                fcntl.lockf(files.shares, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, share)
            except OSError as exc:
                if exc.errno in (errno.EACCES, errno.EAGAIN):
                    return False
                raise
            if keep:
                files.held.add(share)
            else:
                fcntl.lockf(files.shares, fcntl.LOCK_UN, 1, share)
            return True

    def _release(self, share: int) -> None:
        files = self._files
        with files.lock:
            fcntl.lockf(files.shares, fcntl.LOCK_UN, 1, share)
            files.held.discard(share)

    def _alone(self, bucket: int, mine: int) -> bool:
        """Whether the client holds no share but ``mine``: each other one is free now. (Two of its
        queries checking at once may each see the other's brief lock: both then count as not alone,
        the cautious side.)"""
        return all(self._try(bucket * SHARE_STRIDE + index, keep=False)
                   for index in range(self.max_queries) if bucket * SHARE_STRIDE + index != mine)

    def _budget_wait(self, bucket: int, now: float) -> int | None:
        """Seconds until the client's recent query time is under the budget again; None if it is now."""
        ledger = self._ledger(bucket)
        if _total(ledger, now) < self.seconds_per_minute:  # nearly always: no table of seconds needed
            return None
        spent = _recent(ledger, now)
        used = sum(spent.values())
        for second in sorted(spent):  # the oldest leave the window first
            used -= spent[second]
            if used < self.seconds_per_minute:
                return max(1, math.ceil(second + 1 + WINDOW - now))
        return 1

    def _ledger(self, bucket: int) -> bytes:
        files, start = self._files, bucket * REGION
        with files.lock:
            fcntl.lockf(files.budget, fcntl.LOCK_SH, REGION, start)
            try:
                return files.ledgers[start:start + REGION]
            finally:
                fcntl.lockf(files.budget, fcntl.LOCK_UN, REGION, start)

    def _charge(self, bucket: int, seconds: float) -> None:
        second = int(time.monotonic())
        files, start = self._files, bucket * REGION
        offset = start + (second % RECORDS) * RECORD.size
        with files.lock:
            fcntl.lockf(files.budget, fcntl.LOCK_EX, REGION, start)
            try:
                stamp, used = RECORD.unpack_from(files.ledgers, offset)
                if stamp != second or not 0 <= used < math.inf:  # an older second, or a torn record
                    used = 0.0
                RECORD.pack_into(files.ledgers, offset, second, used + seconds)
            finally:
                fcntl.lockf(files.budget, fcntl.LOCK_UN, REGION, start)


def _total(ledger: bytes, now: float) -> float:
    """The query seconds charged within the window before ``now`` (as :func:`_recent`, summed)."""
    oldest = now - WINDOW - 1
    values = LEDGER.unpack(ledger)
    seconds = values[0::2]
    if max(seconds) <= oldest:
        # Nothing charged within the window (a client of cheap queries only, which are not
        # charged): no record to read one by one.
        return 0.0
    return sum(used for second, used in zip(seconds, values[1::2], strict=True)
               if oldest < second <= now + 1 and 0 < used < math.inf)


def _recent(ledger: bytes, now: float) -> dict[int, float]:
    """The query seconds charged per second (of the monotonic clock, which every process of the
    machine shares) within the window before ``now``. A record of a process killed mid-write may be
    torn: one that is not a plausible charge is left out."""
    spent: dict[int, float] = {}
    for second, used in RECORD.iter_unpack(ledger):
        if second + 1 > now - WINDOW and second <= now + 1 and 0 < used < math.inf:
            spent[second] = used
    return spent
