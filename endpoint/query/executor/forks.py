"""Query processes forked from a loaded parent: the fork server (pool side and server side).

A query process started as ``python -m …`` pays for a whole interpreter and its imports
(pyoxigraph, the answer module): 0.3 s or more of CPU and ~16 MiB of private heap each. The fork
server is one such process per server process that has done that once, cut itself off the network,
and then only forks: a query process forked from it starts in ~45 ms and shares the interpreter's
heap with it and its siblings copy-on-write (PSS 18 → 10 MiB each, measured in bench/README.md).

The fork server never opens a store and never starts a thread, so what it forks is a clean,
single-threaded copy (RocksDB's threads would not survive a fork). It is not the pool's child's
parent: the pool talks to it over a ``SOCK_SEQPACKET`` socket pair, hands it the query process's
end of a fresh socket pair (``SCM_RIGHTS``), gets the pid back, and follows the process through a
pidfd (which names that process and no later one of the same pid). The fork server reaps its
children and reports each exit status, which tells the pool why a process died (a crash signal or
a kill). It dies with the process that started it (``PR_SET_PDEATHSIG``), and its children with it.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

from kusei.endpoint.query.executor import wire

_MESSAGE = 256


def available() -> bool:
    """Whether this system can follow a process that is not its child (Linux pidfds)."""
    return sys.platform.startswith("linux") and hasattr(os, "pidfd_open") and hasattr(socket, "send_fds")


class ForkServer:
    """The pool side: start the fork server, ask it for query processes, learn how they ended.

    Thread-safe; every read of the socket happens under one lock, by whichever thread needs the
    next message (a pid for :meth:`spawn`, an exit status for :meth:`ForkedChild.wait`)."""

    def __init__(self, *, parent: int, isolate_network: bool) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [sys.executable, "-m", wire.CHILD_MODULE, "--fork-server", str(parent)]
        if isolate_network:
            command.append("--isolate")
        try:
            with theirs:
                self.proc = subprocess.Popen(command, stdin=theirs.fileno(), close_fds=True)
        except BaseException:
            ours.close()
            raise
        self._sock = ours
        self._lock = threading.Lock()
        self._statuses: dict[int, int] = {}
        self._pids: list[int] = []
        self._gone = False
        hello = self._next_locked_free()
        if hello is None or hello[0] != "ready":
            self.close()
            raise OSError("the fork server did not start")
        self.isolated = hello[1] == 1

    def _next_locked_free(self) -> tuple[str, int, int] | None:
        with self._lock:
            return self._read()

    def _read(self) -> tuple[str, int, int] | None:
        """One message (kind, a, b), filed away; None once the fork server is gone. Lock held."""
        if self._gone:
            return None
        try:
            data = self._sock.recv(_MESSAGE)
        except OSError:
            data = b""
        if not data:
            self._gone = True
            return None
        kind, a, b = data.decode().split()
        if kind == "pid":
            self._pids.append(int(a))
        elif kind == "exit":
            self._statuses[int(a)] = int(b)
        return kind, int(a), int(b)

    def alive(self) -> bool:
        return not self._gone and self.proc.poll() is None

    def spawn(self, stdin: socket.socket) -> ForkedChild:
        """A new query process with ``stdin`` as its end of the connection (closed here)."""
        with self._lock:
            try:
                socket.send_fds(self._sock, [b"fork"], [stdin.fileno()])
            except OSError as exc:
                self._gone = True
                raise OSError(f"the fork server is gone: {exc}") from exc
            finally:
                stdin.close()
            while not self._pids:
                if self._read() is None:
                    raise OSError("the fork server is gone")
            pid = self._pids.pop(0)
        return ForkedChild(self, pid)

    def status(self, pid: int, block: bool) -> int | None:
        """The exit status of ``pid`` (as Popen.returncode); None if not known yet and not ``block``."""
        with self._lock:
            while pid not in self._statuses:
                if not block:
                    return None
                if self._read() is None:
                    return -signal.SIGKILL  # the fork server died, and its children with it
            return self._statuses.pop(pid)

    def close(self) -> None:
        self._gone = True
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._sock.close()


class ForkedChild:
    """The part of ``subprocess.Popen`` the pool uses, for a process the fork server forked."""

    def __init__(self, server: ForkServer, pid: int) -> None:
        self._server = server
        self.pid = pid
        self.returncode: int | None = None
        try:
            self._pidfd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:  # gone already (it is a zombie of the fork server until reaped, so rare)
            self._pidfd = None

    def poll(self) -> int | None:
        if self.returncode is None and self._exited():
            self.wait()
        return self.returncode

    def _exited(self) -> bool:
        if self._pidfd is None:
            return True
        poller = select.poll()
        poller.register(self._pidfd, select.POLLIN)
        return bool(poller.poll(0))

    def send_signal(self, signum: int) -> None:
        if self.returncode is None and self._pidfd is not None:
            try:
                signal.pidfd_send_signal(self._pidfd, signum)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self) -> int:
        if self.returncode is None:
            status = self._server.status(self.pid, block=True)
            self.returncode = -signal.SIGKILL if status is None else status
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
        return self.returncode


# -- the fork server itself -------------------------------------------------------------------------


def serve(parent: int, isolate: bool, after_fork: Any) -> None:  # pragma: no cover - its own process
    """The fork server's main: fd 0 is its socket. ``after_fork(parent_pid)`` runs in each child
    with the child's connection as fd 0, and never returns."""
    from kusei.endpoint.query.executor import child

    child.die_with_parent(parent)
    isolated = child.isolate_network() if isolate else False
    import gc

    import pyoxigraph  # noqa: F401 - loaded once here, shared by every process forked from here

    # Out of the collector's reach, the loaded objects stay shared with the forked processes
    # instead of being copied into each by a collection that only reads them.
    gc.freeze()

    sock = socket.socket(fileno=os.dup(0))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    # SIGCHLD wakes the loop (through this pipe) to reap and report.
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sock.send(f"ready {int(isolated)} {os.getpid()}".encode())
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    poller.register(wake_r, select.POLLIN)
    while True:
        try:
            events = poller.poll()
        except InterruptedError:
            continue
        for fd, _ in events:
            if fd == wake_r:
                try:
                    os.read(wake_r, 512)
                except BlockingIOError:
                    pass
            elif fd == sock.fileno():
                try:
                    _, fds, _, _ = socket.recv_fds(sock, _MESSAGE, 1)
                except OSError:
                    return
                if not fds:  # the pool closed its end: it is gone or closing us
                    return
                pid = os.fork()
                if pid == 0:
                    signal.set_wakeup_fd(-1)
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    os.close(wake_r)
                    os.close(wake_w)
                    me = os.getppid()
                    sock.close()
                    os.dup2(fds[0], 0)
                    os.close(fds[0])
                    try:
                        after_fork(me)
                    finally:
                        os._exit(0)
                os.close(fds[0])
                sock.send(f"pid {pid} 0".encode())
        while True:  # reap whatever ended, and say how
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            sock.send(f"exit {pid} {os.waitstatus_to_exitcode(status)}".encode())


# -- one fork server per server process -------------------------------------------------------------

_shared: dict[tuple[int, bool], ForkServer] = {}
_shared_lock = threading.Lock()
_requests: list[tuple[bool, threading.Event, list[Any]]] = []
_keeper_wake = threading.Condition(_shared_lock)
_keeper_pid = 0


def shared(isolate_network: bool) -> ForkServer:
    """This process's fork server (started on first use, and again if it died): one for every pool
    of the process, so its heap is paid once per server process."""
    done = threading.Event()
    result: list[Any] = []
    running = _ask_keeper(isolate_network, done, result)
    if running is not None:
        return running
    done.wait()
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


def start_soon(isolate_network: bool) -> None:
    """Start this process's fork server in the background unless it runs: a server process calls
    this once it is set up, so its first query that needs a query process does not also wait for
    the fork server's interpreter to start and load pyoxigraph (~0.1 s). A failure here is left to
    the first :func:`shared` call, which tries again and reports it."""
    _ask_keeper(isolate_network, threading.Event(), [])


def _ask_keeper(isolate_network: bool, done: threading.Event, result: list[Any]) -> ForkServer | None:
    """The running fork server, or None once the keeper thread has been asked to start one (it
    sets ``done`` with the server or the error in ``result``)."""
    global _keeper_pid
    key = (os.getpid(), isolate_network)
    with _shared_lock:
        server = _shared.get(key)
        if server is not None and server.alive():
            return server
        # Started from a thread that never ends: PR_SET_PDEATHSIG fires when the thread that
        # started the fork server exits, and pools (pinned ones) come and go with their threads.
        if _keeper_pid != os.getpid():
            _keeper_pid = os.getpid()
            _requests.clear()
            threading.Thread(target=_keep, name="kusei-fork-server-keeper", daemon=True).start()
        _requests.append((isolate_network, done, result))
        _keeper_wake.notify_all()
    return None


def _keep() -> None:
    while True:
        with _shared_lock:
            while not _requests:
                _keeper_wake.wait()
            isolate, done, result = _requests.pop(0)
            key = (os.getpid(), isolate)
            server = _shared.get(key)
            if server is None or not server.alive():
                if server is not None:
                    server.close()
                try:
                    server = _shared[key] = ForkServer(parent=os.getpid(), isolate_network=isolate)
                except (OSError, ValueError) as exc:
                    result.append(exc)
                    done.set()
                    continue
            result.append(server)
            done.set()
