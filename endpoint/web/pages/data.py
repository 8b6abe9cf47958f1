"""The page models' way to the data: SPARQL text through the one query service.

Kept as a small door so the page models read like the queries they ask; the service applies
the guard, the limits, the time limit and the merged default graph, and serves pages on a lane
of their own.
"""

from __future__ import annotations

from kusei.endpoint.query import service
from kusei.endpoint.web import current
from kusei.release import Release

Term = service.Term


def select(release: Release, query: str) -> list[dict[str, Term]]:
    """Rows of a SELECT, each a dict of bound variables (unbound ones are left out)."""
    return service.select(release, query, settings=current.settings())


def iri_list(iris: list[str] | set[str]) -> str:
    """IRIs as the body of a VALUES block."""
    return " ".join(f"<{iri}>" for iri in sorted(iris))
