"""The server-wide bound on queries running at once, shared by every web worker of one server.

Each worker process has its own pool of query processes, and a client's kept-alive connection
stays with one worker, so a bound split between the workers refuses a client while another
worker sits idle (8 clients on 2 workers are rarely 4 + 4). The bound is therefore held here, as
``count`` lock files: a query holds an exclusive ``flock`` on one of them while it runs. The
kernel drops a process's locks when it dies, so a killed worker never leaks a slot.

The files live in a directory named after the data directory and the parent process: under
granian the parent is the main process, which all of one server's workers share
and no other server does; it removes the directory when it stops (:func:`remove_server`).

Waiting for a slot costs a request thread, and so does every request a web worker serves: a bound
on the waiters of one process (``WAITERS_PER_SLOT`` per slot) keeps the threads that queries can
take at most slots + waiters per worker, so pages and dumps keep threads of their own however many
runaway queries arrive. A query that finds the waiting room full is refused at once. The room is
wide enough that under ordinary load (32 clients of fast queries on 8 slots) every query waits
its turn instead of being refused.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

POLL_SECONDS = 0.005
# Queries of one process that may wait for a slot, per slot of the server.
WAITERS_PER_SLOT = 4
# How long the query of the request being served may wait for a slot at least, whatever its caller
# asks: set by shares.py for a client that has nothing else running. Eight hungry queries from
# eight addresses hold every slot until the memory watch stops them (422) or their time limit does;
# a bystander queued that long gets its answer late instead of a 503 for someone else's hunger.
PATIENCE: ContextVar[float] = ContextVar("kusei_slot_patience", default=0.0)


class NoSlot(Exception):
    """Every slot stayed taken for the whole wait, or the waiting room was full."""


class QuerySlots:
    def __init__(self, directory: Path, count: int, max_waiters: int | None = None) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.directory = directory
        self.paths = [directory / f"slot-{index}.lock" for index in range(count)]
        for path in self.paths:
            path.touch(exist_ok=True)
        self.max_waiters = WAITERS_PER_SLOT * count if max_waiters is None else max_waiters
        self._waiters = 0
        self._waiters_lock = threading.Lock()

    @contextmanager
    def hold(self, wait: float) -> Iterator[None]:
        """Hold one slot for the block; :class:`NoSlot` if none frees up within ``wait`` seconds, or
        at once if ``max_waiters`` threads of this process are already waiting. A request with a
        :data:`PATIENCE` waits that long if it is longer."""
        wait = max(wait, PATIENCE.get())
        fd = self._take_now()
        if fd is None:
            with self._waiters_lock:
                if self._waiters >= self.max_waiters:
                    raise NoSlot(f"all {len(self.paths)} query slots are taken and {self._waiters} "
                                 "queries wait for one")
                self._waiters += 1
            try:
                fd = self._take(wait)
            finally:
                with self._waiters_lock:
                    self._waiters -= 1
        try:
            yield
        finally:
            os.close(fd)  # closing the last descriptor of the open file releases its lock

    def _take_now(self) -> int | None:
        # Start at a different slot per process so that workers do not all contend for slot 0.
        start = os.getpid() % len(self.paths)
        for path in self.paths[start:] + self.paths[:start]:
            fd = try_lock(path)
            if fd is not None:
                return fd
        return None

    def _take(self, wait: float) -> int:
        deadline = time.monotonic() + wait
        while True:
            fd = self._take_now()
            if fd is not None:
                return fd
            if time.monotonic() >= deadline:
                raise NoSlot(f"all {len(self.paths)} query slots are taken")
            time.sleep(POLL_SECONDS)


def server_slots(data_dir: Path, count: int) -> QuerySlots:
    """The slots of the server this process belongs to (see the module docstring).

    The directory is named after the server's process id, so the directories of servers that
    have ended are found and removed here, when a later server starts."""
    master = os.getppid()
    key = hashlib.sha256(f"{Path(data_dir).resolve()}\x00{master}\x00{count}".encode()).hexdigest()[:16]
    root = slots_root()
    remove_stale(root)
    return QuerySlots(root / f"{master}-{key}", count)


def slots_root() -> Path:
    """Where the slot directories of this user's servers live."""
    return Path(tempfile.gettempdir()) / f"kusei-slots-{os.getuid()}"


def remove_server(master: int) -> None:
    """Remove the slot directories of the server whose main process is ``master`` (called by that
    process when it stops: its workers made them, named after it)."""
    try:
        entries = list(slots_root().iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.partition("-")[0] == str(master):
            shutil.rmtree(entry, ignore_errors=True)


def try_lock(path: Path, create: bool = False) -> int | None:
    """A descriptor holding an exclusive lock on ``path``, or None if another holds it now.

    A new open file description per attempt: flock conflicts between descriptions, so two threads
    of one process exclude each other too. Closing the descriptor releases the lock."""
    flags = os.O_RDWR | os.O_CLOEXEC | (os.O_CREAT if create else 0)
    fd = os.open(path, flags, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def remove_orphans(entries: Iterable[Path], owner: Callable[[Path], str]) -> None:
    """Remove the directories among ``entries`` whose owning process (the pid ``owner`` reads from
    the name) no longer exists. A name without a pid (an older naming) is left alone: there is no
    way to tell whether its server still runs."""
    for entry in entries:
        pid = owner(entry)
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except PermissionError:
            pass


def remove_stale(root: Path) -> None:
    """Remove slot directories of servers whose process no longer exists."""
    try:
        entries = list(root.iterdir())
    except OSError:
        return
    remove_orphans(entries, lambda entry: entry.name.partition("-")[0])
