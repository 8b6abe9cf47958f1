"""The query mix of the benchmark: the published examples and bench/queries/, each with the
prologue both servers are sent, and Oxigraph's own form where a Kusei form would answer otherwise."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bench.generate import BASE

PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUERY_DIRS = [PROJECT_ROOT / "endpoint" / "queries", PROJECT_ROOT / "bench" / "queries"]
# On the repository's own data (`bench.run --data-dir`): the examples, and lookups of its plans.
REAL_QUERY_DIRS = [PROJECT_ROOT / "endpoint" / "queries", PROJECT_ROOT / "bench" / "queries" / "real"]
# The endpoint pre-declares kusei:; Oxigraph does not, so every query states it (for both).
PROLOGUE = f"PREFIX kusei: <{BASE}/def/>\n"


@dataclass(frozen=True)
class Query:
    name: str
    text: str
    graph: bool  # CONSTRUCT/DESCRIBE
    # What Oxigraph is sent instead, when its own form of the query would answer something else
    # (Kusei's DESCRIBE is a bounded description; Oxigraph's is the concise bounded description).
    peer_text: str | None = None
    # Whether both servers must give the same answer; a query reported apart need not.
    same_answer: bool = True

    def text_for(self, server: str) -> str:
        # The minimal app (bench/minimal_app.py) answers with pyoxigraph's own DESCRIBE, as Oxigraph does.
        return self.peer_text if server in ("oxigraph", "minimal") and self.peer_text else self.text


PEER_SUFFIX = ".oxigraph.rq"
_FORM = re.compile(r"^\s*(?:#[^\n]*\n|PREFIX[^\n]*\n|BASE[^\n]*\n|\s)*(\w+)", re.IGNORECASE)


def load_queries(selected: list[str] | None, dirs: list[Path] | None = None) -> list[Query]:
    queries = []
    for directory in dirs or QUERY_DIRS:
        for path in sorted(directory.glob("*.rq")):
            if path.name.endswith(PEER_SUFFIX):
                continue
            if selected and not any(path.stem.startswith(s) for s in selected):
                continue
            text = PROLOGUE + path.read_text(encoding="utf-8")
            form = _FORM.match(text)
            verb = form.group(1).upper() if form else ""
            graph = verb in ("CONSTRUCT", "DESCRIBE")
            peer = path.with_name(path.stem + PEER_SUFFIX)
            if peer.is_file():
                queries.append(Query(path.stem, text, graph, PROLOGUE + peer.read_text(encoding="utf-8")))
                if verb == "DESCRIBE":
                    # Each server's own DESCRIBE too, reported apart: their answers differ by design.
                    queries.append(Query(path.stem + "-own", text, graph, same_answer=False))
            else:
                queries.append(Query(path.stem, text, graph))
    return queries


def empty_answers(store_path: Path, queries: list[Query]) -> list[str]:
    """The queries that find nothing on this store (no row, no triple, ASK false), answered by
    pyoxigraph itself: a benchmark of a query that finds nothing measures only the engine's way
    out, not the work the query names."""
    import pyoxigraph as ox

    store = ox.Store.read_only(str(store_path))
    empty = []
    for query in queries:
        answer = store.query(query.text)
        found = bool(answer) if isinstance(answer, ox.QueryBoolean) else next(iter(answer), None) is not None
        if not found:
            empty.append(query.name)
    return empty
