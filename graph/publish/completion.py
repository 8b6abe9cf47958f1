"""The completion index of a release (kusei.completion_index): vocabulary terms ranked by use, and
the wards, offices, policy areas, plans, measures, projects, sections and mascots by label.

Built from the same quads as the store, so it answers for exactly the data of its release.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from kusei.completion_index import INDEX_FILE, INDEX_VERSION, RESOURCE_TYPES
from kusei.namespaces import DCTERMS, OWL, RDF, RDFS, SCHEMA, SKOS, Terms
from kusei.search_index import fold

__all__ = ["INDEX_FILE", "build_index", "write_index"]

_LABELS = (RDFS + "label", SKOS + "prefLabel", DCTERMS + "title", SCHEMA + "name")
_CLASS_TYPES = {OWL + "Class", RDFS + "Class"}
_PROPERTY_TYPES = {OWL + "ObjectProperty", OWL + "DatatypeProperty", OWL + "AnnotationProperty", RDF + "Property"}


def _label(labels: dict[str, dict[str, tuple[int, str]]], iri: str, language: str) -> str | None:
    found = labels.get(iri, {}).get(language)
    return found[1] if found else None


def build_index(quads: Iterable[ox.Quad], base: str) -> dict:
    """The index as a JSON-ready dict."""
    kusei = Terms(base).vocab
    triples = {q.triple for q in quads}  # a triple in several named graphs counts once, as in the default graph
    class_uses: Counter[str] = Counter()
    property_uses: Counter[str] = Counter()
    declared_classes: set[str] = set()
    declared_properties: set[str] = set()
    labels: dict[str, dict[str, tuple[int, str]]] = {}  # iri → language → (predicate rank, text)
    types: dict[str, set[str]] = {}
    for s, p, o in ((t.subject, t.predicate, t.object) for t in triples):
        property_uses[p.value] += 1
        if p.value == RDF + "type" and isinstance(o, ox.NamedNode):
            class_uses[o.value] += 1
            if isinstance(s, ox.NamedNode):
                types.setdefault(s.value, set()).add(o.value)
                if o.value in _CLASS_TYPES:
                    declared_classes.add(s.value)
                elif o.value in _PROPERTY_TYPES:
                    declared_properties.add(s.value)
        elif p.value in _LABELS and isinstance(o, ox.Literal) and isinstance(s, ox.NamedNode):
            # One label per language, by the label predicates' order of preference, then the smallest.
            language = o.language or "ja"
            current = labels.setdefault(s.value, {})
            candidate = (_LABELS.index(p.value), o.value)
            if language not in current or candidate < current[language]:
                current[language] = candidate

    def term(iri: str, kind: str, uses: int) -> dict:
        return {"iri": iri, "kind": kind, "uses": uses,
                "ja": _label(labels, iri, "ja"), "en": _label(labels, iri, "en")}

    classes = (declared_classes | set(class_uses)) - _CLASS_TYPES
    properties = declared_properties | set(property_uses)
    terms = [term(iri, "class", class_uses[iri]) for iri in classes]
    terms += [term(iri, "property", property_uses[iri]) for iri in properties]
    terms.sort(key=lambda t: (-t["uses"], t["iri"]))

    wanted = {kusei + local: rank for rank, local in enumerate(RESOURCE_TYPES)}
    resources = []
    for iri, its_types in types.items():
        ranks = [wanted[t] for t in its_types if t in wanted]
        ja, en = _label(labels, iri, "ja"), _label(labels, iri, "en")
        if not ranks or not (ja or en):
            continue
        rank = min(ranks)
        resources.append({"iri": iri, "type": RESOURCE_TYPES[rank], "rank": rank, "ja": ja, "en": en,
                          "fold": fold(" ".join(x for x in (ja, en) if x))})
    resources.sort(key=lambda r: (r["rank"], len(str(r["ja"] or r["en"] or "")), r["iri"]))
    return {"version": INDEX_VERSION, "base": base, "terms": terms, "resources": resources}


def write_index(path: Path, quads: Iterable[ox.Quad], base: str) -> int:
    """Write the index of ``quads`` to ``path``; returns the number of terms and resources."""
    index = build_index(quads, base)
    path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return len(index["terms"]) + len(index["resources"])
