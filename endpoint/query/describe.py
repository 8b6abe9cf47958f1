"""The bounded description of one resource, shared by the resource pages and SPARQL DESCRIBE.

A description is: every triple with the resource as subject (over all named graphs), the blank
nodes and the resource's own fragment IRIs (``<iri>#…``, such as its printings
``<iri>#in-<docid>``) those triples reach expanded recursively, a bounded number of incoming links, and the
labels of every resource linked either way, so a client can show names without a second round trip.

It reads the store's default graph, which ``kusei build`` fills with the merge of all named graphs:
each statement once, where reading every graph would meet it once per graph holding it.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
SKOS_PREF_LABEL = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
LABEL_PROPERTIES = (RDFS_LABEL, SKOS_PREF_LABEL)
MERGED = ox.DefaultGraph()

# Enough for every incoming link of an entity of this dataset (a plan has a few hundred parts),
# while a class such as kusei:Measure cannot pull the whole graph into one page.
INCOMING_LIMIT = 500
# Blank nodes here are corrections and similar small structures; the cap only guards cycles
# and pathological data.
BLANK_NODE_LIMIT = 1000


def term_sort_key(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> tuple[int, str]:
    """A total order over terms: IRIs, then blank nodes, then literals; N-Triples text within."""
    rank = 0 if isinstance(term, ox.NamedNode) else 1 if isinstance(term, ox.BlankNode) else 2
    return rank, str(term)


def triple_sort_key(triple: ox.Triple) -> tuple[tuple[int, str], ...]:
    return term_sort_key(triple.subject), term_sort_key(triple.predicate), term_sort_key(triple.object)


def _outgoing(store: ox.Store, node: ox.NamedNode | ox.BlankNode) -> set[ox.Triple]:
    return {q.triple for q in store.quads_for_pattern(node, None, None, MERGED)}


def _sorted(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    return sorted(triples, key=triple_sort_key)


def describe(
    store: ox.Store, iri: str, *, base: str, incoming_limit: int = INCOMING_LIMIT
) -> list[ox.Triple]:
    """The bounded description of ``iri``, in a deterministic order.

    Order: the resource's own triples, then the expanded blank nodes, then incoming links, then
    labels of linked resources; each part sorted. Incoming links are collected only for IRIs
    under ``base``: for an outside term such as ``rdfs:label`` they would be an arbitrary slice
    of the whole dataset rather than a description.
    """
    node = ox.NamedNode(iri)
    own = _outgoing(store, node)

    # Blank nodes and fragments of the resource (a fragment is part of the resource's document,
    # as in Linked Data's hash IRIs): breadth-first, each expanded once, so cycles terminate.
    fragment = iri + "#"

    def nested(term: ox.Term) -> bool:
        return isinstance(term, ox.BlankNode) or (isinstance(term, ox.NamedNode) and term.value.startswith(fragment))

    seen_blank: set[ox.BlankNode | ox.NamedNode] = set()
    frontier = [t.object for t in own if nested(t.object)]
    blank_triples: set[ox.Triple] = set()
    while frontier and len(seen_blank) < BLANK_NODE_LIMIT:
        bnode = frontier.pop()
        if bnode in seen_blank:
            continue
        seen_blank.add(bnode)
        for triple in _outgoing(store, bnode):
            if triple not in own:
                blank_triples.add(triple)
            if nested(triple.object) and triple.object not in seen_blank:
                frontier.append(triple.object)

    incoming: set[ox.Triple] = set()
    if iri.startswith(base.rstrip("/") + "/") and incoming_limit > 0:
        for quad in store.quads_for_pattern(None, None, node, MERGED):
            # A link from a blank node means nothing without the blank node's own context.
            if isinstance(quad.subject, ox.NamedNode) and quad.subject != node:
                incoming.add(quad.triple)
                if len(incoming) >= incoming_limit:
                    break

    described = own | blank_triples | incoming
    linked: set[ox.NamedNode] = set()
    for triple in described:
        for term in (triple.subject, triple.object):
            if isinstance(term, ox.NamedNode) and term != node:
                linked.add(term)
    labels: set[ox.Triple] = set()
    for other in linked:
        for prop in LABEL_PROPERTIES:
            labels.update(q.triple for q in store.quads_for_pattern(other, prop, None, MERGED))
    labels -= described

    return _sorted(own) + _sorted(blank_triples) + _sorted(incoming) + _sorted(labels)


def incoming_counts(store: ox.Store, iri: str) -> dict[str, int]:
    """How many resources link to ``iri``, per property, counted over the whole store."""
    # str(NamedNode) is the IRI in N-Triples form, already validated, so it is safe to splice.
    # Counted as describe() collects them: from IRIs only, and not the resource's links to itself.
    node = ox.NamedNode(iri)
    query = (
        f"SELECT ?p (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p {node} FILTER(isIRI(?s) && ?s != {node}) }}"
        " GROUP BY ?p"
    )
    solutions = store.query(query, use_default_graph_as_union=True)
    return {sol["p"].value: int(sol["n"].value) for sol in solutions}


def is_known(store: ox.Store, iri: str) -> bool:
    """Whether the store mentions ``iri`` at all: as subject, predicate, object or graph name."""
    node = ox.NamedNode(iri)
    for pattern in ((node, None, None), (None, node, None), (None, None, node)):
        if next(iter(store.quads_for_pattern(*pattern, None)), None) is not None:
            return True
    return store.contains_named_graph(node)
