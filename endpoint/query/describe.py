"""The order of a bounded description, shared by the resource pages and SPARQL DESCRIBE.

The description itself is one CONSTRUCT query (``service.description_query``) run like any other
query; this module puts its triples in a deterministic order, so the same release always gives
the same bytes: the resources' own triples, then the blank nodes they reach, then incoming links,
then the labels of linked resources, each part sorted.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox


def term_sort_key(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> tuple[int, str]:
    """A total order over terms: IRIs, then blank nodes, then literals; N-Triples text within."""
    rank = 0 if isinstance(term, ox.NamedNode) else 1 if isinstance(term, ox.BlankNode) else 2
    return rank, str(term)


def triple_sort_key(triple: ox.Triple) -> tuple[tuple[int, str], ...]:
    return term_sort_key(triple.subject), term_sort_key(triple.predicate), term_sort_key(triple.object)


def _sorted(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    return sorted(triples, key=triple_sort_key)


def order_description(triples: Iterable[ox.Triple], resources: list[ox.NamedNode]) -> list[ox.Triple]:
    described = set(resources)
    own: set[ox.Triple] = set()
    blank: set[ox.Triple] = set()
    incoming: set[ox.Triple] = set()
    labels: set[ox.Triple] = set()
    for triple in triples:
        if triple.subject in described:
            own.add(triple)
        elif isinstance(triple.subject, ox.BlankNode):
            blank.add(triple)
        elif triple.object in described:
            incoming.add(triple)
        else:
            labels.add(triple)
    return _sorted(own) + _sorted(blank) + _sorted(incoming) + _sorted(labels)
