"""The query process: forked by the fork server (forks.py, itself ``python -m
kusei.endpoint.query.executor --fork-server``), or started by the pool as ``python -m
kusei.endpoint.query.executor`` where processes cannot be followed by pidfd.

It reads its configuration frame on its stdin (one end of a socket pair), opens the release
store read-only, says it is ready, then answers one request frame at a time until the pool
closes the connection. It dies with the pool's process (``PR_SET_PDEATHSIG``) and, where the
kernel allows, runs in a network namespace of its own with no interfaces up, so no query can
reach any host even if ``kusei.endpoint.query.guard`` let a ``SERVICE`` through.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from kusei.endpoint.query.executor import wire
from kusei.endpoint.query.executor.answer import answer

# pyoxigraph's parser and evaluator recurse once per item of a flat list or operator chain and
# overflow an 8 MiB main-thread stack at a few thousand (guard.MAX_CHAIN); queries run on a thread
# with a far larger stack, so only queries the guard refuses anyway come near it. Untouched stack
# pages cost no memory.
QUERY_STACK_BYTES = 256 << 20
# Release stores one process keeps open: the current release's and the one before it (requests that
# began before a switch).
OPEN_STORES = 2


def main() -> None:  # pragma: no cover - runs in the child; covered by tests/unit/test_executor.py
    # Ctrl-C in a terminal reaches the whole process group; the pool decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if len(sys.argv) > 2 and sys.argv[1] == "--fork-server":
        from kusei.endpoint.query.executor import forks

        isolate = "--isolate" in sys.argv[3:]
        forks.serve(int(sys.argv[2]), isolate, _serve)
        return
    _serve(None)


def _serve(forked_from: int | None) -> None:  # pragma: no cover - runs in the child
    """Answer on fd 0: started on its own (``forked_from`` None), or forked by the fork server."""
    conn = Connection(os.dup(0))
    # A library that reads stdin must not eat frames.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    try:
        config, _ = wire.receive(conn)
    except EOFError:
        return
    if forked_from is None:
        die_with_parent(config["parent"])
        isolated = isolate_network() if config.get("isolate_network") else False
    else:  # the fork server isolated itself (and so us) already, and dies with the pool
        die_with_parent(forked_from)
        isolated = bool(config.get("isolated"))
    import pyoxigraph as ox  # after unshare(): user namespaces need a single-threaded process

    try:
        store = ox.Store.read_only(config["store"])
    except (OSError, ValueError) as exc:
        wire.send(conn, {"status": "store", "message": str(exc)})
        return
    wire.send(conn, {"status": "ready", "isolated": isolated, "pid": os.getpid()})
    options: dict[str, Any] = {"prefixes": config.get("prefixes") or None}
    if config.get("base_iri"):
        options["base_iri"] = config["base_iri"]

    # The stores this process has open, least recently used first: the one it started with, and
    # those of releases published since, which requests name. Serving a new release costs this
    # process one read-only open, not a restart, and a request that still holds the previous
    # release is answered from it.
    opened: dict[str, Any] = {config["store"]: store}

    def store_for(path: str) -> Any:
        found = opened.pop(path, None)
        if found is None:
            found = ox.Store.read_only(path)
        opened[path] = found
        while len(opened) > OPEN_STORES:
            del opened[next(iter(opened))]  # RocksDB closes the store when the object goes
        return found

    baseline = _rss()
    # After an answer, check for the next request this long before sleeping on it (process.py).
    spin = float(config.get("spin") or 0)
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)

    def serve() -> None:
        try:
            while True:
                if spin > 0:
                    spin_until = time.perf_counter() + spin
                    while time.perf_counter() < spin_until and not poller.poll(0):
                        pass
                request, _ = wire.receive(conn)
                try:
                    release_store = store_for(request.get("store") or config["store"])
                except (OSError, ValueError, RuntimeError) as exc:  # gone from disk, pruned by newer builds
                    wire.send(conn, {"status": "release_gone", "message": str(exc)})
                    continue
                wire.send(conn, *answer(ox, release_store, request, options))
                _give_back(baseline)
        except (EOFError, OSError):  # the pool closed the connection: it is gone or closing us
            return

    threading.stack_size(QUERY_STACK_BYTES)
    runner = threading.Thread(target=serve, name="kusei-query")
    runner.start()
    runner.join()


# Memory a process may keep after a query before it hands its free heap back to the system.
_TRIM_ABOVE = 32 << 20


_statm: int | None = None
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    # Read after every query: the file is kept open and re-read in place (0.8 µs against 6.5 µs
    # for opening it each time).
    global _statm
    try:
        if _statm is None:
            _statm = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)
        return int(os.pread(_statm, 256, 0).split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def _give_back(baseline: int) -> None:
    """Return the heap a query freed to the system (after the reply is sent, so no one waits):
    glibc keeps freed memory for reuse, so an idle process kept what its largest query took
    (244 MiB after a DISTINCT); malloc_trim gives it back."""
    if _rss() - baseline < _TRIM_ABOVE or not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        try:
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)


def isolate_network() -> bool:
    """Move into a new network namespace (only a down loopback): nothing is reachable from it."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    clone_newuser, clone_newnet = 0x10000000, 0x40000000
    # Unprivileged processes need a user namespace to own the network one; root does not.
    for flags in (clone_newuser | clone_newnet, clone_newnet):
        try:
            if libc.unshare(flags) == 0:
                return True
        except (OSError, AttributeError):
            return False
    return False
