"""Entailed triples that simple queries rely on, written out (materialised) by the build.

SPARQL endpoints do not reason: ``?x kusei:mtpReference ?r`` finds nothing when the data says
only ``kusei:mtpPolicy``, one of its sub-properties. So for every statement whose predicate or
class has super-properties or super-classes *in Kusei's own vocabulary*, the build adds the
statement with each of them, in the same named graph (RDFS rules rdfs7 and rdfs9, restricted to
``kusei:`` terms). Standard super-terms (dcterms:relation, prov:Plan, skos:Concept ...) are left
to reasoners: they would double the data and no simple query is about them.

Today this gives kusei:mtpReference (from mtpTheme, mtpStrategy, mtpPolicy, citesBasicStrategy,
citesPerspective), kusei:measureOrBanner (from kusei:measure and kusei:banner), kusei:Character
(from kusei:Mascot) and kusei:FacilityProject (from kusei:InfrastructureProject).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pyoxigraph as ox

from kusei.namespaces import RDFS, TYPE, Terms

ONTOLOGY = Path(__file__).resolve().parents[2] / "ontology" / "kusei.ttl"
# The namespace kusei.ttl is written in; a build for another base maps the local names over.
WRITTEN_BASE = "https://w3id.org/kusei/def/"


def _closure(direct: dict[str, set[str]]) -> dict[str, tuple[str, ...]]:
    result: dict[str, tuple[str, ...]] = {}
    for term in direct:
        seen: set[str] = set()
        todo = list(direct[term])
        while todo:
            parent = todo.pop()
            if parent not in seen and parent != term:
                seen.add(parent)
                todo.extend(direct.get(parent, ()))
        result[term] = tuple(sorted(seen))
    return result


@cache
def hierarchy(ontology: Path = ONTOLOGY) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """(property → its kusei super-properties, class → its kusei super-classes), by local name."""
    properties: dict[str, set[str]] = {}
    classes: dict[str, set[str]] = {}
    for triple in ox.parse(ontology.read_bytes(), format=ox.RdfFormat.TURTLE):
        sub, obj = triple.subject, triple.object
        if not (isinstance(sub, ox.NamedNode) and isinstance(obj, ox.NamedNode)):
            continue
        if not (sub.value.startswith(WRITTEN_BASE) and obj.value.startswith(WRITTEN_BASE)):
            continue
        local, parent = sub.value[len(WRITTEN_BASE):], obj.value[len(WRITTEN_BASE):]
        if triple.predicate.value == RDFS + "subPropertyOf":
            properties.setdefault(local, set()).add(parent)
        elif triple.predicate.value == RDFS + "subClassOf":
            classes.setdefault(local, set()).add(parent)
    return _closure(properties), _closure(classes)


def entailed(quads: list[ox.Quad], terms: Terms) -> list[ox.Quad]:
    """The super-property and super-class statements of ``quads`` that they do not already hold."""
    properties, classes = hierarchy()
    kusei = terms.vocab
    have = set(quads)
    out: list[ox.Quad] = []
    for quad in quads:
        predicate = quad.predicate.value
        if predicate == TYPE.value and isinstance(quad.object, ox.NamedNode) and quad.object.value.startswith(kusei):
            new = [ox.Quad(quad.subject, TYPE, terms.kusei(parent), quad.graph_name)
                   for parent in classes.get(quad.object.value[len(kusei):], ())]
        elif predicate.startswith(kusei):
            new = [ox.Quad(quad.subject, terms.kusei(parent), quad.object, quad.graph_name)
                   for parent in properties.get(predicate[len(kusei):], ())]
        else:
            continue
        for q in new:
            if q not in have:
                have.add(q)
                out.append(q)
    return out
