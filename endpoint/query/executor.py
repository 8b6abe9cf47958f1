"""Run SPARQL queries in worker processes, so that a timeout really stops the work.

``Store.query`` cannot be interrupted: an aggregate or a sort over a cross product keeps a core
busy (and, for aggregates, holds the GIL, freezing every other thread of the process) until it
ends, which may be never. So queries run in persistent child processes, one query at a time
each; when a query overruns its timeout the parent SIGKILLs the child, which frees its CPU and
memory at once, and a fresh child takes its place.

Each child opens the release store read-only, evaluates the query, and serialises the answer
itself straight to the bytes of the requested format (SELECT/ASK: SPARQL results JSON, XML, CSV
or TSV; CONSTRUCT/DESCRIBE: N-Triples), counting rows as it writes: a result over ``max_rows``
or ``max_bytes`` stops the serialisation early and is reported as :class:`ResultTooLarge`,
never truncated.

Children are started with ``python -m kusei.endpoint.query.executor`` and talk to the parent over their
stdin/stdout pipes with length-prefixed frames (a small JSON header, then the body). They die
with the parent (``PR_SET_PDEATHSIG``; they are started from one long-lived thread, because the
signal follows the *thread* that forked) and, where the kernel allows, run in a network
namespace of their own with no interfaces up, so no query can reach any host even if
``kusei.endpoint.query.guard`` let a ``SERVICE`` through.

One executor per process: it is thread-safe (gunicorn ``gthread`` workers share it) but must not
cross a fork, so each gunicorn worker creates its own after forking (``kusei.endpoint.query.service``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kusei import formats
from kusei.endpoint.query.errors import (
    RESULT_TOO_LARGE_HINT,
    Busy,
    KuseiError,
    QueryCrashed,
    QueryFailed,
    QueryMemoryExceeded,
    QuerySyntaxError,
    QueryTimeout,
    ReleaseChanged,
    ResultTooLarge,
    ServerMemoryExceeded,
    StoreFailure,
    WorkerCrashed,
)
from kusei.endpoint.query.guard import has_dataset_clause

logger = logging.getLogger(__name__)

_FRAME = struct.Struct("!II")  # header length, body length
RESULT_FORMATS = ("json", "xml", "csv", "tsv")
# A worker imports pyoxigraph and opens the store before it says it is ready; far more than that
# takes means something is wrong (e.g. a store another process holds open for writing).
_STARTUP_TIMEOUT = 60.0
# After a start failed (e.g. the store is missing), wait this long before trying again, so a
# broken release does not turn into a loop of process spawns.
_RESTART_BACKOFF = 1.0
# The stack queries run on in a worker (see _worker_main).
QUERY_STACK_BYTES = 256 << 20
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


# The executor raises the endpoint's error family with the words the client will read; the
# old names stay as aliases for readers of this module.
ExecutorError = KuseiError
ExecutorBusy = Busy
StoreUnavailable = StoreFailure


@dataclass(frozen=True)
class ExecResult:
    kind: str  # "solutions" | "boolean" | "graph"
    body: bytes  # the serialised answer, ready to send
    media_type: str  # of ``body``, without parameters
    rows: int | None  # solutions (SELECT) or triples (CONSTRUCT/DESCRIBE); None for ASK
    elapsed: float  # seconds from sending the query to having the whole answer


# -- parent side ----------------------------------------------------------------------------------


class _Worker:
    """One child process and its pipes; used by one thread at a time."""

    def __init__(self, proc: subprocess.Popen, store_path: Path) -> None:
        self.proc = proc
        self.store_path = store_path
        assert proc.stdin is not None and proc.stdout is not None
        self._out = proc.stdin.fileno()
        self._in = proc.stdout.fileno()
        self._poller = select.poll()
        self._poller.register(self._in, select.POLLIN | select.POLLHUP | select.POLLERR)
        self.isolated = False
        # Set by the watchdog just before it kills the worker: which memory bound it passed.
        self.killed_for: tuple[str, int] | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, header: dict, body: bytes = b"") -> None:
        head = json.dumps(header).encode("utf-8")
        data = memoryview(_FRAME.pack(len(head), len(body)) + head + body)
        while data:
            written = os.write(self._out, data)
            data = data[written:]

    def receive(self, deadline: float) -> tuple[dict, bytes] | None:
        """The next frame, or None if ``deadline`` (monotonic) passes first; EOFError if it died."""
        prefix = self._read(_FRAME.size, deadline)
        if prefix is None:
            return None
        head_len, body_len = _FRAME.unpack(prefix)
        rest = self._read(head_len + body_len, deadline)
        if rest is None:
            return None
        return json.loads(rest[:head_len]), bytes(rest[head_len:])

    def _read(self, size: int, deadline: float) -> bytearray | None:
        buf = bytearray()
        while len(buf) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            # min(): poll() takes an int-sized number of milliseconds; an infinite timeout waits a day
            if not self._poller.poll(min(remaining, 86_400.0) * 1000):
                return None
            chunk = os.read(self._in, min(size - len(buf), 1 << 20))
            if not chunk:
                raise EOFError("worker exited")
            buf += chunk
        return buf

    def resident_bytes(self) -> int | None:
        """The child's resident memory (Linux), or None where it cannot be read."""
        try:
            with open(f"/proc/{self.proc.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * _PAGE_SIZE
        except (OSError, ValueError, IndexError):
            return None

    def kill(self) -> None:
        """SIGKILL and reap: when this returns the process is gone and its CPU freed."""
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


class QueryExecutor:
    """A pool of query worker processes over one release store.

    ``workers`` bounds the queries this pool runs at once (the endpoint passes the server's
    ``max_concurrent_queries``, which ``endpoint/slots.py`` holds across gunicorn workers);
    ``prestart`` says how many to start at once (True: all). ``max_rows``/``max_bytes`` are the result
    limits; ``prefixes`` and ``base_iri`` are passed to every ``Store.query``. A caller that
    finds every worker busy waits up to ``busy_wait`` seconds, then gets :class:`ExecutorBusy`.
    ``isolate_network`` puts the workers in a network namespace with no interfaces, if the
    kernel lets an unprivileged process create one (see :attr:`network_isolated`). A worker whose
    resident memory has grown past ``max_worker_rss`` bytes after a query (allocators rarely give
    back what a big join took) is replaced; None disables that.

    Create it after the fork (e.g. lazily on the first request of a gunicorn worker): its
    spawner thread and children do not survive a fork, and :meth:`run` refuses to be used from
    another process than the one that created it.
    """

    def __init__(
        self,
        store_path: Path,
        *,
        workers: int,
        max_rows: int,
        max_bytes: int,
        prefixes: dict[str, str],
        base_iri: str | None = None,
        busy_wait: float = 2.0,
        isolate_network: bool = True,
        prestart: bool | int = True,
        max_worker_rss: int | None = 256 << 20,
        union_default_graph: bool = True,
        max_query_memory: int | None = 1 << 30,
        max_server_memory: int | None = None,
        memory_root: int | None = None,
        watch_interval: float = 0.05,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._pid = os.getpid()
        self._store_path = Path(store_path)
        self._workers = workers
        self._max_rows = max_rows
        self._max_bytes = max_bytes
        self._prefixes = dict(prefixes)
        self._base_iri = base_iri
        self._busy_wait = busy_wait
        self._isolate_network = isolate_network
        self._max_worker_rss = max_worker_rss
        self._max_query_memory = max_query_memory
        self._max_server_memory = max_server_memory
        # The process whose tree the server bound counts (the server's master). None: this process
        # and this pool's workers only (e.g. the app run in-process, whose parent is no server).
        self._memory_root = memory_root
        self._watch_interval = watch_interval
        self._busy: set[_Worker] = set()
        # False when the store keeps the merge of its named graphs as its own default graph.
        self._union_default_graph = union_default_graph
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._starting = 0
        self._closed = False
        self._spawn_error: str | None = None
        self._spawn_failed_at = 0.0
        self._isolated: bool | None = None
        self._counters = {"started": 0, "killed": 0, "timeouts": 0, "busy": 0, "queries": 0, "recycled": 0,
                          "memory_kills": 0, "crashes": 0}
        # Children are forked from this one thread only: PR_SET_PDEATHSIG fires when the thread
        # that forked a child exits, and request threads (Flask's dev server) are short-lived.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kusei-query-spawner")
        if prestart:
            with self._cond:
                for _ in range(workers if prestart is True else min(int(prestart), workers)):
                    self._start_worker_locked()
        if max_query_memory is not None or max_server_memory is not None:
            self._watchdog = threading.Thread(target=self._watch, name="kusei-query-watchdog", daemon=True)
            self._watchdog.start()

    # -- public interface ------------------------------------------------------------------------

    @property
    def store_path(self) -> Path:
        return self._store_path

    @property
    def network_isolated(self) -> bool | None:
        """Whether the last worker started could cut itself off the network (None: none started)."""
        return self._isolated

    def run(
        self,
        query: str,
        *,
        default_graph_uris: list[str] | None = None,
        named_graph_uris: list[str] | None = None,
        timeout: float,
        result_format: str = "json",
        max_rows: int | None = None,
        max_bytes: int | None = None,
        store_path: Path | None = None,
    ) -> ExecResult:
        """Answer ``query`` within ``timeout`` seconds of evaluation.

        With neither graph list given (None or empty), the default graph is the union of the
        named graphs unless the query has FROM/FROM NAMED, which then define the dataset;
        otherwise the lists are the whole dataset (SPARQL Protocol) and override FROM/FROM NAMED.
        ``result_format`` (json, xml, csv, tsv) applies to SELECT and ASK; CONSTRUCT and DESCRIBE
        always come as N-Triples. ``store_path``, if given, is the release the caller answers for:
        :class:`ReleaseChanged` if the pool serves another one by then.
        """
        if os.getpid() != self._pid:
            raise RuntimeError("a QueryExecutor cannot be used across fork(); create one per process")
        if not timeout > 0:  # also refuses NaN, which would never time out
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        request = make_request(
            query, default_graph_uris=default_graph_uris, named_graph_uris=named_graph_uris,
            result_format=result_format, union_default_graph=self._union_default_graph,
            # Per-call limits may only tighten the pool's own.
            max_rows=min(self._max_rows, max_rows or self._max_rows),
            max_bytes=min(self._max_bytes, max_bytes or self._max_bytes))
        worker = self._acquire()
        if store_path is not None and Path(store_path) != worker.store_path:
            self._release(worker, True)
            raise ReleaseChanged("A new release of the data was published while this query waited; "
                                 "retry to get an answer from it.")
        healthy = False
        with self._cond:
            self._busy.add(worker)
        try:
            started = time.monotonic()
            try:
                worker.send(request)
                reply = worker.receive(started + timeout)
            except (EOFError, BrokenPipeError) as exc:
                raise self._death(worker) from exc
            if reply is None:
                with self._cond:
                    self._counters["timeouts"] += 1
                raise QueryTimeout(f"The query ran longer than {timeout:g} s and was stopped.")
            healthy = True
            header, body = reply
            elapsed = time.monotonic() - started
            return read_reply(header, body, elapsed)
        finally:
            with self._cond:
                self._busy.discard(worker)
            self._release(worker, healthy)

    def _superseded(self, store_path: Path) -> bool:
        """Whether ``store_path`` (``<data>/releases/<id>/store``) is a release that is no longer
        the published one (``<data>/current``): a request that still holds it must not move the
        pool back to it. A store outside that layout is never superseded."""
        link = store_path.parent.parent.parent / "current"
        try:
            published = (link.parent / os.readlink(link)).resolve()
        except OSError:
            return False
        return published != store_path.parent.resolve()

    def _death(self, worker: _Worker) -> WorkerCrashed:
        """What the client is told about a worker that died while answering."""
        code = worker.proc.wait()
        if worker.killed_for is not None:
            scope, limit = worker.killed_for
            what = ("this query's process" if scope == "query"
                    else "the server's processes together")
            setting = "max_query_memory" if scope == "query" else "max_server_memory"
            kind = QueryMemoryExceeded if scope == "query" else ServerMemoryExceeded
            return kind(f"The query was stopped: {what} passed the memory limit of {limit >> 20} MiB "
                        f"({setting}).", limit=limit)
        if code < 0 and -code in _CRASH_SIGNALS:
            with self._cond:
                self._counters["crashes"] += 1
            return QueryCrashed(
                f"The query engine crashed on this query ({signal.Signals(-code).name}); "
                "it cannot be answered here. Simplify it (shorter lists or chains) or split it.")
        return WorkerCrashed(f"The query process died while answering (exit status {code}); "
                             "retry in a moment.")

    # -- memory watchdog ---------------------------------------------------------------------------

    def _watch(self) -> None:
        """Sample busy workers' memory and kill one that passes a bound (see the class doc)."""
        tree_every = max(1, round(0.2 / self._watch_interval))
        tick = 0
        while not self._closed:
            time.sleep(self._watch_interval)
            tick += 1
            with self._cond:
                busy = list(self._busy)
            if not busy:
                continue
            sizes = {worker: worker.resident_bytes() or 0 for worker in busy}
            if self._max_query_memory is not None:
                for worker, rss in sizes.items():
                    if rss > self._max_query_memory:
                        self._kill_for_memory(worker, "query", self._max_query_memory)
            if self._max_server_memory is not None and tick % tree_every == 0:
                if self._memory_root is None:
                    with self._cond:
                        workers = list(self._all)
                    total = _rss(os.getpid()) + sum(_rss(worker.pid) for worker in workers)
                    largest_query_worker = max(sizes.values())
                else:
                    total, largest_query_worker = tree_memory(self._memory_root)
                if total > self._max_server_memory:
                    worker, rss = max(sizes.items(), key=lambda item: item[1])
                    # Every pool of the server watches the same total; the one that holds the
                    # largest query process stops it, so one kill answers one excess.
                    if rss >= largest_query_worker:
                        self._kill_for_memory(worker, "server", self._max_server_memory)

    def _kill_for_memory(self, worker: _Worker, scope: str, limit: int) -> None:
        if worker.killed_for is not None:
            return
        worker.killed_for = (scope, limit)
        with self._cond:
            self._counters["memory_kills"] += 1
        logger.warning("query process %d passed the %s memory limit (%d bytes); killing it", worker.pid,
                       scope, limit)
        try:
            os.kill(worker.pid, signal.SIGKILL)  # the waiting run() reaps it and reports why
        except ProcessLookupError:
            pass

    def reopen(
        self, store_path: Path, *, prefixes: dict[str, str] | None = None, base_iri: str | None = None
    ) -> None:
        """Serve ``store_path`` (a new release) from now on; a no-op if it is the current one.

        Idle workers are replaced now, busy ones when their query ends (on the old store). Cheap
        when nothing changed, so it can be called on every request with the request's release.
        A release that is no longer the published one is ignored: requests that still hold it
        while releases switch fast must not flip the pool back (their run() then gets
        :class:`ReleaseChanged` instead of another release's answer).
        """
        store_path = Path(store_path)
        with self._cond:
            if self._superseded(store_path):
                return
            new_prefixes = self._prefixes if prefixes is None else dict(prefixes)
            new_base = self._base_iri if base_iri is None else base_iri
            if (store_path, new_prefixes, new_base) == (self._store_path, self._prefixes, self._base_iri):
                return
            self._store_path = store_path
            self._prefixes = new_prefixes
            self._base_iri = new_base
            self._spawn_error = None
            stale, self._idle = self._idle, []
            for worker in stale:
                self._all.discard(worker)
            for _ in stale:
                self._start_worker_locked()
            self._cond.notify_all()
        for worker in stale:
            worker.kill()

    def close(self) -> None:
        """Stop every worker (busy ones are killed too) and the spawner thread."""
        with self._cond:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._cond.notify_all()
        for worker in workers:
            worker.kill()
        self._spawner.shutdown(wait=True)
        # A start that was under way when we closed kills its own worker (see _start_worker).

    def wait_ready(self, timeout: float) -> bool:
        """Wait until every worker is up (e.g. before a benchmark); False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._all) < self._workers or self._starting:
                if len(self._all) + self._starting < self._workers and not self._closed:
                    if self._may_start_locked():
                        self._start_worker_locked()  # prestart=False, or a failed start: try again
                    elif self._spawn_error and not self._all and not self._starting:
                        return False
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return False
                self._cond.wait(min(remaining, _RESTART_BACKOFF))
            return True

    def stats(self) -> dict[str, int]:
        """Counters since start: workers started and killed, timeouts, busy refusals, queries."""
        with self._cond:
            return {**self._counters, "idle": len(self._idle), "alive": len(self._all)}

    def worker_pids(self) -> list[int]:
        with self._cond:
            return sorted(worker.pid for worker in self._all)

    def __enter__(self) -> QueryExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- pool ------------------------------------------------------------------------------------

    def _acquire(self) -> _Worker:
        deadline = time.monotonic() + self._busy_wait
        with self._cond:
            while True:
                if self._closed:
                    raise StoreFailure("The query executor is closed.")
                if self._idle:
                    worker = self._idle.pop()  # the most recently used: its caches are warm
                    if worker.proc.poll() is not None:  # died while idle (e.g. the OOM killer)
                        self._all.discard(worker)
                        self._counters["killed"] += 1
                        worker.kill()
                        continue
                    self._counters["queries"] += 1
                    return worker
                if len(self._all) + self._starting < self._workers and self._may_start_locked():
                    self._start_worker_locked()
                elif self._spawn_error and not self._all and not self._starting:
                    raise StoreUnavailable(self._spawn_error)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._counters["busy"] += 1
                    if self._spawn_error and not self._all:
                        raise StoreUnavailable(self._spawn_error)
                    raise Busy(f"All {self._workers} query processes are busy; retry in a moment.")
                # Bounded, so a start that failed is retried once the backoff has passed.
                self._cond.wait(min(remaining, _RESTART_BACKOFF))

    def _release(self, worker: _Worker, healthy: bool) -> None:
        bloated = False
        if healthy and self._max_worker_rss is not None:
            rss = worker.resident_bytes()
            bloated = rss is not None and rss > self._max_worker_rss
        with self._cond:
            keep = healthy and not bloated and not self._closed and worker.store_path == self._store_path
            if keep:
                self._idle.append(worker)
            else:
                self._all.discard(worker)
                self._counters["recycled" if bloated else "killed"] += 1
                if not self._closed and self._may_start_locked():
                    self._start_worker_locked()
            self._cond.notify()
        if not keep:
            worker.kill()

    def _may_start_locked(self) -> bool:
        return self._spawn_error is None or time.monotonic() - self._spawn_failed_at > _RESTART_BACKOFF

    def _start_worker_locked(self) -> None:
        """Start a worker in the spawner thread; it joins the idle list when it is ready."""
        self._starting += 1
        config = {
            "store": str(self._store_path),
            "prefixes": self._prefixes,
            "base_iri": self._base_iri,
            "isolate_network": self._isolate_network,
            "parent": self._pid,
        }
        try:
            self._spawner.submit(self._start_worker, self._store_path, config)
        except RuntimeError:  # the spawner was shut down by close()
            self._starting -= 1

    def _start_worker(self, store_path: Path, config: dict) -> None:
        worker: _Worker | None = None
        error: str | None = None
        try:
            env = dict(os.environ)
            proc = subprocess.Popen(
                [sys.executable, "-m", "kusei.endpoint.query.executor"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
                close_fds=True,
            )
            worker = _Worker(proc, store_path)
            worker.send(config)
            ready = worker.receive(time.monotonic() + _STARTUP_TIMEOUT)
            if ready is None:
                error = "The query worker did not start in time."
            elif ready[0].get("status") != "ready":
                error = f"The query worker could not open the store: {ready[0].get('message')}"
            else:
                worker.isolated = bool(ready[0].get("isolated"))
        except (OSError, EOFError, ValueError) as exc:
            error = f"The query worker could not be started: {exc}"
        with self._cond:
            self._starting -= 1
            usable = (
                error is None and worker is not None and not self._closed and store_path == self._store_path
            )
            if usable:
                assert worker is not None
                self._all.add(worker)
                self._idle.append(worker)
                self._counters["started"] += 1
                self._isolated = worker.isolated
                self._spawn_error = None
            elif error is not None:
                self._spawn_error = error
                self._spawn_failed_at = time.monotonic()
            self._cond.notify_all()
        if error is not None:
            logger.error("%s", error)
        if not usable and worker is not None:
            worker.kill()


# Signals that mean the engine itself failed on the query (not the OOM killer or a kill by us).
_CRASH_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL, signal.SIGFPE})
_WORKER_MODULE = b"kusei.endpoint.query.executor"


def _children() -> dict[int, list[int]]:
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


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


def server_root() -> int | None:
    """The process whose tree is "the server": the master when this process is a server's worker
    (gunicorn or granian fork their workers); None otherwise (see QueryExecutor's memory_root)."""
    parent = os.getppid()
    try:
        with open(f"/proc/{parent}/cmdline", "rb") as cmdline:
            command = cmdline.read()
    except OSError:
        return None
    return parent if b"gunicorn" in command or b"granian" in command else None


def tree_memory(root: int) -> tuple[int, int]:
    """Resident bytes of ``root`` and all its descendants, and of the largest query worker among them."""
    children = _children()
    total = largest = 0
    pending = [root]
    while pending:
        pid = pending.pop()
        rss = _rss(pid)
        total += rss
        if rss > largest:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    if _WORKER_MODULE in cmdline.read():
                        largest = rss
            except OSError:
                pass
        pending.extend(children.get(pid, ()))
    return total, largest


def make_request(query: str, *, default_graph_uris: list[str] | None, named_graph_uris: list[str] | None,
                 result_format: str, union_default_graph: bool, max_rows: int, max_bytes: int) -> dict[str, Any]:
    """The frame a worker answers (see :meth:`QueryExecutor.run` for the dataset rules)."""
    if result_format not in RESULT_FORMATS:
        raise ValueError(f"unknown result format {result_format!r}; expected one of {RESULT_FORMATS}")
    request: dict[str, Any] = {"query": query, "format": result_format, "max_rows": max_rows,
                               "max_bytes": max_bytes}
    if default_graph_uris or named_graph_uris:
        request["default_graph"] = list(default_graph_uris or [])
        request["named_graphs"] = list(named_graph_uris or [])
    else:
        # The default graph is the union of the named graphs, unless the query's own FROM
        # clauses say otherwise (pyoxigraph's union option would silently override them).
        request["union"] = union_default_graph and not has_dataset_clause(query)
    return request


def read_reply(header: dict, body: bytes, elapsed: float) -> ExecResult:
    """A worker's reply as an :class:`ExecResult`, or the error it reports raised."""
    status = header.get("status")
    message = str(header.get("message", ""))
    if status == "ok":
        kind = header["kind"]
        media_type = formats.by_name("nt" if kind == "graph" else header["format"]).media_type
        return ExecResult(kind=kind, body=body, media_type=media_type, rows=header.get("rows"),
                          elapsed=elapsed)
    if status == "syntax":
        raise QuerySyntaxError(message)
    if status == "too_large":
        raise ResultTooLarge(message)
    if status == "store":
        raise StoreUnavailable(message)
    raise QueryFailed(message or "The query failed.")


# -- child side -----------------------------------------------------------------------------------


_JSON_STRING = re.compile(rb'"[^"]*"')


class _Overflow(Exception):
    """Raised from inside a pyoxigraph serialiser to stop it when a limit is passed."""


class _Sink:
    """A write target for pyoxigraph serialisers that keeps the bytes and enforces the limits.

    pyoxigraph hands it 8 KiB chunks; rows are counted per chunk by ``counter``, so a too-large
    result stops within one chunk of the limit instead of being built in full.
    """

    def __init__(self, max_bytes: int, counter: _RowCounter | None = None, max_rows: int = 0) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.max_bytes = max_bytes
        self.counter = counter
        self.max_rows = max_rows

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise _Overflow(f"The result is larger than {self.max_bytes} bytes")
        if self.counter is not None and self.counter.feed(data) > self.max_rows:
            raise _Overflow(f"The result has more than {self.max_rows} rows")
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.chunks)


class _RowCounter:
    """Counts rows in a stream of serialised results, chunk by chunk, without parsing.

    Each format has a marker that occurs once per row and never inside a value:
    TSV and N-Triples escape line breaks, so a row is a line (TSV has a header line);
    XML escapes ``<``, so a row is ``<result>``; CSV quotes values with line breaks (doubling
    inner quotes), so a row is a line feed outside quotes (after the header). In JSON a row is
    an object opening right after ``[`` or ``,`` once strings are cut out (only the bindings
    array holds objects; pyoxigraph writes it compact); strings are cut out after removing
    escaped backslashes and quotes, and a string left open at a chunk's end is carried over.
    """

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.count = -1 if fmt in ("tsv", "csv") else 0  # minus the header line
        self._tail = b""
        self._quoted = False
        self._in_string = False
        self._escape_pending = False

    def feed(self, data: bytes) -> int:
        if self.fmt == "json":
            self._feed_json(data)
        elif self.fmt in ("tsv", "nt"):
            self.count += data.count(b"\n")
        elif self.fmt == "xml":
            window = self._tail + data
            self.count += window.count(b"<result>")
            self._tail = window[-7:]  # shorter than the marker: never counted twice
        else:  # csv
            pieces = bytes(data).split(b'"')
            for index, piece in enumerate(pieces):
                if index:
                    self._quoted = not self._quoted
                if not self._quoted:
                    self.count += piece.count(b"\n")
        return self.count

    def _feed_json(self, data: bytes) -> None:
        # Each byte is looked at a bounded number of times, however long a string runs over chunks
        # (GROUP_CONCAT can make one literal of many megabytes).
        if self._escape_pending:  # the previous chunk ended inside a string with a lone backslash
            data = data[1:]
            self._escape_pending = False
        # Outside strings JSON has no backslashes, so this only unescapes inside strings; what is
        # left of quotes are the strings' delimiters.
        text = data.replace(b"\\\\", b"").replace(b'\\"', b"")
        # A backslash left at the very end escapes the next chunk's first byte.
        pending = text.endswith(b"\\")
        if pending:
            text = text[:-1]
        self._escape_pending = pending
        if self._in_string:
            close = text.find(b'"')
            if close < 0:
                return
            text = text[close + 1 :]
            self._in_string = False
        if text.count(b'"') % 2:  # the last quote opens a string that goes on in the next chunk
            text = text[: text.rfind(b'"')]
            self._in_string = True
        outside = self._tail + _JSON_STRING.sub(b"", text)
        self.count += outside.count(b"[{") + outside.count(b",{")
        self._tail = outside[-1:]


def _worker_main() -> None:  # pragma: no cover - runs in the child; covered by tests/test_executor.py
    # The protocol gets private copies of stdin/stdout; fd 1 then goes to stderr, so a stray print
    # (ours or a library's) cannot corrupt a frame.
    # Ctrl-C in a terminal reaches the whole process group; the parent decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    proto_in = os.dup(0)
    proto_out = os.dup(1)
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    reader = _Reader(proto_in)
    config = reader.frame()
    if config is None:
        return
    _die_with_parent(config["parent"])
    isolated = _isolate_network() if config.get("isolate_network") else False
    import pyoxigraph as ox  # after unshare(): user namespaces need a single-threaded process

    try:
        store = ox.Store.read_only(config["store"])
    except (OSError, ValueError) as exc:
        _write_frame(proto_out, {"status": "store", "message": str(exc)})
        return
    _write_frame(proto_out, {"status": "ready", "isolated": isolated, "pid": os.getpid()})
    options: dict[str, Any] = {"prefixes": config.get("prefixes") or None}
    if config.get("base_iri"):
        options["base_iri"] = config["base_iri"]

    def serve() -> None:
        while True:
            request = reader.frame()
            if request is None:  # the parent closed the pipe: it is gone or closing us
                return
            header, body = answer(ox, store, request, options)
            _write_frame(proto_out, header, body)

    # pyoxigraph's parser and evaluator recurse once per item of a flat list or operator chain
    # and overflow an 8 MiB main-thread stack at a few thousand (guard.MAX_CHAIN); queries run
    # on a thread with a far larger stack, so only queries the guard refuses anyway come near it.
    # Untouched stack pages cost no memory.
    threading.stack_size(QUERY_STACK_BYTES)
    runner = threading.Thread(target=serve, name="kusei-query")
    runner.start()
    runner.join()


class _Reader:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def _exact(self, size: int) -> bytes | None:
        buf = bytearray()
        while len(buf) < size:
            chunk = os.read(self.fd, size - len(buf))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def frame(self) -> dict | None:
        prefix = self._exact(_FRAME.size)
        if prefix is None:
            return None
        head_len, body_len = _FRAME.unpack(prefix)
        data = self._exact(head_len + body_len)
        if data is None:
            return None
        return json.loads(data[:head_len])


def _write_frame(fd: int, header: dict, body: bytes = b"") -> None:
    head = json.dumps(header).encode("utf-8")
    data = memoryview(_FRAME.pack(len(head), len(body)) + head + body)
    while data:
        data = data[os.write(fd, data):]


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        try:
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)


def _isolate_network() -> bool:
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


_RDF = b"http://www.w3.org/1999/02/22-rdf-syntax-ns#"
# How each format writes a literal typed rdf:langString or rdf:dirLangString. The engine can make
# one without a language (`"x"^^rdf:langString`, STRDT), which is no valid RDF term: N-Triples and
# TSV would carry it on unreadably (and every other format fails to write it), so such an answer
# is refused. CSV writes only the lexical form, which is valid. A tagged literal is written with
# `@tag`, never with these datatypes, so the markers only match untagged ones.
_UNTAGGED_MARKERS = {
    "nt": tuple(b'"^^<' + _RDF + name + b">" for name in (b"langString", b"dirLangString")),
    "tsv": tuple(b'"^^<' + _RDF + name + b">" for name in (b"langString", b"dirLangString")),
    "json": tuple(b'"datatype":"' + _RDF + name + b'"' for name in (b"langString", b"dirLangString")),
    "xml": tuple(b'datatype="' + _RDF + name + b'"' for name in (b"langString", b"dirLangString")),
}
UNTAGGED_MESSAGE = ("The answer holds a literal typed rdf:langString or rdf:dirLangString without a "
                    "language tag, which is not a valid RDF term and cannot be written in any RDF format; "
                    "give it a language (STRLANG) or another datatype.")


def _has_untagged_lang_literal(body: bytes, fmt: str) -> bool:
    if b"LangString" not in body and b"langString" not in body:
        return False
    return any(marker in body for marker in _UNTAGGED_MARKERS.get(fmt, ()))


def answer(ox: Any, store: Any, request: dict, options: dict) -> tuple[dict, bytes]:
    """Evaluate one request frame on ``store``: what a worker does, callable in-process for comparison."""
    fmt = request["format"]
    max_rows = int(request["max_rows"])
    max_bytes = int(request["max_bytes"])
    kwargs = dict(options)
    if "default_graph" in request:
        kwargs["default_graph"] = [ox.NamedNode(iri) for iri in request["default_graph"]]
        kwargs["named_graphs"] = [ox.NamedNode(iri) for iri in request["named_graphs"]]
    elif request.get("union", True):
        kwargs["use_default_graph_as_union"] = True
    results_format = {
        "json": ox.QueryResultsFormat.JSON,
        "xml": ox.QueryResultsFormat.XML,
        "csv": ox.QueryResultsFormat.CSV,
        "tsv": ox.QueryResultsFormat.TSV,
    }
    try:
        result = store.query(request["query"], **kwargs)
        if isinstance(result, ox.QueryBoolean):
            body = result.serialize(format=results_format[fmt])
            return {"status": "ok", "kind": "boolean", "format": fmt, "rows": None}, body
        if isinstance(result, ox.QuerySolutions):
            sink = _Sink(max_bytes, _RowCounter(fmt), max_rows)
            result.serialize(sink, format=results_format[fmt])
            rows = sink.counter.count if sink.counter else 0
            body = sink.getvalue()
            if _has_untagged_lang_literal(body, fmt):
                return {"status": "error", "message": UNTAGGED_MESSAGE}, b""
            return {"status": "ok", "kind": "solutions", "format": fmt, "rows": rows}, body
        sink = _Sink(max_bytes, _RowCounter("nt"), max_rows)
        result.serialize(sink, format=ox.RdfFormat.N_TRIPLES)
        count = sink.counter.count if sink.counter else 0
        body = sink.getvalue()
        if _has_untagged_lang_literal(body, "nt"):
            return {"status": "error", "message": UNTAGGED_MESSAGE}, b""
        return {"status": "ok", "kind": "graph", "format": "nt", "rows": count}, body
    except _Overflow as exc:
        return {
            "status": "too_large",
            "message": f"{exc}; {RESULT_TOO_LARGE_HINT}",
        }, b""
    except SyntaxError as exc:
        return {"status": "syntax", "message": str(exc)}, b""
    except Exception as exc:  # noqa: BLE001 - any evaluation error is the query's answer, not a crash
        return {"status": "error", "message": f"{type(exc).__name__}: {exc}"}, b""


if __name__ == "__main__":
    _worker_main()
