"""Namespaces and IRI minting. The base IRI is a setting; everything Kusei mints hangs off it."""

from __future__ import annotations

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


class Terms:
    """IRI factory bound to one base."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.vocab = f"{self.base}/def/"

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


def iri(node: ox.NamedNode, *parts: object) -> ox.NamedNode:
    """A child IRI: ``iri(plan, "measure", 1)`` → ``<plan>/measure/1``."""
    return ox.NamedNode("/".join([node.value, *map(str, parts)]))


def lit(text: str, lang: str | None = None) -> ox.Literal:
    return ox.Literal(text, language=lang) if lang else ox.Literal(text)


def typed(value: object, datatype: str) -> ox.Literal:
    if isinstance(value, bool):
        value = "true" if value else "false"
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + datatype))
