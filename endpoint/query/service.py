"""Running one SPARQL query against a release: the only place the endpoint calls ``Store.query``.

The interface is deliberately small (``execute`` → ``Outcome`` of plain pyoxigraph terms, or a
``QueryError``), so a process-based runner that can kill runaway queries can take over the body
without the HTTP layer noticing. Serialisation lives in ``kusei.endpoint.query.formats``.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from kusei.endpoint.query import executor, formats, guard, slots
from kusei.endpoint.query.describe import describe

from kusei.release import Release
from kusei.settings import Settings

logger = logging.getLogger(__name__)

# How long a query waits for one of the server's query slots before the client gets a 503.
QUEUE_WAIT = 2.0
# A query holding a slot always has a place in its worker's pool, but may wait for the process to
# start: slow on a machine busy with the other queries, and no reason to refuse it.
POOL_WAIT = 15.0

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple

QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
UPDATE_FORMS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"})


class QueryError(Exception):
    """The query was not answered; ``message`` is fit for the client, ``status`` for HTTP."""

    status = 400
    code = "bad-query"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class QuerySyntaxError(QueryError):
    code = "query-syntax"

    def __init__(self, message: str, line: int | None, column: int | None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class UpdateRefused(QueryError):
    status = 403
    code = "update-refused"


class StoreFailure(QueryError):
    status = 500
    code = "store-failure"


class QueryTimeout(QueryError):
    status = 503
    code = "timeout"


class FederationRefused(QueryError):
    code = "federation-disabled"


class Busy(QueryError):
    # Every query slot is taken; the client may retry shortly.
    status = 503
    code = "busy"


class ResultTooLarge(QueryError):
    # The query is fine but its answer exceeds a published limit; the client must narrow it.
    status = 422
    code = "result-too-large"


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


# A prologue item (BASE <iri> or PREFIX p: <iri>), whitespace or a comment; what follows is the
# query form keyword. Only the prologue is scanned, and its grammar is this small.
_PROLOGUE = re.compile(
    r"""\s+|\#[^\n]*|(?i:BASE)\s*<[^<>"{}|^`\\\s]*>|(?i:PREFIX)\s*[^\s:<]*:\s*<[^<>"{}|^`\\\s]*>"""
)
_KEYWORD = re.compile(r"[A-Za-z]+")
_POSITION = re.compile(r"error at (\d+):(\d+)")


def query_form(query: str) -> str | None:
    """The first keyword after the prologue, upper-cased (``SELECT`` … or an update keyword)."""
    pos = 0
    while match := _PROLOGUE.match(query, pos):
        if match.end() == pos:
            break
        pos = match.end()
    keyword = _KEYWORD.match(query, pos)
    return keyword.group().upper() if keyword else None


def _check_graph_iris(*iris: str) -> None:
    for iri in iris:
        try:
            ox.NamedNode(iri)
        except ValueError as exc:
            raise QueryError(f"invalid graph IRI in default-graph-uri or named-graph-uri: {exc}") from exc


def _syntax_error(exc: SyntaxError) -> QuerySyntaxError:
    message = str(exc)
    position = _POSITION.search(message)
    if position:
        return QuerySyntaxError(message, int(position.group(1)), int(position.group(2)))
    return QuerySyntaxError(message, None, None)


@functools.lru_cache(maxsize=8)
def _query_options(base: str) -> tuple[dict[str, str], str]:
    # Asked on every query; the answer only changes with the base (the executor copies the dict).
    return formats.prefixes(base), f"{base}/sparql"


@functools.lru_cache(maxsize=8)
def _server_slots(data_dir: Path, count: int, parent: int) -> slots.QuerySlots:
    # ``parent`` is in the key because a forked child (a new gunicorn worker) must look its own up.
    return slots.server_slots(data_dir, count)


def _slots(settings: Settings) -> slots.QuerySlots:
    return _server_slots(settings.data_dir, settings.max_concurrent_queries, os.getppid())


def _pool(release: Release, settings: Settings) -> executor.QueryExecutor:
    """This gunicorn worker's query processes, switched to ``release`` if it is newer."""
    store = release.path / "store"
    prefixes, base_iri = _query_options(release.base)
    # Any one gunicorn worker may get every running query (keep-alive connections stay where they
    # landed), so its pool may grow to the whole limit; it starts with its share. The limit itself
    # is held server-wide by _slots().
    share = -(-settings.max_concurrent_queries // max(1, settings.workers))
    pool = executor.process_executor(lambda: executor.QueryExecutor(
        store, workers=settings.max_concurrent_queries, prestart=share, busy_wait=POOL_WAIT,
        max_rows=settings.max_result_rows, max_bytes=settings.max_result_bytes,
        prefixes=prefixes, base_iri=base_iri, union_default_graph=False,
        max_query_memory=settings.max_query_memory or None,
        max_server_memory=settings.max_server_memory or None,
        max_worker_rss=settings.max_idle_worker_memory or None, memory_root=executor.server_root()))
    pool.reopen(store, prefixes=prefixes, base_iri=base_iri)  # no-op unless the release changed
    return pool


def execute(release: Release, query: str, *, default_graph_uris: list[str], named_graph_uris: list[str],
            timeout: float, max_rows: int | None = None, settings: Settings | None = None,
            write_as: str | None = None) -> Outcome | Written:
    """Run ``query`` on ``release``; raise a :class:`QueryError` if it cannot be answered in full.

    The guard refuses federation, LOAD and updates before any engine sees the text. The query
    then runs in a worker process that is killed when ``timeout`` passes, so a runaway query
    releases its CPU instead of running on in a thread. Over-limit results are an error, never
    truncated.

    ``write_as`` is the format the caller will send. When the worker can write it itself (a
    results format for SELECT/ASK, ``nt`` for CONSTRUCT), the answer is returned as those bytes
    (:class:`Written`): most clients ask for exactly that, and reading an answer back only to
    write it again in the same format doubled the cost of a small query. Otherwise the answer
    travels as SPARQL JSON or N-Triples (lossless for every term) and comes back as terms.
    """
    settings = settings or Settings()
    form = query_form(query)
    if form in UPDATE_FORMS:
        raise UpdateRefused(
            f"This endpoint is read-only: SPARQL Update ({form}) is not accepted. "
            "The data are published as dumps you can load into a store of your own.")
    try:
        guard.check_query(query, max_length=settings.max_query_length)
    except guard.QueryRefused as exc:
        refused = FederationRefused(exc.message)
        refused.status = exc.status
        raise refused from exc
    _check_graph_iris(*default_graph_uris, *named_graph_uris)
    if max_rows is not None and max_rows < settings.max_result_rows:
        settings = settings.with_overrides(max_result_rows=max_rows)
    results_format = write_as if write_as in executor.RESULT_FORMATS and form in ("SELECT", "ASK") else "json"
    try:
        with _slots(settings).hold(wait=QUEUE_WAIT):
            result = _pool(release, settings).run(
                query, default_graph_uris=default_graph_uris, named_graph_uris=named_graph_uris,
                timeout=timeout, result_format=results_format, max_rows=settings.max_result_rows,
                max_bytes=settings.max_result_bytes, store_path=release.path / "store")
    except slots.NoSlot as exc:
        raise Busy(f"All {settings.max_concurrent_queries} query slots are busy; retry in a moment.") from exc
    except executor.QueryTimeout as exc:
        raise QueryTimeout(f"The query ran longer than {timeout:g} s and was stopped.") from exc
    except executor.ExecutorBusy as exc:
        raise Busy("All query slots are busy; retry in a moment.") from exc
    except executor.ResultTooLarge as exc:
        raise ResultTooLarge(f"{exc} Add LIMIT/OFFSET to fetch it in pages, or download the dumps.") from exc
    except executor.QuerySyntaxError as exc:
        raise _syntax_error(SyntaxError(str(exc))) from exc
    except executor.ReleaseChanged as exc:
        raise _mapped(exc.message, 503, "release-changed") from exc
    except executor.MemoryLimitExceeded as exc:
        raise _mapped(exc.message, 422 if exc.scope == "query" else 503, "memory-limit") from exc
    except executor.QueryCrashed as exc:
        raise _mapped(exc.message, 422, "query-crashed") from exc
    except executor.WorkerCrashed as exc:
        logger.error("query worker died: %s", exc)
        raise _mapped(exc.message, 503, "worker-died") from exc
    except executor.StoreUnavailable as exc:
        logger.error("query worker failed: %s", exc)
        raise StoreFailure("The query could not be answered; the problem was logged.") from exc
    except executor.QueryFailed as exc:
        raise QueryError(str(exc)) from exc
    if result.kind == "graph" and write_as == "nt" and form != "DESCRIBE":
        return Written(result.kind, "nt", result.body)
    if result.kind != "graph" and write_as == results_format:
        return Written(result.kind, results_format, result.body)
    if result.kind == "graph":
        triples = list(ox.parse(result.body, format=ox.RdfFormat.N_TRIPLES))
        if form == "DESCRIBE":
            triples = _bounded_descriptions(release, triples)
            if len(triples) > settings.max_result_rows:
                raise _too_large(settings.max_result_rows)
        return Outcome(triples=triples)
    answer = ox.parse_query_results(result.body, format=ox.QueryResultsFormat.JSON)
    if isinstance(answer, ox.QueryBoolean):
        return Outcome(boolean=bool(answer))
    variables = tuple(v.value for v in answer.variables)
    return Outcome(variables=variables, rows=[tuple(s[name] for name in variables) for s in answer])


def _mapped(message: str, status: int, code: str) -> QueryError:
    # Executor outcomes without a class of their own here yet (the error family is being unified).
    error = QueryError(message)
    error.status = status
    error.code = code
    return error


def _too_large(max_rows: int) -> ResultTooLarge:
    return ResultTooLarge(f"The result has more than {max_rows} rows; add LIMIT/OFFSET to fetch it in pages, "
                          "or download the dumps.")


def _bounded_descriptions(release: Release, found: list[ox.Triple]) -> list[ox.Triple]:
    """DESCRIBE answers with the same bounded description as the resource pages.

    The query (in its dataset) decides which resources are described: the IRI subjects of
    pyoxigraph's own answer. Each is then described over the whole store, like its page.
    Blank-node subjects reached by pyoxigraph are kept as they are.
    """
    described: list[ox.Triple] = []
    seen: set[ox.Triple] = set()
    resources = dict.fromkeys(t.subject for t in found if isinstance(t.subject, ox.NamedNode))
    extra = [t for t in found if not isinstance(t.subject, ox.NamedNode)]
    for resource in resources:
        for triple in describe(release.store, resource.value, base=release.base):
            if triple not in seen:
                seen.add(triple)
                described.append(triple)
    described.extend(t for t in extra if t not in seen)
    return described
