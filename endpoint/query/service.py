"""The one query service: every query the endpoint answers goes through :func:`execute`.

``/sparql``, the query page, DESCRIBE and every query a page makes come here, so each gets the
same guard (no SERVICE, LOAD or updates), the same limits, the same time limit that really stops
work (the query runs in a killable worker process) and the same dataset: the store's default graph,
which ``kusei build`` fills with the merge of all named graphs. Failures are raised as the error
family of ``kusei.endpoint.query.errors`` with their final status and words.

Two lanes keep the site usable when clients run heavy queries: ``Lane.SPARQL`` (what clients send)
holds one of the server-wide query slots; ``Lane.PAGES`` (what pages ask) has query processes of its
own, so pages are served while every slot is taken by runaway queries.
"""

from __future__ import annotations

import enum
import functools
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kusei import formats
from kusei.endpoint.query import analysis, executor, guard, inline, shares, slots
from kusei.endpoint.query.errors import Busy, QueryFailed, TooManyQueries
from kusei.namespaces import prefixes
from kusei.release import Release
from kusei.settings import Settings

# How long a query waits for one of the server's query slots before the client gets a 503.
QUEUE_WAIT = 2.0
# A query holding a slot always has a place in its worker's pool, but may wait for the process to
# start: slow on a machine busy with the other queries, and no reason to refuse it.
POOL_WAIT = 15.0
# Page queries are small lookups; this many processes per server process answer them.
PAGE_PROCESSES = 2
# Query processes each pool keeps once the server has gone quiet (settings.query_idle_seconds
# without a query): none, so a quiet server is its main process, its web workers and their fork
# servers (executor/forks.py). The first query after a quiet spell waits for a process forked from
# the loaded fork server (~45 ms). One warm process per lane and worker would cost ~10 MiB each
# and take a quiet tree past its bound (bench/README.md, bench/memory.py).
WARM_PROCESSES = {"sparql": 0, "pages": 0, "pinned": 0}
# An idle query process that still holds this much more than when it started (after handing its
# free heap back) is replaced by a fresh one.
RECYCLE_GROWTH = 32 << 20

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


class Lane(enum.Enum):
    SPARQL = "sparql"
    PAGES = "pages"
    # A kept past release that a pinned link asks for: a small pool per release, holding the
    # server-wide slots as SPARQL does.
    PINNED = "pinned"


# Past releases with a pool of their own in one server process; the least recently asked one is
# closed when another comes. One query process each, started on the first query.
PINNED_RELEASES = 2


@dataclass(frozen=True)
class Written:
    """An answer the query worker already wrote in the format the client asked for (``format``:
    json, xml, csv, tsv or nt): the bytes go out as they are, with no second serialisation."""

    kind: str  # "solutions" | "boolean" | "graph"
    format: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    """Exactly one of: ``rows`` (SELECT, with ``variables``), ``boolean`` (ASK), ``triples``."""

    variables: tuple[str, ...] = ()
    rows: list[tuple[Term | None, ...]] | None = None
    boolean: bool | None = None
    triples: list[ox.Triple] | None = None

    @property
    def kind(self) -> str:
        if self.rows is not None:
            return "solutions"
        if self.boolean is not None:
            return "boolean"
        return "graph"

    def bindings(self) -> list[dict[str, Term]]:
        """SELECT rows as dicts of the bound variables (unbound ones left out)."""
        return [{name: term for name, term in zip(self.variables, row, strict=True) if term is not None}
                for row in self.rows or ()]


def _check_graph_iris(*iris: str) -> None:
    for iri in iris:
        try:
            ox.NamedNode(iri)
        except ValueError as exc:
            raise QueryFailed(f"invalid graph IRI in default-graph-uri or named-graph-uri: {exc}") from exc


@functools.lru_cache(maxsize=8)
def _query_options(base: str) -> tuple[dict[str, str], str]:
    # Asked on every query; the answer only changes with the base (the executor copies the dict).
    return prefixes(base), f"{base}/sparql"


@functools.lru_cache(maxsize=8)
def _server_slots(data_dir: Path, count: int, parent: int) -> slots.QuerySlots:
    # ``parent`` is in the key because a forked child (a new web worker) must look its own up.
    return slots.server_slots(data_dir, count)


def _slots(settings: Settings) -> slots.QuerySlots:
    return _server_slots(settings.data_dir, settings.max_concurrent_queries, os.getppid())


def slot_files(settings: Settings) -> list[Path]:
    """The lock files of this server's query slots (a slot is in use while its file is locked)."""
    return list(_slots(settings).paths)


def server_memory() -> tuple[int, int]:
    """Resident bytes of this server's process tree (web workers and query processes) and of its
    largest query process."""
    return executor.tree_memory(executor.server_root() or os.getpid())


# Called with the seconds each SPARQL query waited for its slot (the web layer's metrics listen).
slot_wait_listeners: list[Callable[[float], None]] = []


@functools.lru_cache(maxsize=8)
def _server_shares(data_dir: Path, count: int, max_queries: int, seconds: float, parent: int) -> shares.ClientShares:
    # Beside the server's slots: the same directory, made and removed with them.
    return shares.ClientShares(_server_slots(data_dir, count, parent).directory, max_queries, seconds)


def _no_charge(_: float) -> None:
    pass


def _shares(settings: Settings) -> shares.ClientShares:
    return _server_shares(settings.data_dir, settings.max_concurrent_queries, settings.client_max_queries,
                          settings.client_query_seconds, os.getppid())


def _client_share(settings: Settings) -> AbstractContextManager[Callable[[float], None]]:
    """The share of the request's client (shares.CLIENT) that its query holds; none if unnamed."""
    client = shares.CLIENT.get()
    if client is None or not (settings.client_max_queries or settings.client_query_seconds):
        return nullcontext(_no_charge)
    # A client with nothing else running may wait for a slot as long as a query may run: every
    # slot is then freed by its query's end, its time limit or the memory watch before it gives up
    # (issue 17.4: a bystander never gets a 5xx because others' queries hold the slots).
    return _shares(settings).hold(client, wait=QUEUE_WAIT, patience=settings.query_timeout + QUEUE_WAIT)


def _check_budget(settings: Settings) -> None:
    """TooManyQueries if the request's client has spent its minute's query time (shares.py: an answer
    in this process holds no share and is not charged)."""
    client = shares.CLIENT.get()
    if client is None or not settings.client_query_seconds:
        return
    try:
        _shares(settings).check(client)
    except shares.OverShare as exc:
        raise TooManyQueries(str(exc), retry_after=exc.retry_after) from exc


def prepare(settings: Settings) -> None:
    """Ready this server process for its first query that needs a query process, before any comes:
    the server's query slots made, and the fork server started in the background
    (executor/forks.py), as the pools will want it, so that query does not wait for it to load."""
    _slots(settings)
    from kusei.endpoint.query.executor import forks

    if forks.available():
        forks.start_soon(isolate_network=True)  # as every pool here asks for it (QueryExecutor's default)


# One pool per server process, lane and the settings it is made from, made after the fork (a pool's
# threads and children do not survive one), whether or not the app was preloaded in the master. A
# server has one Settings, so one pool per lane; an app made with other settings in the same process
# (tests make several) gets pools of its own, with its own limits, rather than another app's.
_pools: dict[tuple[int, Lane, tuple[object, ...]], executor.QueryExecutor] = {}
_latest: dict[tuple[int, Lane], executor.QueryExecutor] = {}  # the pool last asked, per lane (pool_stats)
_pools_lock = threading.Lock()


def _pool_settings(settings: Settings) -> tuple[object, ...]:
    """What a pool is made from: the settings _new_pool and _pinned_pool read."""
    return (settings.max_result_rows, settings.max_result_bytes, settings.max_concurrent_queries,
            settings.query_memory_bound, settings.max_query_memory, settings.max_server_memory,
            settings.max_idle_worker_memory, settings.query_idle_seconds)


def _pool(release: Release, settings: Settings, lane: Lane) -> executor.QueryExecutor:
    """This server process's query processes of ``lane``, switched to ``release`` if it is newer."""
    store = release.store_path
    prefixes_, base_iri = _query_options(release.base)
    if lane is Lane.PINNED:
        return _pinned_pool(store, settings, prefixes_, base_iri)
    key = (os.getpid(), lane, _pool_settings(settings))
    pool = _pools.get(key)
    if pool is None:
        with _pools_lock:
            pool = _pools.get(key) or _new_pool(store, settings, lane, prefixes_, base_iri)
            _pools[key] = pool
    _latest[(os.getpid(), lane)] = pool
    pool.reopen(store, prefixes=prefixes_, base_iri=base_iri)  # no-op unless the release changed
    return pool


_pinned: dict[tuple[int, Path, tuple[object, ...]], executor.QueryExecutor] = {}  # oldest first


def _pinned_pool(store: Path, settings: Settings, prefixes_: dict[str, str], base_iri: str) -> executor.QueryExecutor:
    key = (os.getpid(), store, _pool_settings(settings))
    with _pools_lock:
        pool = _pinned.pop(key, None)
        if pool is None:
            pool = executor.QueryExecutor(
                store, workers=1, prestart=False, busy_wait=POOL_WAIT, max_rows=settings.max_result_rows,
                max_bytes=settings.max_result_bytes,
                prefixes=prefixes_, base_iri=base_iri, union_default_graph=False,
                max_query_memory=settings.max_query_memory or None,
                max_server_memory=settings.max_server_memory or None,
                max_worker_rss=settings.max_idle_worker_memory or None, memory_root=executor.server_root(),
                keep_warm=WARM_PROCESSES[Lane.PINNED.value], idle_seconds=settings.query_idle_seconds,
                recycle_growth=RECYCLE_GROWTH)
        _pinned[key] = pool  # now the most recent
        mine = [k for k in _pinned if k[0] == os.getpid()]
        evicted = [_pinned.pop(k) for k in mine[:-PINNED_RELEASES]]
    for old in evicted:
        old.close()
    return pool


def pool_stats(lane: Lane = Lane.SPARQL) -> dict[str, int]:
    """Counters of this process's pool of ``lane`` (queries answered, workers started …)."""
    pool = _latest.get((os.getpid(), lane))
    return pool.stats() if pool is not None else {}


def _new_pool(store: Path, settings: Settings, lane: Lane, prefixes_: dict[str, str],
              base_iri: str) -> executor.QueryExecutor:
    if lane is Lane.SPARQL:
        # Any one web worker may get every running query (keep-alive connections stay where
        # they landed), so its pool may grow to the whole limit; it starts with one process and
        # forks more as queries overlap (tens of milliseconds each), and retires them again when
        # the server is quiet. The limit itself is held server-wide by _slots().
        size = settings.max_concurrent_queries
        prestart: int | bool = 1
    else:
        size, prestart = PAGE_PROCESSES, 1
    return executor.QueryExecutor(
        store, workers=size, prestart=prestart, busy_wait=POOL_WAIT,
        # A request may only tighten these (execute() passes its own row limit with each query).
        max_rows=settings.max_result_rows, max_bytes=settings.max_result_bytes,
        prefixes=prefixes_, base_iri=base_iri, union_default_graph=False,
        max_query_memory=settings.query_memory_bound or None,
        max_server_memory=settings.max_server_memory or None,
        max_worker_rss=settings.max_idle_worker_memory or None, memory_root=executor.server_root(),
        keep_warm=WARM_PROCESSES[lane.value], idle_seconds=settings.query_idle_seconds,
        recycle_growth=RECYCLE_GROWTH)


def execute(release: Release, query: str, *, settings: Settings, timeout: float | None = None,
            default_graph_uris: Iterable[str] = (), named_graph_uris: Iterable[str] = (),
            max_rows: int | None = None, write_as: formats.Format | str | None = None,
            lane: Lane = Lane.SPARQL, analysed: analysis.Analysis | None = None) -> Outcome | Written:
    """Run ``query`` on ``release``; raise a :class:`~kusei.endpoint.query.errors.KuseiError` if it
    cannot be answered in full.

    The guard refuses federation, LOAD and updates before any engine sees the text. The query
    then runs in a worker process that is killed when ``timeout`` passes (the server's limit by
    default; a caller may only lower it), so a runaway query releases its CPU instead of running
    on in a thread. Over-limit results are an error, never truncated.

    ``write_as`` is the format the caller decided to send (a :class:`~kusei.formats.Format`, or its
    short name). When the worker can write it itself (a results format for SELECT/ASK, ``nt`` for
    CONSTRUCT), the answer is returned as those bytes
    (:class:`Written`). Otherwise the answer travels as SPARQL JSON or N-Triples (lossless for
    every term) and comes back as terms. DESCRIBE answers with the bounded description of every
    IRI the query picks out (see :func:`describe`).

    ``analysed`` is the caller's :func:`analysis.analyse` of ``query``, if it made one: the text
    is read once per request. A query whose cost is bounded by its form is answered in this
    process (``inline.py``), the rest in a query process.
    """
    if analysed is None:
        analysed = analysis.analyse(query)
    # The guard refuses updates wherever their keyword stands (first or after a `;`), SERVICE and LOAD.
    guard.check(query, analysed, max_length=settings.max_query_length)
    form = analysed.form
    default_graph_uris, named_graph_uris = list(default_graph_uris), list(named_graph_uris)
    _check_graph_iris(*default_graph_uris, *named_graph_uris)
    limit = settings.query_timeout if timeout is None else min(timeout, settings.query_timeout)
    rows_limit = min(settings.max_result_rows, max_rows or settings.max_result_rows)
    wanted = formats.by_name(write_as) if isinstance(write_as, str) else write_as
    # SELECT/ASK answers travel in the caller's results format, written by the worker; others as JSON.
    results_format = wanted.name if wanted is not None and wanted.kind == "results" and form in ("SELECT", "ASK") \
        else "json"
    # DESCRIBE answers with the bounded description of every IRI the query picks out (see describe()).
    bounded = executor.Describe(base=release.base) if form == "DESCRIBE" else None
    result = None
    if tries_inline(release, settings, analysed, lane=lane, default_graph_uris=default_graph_uris,
                    named_graph_uris=named_graph_uris):
        result = _inline(release, settings, lane, query, results_format, rows_limit)
    if result is None:
        result = _run(release, settings, lane, query, timeout=limit, result_format=results_format,
                      max_rows=rows_limit, default_graph_uris=default_graph_uris,
                      named_graph_uris=named_graph_uris, describe=bounded)
    if result.kind == "graph" and wanted is not None and wanted.name == "nt":
        return Written(result.kind, "nt", result.body)
    if result.kind != "graph" and wanted is not None and wanted.name == results_format:
        return Written(result.kind, results_format, result.body)
    if result.kind == "graph":
        return Outcome(triples=list(ox.parse(result.body, format=ox.RdfFormat.N_TRIPLES)))
    answer = ox.parse_query_results(result.body, format=ox.QueryResultsFormat.JSON)
    if isinstance(answer, ox.QueryBoolean):
        return Outcome(boolean=bool(answer))
    variables = tuple(v.value for v in answer.variables)
    return Outcome(variables=variables, rows=[tuple(s[name] for name in variables) for s in answer])


def tries_inline(release: Release, settings: Settings, analysed: analysis.Analysis, *, lane: Lane = Lane.SPARQL,
                 default_graph_uris: Sequence[str] = (), named_graph_uris: Sequence[str] = ()) -> bool:
    """Whether :func:`execute` first tries ``analysed`` in this process (``inline.py``) rather
    than in a query process."""
    return (settings.inline_queries and lane is not Lane.PINNED and not default_graph_uris
            and not named_graph_uris and inline.admits(release, analysed))


def _inline(release: Release, settings: Settings, lane: Lane, query: str, results_format: str,
            rows_limit: int) -> executor.ExecResult | None:
    """The answer from this process (inline.py), or None if it went over its budget. It takes no
    server slot and no share of the client; a client that spent its minute's query time is
    refused cheap queries too (shares.py)."""
    if lane is not Lane.PAGES:
        _check_budget(settings)
    prefixes_, base_iri = _query_options(release.base)
    return inline.answer(release, query, prefixes=prefixes_, base_iri=base_iri, result_format=results_format,
                         max_rows=rows_limit, max_bytes=settings.max_result_bytes)


def _run(release: Release, settings: Settings, lane: Lane, query: str, **request: object) -> executor.ExecResult:
    pool = _pool(release, settings, lane)
    # The release the answer is for: a pool that has moved on to a newer one refuses rather
    # than answer from it (the caller's validators are this release's).
    request["store_path"] = release.store_path
    if lane is Lane.PAGES:
        return pool.run(query, max_bytes=settings.max_result_bytes, **request)  # type: ignore[arg-type]
    asked = time.monotonic()
    try:
        # The client's share first: a client over it is refused at once and never waits for a slot.
        with _client_share(settings) as charge, _slots(settings).hold(wait=QUEUE_WAIT):
            for listener in slot_wait_listeners:
                listener(time.monotonic() - asked)
            started = time.monotonic()
            try:
                return pool.run(query, max_bytes=settings.max_result_bytes, **request)  # type: ignore[arg-type]
            finally:
                charge(time.monotonic() - started)
    except slots.NoSlot as exc:
        raise Busy(f"All {settings.max_concurrent_queries} query slots are busy; retry in a moment.") from exc
    except shares.OverShare as exc:
        raise TooManyQueries(str(exc), retry_after=exc.retry_after) from exc


# -- what pages ask -------------------------------------------------------------------------------


def select(release: Release, query: str, *, settings: Settings) -> list[dict[str, Term]]:
    """A page's SELECT, as rows of bound variables."""
    outcome = execute(release, query, settings=settings, lane=Lane.PAGES)
    assert isinstance(outcome, Outcome)
    return outcome.bindings()


def ask(release: Release, query: str, *, settings: Settings) -> bool:
    outcome = execute(release, query, settings=settings, lane=Lane.PAGES)
    assert isinstance(outcome, Outcome)
    return bool(outcome.boolean)


def construct(release: Release, query: str, *, settings: Settings) -> list[ox.Triple]:
    outcome = execute(release, query, settings=settings, lane=Lane.PAGES)
    assert isinstance(outcome, Outcome)
    return outcome.triples or []


def describe(release: Release, iris: Iterable[str], *, settings: Settings, timeout: float | None = None,
             lane: Lane = Lane.PAGES) -> list[ox.Triple]:
    """The bounded description of each of ``iris`` (``describe.py``), in its order, as the
    resource pages and DESCRIBE show it. It is one query in the query process, so it keeps the time
    limit of every other query."""
    iris = list(dict.fromkeys(iris))
    if not iris:
        return []
    # The text only names the request (e.g. in logs): the query process runs description_query.
    query = "DESCRIBE " + " ".join(str(ox.NamedNode(iri)) for iri in iris)
    limit = settings.query_timeout if timeout is None else min(timeout, settings.query_timeout)
    result = _run(release, settings, lane, query, timeout=limit, result_format="json",
                  max_rows=settings.max_result_rows, default_graph_uris=[], named_graph_uris=[],
                  describe=executor.Describe(base=release.base, iris=tuple(iris)))
    return list(ox.parse(result.body, format=ox.RdfFormat.N_TRIPLES))


def is_known(release: Release, iri: str, *, settings: Settings) -> bool:
    """Whether the data mentions ``iri`` at all: as subject, predicate, object or graph name."""
    node = ox.NamedNode(iri)
    return ask(release, f"ASK {{ {{ {node} ?p ?o }} UNION {{ ?s {node} ?o }} UNION {{ ?s ?p {node} }} "
                        f"UNION {{ GRAPH {node} {{ ?s ?p ?o }} }} }}", settings=settings)


def incoming_counts(release: Release, iri: str, *, settings: Settings) -> dict[str, int]:
    """How many resources link to ``iri``, per property: counted as :func:`describe` collects them,
    from IRIs only, and not the resource's links to itself."""
    node = ox.NamedNode(iri)
    rows = select(release, f"SELECT ?p (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p {node} "
                           f"FILTER(isIRI(?s) && ?s != {node}) }} GROUP BY ?p", settings=settings)
    counts: dict[str, int] = {}
    for row in rows:
        predicate, n = row["p"], row["n"]
        if isinstance(predicate, ox.NamedNode) and isinstance(n, ox.Literal):
            counts[predicate.value] = int(n.value)
    return counts


def graph_triples(release: Release, graph: str, *, settings: Settings) -> list[ox.Triple]:
    """Every triple of one named graph."""
    node = ox.NamedNode(graph)
    return construct(release, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {node} {{ ?s ?p ?o }} }}", settings=settings)
