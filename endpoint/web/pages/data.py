"""The one door through which page models read the store: SPARQL text in, plain rows out.

Pages ask in SPARQL so that, when every page query goes through the query service (time limit,
guard), only this module changes. The store's default graph already holds the merge of the
named graphs, so no union flag is passed.
"""

from __future__ import annotations

import pyoxigraph as ox

from kusei.release import Release

Term = ox.NamedNode | ox.BlankNode | ox.Literal


def select(release: Release, query: str) -> list[dict[str, Term]]:
    """Rows of a SELECT, each a dict of bound variables (unbound ones are left out)."""
    solutions = release.store.query(query)
    names = [variable.value for variable in solutions.variables]
    rows = []
    for solution in solutions:
        row = {}
        for name in names:
            term = solution[name]
            if term is not None:
                row[name] = term
        rows.append(row)
    return rows


def iri_list(iris: list[str] | set[str]) -> str:
    """IRIs as the body of a VALUES block."""
    return " ".join(f"<{iri}>" for iri in sorted(iris))
