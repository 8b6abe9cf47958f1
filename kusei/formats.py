"""The format registry: every serialisation Kusei reads or writes, named once.

A format has a ``format=`` short name, a media type, a file suffix, the pyoxigraph format that
writes it and the rdflib plugin name that reads it. The dumps (file names and media types), the
dataset description (titles), the endpoint's negotiation, the query processes and the suffix URLs
of the resource pages all look formats up here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    name: str  # the format= short name, also the dump format name
    title: str
    media_type: str
    suffix: str  # of a file in this format
    ox_format: ox.QueryResultsFormat | ox.RdfFormat
    rdflib: str | None = None  # rdflib's plugin name, where rdflib reads it
    aliases: tuple[str, ...] = ()  # other media types that select it
    other_names: tuple[str, ...] = ()  # other format= names that select it
    page_suffix: bool = False  # offered as a suffix URL of a resource (/id/….ttl)

    @property
    def iri(self) -> str:
        """The W3C format IRI (http://www.w3.org/ns/formats/…)."""
        return self.ox_format.iri

    @property
    def rdf_format(self) -> ox.RdfFormat:
        """The pyoxigraph format of a graph format; ValueError for a query results format."""
        if not isinstance(self.ox_format, ox.RdfFormat):
            raise ValueError(f"{self.name} is a query results format, not an RDF serialisation")
        return self.ox_format

    @property
    def results_format(self) -> ox.QueryResultsFormat:
        """The pyoxigraph format of a query results format; ValueError for a graph format."""
        if not isinstance(self.ox_format, ox.QueryResultsFormat):
            raise ValueError(f"{self.name} is an RDF serialisation, not a query results format")
        return self.ox_format

    @property
    def content_type(self) -> str:
        # Every format here is UTF-8; saying so stops browsers and Excel guessing Shift_JIS.
        return f"{self.media_type}; charset=utf-8"


# Older names of the same type, for readers of the negotiation code.
ResultFormat = Format
GraphFormat = Format

# Order is the server's preference: it breaks ties, so */* gets the first one.
RESULT_FORMATS: tuple[Format, ...] = (
    Format("json", "SPARQL JSON", "application/sparql-results+json", ".srj", ox.QueryResultsFormat.JSON,
           aliases=("application/json",)),
    Format("xml", "SPARQL XML", "application/sparql-results+xml", ".srx", ox.QueryResultsFormat.XML,
           aliases=("application/xml",)),
    Format("csv", "CSV", "text/csv", ".csv", ox.QueryResultsFormat.CSV),
    Format("tsv", "TSV", "text/tab-separated-values", ".tsv", ox.QueryResultsFormat.TSV),
)

# Turtle first: with no Accept or a bare */*, curl users get readable data, and the W3C protocol
# tests expect one of RDF/XML, Turtle or N-Triples. The other names are those clients send:
# SPARQLWrapper adds format=xml|json|turtle|n3|rdf+xml|json-ld to every query, as Virtuoso and
# Fuseki accept, so format=xml on a CONSTRUCT means RDF/XML (and Turtle is valid N3).
GRAPH_FORMATS: tuple[Format, ...] = (
    Format("ttl", "Turtle", "text/turtle", ".ttl", ox.RdfFormat.TURTLE, "turtle",
           ("application/x-turtle",), ("turtle", "n3"), page_suffix=True),
    Format("nt", "N-Triples", "application/n-triples", ".nt", ox.RdfFormat.N_TRIPLES, "nt",
           ("text/plain",), ("ntriples", "n-triples"), page_suffix=True),
    Format("jsonld", "JSON-LD", "application/ld+json", ".jsonld", ox.RdfFormat.JSON_LD, "json-ld",
           ("application/json",), ("json-ld", "json"), page_suffix=True),
    Format("rdf", "RDF/XML", "application/rdf+xml", ".rdf", ox.RdfFormat.RDF_XML, "xml",
           ("application/xml",), ("xml", "rdfxml", "rdf+xml", "rdf/xml"), page_suffix=True),
    Format("trig", "TriG", "application/trig", ".trig", ox.RdfFormat.TRIG, "trig"),
    Format("nq", "N-Quads", "application/n-quads", ".nq", ox.RdfFormat.N_QUADS, "nquads", (),
           ("nquads", "n-quads")),
)

# Files of a release that are not RDF serialisations.
OTHER_FILE_TYPES = {".txt": "text/plain", ".gz": "application/gzip", ".json": "application/json"}


def by_name(name: str) -> Format:
    """The format with this short name (``ttl``, ``json`` …); KeyError for an unknown one."""
    for fmt in (*RESULT_FORMATS, *GRAPH_FORMATS):
        if fmt.name == name:
            return fmt
    raise KeyError(name)


def graph_format_for(media_type: str) -> Format:
    for fmt in GRAPH_FORMATS:
        if fmt.media_type == media_type:
            return fmt
    raise KeyError(media_type)


def media_type_of_file(name: str) -> str:
    """The media type of a release file, by its suffix (``.gz`` files are gzip, whatever they hold)."""
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if suffix in OTHER_FILE_TYPES:
        return OTHER_FILE_TYPES[suffix]
    for fmt in GRAPH_FORMATS:
        if fmt.suffix == suffix:
            return fmt.media_type
    return "application/octet-stream"


def rdf_bytes(items: Iterable[ox.Triple] | Iterable[ox.Quad], fmt: ox.RdfFormat,
              prefixes: dict[str, str] | None = None) -> bytes:
    """``items`` written in ``fmt`` by pyoxigraph, as bytes.

    pyoxigraph returns the bytes when it is given no output file; its stubs type the return as
    ``bytes | None`` to cover both calls, which this one call site per use would otherwise repeat."""
    data = ox.serialize(items, format=fmt, prefixes=prefixes)
    if data is None:  # only with an output file, which is never given here
        raise RuntimeError("pyoxigraph wrote no bytes")
    return data


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
