"""The page models' way to the data: SPARQL text through the one query service.

Kept as a small door so the page models read like the queries they ask; the service applies
the guard, the limits, the time limit and the merged default graph, and serves pages on a lane
of their own.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from kusei.endpoint.query import service
from kusei.endpoint.web import current
from kusei.release import Release

# What page queries bind: they never select RDF 1.2 triple terms.
Term = ox.NamedNode | ox.BlankNode | ox.Literal


def select(release: Release, query: str) -> list[dict[str, Term]]:
    """Rows of a SELECT, each a dict of bound variables (unbound ones are left out)."""
    result: list[dict[str, Term]] = []
    for row in service.select(release, query, settings=current.settings()):
        kept: dict[str, Term] = {}
        for name, term in row.items():
            if isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal):
                kept[name] = term
        result.append(kept)
    return result


def iri_list(iris: Iterable[str]) -> str:
    """IRIs as the body of a VALUES block; pyoxigraph checks each, so none can close the ``<>``."""
    return " ".join(str(ox.NamedNode(iri)) for iri in sorted(set(iris)))
