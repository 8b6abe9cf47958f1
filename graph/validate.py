"""The SHACL gate: each document graph, with the reference and interpretation graphs it points
into, must conform to ``shapes/`` before anything is published."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from pyshacl import validate as shacl_validate
from rdflib.plugins.sparql import processor as sparql_processor
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery

from graph.namespaces import SH
from kusei.settings import DEFAULT_BASE, PROJECT_ROOT

SHAPES_DIR = PROJECT_ROOT / "shapes"
ONTOLOGY_DIR = PROJECT_ROOT / "ontology"


def rebased_turtle(path: Path, base: str) -> str:
    """Vocabulary files are written with the default base; a build for another base rewrites it."""
    text = path.read_text(encoding="utf-8")
    return text if base == DEFAULT_BASE else text.replace(DEFAULT_BASE + "/", base + "/")


def load_turtle_files(directory: Path, base: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in sorted(directory.glob("*.ttl")):
        graph.parse(data=rebased_turtle(path, base), format="turtle", publicID=path.as_uri())
    return graph


def to_rdflib(triples: list[ox.Triple]) -> rdflib.Graph:
    graph = rdflib.Graph()
    if triples:
        graph.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    return graph


@functools.lru_cache(maxsize=256)
def _prepared(text: str, base: str | None, namespaces: tuple) -> Any:
    return translateQuery(parseQuery(text), base, dict(namespaces))


@contextmanager
def memoised_sparql() -> Iterator[None]:
    """Parse each SPARQL text once. pyshacl hands rdflib the same query text for every focus node
    and rdflib re-parses it each time (about 0.1 s); a parsed query is reusable with other
    bindings, which is what rdflib's prepareQuery is for."""
    original = sparql_processor.SPARQLProcessor.query

    def query(self: Any, query: Any, initBindings: Any = None, initNs: Any = None,  # noqa: N803
              base: str | None = None, DEBUG: bool = False) -> Any:  # noqa: N803
        if isinstance(query, str):
            query = _prepared(query, base, tuple(sorted((initNs or {}).items())))
        return original(self, query, initBindings, initNs, base, DEBUG)

    sparql_processor.SPARQLProcessor.query = query  # type: ignore[method-assign]
    try:
        yield
    finally:
        sparql_processor.SPARQLProcessor.query = original  # type: ignore[method-assign]


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
    report: rdflib.Graph  # all reports merged, published beside the dumps


def _english_message(report: rdflib.Graph, result: rdflib.term.Node) -> str:
    messages = list(report.objects(result, rdflib.URIRef(SH + "resultMessage")))
    english = [m for m in messages if getattr(m, "language", None) == "en"]
    return str((english or messages or ["(no message)"])[0])


def validate_graphs(parts: list[tuple[str, list[ox.Triple]]], shared: list[ox.Triple],
                    shapes: rdflib.Graph, ontology: rdflib.Graph) -> ValidationOutcome:
    """Validate each (source file, triples) part together with the shared triples."""
    merged_report = rdflib.Graph()
    violations: list[Violation] = []
    shared_graph = to_rdflib(shared)
    for source_file, triples in parts:
        data = to_rdflib(triples) + shared_graph
        with memoised_sparql():
            conforms, report, _text = shacl_validate(
                data, shacl_graph=shapes, ont_graph=ontology, inference="none", advanced=True,
                allow_warnings=True,
            )
        merged_report += report
        if conforms:
            continue
        for result in report.subjects(rdflib.RDF.type, rdflib.URIRef(SH + "ValidationResult")):
            severity = report.value(result, rdflib.URIRef(SH + "resultSeverity"))
            if severity != rdflib.URIRef(SH + "Violation"):
                continue
            violations.append(Violation(
                source_file=source_file,
                focus=str(report.value(result, rdflib.URIRef(SH + "focusNode"))),
                path=str(report.value(result, rdflib.URIRef(SH + "resultPath")) or ""),
                message=_english_message(report, result),
                shape=str(report.value(result, rdflib.URIRef(SH + "sourceShape"))),
            ))
    violations.sort(key=lambda v: (v.source_file, v.focus, v.path, v.message))
    return ValidationOutcome(not violations, violations, merged_report)
