"""Running one SPARQL query against a release: the only place the endpoint calls ``Store.query``.

The interface is deliberately small (``execute`` → ``Outcome`` of plain pyoxigraph terms, or a
``QueryError``), so a process-based runner that can kill runaway queries can take over the body
without the HTTP layer noticing. Serialisation lives in ``endpoint.formats``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pyoxigraph as ox

from endpoint import formats
from endpoint.describe import describe
from endpoint.release import Release

logger = logging.getLogger(__name__)

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


class ResultTooLarge(QueryError):
    # The query is fine but its answer exceeds a published limit; the client must narrow it.
    status = 422
    code = "result-too-large"


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


def _dataset(default_graph_uris: list[str], named_graph_uris: list[str]) -> dict:
    if not default_graph_uris and not named_graph_uris:
        # The build stores the merge of all named graphs as the default graph (each triple once).
        return {}
    # SPARQL Protocol: given parameters define the whole dataset and override FROM/FROM NAMED.
    try:
        return {"default_graph": [ox.NamedNode(iri) for iri in default_graph_uris],
                "named_graphs": [ox.NamedNode(iri) for iri in named_graph_uris]}
    except ValueError as exc:
        raise QueryError(f"invalid graph IRI in default-graph-uri or named-graph-uri: {exc}") from exc


def _syntax_error(exc: SyntaxError) -> QuerySyntaxError:
    message = str(exc)
    position = _POSITION.search(message)
    if position:
        return QuerySyntaxError(message, int(position.group(1)), int(position.group(2)))
    return QuerySyntaxError(message, None, None)


def execute(release: Release, query: str, *, default_graph_uris: list[str], named_graph_uris: list[str],
            timeout: float, max_rows: int | None = None) -> Outcome:
    """Run ``query`` on ``release``; raise a :class:`QueryError` if it cannot be answered in full.

    Runs in-process: ``timeout`` is checked between solutions, so it stops long result streams
    but not a single long step (a sort, an aggregate). ``max_rows`` bounds SELECT rows and
    CONSTRUCT/DESCRIBE triples; exceeding it is an error, never a silently truncated answer.
    """
    form = query_form(query)
    if form in UPDATE_FORMS:
        raise UpdateRefused(
            f"This endpoint is read-only: SPARQL Update ({form}) is not accepted. "
            "The data are published as dumps you can load into a store of your own.")
    deadline = time.monotonic() + timeout
    try:
        result = release.store.query(
            query,
            base_iri=f"{release.base}/sparql",
            prefixes=formats.prefixes(release.base),
            **_dataset(default_graph_uris, named_graph_uris),
        )
        if isinstance(result, ox.QueryBoolean):
            return Outcome(boolean=bool(result))
        if isinstance(result, ox.QuerySolutions):
            variables = tuple(v.value for v in result.variables)
            rows = [tuple(solution[name] for name in variables)
                    for solution in _bounded(result, deadline, timeout, max_rows)]
            return Outcome(variables=variables, rows=rows)
        triples = list(_bounded(result, deadline, timeout, max_rows))
    except SyntaxError as exc:
        raise _syntax_error(exc) from exc
    except OSError as exc:
        # A storage failure is ours, not the client's; the detail goes to the log only.
        logger.error("query failed in the store: %s", exc)
        raise StoreFailure("The query failed while reading the store; the problem was logged.") from exc
    if form == "DESCRIBE":
        triples = _bounded_descriptions(release, triples)
        if max_rows is not None and len(triples) > max_rows:
            raise _too_large(max_rows)
    return Outcome(triples=triples)


T = TypeVar("T")


def _too_large(max_rows: int) -> ResultTooLarge:
    return ResultTooLarge(f"The result has more than {max_rows} rows; add LIMIT/OFFSET to fetch it in pages, "
                          "or download the dumps.")


def _bounded(items: Iterable[T], deadline: float, timeout: float, max_rows: int | None) -> Iterator[T]:
    for count, item in enumerate(items, 1):
        if max_rows is not None and count > max_rows:
            raise _too_large(max_rows)
        # The clock is read every 256 items: cheap, and still well under a second apart.
        if count % 256 == 0 and time.monotonic() > deadline:
            raise QueryTimeout(f"The query ran longer than {timeout:g} s and was stopped.")
        yield item
    if time.monotonic() > deadline:
        raise QueryTimeout(f"The query ran longer than {timeout:g} s and was stopped.")


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
