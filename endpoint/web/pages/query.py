"""The query page's server side: the example queries, and running a query for the no-JavaScript form.

The form runs its query through the same query service as /sparql (guard, limits, time limit,
prefixes, error family), called directly: a request to itself would make every visitor of the
page one client address for the rate limit.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox

from kusei.endpoint.query import service
from kusei.endpoint.query.errors import KuseiError
from kusei.endpoint.web.pages.terms import XSD, Namer
from kusei.release import Release
from kusei.settings import Settings

QUERIES_DIR = Path(__file__).resolve().parents[2] / "queries"
# The form renders at most this many rows; the downloads carry everything.
ROWS_SHOWN = 1000
_HEADER = re.compile(r"#\s*(title|title-ja|description)\s*:\s*(.*)")


@dataclass(frozen=True)
class Example:
    id: str
    title: str
    title_ja: str
    description: str
    query: str

    @property
    def href(self) -> str:
        return "/query?" + urlencode({"query": self.query})


@lru_cache(maxsize=1)
def load_examples(directory: Path = QUERIES_DIR) -> tuple[Example, ...]:
    examples = []
    for path in sorted(directory.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        header: dict[str, str] = {}
        for line in text.splitlines():
            match = _HEADER.match(line)
            if match:
                header.setdefault(match.group(1), match.group(2).strip())
            elif line.strip() and not line.startswith("#"):
                break
        examples.append(
            Example(
                id=path.stem,
                title=header.get("title", path.stem),
                title_ja=header.get("title-ja", header.get("title", path.stem)),
                description=header.get("description", ""),
                query=text,
            )
        )
    return tuple(examples)


@dataclass
class Cell:
    kind: str  # "iri", "bnode" or "literal"
    text: str
    href: str | None = None
    lang: str | None = None
    datatype: str | None = None
    display: str | None = None  # an IRI as shown: CURIE or path under the base

    @property
    def display_parts(self) -> list[str]:
        """The shown IRI cut after each "/", so a narrow column breaks it at a slash."""
        return [part for part in re.findall(r"[^/]*/?", self.display or self.text) if part]


@dataclass
class ResultTable:
    variables: list[str]
    rows: list[list[Cell | None]]
    total: int
    elapsed_ms: float
    boolean: bool | None = None


@dataclass
class QueryError:
    status: int
    message: str
    line: int | None = None
    column: int | None = None
    context: list[tuple[int, str]] = field(default_factory=list)


def _cell(binding: dict, namer: Namer) -> Cell:
    kind = binding.get("type")
    value = binding.get("value", "")
    if kind == "uri":
        return Cell("iri", value, href=namer.href(value), display=namer.short(value))
    if kind == "bnode":
        return Cell("bnode", "_:" + value)
    datatype = binding.get("datatype")
    short = namer.short(datatype) if datatype and datatype != XSD + "string" else None
    return Cell("literal", value, lang=binding.get("xml:lang"), datatype=short)


def _term_cell(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple, namer: Namer) -> Cell:
    if isinstance(term, ox.NamedNode):
        return Cell("iri", term.value, href=namer.href(term.value), display=namer.short(term.value))
    if isinstance(term, ox.BlankNode):
        return Cell("bnode", "_:" + term.value)
    if isinstance(term, ox.Triple):  # a triple term (RDF 1.2) is shown in its N-Triples form
        return Cell("literal", str(term))
    datatype = term.datatype.value
    short = namer.short(datatype) if not term.language and datatype != XSD + "string" else None
    return Cell("literal", term.value, lang=term.language, datatype=short)


def error_position(message: str) -> tuple[int | None, int | None]:
    """Line and column from an error text: "1:8", "line 1, column 8" and JSON fields alike."""
    match = re.search(r"line\D{0,3}(\d+)\D{1,12}col(?:umn)?\D{0,3}(\d+)", message, re.I) or re.search(
        r"\b(\d+):(\d+)\b", message
    )
    return (int(match.group(1)), int(match.group(2))) if match else (None, None)


def _error(exc: KuseiError, query: str) -> QueryError:
    line, column = exc.details.get("line"), exc.details.get("column")
    if not isinstance(line, int):
        line, column = error_position(exc.message)
    context: list[tuple[int, str]] = []
    lines = query.splitlines()
    if line is not None and 0 < line <= len(lines):
        context = [(n, lines[n - 1]) for n in range(max(1, line - 1), line + 1)]
    return QueryError(exc.status, exc.message, line, column if isinstance(column, int) else None, context)


def run_query(query: str, namer: Namer, release: Release, settings: Settings) -> ResultTable | QueryError:
    """Run ``query`` through the query service, as /sparql would, and shape the answer as a table."""
    started = time.perf_counter()
    try:
        outcome = service.execute(release, query, settings=settings, write_as="json")
    except KuseiError as exc:
        return _error(exc, query)
    elapsed = (time.perf_counter() - started) * 1000
    if isinstance(outcome, service.Outcome):  # CONSTRUCT or DESCRIBE
        triples = outcome.triples or []
        rows: list[list[Cell | None]] = [
            [_term_cell(t.subject, namer), _term_cell(t.predicate, namer), _term_cell(t.object, namer)]
            for t in triples[:ROWS_SHOWN]
        ]
        return ResultTable(["subject", "predicate", "object"], rows, len(triples), elapsed)
    data = json.loads(outcome.body)
    if "boolean" in data:
        return ResultTable([], [], 0, elapsed, boolean=bool(data["boolean"]))
    variables = data.get("head", {}).get("vars", [])
    bindings = data.get("results", {}).get("bindings", [])
    rows = [
        [_cell(b[v], namer) if v in b else None for v in variables] for b in bindings[:ROWS_SHOWN]
    ]
    return ResultTable(variables, rows, len(bindings), elapsed)
