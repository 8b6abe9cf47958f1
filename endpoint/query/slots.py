"""The server-wide bound on queries running at once, shared by every gunicorn worker of one server.

Each worker process has its own pool of query processes, and a client's kept-alive connection
stays with one worker, so a bound split between the workers refuses a client while another
worker sits idle (8 clients on 2 workers are rarely 4 + 4). The bound is therefore held here, as
``count`` lock files: a query holds an exclusive ``flock`` on one of them while it runs. The
kernel drops a process's locks when it dies, so a killed worker never leaks a slot.

The files live in a directory named after the data directory and the parent process: under
gunicorn the parent is the master, which all of one server's workers share and no other server does.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_SECONDS = 0.005


class NoSlot(Exception):
    """Every slot stayed taken for the whole wait."""


class QuerySlots:
    def __init__(self, directory: Path, count: int) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.paths = [directory / f"slot-{index}.lock" for index in range(count)]
        for path in self.paths:
            path.touch(exist_ok=True)

    @contextmanager
    def hold(self, wait: float) -> Iterator[None]:
        """Hold one slot for the block; :class:`NoSlot` if none frees up within ``wait`` seconds."""
        fd = self._take(wait)
        try:
            yield
        finally:
            os.close(fd)  # closing the last descriptor of the open file releases its lock

    def _take(self, wait: float) -> int:
        deadline = time.monotonic() + wait
        # Start at a different slot per process so that workers do not all contend for slot 0.
        start = os.getpid() % len(self.paths)
        order = self.paths[start:] + self.paths[:start]
        while True:
            for path in order:
                # A new open file description per attempt: flock conflicts between descriptions,
                # so two threads of one process exclude each other too.
                fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
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
    root = Path(tempfile.gettempdir()) / f"kusei-slots-{os.getuid()}"
    remove_stale(root)
    return QuerySlots(root / f"{master}-{key}", count)


def remove_stale(root: Path) -> None:
    """Remove slot directories of servers whose process no longer exists."""
    try:
        entries = list(root.iterdir())
    except OSError:
        return
    for entry in entries:
        pid, _, _ = entry.name.partition("-")
        if not pid.isdigit():  # the older naming: no way to tell whether its server still runs
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except PermissionError:
            pass
