"""Memory bounds on query processes: resident memory read from /proc, and the watch that stops a
query when its process (``max_query_memory``) or the server's whole process tree
(``max_server_memory``) passes its bound."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from kusei.endpoint.query.executor.wire import CHILD_MODULE

if TYPE_CHECKING:
    from kusei.endpoint.query.executor.process import QueryProcess

logger = logging.getLogger(__name__)

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
# How often the whole tree is summed: it means reading every process's /proc entry.
# Every sample, as the per-query check: 8 hungry queries can grow by hundreds of MiB in 0.2 s.
_TREE_INTERVAL = 0.05


def rss(pid: int) -> int:
    """Resident bytes of ``pid`` (Linux); 0 where it cannot be read (gone, or no /proc)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


def children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


# Set by the process that forks the web workers (`kusei serve`, bench.serve_app) to its own pid.
SERVER_PID = "KUSEI_SERVER_PID"


def server_root() -> int | None:
    """The process whose tree is "the server": the main process that forked this web worker, as
    it names itself in ``KUSEI_SERVER_PID``; None otherwise (see QueryExecutor's memory_root).
    Named rather than guessed from the parent's command line, which any launcher may change."""
    value = os.environ.get(SERVER_PID, "")
    try:
        pid = int(value)
    except ValueError:
        return None
    # Only a direct child is that server's worker: a process started elsewhere with the variable
    # inherited (a test, a shell under the server) is not.
    return pid if pid == os.getppid() else None


def tree_memory(root: int) -> tuple[int, int]:
    """Resident bytes of ``root`` and all its descendants, and of the largest query process among them."""
    children = children_by_parent()
    marker = CHILD_MODULE.encode()
    total = largest = 0
    pending = [root]
    while pending:
        pid = pending.pop()
        size = rss(pid)
        total += size
        if size > largest:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    if marker in cmdline.read():
                        largest = size
            except OSError:
                pass
        pending.extend(children.get(pid, ()))
    return total, largest


# What the whole process tree of a quiet `kusei serve` (default settings, 2 web workers) holds at
# most, in PSS (shared pages counted once across the tree): the main process, the web workers,
# their fork servers and the query processes they keep warm, once settings.query_idle_seconds have
# passed without a query. Stated beside Oxigraph's idle figure in bench/README.md, measured by
# bench/memory.py, enforced by tests/system/test_idle_memory.py.
IDLE_TREE_BOUND = 150 << 20


def tree_pss(root: int) -> tuple[int, int]:
    """PSS bytes summed over ``root`` and all its descendants, and how many processes they are.
    Unlike RSS, a page shared by several processes (the engine's library, a heap a forked process
    still shares with its parent) counts once across them."""
    children = children_by_parent()
    total = count = 0
    pending = [root]
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
                for line in rollup.read().splitlines():
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1]) << 10
                        break
        except (OSError, ValueError, IndexError):
            continue
        count += 1
        pending.extend(children.get(pid, ()))
    return total, count


def lean_malloc() -> None:
    """Have glibc give large blocks back to the system as soon as they are freed.

    A web worker moves answers of megabytes (query process → spool file). glibc serves blocks of
    1 MiB and more with their own mappings, returned when freed, until the first such block is
    freed: it then raises that threshold to the block's size (up to 32 MiB), and later answers come
    from the heap, which keeps what they took (a quiet worker held 110–230 MiB after 24 answers of
    ~10 MB). A fixed threshold keeps every large block a mapping of its own. Set in the server's
    main process before it forks the web workers (the setting is inherited); a no-op elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    m_mmap_threshold = -3
    try:
        ctypes.CDLL(None).mallopt(m_mmap_threshold, 1 << 20)
    except (OSError, AttributeError):  # not glibc
        pass


class MemoryWatch:
    """A thread that samples the memory of one pool's busy query processes every ``interval``
    seconds and kills the one that passes a bound; the pool's waiting ``run()`` reports why.

    The server bound counts the tree under ``root`` (the server's master), or with ``root`` None
    this process and the pool's own query processes (an app run in-process, whose parent is no
    server).
    """

    def __init__(self, *, busy: Callable[[], list[QueryProcess]], everyone: Callable[[], list[QueryProcess]],
                 max_query: int | None, max_server: int | None, root: int | None, interval: float) -> None:
        self._busy = busy
        self._everyone = everyone
        self._max_query = max_query
        self._max_server = max_server
        self._root = root
        self._interval = interval
        self._stop = threading.Event()
        self.kills = 0
        self._thread = threading.Thread(target=self._watch, name="kusei-query-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        tree_every = max(1, round(_TREE_INTERVAL / self._interval))
        tick = 0
        while not self._stop.wait(self._interval):
            tick += 1
            busy = self._busy()
            if not busy:
                continue
            sizes = {process: rss(process.pid) for process in busy}
            if self._max_query is not None:
                for process, size in sizes.items():
                    if size > self._max_query:
                        self._kill(process, "query", self._max_query)
            if self._max_server is not None and tick % tree_every == 0:
                if self._root is None:
                    total = rss(os.getpid()) + sum(rss(process.pid) for process in self._everyone())
                    largest_query_process = max(sizes.values())
                else:
                    total, largest_query_process = tree_memory(self._root)
                if total > self._max_server:
                    process, size = max(sizes.items(), key=lambda item: item[1])
                    # Every pool of the server watches the same total; the one that holds the
                    # largest query process stops it, so one kill answers one excess.
                    if size >= largest_query_process:
                        self._kill(process, "server", self._max_server)

    def _kill(self, process: QueryProcess, scope: str, limit: int) -> None:
        if process.killed_for is not None:
            return
        self.kills += 1
        logger.warning("query process %d passed the %s memory limit (%d bytes); killing it", process.pid,
                       scope, limit)
        process.kill_for_memory(scope, limit)
