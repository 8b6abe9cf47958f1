"""Content negotiation and serialisation of query results and graphs (the formats: ``kusei.formats``).

Shared by the SPARQL endpoint and the resource pages, so a format means the same thing (media
type, ``format=`` short name, prefixes, JSON-LD context) everywhere on the site.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pyoxigraph as ox
import rdflib

from kusei.formats import (
    GRAPH_FORMATS,
    RESULT_FORMATS,
    Format,
    GraphFormat,
    ResultFormat,
    rdf_bytes,
    xml_unwritable,
    xml_unwritable_message,
)
from kusei.namespaces import jsonld_context
from kusei.namespaces import prefixes as _dump_prefixes

__all__ = ["GRAPH_FORMATS", "RESULT_FORMATS", "Format", "GraphFormat", "ResultFormat", "offered_media_types"]


def offered_media_types(offered: Iterable[Format]) -> list[str]:
    return [fmt.media_type for fmt in offered]

if TYPE_CHECKING:  # engine imports nothing from here, but keep the type-only edge explicit
    from kusei.endpoint.query.service import Outcome


def prefixes(base: str) -> dict[str, str]:
    """The prefixes of the dumps, pre-declared in queries and written in Turtle, TriG and JSON-LD."""
    return _dump_prefixes(base.rstrip("/"))


# -- results --------------------------------------------------------------------------------------


def _tsv_term(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Triple):
        return f"<<( {_tsv_term(term.subject)} {_tsv_term(term.predicate)} {_tsv_term(term.object)} )>>"
    # str() is the N-Triples form, which escapes tab and line breaks, so a cell is one field.
    return str(term)


def _as_oxigraph_results(outcome: Outcome) -> ox.QuerySolutions | ox.QueryBoolean:
    """The outcome as a pyoxigraph results object, so pyoxigraph's own writers can serialise it.

    pyoxigraph has no constructor for results, but parses TSV, whose cells are exactly the
    N-Triples form of each term: a lossless round trip for every kind of term (blank-node labels,
    directional language tags and triple terms included), and a SELECT with no variables still
    keeps its row count (an empty header, then one empty line per row).
    """
    if outcome.boolean is not None:
        return ox.parse_query_results(json.dumps({"head": {}, "boolean": outcome.boolean}),
                                      ox.QueryResultsFormat.JSON)
    lines = ["\t".join(f"?{name}" for name in outcome.variables)]
    lines.extend("\t".join(_tsv_term(term) for term in row) for row in outcome.rows or ())
    # Bytes parse faster than str (no re-encoding on the Rust side).
    return ox.parse_query_results(("\n".join(lines) + "\n").encode("utf-8"), ox.QueryResultsFormat.TSV)


def serialize_solutions(outcome: Outcome, fmt: ResultFormat) -> bytes:
    """SELECT rows or an ASK boolean in ``fmt``, written by pyoxigraph."""
    if outcome.boolean is None and outcome.rows is None:
        raise ValueError("a graph result cannot be written as query results")
    try:
        data = _as_oxigraph_results(outcome).serialize(format=fmt.results_format)
    except SyntaxError as exc:  # a term no format can carry (rdf:langString without a language)
        raise ValueError(str(exc)) from exc
    if data is None:  # pyoxigraph returns None only when given an output file
        raise RuntimeError("pyoxigraph wrote no query results")
    _check_xml(data, fmt)
    return data


def _check_xml(data: bytes, fmt: Format) -> None:
    # ValueError is what callers already turn into 406 for a term a format cannot write.
    if fmt.media_type.endswith("xml") and (character := xml_unwritable(data)):
        raise ValueError(xml_unwritable_message(character, fmt.media_type))


# -- graphs ---------------------------------------------------------------------------------------


def serialize_graph(triples: Iterable[ox.Triple], fmt: GraphFormat, base: str) -> bytes:
    """Triples in ``fmt``; Turtle, TriG, RDF/XML and JSON-LD use the dataset's prefixes.

    ValueError for a term ``fmt`` cannot write (as pyoxigraph's parse and serialise raise
    SyntaxError for some, e.g. a literal typed rdf:langString without a language)."""
    try:
        data = _serialize_graph(triples, fmt, base)
    except SyntaxError as exc:
        raise ValueError(str(exc)) from exc
    _check_xml(data, fmt)
    return data


def _serialize_graph(triples: Iterable[ox.Triple], fmt: GraphFormat, base: str) -> bytes:
    rdf_format = fmt.rdf_format
    if rdf_format == ox.RdfFormat.JSON_LD:
        return _jsonld(triples, jsonld_context(base.rstrip("/")))
    declared = None if rdf_format in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS) else prefixes(base)
    if rdf_format.supports_datasets:
        # TriG and N-Quads write quads; a query result is one graph, the default graph.
        default = ox.DefaultGraph()
        return rdf_bytes((ox.Quad(t.subject, t.predicate, t.object, default) for t in triples), rdf_format, declared)
    return rdf_bytes(triples, rdf_format, declared)


XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _rdflib_term(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> rdflib.term.Identifier:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        # Keep the label: parsing N-Triples would mint random ones and change the bytes per call.
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        datatype = None if term.datatype.value == XSD_STRING else rdflib.URIRef(term.datatype.value)
        return rdflib.Literal(term.value, datatype=datatype, normalize=False)
    raise ValueError("JSON-LD cannot carry triple terms; ask for Turtle, N-Triples or N-Quads")


def _canonical(value: object) -> object:
    """Arrays sorted (except @list) and keys sorted, so rdflib's set order does not leak into the bytes."""
    if isinstance(value, dict):
        return {key: [_canonical(v) for v in item] if key == "@list" else _canonical(item)
                for key, item in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True))
    return value


def _jsonld(triples: Iterable[ox.Triple], context: dict[str, object]) -> bytes:
    # pyoxigraph writes expanded JSON-LD only; rdflib compacts it against our context, the same
    # context as dumps/context.jsonld.
    graph = rdflib.Graph()
    for triple in triples:
        graph.add((_rdflib_term(triple.subject), _rdflib_term(triple.predicate), _rdflib_term(triple.object)))
    text = graph.serialize(format="json-ld", context=dict(sorted(context.items())), auto_compact=True)
    document = _canonical(json.loads(text))
    return (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")
