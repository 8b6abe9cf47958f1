"""Content negotiation and serialisation of query results and graphs.

Shared by the SPARQL endpoint and the resource pages, so a format means the same thing (media
type, ``format=`` short name, prefixes, JSON-LD context) everywhere on the site.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import pyoxigraph as ox
import rdflib
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from kusei.namespaces import prefixes as _dump_prefixes

if TYPE_CHECKING:  # engine imports nothing from here, but keep the type-only edge explicit
    from kusei.endpoint.query.service import Outcome


class _Serialisation:
    """What result and graph formats share: the W3C format IRI and the Content-Type header."""

    media_type: str
    ox_format: ox.QueryResultsFormat | ox.RdfFormat

    @property
    def iri(self) -> str:
        return self.ox_format.iri

    @property
    def content_type(self) -> str:
        return _with_charset(self.media_type)


@dataclass(frozen=True)
class ResultFormat(_Serialisation):
    """A serialisation of SELECT/ASK results."""

    name: str  # the format= short name
    media_type: str
    ox_format: ox.QueryResultsFormat
    aliases: tuple[str, ...] = ()  # other media types that select it
    other_names: tuple[str, ...] = ()  # other format= names that select it


@dataclass(frozen=True)
class GraphFormat(_Serialisation):
    """A serialisation of CONSTRUCT/DESCRIBE results and resource descriptions."""

    name: str
    media_type: str
    ox_format: ox.RdfFormat
    aliases: tuple[str, ...] = ()
    other_names: tuple[str, ...] = ()


def _with_charset(media_type: str) -> str:
    # Every format here is UTF-8; saying so stops browsers and Excel guessing Shift_JIS.
    return f"{media_type}; charset=utf-8"


# Order is the server's preference: it breaks ties, so */* gets the first one.
RESULT_FORMATS: tuple[ResultFormat, ...] = (
    ResultFormat("json", "application/sparql-results+json", ox.QueryResultsFormat.JSON,
                 ("application/json",)),
    ResultFormat("xml", "application/sparql-results+xml", ox.QueryResultsFormat.XML, ("application/xml",)),
    ResultFormat("csv", "text/csv", ox.QueryResultsFormat.CSV),
    ResultFormat("tsv", "text/tab-separated-values", ox.QueryResultsFormat.TSV),
)

# Turtle first: with no Accept or a bare */*, curl users get readable data, and the W3C protocol
# tests expect one of RDF/XML, Turtle or N-Triples. The other names are those clients send:
# SPARQLWrapper adds format=xml|json|turtle|n3|rdf+xml|json-ld to every query, as Virtuoso and
# Fuseki accept, so format=xml on a CONSTRUCT means RDF/XML (and Turtle is valid N3).
GRAPH_FORMATS: tuple[GraphFormat, ...] = (
    GraphFormat("ttl", "text/turtle", ox.RdfFormat.TURTLE, ("application/x-turtle",), ("turtle", "n3")),
    GraphFormat("nt", "application/n-triples", ox.RdfFormat.N_TRIPLES, ("text/plain",),
                ("ntriples", "n-triples")),
    GraphFormat("jsonld", "application/ld+json", ox.RdfFormat.JSON_LD, ("application/json",),
                ("json-ld", "json")),
    GraphFormat("rdf", "application/rdf+xml", ox.RdfFormat.RDF_XML, ("application/xml",),
                ("xml", "rdfxml", "rdf+xml", "rdf/xml")),
    GraphFormat("trig", "application/trig", ox.RdfFormat.TRIG),
    GraphFormat("nq", "application/n-quads", ox.RdfFormat.N_QUADS, (), ("nquads", "n-quads")),
)


def prefixes(base: str) -> dict[str, str]:
    """The prefixes of the dumps, pre-declared in queries and written in Turtle, TriG and JSON-LD."""
    return _dump_prefixes(base.rstrip("/"))


def parse_accept(accept: str | None) -> MIMEAccept:
    """The Accept header with media-type parameters other than q dropped.

    werkzeug compares parameters exactly, so ``text/turtle;charset=utf-8`` would match nothing;
    no format here is chosen by a parameter, so dropping them loses nothing.
    """
    parsed = parse_accept_header(accept or "", MIMEAccept)
    return MIMEAccept([(value.split(";", 1)[0].strip(), quality) for value, quality in parsed])


F = TypeVar("F", ResultFormat, GraphFormat)


def _negotiate(
    offered: Sequence[F], accept: str | None, format_param: str | None
) -> F | None:
    if format_param:
        wanted = format_param.strip().lower()
        for fmt in offered:
            if wanted in (fmt.name, fmt.media_type) or wanted in fmt.aliases or wanted in fmt.other_names:
                return fmt
        return None
    parsed = parse_accept(accept)
    if not parsed:
        # No Accept, or one with no valid entry (e.g. `*/*;q=abc`): RFC 9110 lets a server disregard
        # it, and the pages and dumps already do, so every URL answers such a client alike.
        return offered[0]
    by_type: dict[str, F] = {}
    for fmt in offered:
        by_type.setdefault(fmt.media_type, fmt)
    for fmt in offered:  # aliases after every primary type, so they never win a tie
        for alias in fmt.aliases:
            by_type.setdefault(alias, fmt)
    best = parsed.best_match(list(by_type))
    return by_type[best] if best else None


# Clients send the same few Accept headers over and over; parsing one costs more than the rest of
# choosing a format, so the choice is remembered (bounded: gunicorn caps a header at 8 KiB).
@functools.lru_cache(maxsize=256)
def negotiate_results(accept: str | None, format_param: str | None) -> ResultFormat | None:
    """The results format for an Accept header, or ``format=`` (short name or media type) if given."""
    return _negotiate(RESULT_FORMATS, accept, format_param)


@functools.lru_cache(maxsize=256)
def negotiate_graph(accept: str | None, format_param: str | None) -> GraphFormat | None:
    """The RDF format for an Accept header, or ``format=`` (short name or media type) if given."""
    return _negotiate(GRAPH_FORMATS, accept, format_param)


def prefers(accept: str | None, media_type: str, over: Iterable[str]) -> bool:
    """Whether the client likes ``media_type`` strictly better than each of ``over``."""
    if not accept:
        return False
    parsed = parse_accept(accept)
    # Offered after the others, so ties (e.g. a bare */*) go to them.
    return parsed.best_match([*over, media_type]) == media_type


def offered_media_types(offered: Iterable[ResultFormat | GraphFormat]) -> list[str]:
    return [fmt.media_type for fmt in offered]


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
        return _as_oxigraph_results(outcome).serialize(format=fmt.ox_format)
    except SyntaxError as exc:  # a term no format can carry (rdf:langString without a language)
        raise ValueError(str(exc)) from exc


# -- graphs ---------------------------------------------------------------------------------------


def serialize_graph(triples: Iterable[ox.Triple], fmt: GraphFormat, base: str) -> bytes:
    """Triples in ``fmt``; Turtle, TriG, RDF/XML and JSON-LD use the dataset's prefixes.

    ValueError for a term ``fmt`` cannot write (as pyoxigraph's parse and serialise raise
    SyntaxError for some, e.g. a literal typed rdf:langString without a language)."""
    try:
        return _serialize_graph(triples, fmt, base)
    except SyntaxError as exc:
        raise ValueError(str(exc)) from exc


def _serialize_graph(triples: Iterable[ox.Triple], fmt: GraphFormat, base: str) -> bytes:
    declared = prefixes(base)
    if fmt.ox_format == ox.RdfFormat.JSON_LD:
        return _jsonld(triples, declared)
    if fmt.ox_format.supports_datasets:
        # TriG and N-Quads write quads; a query result is one graph, the default graph.
        default = ox.DefaultGraph()
        items: Iterable[ox.Triple | ox.Quad] = (ox.Quad(t.subject, t.predicate, t.object, default)
                                                for t in triples)
    else:
        items = triples
    if fmt.ox_format in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS):
        return ox.serialize(items, format=fmt.ox_format)
    return ox.serialize(items, format=fmt.ox_format, prefixes=declared)


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


def _jsonld(triples: Iterable[ox.Triple], context: dict[str, str]) -> bytes:
    # pyoxigraph writes expanded JSON-LD only; rdflib compacts it against our context, the same
    # context as dumps/context.jsonld.
    graph = rdflib.Graph()
    for triple in triples:
        graph.add((_rdflib_term(triple.subject), _rdflib_term(triple.predicate), _rdflib_term(triple.object)))
    text = graph.serialize(format="json-ld", context=dict(sorted(context.items())), auto_compact=True)
    document = _canonical(json.loads(text))
    return (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")
