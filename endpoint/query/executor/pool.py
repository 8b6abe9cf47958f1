"""The pool of query processes over one release store (the parent side of the executor)."""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kusei.endpoint.query.errors import (
    Busy,
    QueryCrashed,
    QueryTimeout,
    StoreFailure,
)
from kusei.endpoint.query.executor import forks
from kusei.endpoint.query.executor import process as process_module
from kusei.endpoint.query.executor.answer import Describe, ExecResult, make_request, read_reply
from kusei.endpoint.query.executor.memory import MemoryWatch
from kusei.endpoint.query.executor.process import QueryProcess
from kusei.release import is_superseded

logger = logging.getLogger(__name__)

# A query process imports pyoxigraph and opens the store before it says it is ready; far more than
# that means something is wrong (e.g. a store another process holds open for writing).
_STARTUP_TIMEOUT = 60.0
# After a start failed (e.g. the store is missing), wait this long before trying again, so a
# broken release does not turn into a loop of process spawns.
_RESTART_BACKOFF = 1.0


class QueryExecutor:
    """A pool of query processes over one release store.

    ``workers`` bounds the queries this pool runs at once (the endpoint passes the server's
    ``max_concurrent_queries``, which ``endpoint/query/slots.py`` holds across server workers);
    ``prestart`` says how many to start at once (True: all). ``max_rows``/``max_bytes`` are the result
    limits; ``prefixes`` and ``base_iri`` are passed to every ``Store.query``. A caller that
    finds every process busy waits up to ``busy_wait`` seconds, then gets :class:`Busy`.
    ``isolate_network`` puts the processes in a network namespace with no interfaces, if the
    kernel lets an unprivileged process create one (see :attr:`network_isolated`). A process whose
    resident memory has grown past ``max_worker_rss`` bytes after a query (allocators rarely give
    back what a big join took) is replaced; None disables that. ``max_query_memory`` and
    ``max_server_memory`` are watched while queries run (see :class:`MemoryWatch`; ``memory_root``
    is the process whose tree the server bound counts). Processes idle for ``idle_seconds`` are
    retired down to ``keep_warm`` (None: all are kept), and an idle process grown ``recycle_growth``
    bytes past its size at start is replaced (None: never). With ``fork`` (and Linux pidfds) the
    processes are forked from this process's fork server (forks.py) instead of started anew.

    Create it after the fork (e.g. lazily on the first request of a server worker): its threads
    and children do not survive a fork, and :meth:`run` refuses to be used from another process
    than the one that created it.
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
        keep_warm: int | None = None,
        idle_seconds: float = 30.0,
        recycle_growth: int | None = None,
        fork: bool = True,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._pid = os.getpid()
        self._store_path = Path(store_path)
        # Bumped when the query options change: processes started with other options are replaced.
        # A new store alone replaces nothing: each request names the store it is for (see child.py).
        self._generation = 0
        self._workers = workers
        self._max_rows = max_rows
        self._max_bytes = max_bytes
        self._prefixes = dict(prefixes)
        self._base_iri = base_iri
        self._busy_wait = busy_wait
        self._isolate_network = isolate_network
        self._max_worker_rss = max_worker_rss
        # False when the store keeps the merge of its named graphs as its own default graph.
        self._union_default_graph = union_default_graph
        # Idle processes past ``keep_warm`` are retired after ``idle_seconds`` unused; an idle
        # process grown ``recycle_growth`` bytes past its size at start is replaced (see _tend).
        self._keep_warm = workers if keep_warm is None else max(0, min(keep_warm, workers))
        self._idle_seconds = idle_seconds
        self._recycle_growth = recycle_growth
        self._fork = fork and forks.available()
        self._tender: threading.Thread | None = None
        self._ticks = 0  # passes the tender made (tests wait on them)
        self._cond = threading.Condition()
        self._idle: list[QueryProcess] = []
        self._all: set[QueryProcess] = set()
        self._busy: set[QueryProcess] = set()
        self._starting = 0
        self._closed = False
        self._spawn_error: str | None = None
        self._spawn_failed_at = 0.0
        self._isolated: bool | None = None
        self._counters = {"started": 0, "killed": 0, "timeouts": 0, "busy": 0, "queries": 0, "recycled": 0,
                          "crashes": 0, "retired": 0}
        # Children are forked from this one thread only: PR_SET_PDEATHSIG fires when the thread
        # that forked a child exits, and request threads (Flask's dev server) are short-lived.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kusei-query-spawner")
        if prestart:
            with self._cond:
                for _ in range(workers if prestart is True else min(int(prestart), workers)):
                    self._start_locked()
        if self._keep_warm < workers or recycle_growth is not None:
            self._tender = threading.Thread(target=self._tend, name="kusei-query-tender", daemon=True)
            self._tender.start()
        self._watch: MemoryWatch | None = None
        if max_query_memory is not None or max_server_memory is not None:
            self._watch = MemoryWatch(busy=self._busy_now, everyone=self._everyone, max_query=max_query_memory,
                                      max_server=max_server_memory, root=memory_root, interval=watch_interval)

    # -- public interface ------------------------------------------------------------------------

    @property
    def store_path(self) -> Path:
        return self._store_path

    @property
    def network_isolated(self) -> bool | None:
        """Whether the last process started could cut itself off the network (None: none started)."""
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
        describe: Describe | None = None,
    ) -> ExecResult:
        """Answer ``query`` within ``timeout`` seconds of evaluation.

        With neither graph list given (None or empty), the default graph is the union of the
        named graphs unless the query has FROM/FROM NAMED, which then define the dataset;
        otherwise the lists are the whole dataset (SPARQL Protocol) and override FROM/FROM NAMED.
        ``result_format`` (json, xml, csv, tsv) applies to SELECT and ASK; CONSTRUCT and DESCRIBE
        always come as N-Triples. ``store_path``, if given, is the release the caller answers for:
        :class:`ReleaseChanged` if the pool serves another one by then. ``describe`` answers with
        the bounded description instead (see :class:`Describe`).
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
            max_bytes=min(self._max_bytes, max_bytes or self._max_bytes), describe=describe)
        with self._cond:
            # The release the caller answers for, even if the pool has moved on since (its ETag is
            # that release's); the pool's own otherwise.
            request["store"] = str(store_path if store_path is not None else self._store_path)
        process = self._acquire()
        healthy = False
        with self._cond:
            self._busy.add(process)
        try:
            started = time.monotonic()
            try:
                reply = process.ask(request, started + timeout)
            except EOFError as exc:
                death = process.death()
                if isinstance(death, QueryCrashed):
                    with self._cond:
                        self._counters["crashes"] += 1
                raise death from exc
            if reply is None:
                with self._cond:
                    self._counters["timeouts"] += 1
                raise QueryTimeout(f"The query ran longer than {timeout:g} s and was stopped.")
            healthy = True
            return read_reply(*reply, time.monotonic() - started)
        finally:
            with self._cond:
                self._busy.discard(process)
            self._release(process, healthy)

    def reopen(
        self, store_path: Path, *, prefixes: dict[str, str] | None = None, base_iri: str | None = None
    ) -> None:
        """Serve ``store_path`` (a new release) from now on; a no-op if it is the current one.

        No process is restarted for a new store: each request names its store, and a process opens
        it on its first request for it (keeping the previous one open too, for requests that began
        before the switch). Only new query options (prefixes, base IRI) replace processes: idle
        ones now, busy ones when their query ends. Cheap when nothing changed, so it can be called
        on every request with the request's release. A release that is no longer the published one
        is ignored: requests that still hold it while releases switch fast must not flip the pool
        back (their run() is still answered from their own release).
        """
        with self._cond:
            # Compared as given first: the path and the prefixes are the caller's same objects on
            # every request, and copying them cost more than the rest of this call.
            if (store_path == self._store_path and (prefixes is None or prefixes == self._prefixes)
                    and (base_iri is None or base_iri == self._base_iri)):
                return
        store_path = Path(store_path)
        with self._cond:
            new_prefixes = self._prefixes if prefixes is None else dict(prefixes)
            new_base = self._base_iri if base_iri is None else base_iri
            # Compared first: the superseded check reads the link and resolves two paths, which
            # cost more than the rest of a cached answer (bench/layers.py), and nothing changes anyway.
            if (store_path, new_prefixes, new_base) == (self._store_path, self._prefixes, self._base_iri):
                return
            if is_superseded(store_path):
                return
            self._store_path = store_path
            self._spawn_error = None
            if (new_prefixes, new_base) == (self._prefixes, self._base_iri):
                self._cond.notify_all()
                return
            self._prefixes = new_prefixes
            self._base_iri = new_base
            self._generation += 1
            stale, self._idle = self._idle, []
            for process in stale:
                self._all.discard(process)
            for _ in stale:
                self._start_locked()
            self._cond.notify_all()
        for process in stale:
            process.kill()

    def close(self) -> None:
        """Stop every process (busy ones are killed too) and the pool's threads."""
        with self._cond:
            self._closed = True
            processes = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._cond.notify_all()
        if self._watch is not None:
            self._watch.stop()
        if self._tender is not None:
            self._tender.join()
        for process in processes:
            process.kill()
        self._spawner.shutdown(wait=True)
        # A start that was under way when we closed kills its own process (see _start).

    def wait_ready(self, timeout: float) -> bool:
        """Wait until every process is up (e.g. before a benchmark); False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._all) < self._workers or self._starting:
                if len(self._all) + self._starting < self._workers and not self._closed:
                    if self._may_start_locked():
                        self._start_locked()  # prestart=False, or a failed start: try again
                    elif self._spawn_error and not self._all and not self._starting:
                        return False
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return False
                self._cond.wait(min(remaining, _RESTART_BACKOFF))
            return True

    def stats(self) -> dict[str, int]:
        """Counters since start: processes started and killed, timeouts, busy refusals, queries."""
        with self._cond:
            return {**self._counters, "memory_kills": self._watch.kills if self._watch else 0,
                    "idle": len(self._idle), "alive": len(self._all), "ticks": self._ticks}

    def worker_pids(self) -> list[int]:
        with self._cond:
            return sorted(process.pid for process in self._all)

    def __enter__(self) -> QueryExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the pool --------------------------------------------------------------------------------

    def _busy_now(self) -> list[QueryProcess]:
        with self._cond:
            return list(self._busy)

    def _everyone(self) -> list[QueryProcess]:
        with self._cond:
            return list(self._all)

    def _acquire(self) -> QueryProcess:
        deadline = time.monotonic() + self._busy_wait
        with self._cond:
            while True:
                if self._closed:
                    raise StoreFailure("The query executor is closed.")
                if self._idle:
                    process = self._idle.pop()  # the most recently used: its caches are warm
                    if not process.alive():  # died while idle (e.g. the OOM killer)
                        self._all.discard(process)
                        self._counters["killed"] += 1
                        process.kill()
                        continue
                    self._counters["queries"] += 1
                    return process
                if len(self._all) + self._starting < self._workers and self._may_start_locked():
                    self._start_locked()
                elif self._spawn_error and not self._all and not self._starting:
                    raise StoreFailure(self._spawn_error)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._counters["busy"] += 1
                    if self._spawn_error and not self._all:
                        raise StoreFailure(self._spawn_error)
                    raise Busy(f"All {self._workers} query processes are busy; retry in a moment.")
                # Bounded, so a start that failed is retried once the backoff has passed.
                self._cond.wait(min(remaining, _RESTART_BACKOFF))

    def _release(self, process: QueryProcess, healthy: bool) -> None:
        bloated = healthy and self._max_worker_rss is not None and process.rss() > self._max_worker_rss
        with self._cond:
            keep = healthy and not bloated and not self._closed and process.generation == self._generation
            if keep:
                process.idle_since = time.monotonic()
                self._idle.append(process)
            else:
                self._all.discard(process)
                self._counters["recycled" if bloated else "killed"] += 1
                if not self._closed and self._may_start_locked():
                    self._start_locked()
            self._cond.notify()
        if not keep:
            process.kill()

    def _tend(self) -> None:
        """Give back what an idle pool holds: every ``idle_seconds / 4``, retire the processes unused
        for ``idle_seconds`` beyond the ``keep_warm`` most recently used, and replace an idle process
        that kept more than ``recycle_growth`` of what a query took (its heap handed back, what is
        left is the engine's caches and fragments, which only a new process gives back)."""
        tick = max(0.05, self._idle_seconds / 4)
        while True:
            with self._cond:
                if self._closed:
                    return
                self._cond.wait(tick)
                if self._closed:
                    return
                now = time.monotonic()
                self._ticks += 1
                drop: list[QueryProcess] = []
                # The idle list is in the order of last use: the front was unused the longest.
                while (len(self._all) - len(drop) > self._keep_warm and self._idle
                       and now - self._idle[0].idle_since >= self._idle_seconds):
                    drop.append(self._idle.pop(0))
                self._counters["retired"] += len(drop)
                grown: list[QueryProcess] = []
                if self._recycle_growth is not None:
                    # Idle for a tick at least: a process hands its heap back just after it answered.
                    grown = [process for process in self._idle if now - process.idle_since >= tick
                             and process.rss() - process.start_rss > self._recycle_growth]
                    for process in grown:
                        self._idle.remove(process)
                    self._counters["recycled"] += len(grown)
                for process in drop + grown:
                    self._all.discard(process)
                for _ in grown:
                    if self._may_start_locked():
                        self._start_locked()
                if drop or grown:
                    self._cond.notify_all()
            for process in drop + grown:
                process.kill()

    def _may_start_locked(self) -> bool:
        return self._spawn_error is None or time.monotonic() - self._spawn_failed_at > _RESTART_BACKOFF

    def _start_locked(self) -> None:
        """Start a process in the spawner thread; it joins the idle list when it is ready."""
        self._starting += 1
        config = {
            "store": str(self._store_path),
            "prefixes": self._prefixes,
            "base_iri": self._base_iri,
            "isolate_network": self._isolate_network,
            "parent": self._pid,
            "spin": process_module.CHILD_SPIN_SECONDS,
        }
        try:
            self._spawner.submit(self._start, self._store_path, self._generation, config)
        except RuntimeError:  # the spawner was shut down by close()
            self._starting -= 1

    def _start(self, store_path: Path, generation: int, config: dict[str, Any]) -> None:
        process: QueryProcess | None = None
        error: str | None = None
        try:
            server = forks.shared(self._isolate_network) if self._fork else None
            if server is not None:
                config["isolated"] = server.isolated
            process = QueryProcess(store_path, server)
            ready = process.ask(config, time.monotonic() + _STARTUP_TIMEOUT)
            if ready is None:
                error = "The query process did not start in time."
            elif ready[0].get("status") != "ready":
                error = f"The query process could not open the store: {ready[0].get('message')}"
            else:
                process.isolated = bool(ready[0].get("isolated"))
        except (OSError, EOFError, ValueError) as exc:
            error = f"The query process could not be started: {exc}"
        with self._cond:
            self._starting -= 1
            usable = (error is None and process is not None and not self._closed
                      and generation == self._generation)
            if usable:
                assert process is not None
                process.generation = generation
                process.idle_since = time.monotonic()
                process.start_rss = process.rss()
                self._all.add(process)
                self._idle.append(process)
                self._counters["started"] += 1
                self._isolated = process.isolated
                self._spawn_error = None
            elif error is not None:
                self._spawn_error = error
                self._spawn_failed_at = time.monotonic()
            self._cond.notify_all()
        if error is not None:
            logger.error("%s", error)
        if not usable and process is not None:
            process.kill()
