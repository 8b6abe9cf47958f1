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
from kusei.endpoint.query.errors import KuseiError, NotAcceptable
from kusei.endpoint.web.pages import result_chart
from kusei.endpoint.web.pages.terms import XSD, Namer, natural_key
from kusei.release import Release
from kusei.settings import DEFAULT_BASE, Settings, rebased

QUERIES_DIR = Path(__file__).resolve().parents[2] / "queries"
_HEADER = re.compile(r"#\s*(title|title-ja|description-ja|description)\s*:\s*(.*)")
# Rows per page of the result table, on the server-rendered form and in the script alike.
PAGE_SIZE = 100

# What a parser message means, for people who do not read parser messages: (pattern, ja, en).
# The script reads this same table from the page, so both paths explain errors alike.
EXPLANATIONS: tuple[tuple[str, str, str], ...] = (
    # The server never cuts a result short: over the limit, the whole answer is refused.
    (r"more than \d+ (rows|triples)|too many|too large",
     "結果が上限を超えたため、返しませんでした(途中で切った結果は返しません)。"
     "LIMIT を付けるか、条件を絞ってください。全体が必要ならダンプをお使いください。",
     "The result is over the server's limit, so none of it was returned (a result is never cut short): "
     "add a LIMIT or narrow the query down, or use the dumps for everything."),
    (r"expected one of|expected|unexpected", "構文エラーです。示した位置で、文法上ここに来るはずのものがありません。"
     "三つ組の目的語の書き忘れ、「.」や「}」の不足、引用符の閉じ忘れがよくある原因です。",
     "A syntax error: at the marked position the grammar expects something else. A missing object in a "
     "triple pattern, a missing '.' or '}', or an unclosed quote are the usual causes."),
    (r"prefix", "宣言されていない接頭辞が使われています。PREFIX 行を加えるか、宣言済みの接頭辞を使ってください。",
     "A prefix is used that is not declared: add a PREFIX line or use one of the pre-declared prefixes."),
    (r"variable", "変数の使い方に誤りがあります。SELECT や GROUP BY に書いた変数を確かめてください。",
     "A variable is used wrongly: check the variables in SELECT and GROUP BY."),
    (r"timeout|time limit|timed out", "時間内に終わりませんでした。LIMIT を付けるか、条件を絞ってください。",
     "The query ran out of time: add a LIMIT or narrow it down."),
)


@dataclass(frozen=True)
class Example:
    id: str
    title: str
    title_ja: str
    description: str
    query: str
    description_ja: str = ""

    @property
    def href(self) -> str:
        # A canned query (#param lines) opens by name, with its form; the others carry their text.
        if re.search(r"^[ \t]*#[ \t]*param[ \t]", self.query, re.M):
            return "/query?" + urlencode({"example": self.id})
        return "/query?" + urlencode({"query": self.query})


@lru_cache(maxsize=4)
def load_examples(base: str = DEFAULT_BASE, directory: Path = QUERIES_DIR) -> tuple[Example, ...]:
    """The example queries as served for a release with ``base``: the files declare the default
    base's vocabulary and IRIs, which a deployment under another base does not have."""
    examples = []
    for path in sorted(directory.glob("*.rq")):
        text = rebased(path.read_text(encoding="utf-8"), base)
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
                description_ja=header.get("description-ja", ""),
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
    rows: list[list[Cell | None]]  # the rows of this page
    total: int
    elapsed_ms: float
    boolean: bool | None = None
    kind: str = "table"  # "table" (SELECT), "boolean" (ASK) or "graph" (CONSTRUCT, DESCRIBE)
    page: int = 1
    pages: int = 1
    first_row: int = 1
    sort: str | None = None  # the variable the rows are sorted by, on the server
    descending: bool = False
    limit: int | None = None  # the query's own LIMIT, when the result reached it
    view: str = "table"  # table, bar, stacked or line (result_chart.VIEWS)
    chart: result_chart.ResultChart | None = None  # drawn from every row, not just this page's
    chart_problem: str | None = None  # why the asked-for chart cannot be drawn

    @property
    def cut_by_limit(self) -> bool:
        """Whether the query's LIMIT, not the data, ended the result: more rows may match."""
        return self.limit is not None and self.total >= self.limit


def explain(message: str) -> tuple[str, str] | None:
    """A Japanese and an English explanation of an error message, if one of the patterns fits."""
    for pattern, ja, en in EXPLANATIONS:
        if re.search(pattern, message, re.I):
            return ja, en
    return None


@dataclass
class QueryError:
    status: int
    message: str
    line: int | None = None
    column: int | None = None
    context: list[tuple[int, str]] = field(default_factory=list)
    explanation: tuple[str, str] | None = None

    @property
    def marked_line(self) -> tuple[str, str, str] | None:
        """The error line split around the character at the error position."""
        if self.line is None or not self.column or not self.context:
            return None
        text = dict(self.context).get(self.line)
        if text is None:
            return None
        at = min(self.column - 1, len(text))
        return text[:at], text[at:at + 1] or " ", text[at + 1:]


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
    return QueryError(exc.status, exc.message, line, column if isinstance(column, int) else None, context,
                      explain(exc.message))


# The outermost LIMIT closes the query (only a VALUES block may follow it); comments, strings and
# IRIs are blanked first so a "LIMIT 5" inside them is not taken for it.
_NOT_CODE = re.compile(
    r'#[^\n]*|"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\''  # comments, long strings
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''  # short strings
    r'|<[^<>"{}|^`\\\s]*>'  # IRIs
)
_OUTER_LIMIT = re.compile(r"\bLIMIT\s+(\d+)(?:\s+OFFSET\s+\d+)?\s*(?:VALUES\b[\s\S]*)?$", re.I)


def query_limit(query: str) -> int | None:
    """The LIMIT at the end of ``query``, if it has one."""
    match = _OUTER_LIMIT.search(_NOT_CODE.sub(" ", query).rstrip())
    return int(match.group(1)) if match else None


def _sort_key(cell: Cell | None) -> tuple[int, list[tuple[int, int | str]]]:
    # As the script sorts: by the shown value, numbers inside it as numbers; unbound cells first.
    return (0, []) if cell is None else (1, natural_key(cell.text))


def _sorted(rows: list[list[Cell | None]], variables: list[str], sort: str | None,
            descending: bool) -> tuple[list[list[Cell | None]], str | None]:
    if sort not in variables:
        return rows, None
    column = variables.index(sort)
    return sorted(rows, key=lambda row: _sort_key(row[column]), reverse=descending), sort


def _page_of(total: int, page: int) -> tuple[int, int, int]:
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    return page, pages, (page - 1) * PAGE_SIZE


def run_query(query: str, namer: Namer, release: Release, settings: Settings, page: int = 1,
              sort: str | None = None, descending: bool = False, view: str | None = None,
              lane: service.Lane = service.Lane.SPARQL) -> ResultTable | QueryError:
    """Run ``query`` through the query service, as /sparql would, and shape one page of the answer.

    ``sort`` names a variable to sort the whole answer by before paging (the no-script form's
    column headers link to it); an unknown name leaves the query's own order. ``view`` (else the
    query's ``#view:`` line) asks for a chart of a SELECT result besides the table. ``lane`` is
    ``PINNED`` for a past release a pinned link asks for.
    """
    view = view if view in result_chart.VIEWS else (result_chart.view_of(query) or "table")
    assert view is not None
    started = time.perf_counter()
    try:
        outcome = service.execute(release, query, settings=settings, write_as="json", lane=lane)
    except KuseiError as exc:
        return _error(exc, query)
    elapsed = (time.perf_counter() - started) * 1000
    if isinstance(outcome, service.Outcome):  # CONSTRUCT or DESCRIBE
        triples = outcome.triples or []
        graph_vars = ["subject", "predicate", "object"]
        all_rows: list[list[Cell | None]] = [
            [_term_cell(t.subject, namer), _term_cell(t.predicate, namer), _term_cell(t.object, namer)]
            for t in triples
        ]
        all_rows, sorted_by = _sorted(all_rows, graph_vars, sort, descending)
        page, pages, start = _page_of(len(all_rows), page)
        return ResultTable(graph_vars, all_rows[start:start + PAGE_SIZE], len(all_rows), elapsed, kind="graph",
                           page=page, pages=pages, first_row=start + 1, sort=sorted_by,
                           descending=descending and sorted_by is not None, limit=_reached(query, len(all_rows)))
    data = json.loads(outcome.body)
    if "boolean" in data:
        return ResultTable([], [], 0, elapsed, boolean=bool(data["boolean"]), kind="boolean")
    variables = data.get("head", {}).get("vars", [])
    bindings = data.get("results", {}).get("bindings", [])
    rows: list[list[Cell | None]] = [[_cell(b[v], namer) if v in b else None for v in variables] for b in bindings]
    rows, sorted_by = _sorted(rows, variables, sort, descending)
    page, pages, start = _page_of(len(rows), page)
    table = ResultTable(variables, rows[start:start + PAGE_SIZE], len(rows), elapsed, page=page, pages=pages,
                        first_row=start + 1, sort=sorted_by, descending=descending and sorted_by is not None,
                        limit=_reached(query, len(rows)), view=view)
    if view != "table":
        drawn = result_chart.build(view, variables, rows)  # type: ignore[arg-type]
        if isinstance(drawn, str):
            table.chart_problem = drawn
        else:
            table.chart = drawn
    return table


def _reached(query: str, total: int) -> int | None:
    limit = query_limit(query)
    return limit if limit is not None and total >= limit else None


def csv_with_bom(query: str, release: Release, settings: Settings) -> bytes:
    """The query's CSV with a byte-order mark, as a client of /sparql would get it (same lane)."""
    outcome = service.execute(release, query, settings=settings, write_as="csv")
    if not isinstance(outcome, service.Written) or outcome.format != "csv":
        raise NotAcceptable("CSV is offered for SELECT and ASK results; use Turtle, N-Triples or JSON-LD.")
    return b"\xef\xbb\xbf" + outcome.body
