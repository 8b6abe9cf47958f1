"""One query process seen from the pool: started, asked, killed, and what its death means."""

from __future__ import annotations

import math
import os
import select
import signal
import socket
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from kusei.endpoint.query.errors import (
    QueryCrashed,
    QueryMemoryExceeded,
    ServerMemoryExceeded,
    WorkerCrashed,
)
from kusei.endpoint.query.executor import wire
from kusei.endpoint.query.executor.forks import ForkedChild, ForkServer

# Signals that mean the engine itself failed on the query (not the OOM killer or a kill by us).
_CRASH_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL, signal.SIGFPE})
# poll() takes an int-sized number of milliseconds: longer waits go round again.
_LONGEST_POLL = 86_400.0
# How long the pool checks for a reply (giving up its core between checks) before it sleeps on it,
# and how long a query process checks for the next request after answering. Waking a sleeping
# thread costs more than most cheap queries take in the engine, but on two shared cores a checking
# waiter holds the core the other side needs: bench/wake.py at c=1 and c=8 (bench/README.md) found
# busy checks slower on either side everywhere, and yielding checks no faster at c=1 and faster at
# c=8 in three runs of four, slower in the fourth. So both sleep at once; kept for faster machines.
SPIN_SECONDS = 0.0
CHILD_SPIN_SECONDS = 0.0
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class QueryProcess:
    """A child process answering queries on the store at ``store_path``; used by one thread at a time.

    Start it from a long-lived thread: ``PR_SET_PDEATHSIG`` kills the child when the *thread* that
    forked it exits.
    """

    def __init__(self, store_path: Path, forks: ForkServer | None = None) -> None:
        self.store_path = store_path
        ours, theirs = socket.socketpair()
        self.proc: subprocess.Popen[bytes] | ForkedChild
        try:
            if forks is not None:  # forked from the loaded fork server (forks.py), which closes theirs
                self.proc = forks.spawn(theirs)
            else:
                with theirs:
                    self.proc = subprocess.Popen([sys.executable, "-m", wire.CHILD_MODULE], stdin=theirs.fileno(),
                                                 close_fds=True)
        except BaseException:
            ours.close()
            raise
        self._conn = Connection(ours.detach())
        # Registered once: Connection.poll() builds a selector on every call (bench/wake.py).
        self._poller = select.poll()
        self._poller.register(self._conn.fileno(), select.POLLIN)
        self.spin = SPIN_SECONDS
        self._statm: int | None = None
        self.spin_yields = True
        self.isolated = False
        self.generation = 0  # of the pool's query options it was started with
        self.idle_since = 0.0  # monotonic time it last went idle
        self.start_rss = 0  # resident bytes once it was ready
        # Set by the memory watch just before it kills the process: which bound it passed.
        self.killed_for: tuple[str, int] | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss(self) -> int:
        """Resident bytes of the process; 0 once it is gone or where /proc is not.

        Read after every query: the file is opened once and re-read in place (a fifth of the cost
        of opening it each time), and, held by descriptor, never names a later process of the same pid."""
        if self.proc.returncode is not None:  # reaped (killed by close()): its pid may be another's now
            return 0
        try:
            if self._statm is None:
                self._statm = os.open(f"/proc/{self.proc.pid}/statm", os.O_RDONLY | os.O_CLOEXEC)
            return int(os.pread(self._statm, 256, 0).split()[1]) * _PAGE_SIZE
        except (OSError, ValueError, IndexError):
            return 0

    def alive(self) -> bool:
        return self.proc.poll() is None

    def ask(self, header: dict[str, Any], deadline: float) -> tuple[dict[str, Any], bytes] | None:
        """Send a frame and wait for the reply: the one place the pool waits on a query process.

        None if ``deadline`` (monotonic) passes first; EOFError if the process is gone (it died, or
        was killed by the memory watch) before it answered.
        """
        try:
            wire.send(self._conn, header)
        except OSError as exc:  # BrokenPipeError, ConnectionResetError: it is gone already
            raise EOFError(str(exc)) from exc
        # Readable on a reply and on the end of the connection alike: a death ends the wait too.
        if self.spin > 0:
            spin_until = time.perf_counter() + self.spin
            while time.perf_counter() < spin_until:
                if self._poller.poll(0):
                    return wire.receive(self._conn)
                if self.spin_yields:
                    os.sched_yield()  # the query process may be waiting for this very core
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            # Rounded up: a zero-millisecond poll would spin instead of sleeping.
            if self._poller.poll(math.ceil(min(remaining, _LONGEST_POLL) * 1000)):
                return wire.receive(self._conn)

    def kill_for_memory(self, scope: str, limit: int) -> None:
        """Called from the memory watch: the thread waiting in :meth:`ask` sees the death."""
        self.killed_for = (scope, limit)
        if self.proc.returncode is not None:  # reaped already: its pid may be another process's now
            return
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL and reap: when this returns the process is gone and its CPU freed."""
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
        self.proc.wait()
        self._conn.close()
        if self._statm is not None:
            os.close(self._statm)
            self._statm = None

    def death(self) -> WorkerCrashed:
        """What the client is told about this process having died while answering."""
        code = self.proc.wait()
        if self.killed_for is not None:
            scope, limit = self.killed_for
            what = "this query's process" if scope == "query" else "the server's processes together"
            setting = ("max_query_memory, or the server's bound shared among its query slots" if scope == "query"
                       else "max_server_memory")
            kind = QueryMemoryExceeded if scope == "query" else ServerMemoryExceeded
            return kind(f"The query was stopped: {what} passed the memory limit of {limit >> 20} MiB "
                        f"({setting}).", limit=limit)
        if code < 0 and -code in _CRASH_SIGNALS:
            return QueryCrashed(
                f"The query engine crashed on this query ({signal.Signals(-code).name}); "
                "it cannot be answered here. Simplify it (shorter lists or chains) or split it.")
        return WorkerCrashed(f"The query process died while answering (exit status {code}); "
                             "retry in a moment.")
