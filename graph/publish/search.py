"""The search index of a release: every named thing with its titles and texts, folded for matching.

Written once by the build (``search.json`` beside the store), so a search reads a small file
instead of scanning the store. The file's name and the folding are kusei.search_index's, shared
with the server that reads it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from kusei.graph.publish.readings import reading
from kusei.namespaces import DCTERMS, ORG, RDF, RDFS, SCHEMA, SKOS, terms
from kusei.search_index import INDEX_FILE, INDEX_VERSION, fold

__all__ = ["INDEX_FILE", "build_index", "write_index"]


# The ward code and fiscal year in a plan's IRI ({base}/id/plan/141089/2024), or the ward code in
# that of a ward's own things ({base}/id/mascot/141089/…).
_WARD_YEAR = re.compile(r"/id/[^/]+/(\d{6})(?:/(\d{4})(?:/|$))?")
TITLE_PREDICATES = (RDFS + "label", DCTERMS + "title", SCHEMA + "name", SKOS + "prefLabel")
# Longer texts searched after the titles; the vocabulary's own prose is left out (it is about
# the terms, and would match every query about "plan" or "measure").
TEXT_LOCALS = ("tagline", "caption", "role", "preface", "measuresIntro", "mtpReferenceText", "basicStrategyText")
TEXT_PREDICATES = (DCTERMS + "description", ORG + "purpose", SKOS + "definition")


def _best(literals: list[ox.Literal]) -> str | None:
    for wanted in ("ja", "", "en"):
        for literal in literals:
            if (literal.language or "") == wanted:
                return literal.value
    return literals[0].value if literals else None


def _corrections(quads: list[ox.Quad], kusei: str) -> dict[str, list[tuple[str, str]]]:
    """Subject → (printed, corrected) texts of its recorded corrections (kusei:correction)."""
    node_of: dict[str, list[ox.BlankNode]] = {}
    printed: dict[ox.BlankNode, str] = {}
    corrected: dict[ox.BlankNode, str] = {}
    for quad in quads:
        s, p, o = quad.subject, quad.predicate.value, quad.object
        if p == kusei + "correction" and isinstance(s, ox.NamedNode) and isinstance(o, ox.BlankNode):
            node_of.setdefault(s.value, []).append(o)
        elif isinstance(s, ox.BlankNode) and isinstance(o, ox.Literal):
            if p == kusei + "printedText":
                printed[s] = o.value
            elif p == kusei + "correctedText":
                corrected[s] = o.value
    return {subject: [(printed[n], corrected[n]) for n in nodes if n in printed and n in corrected]
            for subject, nodes in node_of.items()}


def _corrected(text: str, fixes: list[tuple[str, str]]) -> str:
    for printed, corrected in fixes:
        text = text.replace(printed, corrected)
    return text


def build_index(quads: Iterable[ox.Quad], base: str) -> dict:
    """The index as a JSON-ready dict: one entry per IRI under the base that has a title."""
    kusei = terms(base).vocab
    quads_list = list(quads)
    by_subject: dict[str, dict[str, list]] = {}
    for quad in quads_list:
        if isinstance(quad.subject, ox.NamedNode) and quad.subject.value.startswith(base + "/"):
            values = by_subject.setdefault(quad.subject.value, {}).setdefault(quad.predicate.value, [])
            if quad.object not in values:
                values.append(quad.object)
    text_predicates = TEXT_PREDICATES + tuple(kusei + local for local in TEXT_LOCALS)
    fixes = _corrections(quads_list, kusei)

    def literals(subject: str, predicates: Iterable[str]) -> list[ox.Literal]:
        props = by_subject.get(subject, {})
        return [o for p in predicates for o in props.get(p, []) if isinstance(o, ox.Literal)]

    plan_of_document: dict[str, str] = {}
    for subject, props in by_subject.items():
        if ox.NamedNode(kusei + "Plan") in props.get(RDF + "type", []):
            for document in props.get(kusei + "sourceDocument", []):
                plan_of_document.setdefault(document.value, subject)

    def _areas(subject: str, depth: int = 0) -> set[str]:
        """Kusei's policy areas of a measure, and through it of its projects and their items."""
        props = by_subject.get(subject, {})
        found = {o.value for o in props.get(kusei + "policyArea", []) if isinstance(o, ox.NamedNode)}
        if depth < 3:
            for parent_p in (kusei + "measureOrBanner", kusei + "itemOf"):
                for parent in props.get(parent_p, []):
                    found |= _areas(parent.value, depth + 1)
        return found

    entries = []
    for subject in sorted(by_subject):
        props = by_subject[subject]
        titles = literals(subject, TITLE_PREDICATES)
        if not titles:
            continue
        types = sorted(t.value for t in props.get(RDF + "type", []) if isinstance(t, ox.NamedNode))
        own_types = [t for t in types if t.startswith(kusei)] or types
        plan: str | None
        if ox.NamedNode(kusei + "Plan") in props.get(RDF + "type", []):
            plan = subject
        else:
            plan_terms = [o.value for o in props.get(kusei + "plan", []) if isinstance(o, ox.NamedNode)]
            documents = [o.value for o in props.get(kusei + "sourceDocument", [])]
            plan = plan_terms[0] if plan_terms else next(
                (plan_of_document[d] for d in documents if d in plan_of_document), None)
        # A recorded slip is shown corrected, and both forms are found (the printed one as text).
        printed_titles = list(dict.fromkeys(t.value for t in titles))
        printed_texts = [t.value for t in literals(subject, text_predicates)]
        own_fixes = fixes.get(subject, [])
        title_texts = list(dict.fromkeys(_corrected(t, own_fixes) for t in printed_titles))
        texts = list(dict.fromkeys(_corrected(t, own_fixes) for t in printed_texts if t not in printed_titles))
        printed = [t for t in dict.fromkeys(printed_titles + printed_texts) if _corrected(t, own_fixes) != t]
        plan_titles = literals(plan, (RDFS + "label",)) if plan else []
        place = _WARD_YEAR.search(plan or subject)
        ward, year = (place.group(1), int(place.group(2)) if place.group(2) else None) if place else (None, None)
        entries.append({
            "iri": subject,
            "type": own_types[0] if own_types else None,
            "title": _corrected(_best(titles) or "", own_fixes) or None,
            "titles": title_texts,
            "texts": texts,
            "plan": plan,
            "plan_title": _best(plan_titles) if plan_titles else None,
            "fold_titles": [fold(t) for t in title_texts],
            "fold_texts": [fold(t) for t in texts],
            "fold_printed": [fold(t) for t in printed],
            "read_titles": [reading(t) for t in title_texts],
            "read_texts": [reading(t) for t in texts],
            "ward": ward,
            "year": year,
            "areas": sorted(_areas(subject)),
        })
    return {"version": INDEX_VERSION, "base": base, "entries": entries}


def write_index(path: Path, quads: Iterable[ox.Quad], base: str) -> int:
    """Write the index of ``quads`` to ``path``; returns the number of entries."""
    index = build_index(quads, base)
    path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return len(index["entries"])
