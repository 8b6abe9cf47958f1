"""The SHACL gate: each document graph, with the reference and interpretation graphs it points
into, must conform to ``shapes/`` before anything is published."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from pyshacl import Validator
from pyshacl import validate as shacl_validate
from rdflib.plugins.sparql import evaluate as sparql_evaluate
from rdflib.plugins.sparql import processor as sparql_processor
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Identifier

from kusei.formats import rdf_bytes
from kusei.graph.gate.crossing import crossing_nodes, uncovered_shapes, vocabulary
from kusei.namespaces import SH
from kusei.settings import PROJECT_ROOT, rebased

SHAPES_DIR = PROJECT_ROOT / "shapes"
ONTOLOGY_DIR = PROJECT_ROOT / "ontology"


def rebased_turtle(path: Path, base: str) -> str:
    """Vocabulary files are written with the default base; a build for another base rewrites it."""
    return rebased(path.read_text(encoding="utf-8"), base)


def load_turtle_files(directory: Path, base: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in sorted(directory.glob("*.ttl")):
        graph.parse(data=rebased_turtle(path, base), format="turtle", publicID=path.as_uri())
    return graph


def to_rdflib(triples: list[ox.Triple]) -> rdflib.Graph:
    graph = rdflib.Graph()
    if triples:
        graph.parse(data=rdf_bytes(triples, ox.RdfFormat.N_TRIPLES), format="nt")
    return graph


@functools.lru_cache(maxsize=256)
def _prepared(text: str, base: str | None, namespaces: tuple[tuple[str, Any], ...]) -> Query:
    return translateQuery(parseQuery(text), base, dict(namespaces))


RDF_TYPE = rdflib.RDF.type


def _cheapest_first(ctx: Any, patterns: list[Any]) -> list[Any]:
    """The patterns of a basic graph pattern with the cheapest to match now put first.

    rdflib matches a BGP one pattern at a time, recursing for each solution, after sorting the
    patterns once by how many of their places are unbound when the BGP starts. A pattern whose only
    bound place is a class, ``?other a kusei:Project``, then counts as cheap as one that follows a
    link from the focus node, and it comes first when the query writes it first: for each plan the
    constraint ``Plan-projectPositions-unique`` scanned every project of the data graph. Over the
    merged graph of all documents that is plans × projects, the square of the number of documents
    (most of the merged-graph validation time, measured). Here the choice is made again at every
    step with the bindings made so far, and a pattern that is not anchored on a node (its subject
    or a node object bound) counts one place more: a class or a literal such as a position number
    is shared by as many nodes as the data has. The order of a BGP's patterns never changes
    its solutions, only the time they take."""
    def bound(term: Any) -> Any:  # its value now, None while unbound
        return ctx[term] if isinstance(term, rdflib.Variable | rdflib.BNode) else term

    def cost(pattern: Any) -> int:
        subject, predicate, obj = map(bound, pattern)
        # Anchored: reached from one node's index entries (a bound subject, or a bound object that
        # is a node other than a class): a class or a literal such as a position number is shared
        # by as many nodes as the data has.
        anchored = subject is not None or (obj is not None and not isinstance(obj, rdflib.Literal)
                                           and predicate != RDF_TYPE)
        return (subject is None) + (predicate is None) + (obj is None) + (not anchored)

    best = min(range(len(patterns)), key=lambda i: cost(patterns[i]))  # the first of equals: the query's order
    return [patterns[best], *patterns[:best], *patterns[best + 1:]] if best else patterns


@contextmanager
def memoised_sparql(cheapest_first: bool = True) -> Iterator[None]:
    """Parse each SPARQL text once, and match its patterns in a good order. pyshacl hands rdflib
    the same query text for every focus node and rdflib re-parses it each time (about 0.1 s); a
    parsed query is reusable with other bindings, which is what rdflib's prepareQuery is for. Each
    BGP is matched cheapest pattern first (``_cheapest_first``), so that a query about one focus
    node reads that node's neighbourhood, not the whole graph."""
    original = sparql_processor.SPARQLProcessor.query
    original_bgp = sparql_evaluate.evalBGP

    # rdflib's evalBGP recurses through the module's name, so every step goes through this.
    def ordered_bgp(ctx: Any, bgp: list[Any]) -> Any:
        return original_bgp(ctx, _cheapest_first(ctx, bgp) if len(bgp) > 1 else bgp)

    # rdflib's signature, names included, so the patched method takes the same keyword arguments.
    def query(self: sparql_processor.SPARQLProcessor, strOrQuery: str | Query,  # noqa: N803
              initBindings: Mapping[str, Identifier] | None = None,  # noqa: N803
              initNs: Mapping[str, Any] | None = None,  # noqa: N803
              base: str | None = None, DEBUG: bool = False) -> Mapping[str, Any]:  # noqa: N803
        if isinstance(strOrQuery, str):
            strOrQuery = _prepared(strOrQuery, base, tuple(sorted((initNs or {}).items())))
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    # mypy refuses any assignment to a method; patching it for the duration is the point here.
    sparql_processor.SPARQLProcessor.query = query  # type: ignore[method-assign]
    if cheapest_first:
        sparql_evaluate.evalBGP = ordered_bgp
    try:
        yield
    finally:
        sparql_processor.SPARQLProcessor.query = original  # type: ignore[method-assign]
        sparql_evaluate.evalBGP = original_bgp


@dataclass(frozen=True)
class Violation:
    source_file: str
    focus: str
    path: str
    message: str
    shape: str

    def __str__(self) -> str:
        return f"{self.source_file}: {self.focus} {self.path}: {self.message} [{self.shape}]"


@dataclass
class ValidationOutcome:
    conforms: bool
    violations: list[Violation]
    report: rdflib.Graph  # every result kept, under one sh:ValidationReport
    judged: int | None = None  # how many focus nodes a restricted run judged; None: every node


# What a violation in the reference or interpretation graph is attributed to, in place of a record file.
SHARED_SOURCE = "(reference and interpretation graphs)"

ResultKey = tuple[str, str, str, str]  # focus, path, message, shape: one result, whichever run found it


@dataclass(frozen=True)
class _Result:
    key: ResultKey
    focus: rdflib.term.Node
    node: rdflib.term.Node  # the sh:ValidationResult in ``report``
    report: rdflib.Graph
    is_violation: bool


def _english_message(report: rdflib.Graph, result: rdflib.term.Node) -> str:
    messages = [str(m) for m in report.objects(result, rdflib.URIRef(SH + "resultMessage"))]
    english = [str(m) for m in report.objects(result, rdflib.URIRef(SH + "resultMessage"))
               if getattr(m, "language", None) == "en"]
    if english or not messages:
        return (english or ["(no message)"])[0]
    # pyshacl drops the language tags of SPARQL constraints' messages when it fills in {?value},
    # and the report's order is arbitrary; the message with the least non-ASCII text is the English
    # one, and picking it every time keeps a result's key the same in every run.
    return min(messages, key=lambda m: (sum(ord(c) > 127 for c in m), m))


@contextmanager
def _focus_as_set() -> Iterator[None]:
    """pyshacl checks each target against its ``focus_nodes`` list, a linear search per target:
    over the merged graph that is targets × focus nodes. A set gives the same answers."""
    original = Validator.make_executor

    def make_executor(self: Validator) -> Any:
        executor = original(self)
        if executor.focus_nodes:
            # pyshacl only tests membership and emptiness; its annotation says list.
            executor.focus_nodes = frozenset(executor.focus_nodes)  # type: ignore[assignment]
        return executor

    Validator.make_executor = make_executor  # type: ignore[method-assign]
    try:
        yield
    finally:
        Validator.make_executor = original  # type: ignore[method-assign]


def _shacl(data: rdflib.Graph, shapes: rdflib.Graph, ontology: rdflib.Graph,
           focus_nodes: list[str] | None = None) -> list[_Result]:
    """Validate ``data``; with ``focus_nodes``, only those nodes (IRIs), each against all of ``data``."""
    if focus_nodes is not None and not focus_nodes:
        return []  # pyshacl reads an empty focus list as "every node"
    with _focus_as_set():
        _conforms, report, text = shacl_validate(
            data, shacl_graph=shapes, ont_graph=ontology, inference="none", advanced=True, allow_warnings=True,
            focus_nodes=focus_nodes,
        )
    if not isinstance(report, rdflib.Graph):  # a ValidationFailure: the shapes themselves are broken
        raise RuntimeError(text)
    results = []
    for node in report.subjects(rdflib.RDF.type, rdflib.URIRef(SH + "ValidationResult")):
        focus = report.value(node, rdflib.URIRef(SH + "focusNode"))
        if focus is None:  # SHACL requires one on every result; pyshacl always writes it
            raise RuntimeError(f"SHACL result {node} names no focus node")
        key = (str(focus), str(report.value(node, rdflib.URIRef(SH + "resultPath")) or ""),
               _english_message(report, node), str(report.value(node, rdflib.URIRef(SH + "sourceShape"))))
        severity = report.value(node, rdflib.URIRef(SH + "resultSeverity"))
        results.append(_Result(key, focus, node, report, severity == rdflib.URIRef(SH + "Violation")))
    return results


def _touched(document: rdflib.Graph, shared: rdflib.Graph) -> set[rdflib.term.Node]:
    """The nodes whose validation a document can change: those it says something about, and the
    shared nodes pointing at them (the document may type their values, which sh:class checks).
    A shared node the document merely links to validates as the shared graphs alone describe it,
    because no shape follows a link from a document backwards: the inverse paths that start at
    shared nodes (the city's wards, the Medium-Term Plan scheme's concepts) follow reference links."""
    subjects = set(document.subjects())
    return subjects | {s for node in subjects for s in shared.subjects(None, node)}


def _with_support(document: rdflib.Graph, shared: rdflib.Graph, touched: set[rdflib.term.Node]) -> rdflib.Graph:
    """The document with the shared triples that validating its touched nodes can read: all that
    is reachable from the document's nodes and from the shared nodes linking to touched ones (for
    inverse paths), however many hops a shape follows: the interpretation of the document's own
    entities, a ward and its city, a fiscal year and its instants, a concept and its scheme. That
    is a bounded part of the shared graphs, whatever the number of documents: the interpretation of
    other documents and the fiscal years they alone cite are not reachable from this one."""
    data = rdflib.Graph()
    data += document
    todo = [n for n in set(document.subjects()) | set(document.objects()) if not isinstance(n, rdflib.Literal)]
    todo += [s for node in touched for s in shared.subjects(None, node)]
    seen: set[rdflib.term.Node] = set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for _s, p, o in shared.triples((node, None, None)):
            data.add((node, p, o))
            if not isinstance(o, rdflib.Literal):
                todo.append(o)
    return data


def validate_graphs(parts: list[tuple[str, list[ox.Triple]]], shared: list[ox.Triple],
                    shapes: rdflib.Graph, ontology: rdflib.Graph) -> ValidationOutcome:
    """Validate each (source file, triples) part together with the shared triples, as if each part
    were validated on its own with all the shared triples, but in time linear in the parts.

    The shared graphs are validated once on their own. Each part is validated with the shared
    triples reachable from it, and of its results only those whose focus node the part can change
    (``_touched``) are kept: every other node was validated already, with all the data it needs,
    in the shared run. A result found in the shared run is reported once, attributed to the shared
    graphs, rather than once per part; one that only a part's data causes is the part's. A shared
    result is dropped only when every part touches its focus node, because then no part's run
    sees that node as the shared graphs alone describe it."""
    if not parts:
        return ValidationOutcome(True, [], rdflib.Graph())
    shared_graph = to_rdflib(shared)
    kept: list[tuple[str, _Result]] = []
    with memoised_sparql():
        shared_results: dict[ResultKey, list[_Result]] = defaultdict(list)
        for result in _shacl(shared_graph, shapes, ontology):
            shared_results[result.key].append(result)
        seen_in_part: set[ResultKey] = set()
        touched_by_all: set[rdflib.term.Node] | None = None
        for source_file, triples in parts:
            document = to_rdflib(triples)
            touched = _touched(document, shared_graph)
            touched_by_all = touched if touched_by_all is None else touched_by_all & touched
            for result in _shacl(_with_support(document, shared_graph, touched), shapes, ontology):
                if result.focus not in touched:
                    continue
                if result.key in shared_results:
                    seen_in_part.add(result.key)
                else:
                    kept.append((source_file, result))
    assert touched_by_all is not None
    kept += [(SHARED_SOURCE, r) for key, results in shared_results.items() for r in results
             if r.focus not in touched_by_all or key in seen_in_part]

    violations = sorted({Violation(source, *r.key) for source, r in kept if r.is_violation},
                        key=lambda v: (v.source_file, v.focus, v.path, v.message, v.shape))
    return ValidationOutcome(not violations, violations, _merged_report([r for _, r in kept], not violations))


def _merged_report(results: list[_Result], conforms: bool) -> rdflib.Graph:
    """One sh:ValidationReport holding every kept result with what it points to (its blank-node
    paths and values, copied whole)."""
    merged = rdflib.Graph()
    report = rdflib.BNode()
    merged.add((report, rdflib.RDF.type, rdflib.URIRef(SH + "ValidationReport")))
    merged.add((report, rdflib.URIRef(SH + "conforms"), rdflib.Literal(conforms)))
    for result in results:
        merged.add((report, rdflib.URIRef(SH + "result"), result.node))
        merged += result.report.cbd(result.node)
    return merged


# What a violation found only in the merged graph is attributed to.
UNION_SOURCE = "(merged default graph)"


def validate_union(parts: list[tuple[str, list[ox.Triple]]], shared: list[ox.Triple],
                   shapes: rdflib.Graph, ontology: rdflib.Graph) -> ValidationOutcome:
    """Validate the merge of every part and the shared triples, as the SPARQL default graph and
    ``kusei.ttl`` give it, where that can differ from what ``validate_graphs`` judged: what holds
    per document graph must hold where documents meet too (an entity printed by two documents has
    two sources and two printings). Only the nodes ``crossing.crossing_nodes`` picks are judged,
    each on the whole merge; every other node reads in the merge only what its own document's run
    read. If a shape reads further than the rules of ``crossing`` cover, or a picked node is a blank
    node (pyshacl takes IRIs only as focus nodes), every node is judged, as before."""
    union = to_rdflib(shared)
    for _source, triples in parts:
        union += to_rdflib(triples)
    focus: list[str] | None = None
    if not uncovered_shapes(shapes):
        nodes = crossing_nodes([triples for _, triples in parts], shared, vocabulary(shapes))
        if all(isinstance(n, ox.NamedNode) for n in nodes):
            focus = sorted(n.value for n in nodes if isinstance(n, ox.NamedNode))
    with memoised_sparql():
        results = _shacl(union, shapes, ontology, focus)
    violations = sorted({Violation(UNION_SOURCE, *r.key) for r in results if r.is_violation},
                        key=lambda v: (v.focus, v.path, v.message, v.shape))
    outcome = ValidationOutcome(not violations, violations, _merged_report(results, not violations))
    outcome.judged = None if focus is None else len(focus)
    return outcome
