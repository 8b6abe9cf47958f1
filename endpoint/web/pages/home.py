"""What the home page shows: counts, and all of the city's wards with their plans by fiscal year."""

from __future__ import annotations

from dataclasses import dataclass

from kusei.endpoint.web.pages.compare import WardSummary, catalogue
from kusei.endpoint.web.pages.data import select
from kusei.endpoint.web.pages.terms import Namer
from kusei.release import Release

TYPE_COUNT_QUERY = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{cls}> }}"


@dataclass
class Home:
    counts: dict[str, int]
    wards: list[WardSummary]

    @property
    def wards_with_plans(self) -> int:
        return sum(1 for ward in self.wards if ward.plans)


def _count(release: Release, query: str) -> int:
    rows = select(release, query)
    return int(rows[0]["n"].value) if rows and "n" in rows[0] else 0


def _compute(release: Release, namer: Namer) -> Home:
    kusei = release.base + "/def/"
    # The default graph is the merge of the named graphs, each triple once.
    counts = {"triples": _count(release, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")}
    for name, cls in (("plans", "Plan"), ("measures", "Measure"), ("projects", "Project")):
        counts[name] = _count(release, TYPE_COUNT_QUERY.format(cls=kusei + cls))
    # Wards in code order, which is the city's own order (Tsurumi first).
    return Home(counts=counts, wards=catalogue(release, namer).wards)


def build_home(release: Release, namer: Namer) -> Home:
    return release.memo("home", lambda: _compute(release, namer))
