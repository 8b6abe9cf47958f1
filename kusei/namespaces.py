"""Namespaces and IRI minting. The base IRI is a setting; everything Kusei mints hangs off it."""

from __future__ import annotations

import functools
import unicodedata

import pyoxigraph as ox

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
ORG = "http://www.w3.org/ns/org#"
SCHEMA = "http://schema.org/"
FOAF = "http://xmlns.com/foaf/0.1/"
TIME = "http://www.w3.org/2006/time#"
QB = "http://purl.org/linked-data/cube#"
SDMX_DIM = "http://purl.org/linked-data/sdmx/2009/dimension#"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
SD = "http://www.w3.org/ns/sparql-service-description#"
SPDX = "http://spdx.org/rdf/terms#"
SH = "http://www.w3.org/ns/shacl#"
SDG = "http://metadata.un.org/sdg/"
ESTAT_SAC = "http://data.e-stat.go.jp/lod/sac/"
# Named by the vocabulary's own metadata and shown as CURIEs on pages; not pre-declared in queries.
VANN = "http://purl.org/vocab/vann/"
DC = "http://purl.org/dc/elements/1.1/"
# The entailment regime the service description states (none: simple entailment).
SIMPLE_ENTAILMENT = "http://www.w3.org/ns/entailment/Simple"

STANDARD_PREFIXES = {
    "rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "skos": SKOS, "dcterms": DCTERMS,
    "prov": PROV, "org": ORG, "schema": SCHEMA, "foaf": FOAF, "time": TIME, "qb": QB,
    "sdmx-dimension": SDMX_DIM, "void": VOID, "dcat": DCAT, "sd": SD, "spdx": SPDX, "sh": SH,
}


def prefixes(base: str) -> dict[str, str]:
    """The prefixes written in dumps and pre-declared for queries."""
    return {"kusei": f"{base}/def/", **STANDARD_PREFIXES}


def rdf(local: str) -> ox.NamedNode:
    return ox.NamedNode(RDF + local)


TYPE = ox.NamedNode(RDF + "type")

# pyoxigraph has no base class for its terms: what may stand in a triple's object, and name a graph.
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
GraphName = ox.NamedNode | ox.BlankNode | ox.DefaultGraph


class Terms:
    """IRI factory bound to one base."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.vocab = f"{self.base}/def/"
        self.ids = f"{self.base}/id/"  # what every resource's IRI begins with
        self.graphs = f"{self.base}/graph/"  # and every named graph's
        self.dataset = self.id("dataset/kusei")  # the dataset description's subject

    def kusei(self, local: str) -> ox.NamedNode:
        return ox.NamedNode(self.vocab + local)

    def id(self, path: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}/id/{path}")

    def graph(self, path: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}/graph/{path}")

    # Places and organisations
    def area(self, code: str) -> ox.NamedNode:
        return self.id(f"area/{code}")

    def organization(self, code: str) -> ox.NamedNode:
        return self.id(f"organization/{code}")

    def section(self, ward: str, key: str) -> ox.NamedNode:
        return self.id(f"organization/{ward}/section/{key}")

    def bureau(self, city: str, key: str) -> ox.NamedNode:
        return self.id(f"organization/{city}/bureau/{key}")

    def plan(self, ward: str, year: int) -> ox.NamedNode:
        return self.id(f"plan/{ward}/{year}")

    def fiscal_year(self, year: int) -> ox.NamedNode:
        return self.id(f"fiscal-year/{year}")

    def document(self, doc_id: str) -> ox.NamedNode:
        return self.id(f"document/{doc_id}")

    def mtp(self, path: str = "") -> ox.NamedNode:
        return self.id("mtp/2022-2025" + (f"/{path}" if path else ""))


@functools.lru_cache(maxsize=8)
def terms(base: str) -> Terms:
    """The IRI factory of ``base``, made once: the endpoint asks for its release's on every request."""
    return Terms(base)


def measure_key(printed_number: str) -> str:
    """A measure's printed number as it stands in the measure's IRI and is compared with: in ASCII
    digits (「１」→ "1"). Measure numbers are unique within a plan by this key."""
    return unicodedata.normalize("NFKC", printed_number)


def iri(node: ox.NamedNode, *parts: object) -> ox.NamedNode:
    """A child IRI: ``iri(plan, "measure", 1)`` → ``<plan>/measure/1``."""
    return ox.NamedNode("/".join([node.value, *map(str, parts)]))


def lit(text: str, lang: str | None = None) -> ox.Literal:
    return ox.Literal(text, language=lang) if lang else ox.Literal(text)


def typed(value: object, datatype: str) -> ox.Literal:
    if isinstance(value, bool):
        value = "true" if value else "false"
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + datatype))


# Short JSON-LD terms for the standard properties the data uses most; text properties map each
# language to its value ({"ja": …, "en": …}), links are plain IRI strings.
LANGUAGE_MAP = "@language"
STANDARD_TERMS: dict[str, tuple[str, str | None]] = {
    "label": (RDFS + "label", LANGUAGE_MAP),
    "comment": (RDFS + "comment", LANGUAGE_MAP),
    "title": (DCTERMS + "title", LANGUAGE_MAP),
    "description": (DCTERMS + "description", LANGUAGE_MAP),
    "name": (SCHEMA + "name", LANGUAGE_MAP),
    "purpose": (ORG + "purpose", LANGUAGE_MAP),
    "prefLabel": (SKOS + "prefLabel", LANGUAGE_MAP),
    "position": (SCHEMA + "position", XSD + "integer"),
    "isPartOf": (DCTERMS + "isPartOf", "@id"),
    "hasPart": (DCTERMS + "hasPart", "@id"),
    "spatial": (DCTERMS + "spatial", "@id"),
    "publisher": (DCTERMS + "publisher", "@id"),
    "entity": (PROV + "entity", "@id"),
    "subOrganizationOf": (ORG + "subOrganizationOf", "@id"),
    "inScheme": (SKOS + "inScheme", "@id"),
}


BLANK_NODE_VALUED = frozenset({"correction"})


def _vocabulary_terms() -> dict[str, tuple[str, str | None]]:
    """Every property of ontology/kusei.ttl by its local name, with the JSON-LD coercion its
    range implies: IRIs for object properties, the datatype for typed literals, a language map
    for rdf:langString. Read from the vocabulary so the context cannot drift from it."""
    from kusei.settings import DEFAULT_BASE, PROJECT_ROOT

    vocab = f"{DEFAULT_BASE}/def/"
    triples = list(ox.parse(path=str(PROJECT_ROOT / "ontology" / "kusei.ttl"), format=ox.RdfFormat.TURTLE))
    kinds: dict[str, str] = {}
    ranges: dict[str, str] = {}
    for t in triples:
        if not isinstance(t.subject, ox.NamedNode) or not t.subject.value.startswith(vocab):
            continue
        local = t.subject.value[len(vocab):]
        if t.predicate == TYPE and t.object.value in (OWL + "ObjectProperty", OWL + "DatatypeProperty"):
            kinds[local] = t.object.value
        elif t.predicate.value == RDFS + "range" and isinstance(t.object, ox.NamedNode):
            ranges[local] = t.object.value
    terms: dict[str, tuple[str, str | None]] = {}
    for local, kind in kinds.items():
        if "/" in local:
            continue
        if kind == OWL + "ObjectProperty":
            # kusei:correction points at blank nodes, which rdflib's JSON-LD writer drops when the
            # term coerces to @id (it writes the reference and never the node): no coercion there.
            coercion: str | None = None if local in BLANK_NODE_VALUED else "@id"
        elif ranges.get(local) == RDF + "langString":
            coercion = LANGUAGE_MAP
        elif ranges.get(local, "").startswith(XSD) and ranges[local] != XSD + "string":
            coercion = ranges[local]
        else:
            coercion = None
        terms[local] = (f"kusei:{local}", coercion)
    return terms


@functools.lru_cache(maxsize=1)
def _context_terms() -> tuple[tuple[str, dict[str, str]], ...]:
    vocabulary = _vocabulary_terms()
    clash = set(vocabulary) & set(STANDARD_TERMS)
    if clash:
        raise ValueError(f"JSON-LD terms defined twice: {sorted(clash)}")
    definitions = []
    for term, (iri_, coercion) in sorted({**vocabulary, **STANDARD_TERMS}.items()):
        definition = {"@id": iri_}
        if coercion == LANGUAGE_MAP:
            definition["@container"] = LANGUAGE_MAP
        elif coercion is not None:
            definition["@type"] = coercion
        definitions.append((term, definition))
    return tuple(definitions)


def jsonld_context(base: str) -> dict[str, object]:
    """The JSON-LD context of the dumps, of dumps/context.jsonld and of JSON-LD answers: the
    prefixes, and short terms for Kusei's properties and the most used standard ones."""
    return {**prefixes(base), **{term: dict(definition) for term, definition in _context_terms()}}
