"""The format registry: every format Kusei reads, negotiates or writes, named once, and its writer.

A format has a ``format=`` short name, a media type, a file suffix and a kind: ``results`` (SPARQL
query results), ``graph`` (an RDF serialisation), ``page`` (a representation of a web page: HTML,
its JSON and CSV variants, plain text) or ``file`` (a release file that is none of these). Results
and graph formats also name the pyoxigraph format that writes them and the rdflib plugin that
reads them, and :meth:`Format.write` writes them. The dumps (file names and media types), the
dataset description (titles), the endpoint's negotiation, the query processes and the suffix URLs
of the resource pages all look formats up here.

Imported by the query processes: keep what it imports at module level light (rdflib, needed for
JSON-LD only, is imported when JSON-LD is written).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import pyoxigraph as ox

from kusei.namespaces import XSD, jsonld_context
from kusei.namespaces import prefixes as _namespace_prefixes

Kind = Literal["results", "graph", "page", "file"]


class Solutions(Protocol):
    """What a SELECT or ASK answer offers to be written: ``rows`` with ``variables``, or ``boolean``."""

    @property
    def variables(self) -> tuple[str, ...]: ...

    @property
    def rows(self) -> list[tuple[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None, ...]] | None: ...

    @property
    def boolean(self) -> bool | None: ...


@dataclass(frozen=True)
class Format:
    name: str  # the format= short name, also the dump format name
    title: str
    media_type: str
    suffix: str  # of a file in this format
    kind: Kind
    ox_format: ox.QueryResultsFormat | ox.RdfFormat | None = None
    rdflib: str | None = None  # rdflib's plugin name, where rdflib reads it
    aliases: tuple[str, ...] = ()  # other media types that select it
    other_names: tuple[str, ...] = ()  # other format= names that select it
    page_suffix: bool = False  # offered as a suffix URL of a resource (/id/….ttl)

    @property
    def iri(self) -> str:
        """The W3C format IRI (http://www.w3.org/ns/formats/…)."""
        if self.ox_format is None:
            raise ValueError(f"{self.name} has no W3C format IRI")
        return self.ox_format.iri

    @property
    def rdf_format(self) -> ox.RdfFormat:
        """The pyoxigraph format of a graph format; ValueError for any other."""
        if not isinstance(self.ox_format, ox.RdfFormat):
            raise ValueError(f"{self.name} is not an RDF serialisation")
        return self.ox_format

    @property
    def results_format(self) -> ox.QueryResultsFormat:
        """The pyoxigraph format of a query results format; ValueError for any other."""
        if not isinstance(self.ox_format, ox.QueryResultsFormat):
            raise ValueError(f"{self.name} is not a query results format")
        return self.ox_format

    @property
    def content_type(self) -> str:
        # Every format here is UTF-8; saying so stops browsers and Excel guessing Shift_JIS.
        return f"{self.media_type}; charset=utf-8"

    def selected_by(self, wanted: str) -> bool:
        """Whether ``format=wanted`` (short name or media type, lower case) names this format."""
        return wanted in (self.name, self.media_type) or wanted in self.aliases or wanted in self.other_names

    def write(self, data: Solutions | Iterable[ox.Triple], base: str = "") -> bytes:
        """``data`` in this format: the solutions of a SELECT/ASK for a results format, triples for
        a graph format (Turtle, TriG, RDF/XML and JSON-LD with the prefixes of ``base``).

        ValueError for a term this format cannot write (as pyoxigraph raises SyntaxError for some,
        e.g. a literal typed rdf:langString without a language) or data of the other kind."""
        if self.kind == "results":
            if isinstance(data, Iterable):
                raise ValueError("a graph result cannot be written as query results")
            written = _write_solutions(data, self.results_format)
        elif self.kind == "graph":
            if not isinstance(data, Iterable):
                raise ValueError("query results cannot be written as a graph")
            if not base:
                raise ValueError("a graph is written with the prefixes of a base IRI; none was given")
            written = _write_graph(data, self.rdf_format, base)
        else:
            raise ValueError(f"{self.name} ({self.kind}) is not written from query data")
        if self.media_type.endswith("xml") and (character := xml_unwritable(written)):
            raise ValueError(xml_unwritable_message(character, self.media_type))
        return written


# Order is the server's preference: it breaks ties, so */* gets the first one.
RESULT_FORMATS: tuple[Format, ...] = (
    Format("json", "SPARQL JSON", "application/sparql-results+json", ".srj", "results",
           ox.QueryResultsFormat.JSON, aliases=("application/json",)),
    Format("xml", "SPARQL XML", "application/sparql-results+xml", ".srx", "results",
           ox.QueryResultsFormat.XML, aliases=("application/xml",)),
    Format("csv", "CSV", "text/csv", ".csv", "results", ox.QueryResultsFormat.CSV),
    Format("tsv", "TSV", "text/tab-separated-values", ".tsv", "results", ox.QueryResultsFormat.TSV),
)

# Turtle first: with no Accept or a bare */*, curl users get readable data, and the W3C protocol
# tests expect one of RDF/XML, Turtle or N-Triples. The other names are those clients send:
# SPARQLWrapper adds format=xml|json|turtle|n3|rdf+xml|json-ld to every query, as Virtuoso and
# Fuseki accept, so format=xml on a CONSTRUCT means RDF/XML (and Turtle is valid N3).
GRAPH_FORMATS: tuple[Format, ...] = (
    Format("ttl", "Turtle", "text/turtle", ".ttl", "graph", ox.RdfFormat.TURTLE, "turtle",
           ("application/x-turtle",), ("turtle", "n3"), page_suffix=True),
    Format("nt", "N-Triples", "application/n-triples", ".nt", "graph", ox.RdfFormat.N_TRIPLES, "nt",
           ("text/plain",), ("ntriples", "n-triples"), page_suffix=True),
    Format("jsonld", "JSON-LD", "application/ld+json", ".jsonld", "graph", ox.RdfFormat.JSON_LD, "json-ld",
           ("application/json",), ("json-ld", "json"), page_suffix=True),
    Format("rdf", "RDF/XML", "application/rdf+xml", ".rdf", "graph", ox.RdfFormat.RDF_XML, "xml",
           ("application/xml",), ("xml", "rdfxml", "rdf+xml", "rdf/xml"), page_suffix=True),
    Format("trig", "TriG", "application/trig", ".trig", "graph", ox.RdfFormat.TRIG, "trig"),
    Format("nq", "N-Quads", "application/n-quads", ".nq", "graph", ox.RdfFormat.N_QUADS, "nquads", (),
           ("nquads", "n-quads")),
)

# A web page and its data variants (a ``.json``/``.csv`` URL, ``format=`` or ``Accept``); ``text``
# is the plain-text form errors take for clients that name neither HTML nor JSON.
PAGE_FORMATS: tuple[Format, ...] = (
    Format("html", "HTML", "text/html", ".html", "page", aliases=("application/xhtml+xml",)),
    Format("json", "JSON", "application/json", ".json", "page"),
    Format("csv", "CSV", "text/csv", ".csv", "page"),
    Format("text", "Plain text", "text/plain", ".txt", "page"),
)

# Files of a release that are not RDF serialisations; matched by suffix, or by whole name.
FILE_FORMATS: tuple[Format, ...] = (
    Format("txt", "Plain text", "text/plain", ".txt", "file"),
    Format("gz", "gzip", "application/gzip", ".gz", "file"),
    Format("json", "JSON", "application/json", ".json", "file"),
    Format("sums", "Checksums", "text/plain", "SHA256SUMS", "file"),
    # The site's static files.
    Format("css", "CSS", "text/css", ".css", "file"),
    Format("js", "JavaScript", "text/javascript", ".js", "file", aliases=("application/javascript",)),
    Format("svg", "SVG", "image/svg+xml", ".svg", "file"),
)

_BY_KIND: dict[str, tuple[Format, ...]] = {
    "results": RESULT_FORMATS, "graph": GRAPH_FORMATS, "page": PAGE_FORMATS, "file": FILE_FORMATS,
}


def every_format() -> tuple[Format, ...]:
    return (*RESULT_FORMATS, *GRAPH_FORMATS, *PAGE_FORMATS, *FILE_FORMATS)


def of_kind(kind: Kind) -> tuple[Format, ...]:
    """The formats of ``kind``, in the server's order of preference."""
    return _BY_KIND[kind]


def by_name(name: str, kind: Kind | None = None) -> Format:
    """The format with this short name (``ttl``, ``json`` …), of ``kind`` if given (results and
    graph formats otherwise); KeyError for an unknown one."""
    for fmt in (_BY_KIND[kind] if kind else (*RESULT_FORMATS, *GRAPH_FORMATS)):
        if fmt.name == name:
            return fmt
    raise KeyError(name)


def graph_format_for(media_type: str) -> Format:
    for fmt in GRAPH_FORMATS:
        if fmt.media_type == media_type:
            return fmt
    raise KeyError(media_type)


def media_types(offered: Sequence[Format]) -> list[str]:
    return [fmt.media_type for fmt in offered]


def media_type_of_file(name: str) -> str:
    """The media type of a release or static file, by its name or suffix (``.gz`` files are gzip,
    whatever they hold); ``application/octet-stream`` for a file no format names."""
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else name
    for fmt in (*FILE_FORMATS, *GRAPH_FORMATS):
        if fmt.suffix == suffix:
            return fmt.media_type
    return "application/octet-stream"


def prefixes(base: str) -> dict[str, str]:
    """The prefixes of the dumps, pre-declared in queries and written in Turtle, TriG and JSON-LD."""
    return _namespace_prefixes(base.rstrip("/"))


def rdf_bytes(items: Iterable[ox.Triple] | Iterable[ox.Quad], fmt: ox.RdfFormat,
              prefixes: dict[str, str] | None = None) -> bytes:
    """``items`` written in ``fmt`` by pyoxigraph, as bytes.

    pyoxigraph returns the bytes when it is given no output file; its stubs type the return as
    ``bytes | None`` to cover both calls, which this one call site per use would otherwise repeat."""
    data = ox.serialize(items, format=fmt, prefixes=prefixes)
    if data is None:  # only with an output file, which is never given here
        raise RuntimeError("pyoxigraph wrote no bytes")
    return data


# -- writers --------------------------------------------------------------------------------------


def _tsv_term(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Triple):
        return f"<<( {_tsv_term(term.subject)} {_tsv_term(term.predicate)} {_tsv_term(term.object)} )>>"
    # str() is the N-Triples form, which escapes tab and line breaks, so a cell is one field.
    return str(term)


def _as_oxigraph_results(solutions: Solutions) -> ox.QuerySolutions | ox.QueryBoolean:
    """The solutions as a pyoxigraph results object, so pyoxigraph's own writers can serialise them.

    pyoxigraph has no constructor for results, but parses TSV, whose cells are exactly the
    N-Triples form of each term: a lossless round trip for every kind of term (blank-node labels,
    directional language tags and triple terms included), and a SELECT with no variables still
    keeps its row count (an empty header, then one empty line per row).
    """
    if solutions.boolean is not None:
        return ox.parse_query_results(json.dumps({"head": {}, "boolean": solutions.boolean}),
                                      ox.QueryResultsFormat.JSON)
    lines = ["\t".join(f"?{name}" for name in solutions.variables)]
    lines.extend("\t".join(_tsv_term(term) for term in row) for row in solutions.rows or ())
    # Bytes parse faster than str (no re-encoding on the Rust side).
    return ox.parse_query_results(("\n".join(lines) + "\n").encode("utf-8"), ox.QueryResultsFormat.TSV)


def _write_solutions(solutions: Solutions, fmt: ox.QueryResultsFormat) -> bytes:
    if solutions.boolean is None and solutions.rows is None:
        raise ValueError("a graph result cannot be written as query results")
    try:
        data = _as_oxigraph_results(solutions).serialize(format=fmt)
    except SyntaxError as exc:  # a term no format can carry (rdf:langString without a language)
        raise ValueError(str(exc)) from exc
    if data is None:  # pyoxigraph returns None only when given an output file
        raise RuntimeError("pyoxigraph wrote no query results")
    return data


def _write_graph(triples: Iterable[ox.Triple], rdf_format: ox.RdfFormat, base: str) -> bytes:
    try:
        if rdf_format == ox.RdfFormat.JSON_LD:
            return _jsonld(triples, jsonld_context(base.rstrip("/")))
        declared = None if rdf_format in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS) else prefixes(base)
        if rdf_format.supports_datasets:
            # TriG and N-Quads write quads; a query result is one graph, the default graph.
            default = ox.DefaultGraph()
            quads = (ox.Quad(t.subject, t.predicate, t.object, default) for t in triples)
            return rdf_bytes(quads, rdf_format, declared)
        return rdf_bytes(triples, rdf_format, declared)
    except SyntaxError as exc:
        raise ValueError(str(exc)) from exc


XSD_STRING = XSD + "string"


def _rdflib_term(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> object:
    import rdflib  # only JSON-LD needs it; the query processes never write JSON-LD

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
    import rdflib

    graph = rdflib.Graph()
    for triple in triples:
        graph.add((_rdflib_term(triple.subject), _rdflib_term(triple.predicate),  # type: ignore[arg-type]
                   _rdflib_term(triple.object)))
    text = graph.serialize(format="json-ld", context=dict(sorted(context.items())), auto_compact=True)
    document = _canonical(json.loads(text))
    return (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


# Characters XML 1.0 cannot carry at all, not even as a character reference: the C0 controls other
# than tab, line feed and carriage return, and U+FFFE/U+FFFF (surrogates never reach UTF-8 bytes).
# pyoxigraph writes them as they are, which makes the document not well-formed. In UTF-8 each is
# one ASCII byte or the bytes EF BF BE/BF, which never occur inside another character's bytes.
_NOT_IN_XML = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")


def xml_unwritable(body: bytes) -> str | None:
    """The first character of an XML serialisation that XML 1.0 cannot carry, as ``U+XXXX``; None
    if the document has none. Such an answer is refused, never sent: an XML parser rejects it."""
    found = _NOT_IN_XML.search(body)
    if found is None:
        return None
    return f"U+{ord(found.group().decode('utf-8')):04X}"


def xml_unwritable_message(character: str, media_type: str) -> str:
    return (f"The result holds the character {character}, which {media_type} (XML 1.0) cannot carry; "
            "ask for JSON, CSV or TSV (SELECT/ASK) or Turtle, N-Triples or JSON-LD (CONSTRUCT/DESCRIBE) instead.")
