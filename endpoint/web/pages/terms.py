"""Turning RDF terms into what a page shows: labels in Japanese and English, CURIEs, local links."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote

import pyoxigraph as ox

from kusei.namespaces import DCTERMS, RDF, RDFS, SCHEMA, SKOS, XSD

__all__ = ["DCTERMS", "RDF", "RDFS", "SCHEMA", "SKOS", "XSD", "Labels", "Namer"]

RDF_TYPE = RDF + "type"
# Most specific name first: a measure's rdfs:label is its name, dcterms:title the printed heading.
LABEL_PREDICATES = (RDFS + "label", SKOS + "prefLabel", SCHEMA + "name", DCTERMS + "title")
# Japanese first (the documents' language), then its readings, then English.
LANG_ORDER = {"ja": 0, "ja-hrkt": 1, "ja-latn": 2, "en": 3, "": 5}

# IRI-safe characters left as they are when an IRI path becomes an href.
PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def lang_rank(lang: str | None) -> int:
    return LANG_ORDER.get((lang or "").lower(), 4)


def natural_key(text: str) -> list[tuple[int, int | str]]:
    """Sort key that puts measure/2 before measure/10."""
    # isdecimal, not isdigit: "①" is a digit to Python but no number int() reads.
    return [(0, int(part)) if part.isdecimal() else (1, part) for part in re.split(r"(\d+)", text) if part]


class Labels:
    """Labels of IRIs by language, fed from triples; picks the best one for a language."""

    def __init__(self) -> None:
        self._by_iri: dict[str, dict[str, list[tuple[int, str]]]] = {}

    def add_triples(self, triples: Iterable[ox.Triple]) -> None:
        for triple in triples:
            pred = triple.predicate.value
            if pred in LABEL_PREDICATES and isinstance(triple.object, ox.Literal):
                if isinstance(triple.subject, ox.NamedNode):
                    self.add(triple.subject.value, pred, triple.object)

    def add(self, iri: str, predicate: str, literal: ox.Literal) -> None:
        rank = LABEL_PREDICATES.index(predicate) if predicate in LABEL_PREDICATES else len(LABEL_PREDICATES)
        lang = (literal.language or "").lower()
        self._by_iri.setdefault(iri, {}).setdefault(lang, []).append((rank, literal.value))

    def get(self, iri: str, lang: str = "ja") -> str | None:
        """The label in ``lang``; for Japanese also one without a language tag."""
        langs = self._by_iri.get(iri)
        if not langs:
            return None
        for candidate in (lang, "") if lang == "ja" else (lang,):
            if candidate in langs:
                return min(langs[candidate])[1]
        return None

    def best(self, iri: str) -> str | None:
        """The label to show when one is enough: Japanese, else English, else anything."""
        langs = self._by_iri.get(iri)
        if not langs:
            return None
        lang = min(langs, key=lang_rank)
        return min(langs[lang])[1]


# Shown as CURIEs on pages only (the vocabulary's own metadata uses them); not pre-declared in
# queries, where they would be noise.
DISPLAY_PREFIXES = {
    "vann": "http://purl.org/vocab/vann/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "sdg": "http://metadata.un.org/sdg/",
}


class Namer:
    """CURIEs and hrefs for IRIs, knowing the release's base and the endpoint's prefixes."""

    def __init__(self, base: str, prefixes: Mapping[str, str]) -> None:
        self.base = base.rstrip("/")
        known = {**DISPLAY_PREFIXES, **prefixes}
        # Longest namespace first so kusei: wins over a shorter prefix that also matches.
        self._prefixes = sorted(known.items(), key=lambda item: -len(item[1]))

    def curie(self, iri: str) -> str | None:
        for prefix, namespace in self._prefixes:
            if iri.startswith(namespace):
                local = iri[len(namespace) :]
                if re.fullmatch(r"[A-Za-z_][\w.-]*|", local) and not local.endswith("."):
                    return f"{prefix}:{local}"
        return None

    def local_path(self, iri: str) -> str | None:
        """The path on this server for an IRI under the base, else None."""
        if iri == self.base:
            return "/"
        if iri.startswith(self.base + "/"):
            return quote(iri[len(self.base) :], safe=PATH_SAFE)
        return None

    def href(self, iri: str) -> str:
        return self.local_path(iri) or iri

    def short(self, iri: str) -> str:
        """A compact name when no label is known: CURIE, else the path under the base, else the IRI."""
        curie = self.curie(iri)
        if curie:
            return curie
        if iri.startswith(self.base + "/"):
            return iri[len(self.base) :]
        return iri
