"""The query page's server side: the example queries, and running a query for the no-JavaScript form.

The form is a client of /sparql like the script in the browser: it sends the query over the
SPARQL protocol (in-process), so timeouts, limits, prefixes and error messages are the
endpoint's own and the two paths cannot drift apart.
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
from flask import current_app
from kusei.endpoint.web.pages.terms import XSD, Namer
from werkzeug.test import EnvironBuilder, run_wsgi_app

QUERIES_DIR = Path(__file__).resolve().parents[2] / "queries"
# The form renders at most this many rows; the downloads carry everything.
ROWS_SHOWN = 1000
# application/json last: results never come as it, but errors then arrive as JSON with line/column.
RESULT_TYPES = "application/sparql-results+json, application/n-triples;q=0.9, application/json;q=0.1"
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


def _term_cell(term: ox.NamedNode | ox.BlankNode | ox.Literal, namer: Namer) -> Cell:
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


def _error(status: int, body: bytes, query: str) -> QueryError:
    text = body.decode("utf-8", "replace").strip()
    line = column = None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        line = data.get("line") if isinstance(data.get("line"), int) else None
        column = data.get("column") if isinstance(data.get("column"), int) else None
        text = str(data.get("message") or data.get("error") or text)
    if line is None:
        line, column = error_position(text)
    context: list[tuple[int, str]] = []
    lines = query.splitlines()
    if line is not None and 0 < line <= len(lines):
        context = [(n, lines[n - 1]) for n in range(max(1, line - 1), line + 1)]
    return QueryError(status, text, line, column, context)


def run_query(query: str, namer: Namer) -> ResultTable | QueryError:
    """Run ``query`` through /sparql in-process and shape the answer as a table."""
    builder = EnvironBuilder(
        path="/sparql",
        method="POST",
        data={"query": query},
        headers={"Accept": RESULT_TYPES},
    )
    started = time.perf_counter()
    try:
        app_iter, status, headers = run_wsgi_app(current_app.wsgi_app, builder.get_environ(), buffered=True)
        body = b"".join(app_iter)
    finally:
        builder.close()
    elapsed = (time.perf_counter() - started) * 1000
    code = int(status.split()[0])
    if code != 200:
        return _error(code, body, query)
    content_type = headers.get("Content-Type", "").split(";")[0].strip()
    if content_type == "application/n-triples":
        triples = list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
        rows: list[list[Cell | None]] = [
            [_term_cell(t.subject, namer), _term_cell(t.predicate, namer), _term_cell(t.object, namer)]
            for t in triples[:ROWS_SHOWN]
        ]
        return ResultTable(["subject", "predicate", "object"], rows, len(triples), elapsed)
    data = json.loads(body)
    if "boolean" in data:
        return ResultTable([], [], 0, elapsed, boolean=bool(data["boolean"]))
    variables = data.get("head", {}).get("vars", [])
    bindings = data.get("results", {}).get("bindings", [])
    rows = [
        [_cell(b[v], namer) if v in b else None for v in variables] for b in bindings[:ROWS_SHOWN]
    ]
    return ResultTable(variables, rows, len(bindings), elapsed)
