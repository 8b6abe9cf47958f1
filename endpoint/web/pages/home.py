"""What the home page shows: counts, and all of the city's wards with their plans by fiscal year."""

from __future__ import annotations

from dataclasses import dataclass

from kusei.endpoint.web.pages.compare import WardSummary, catalogue
from kusei.endpoint.web.pages.compare_export import ward_json
from kusei.endpoint.web.pages.data import Row, run
from kusei.endpoint.web.pages.terms import Namer
from kusei.namespaces import terms
from kusei.release import Release


@dataclass(frozen=True)
class Counts:
    """The home page's numbers, with the two triple counts a reader meets elsewhere.

    ``data_triples`` is the dataset description's ``void:triples``: each distinct triple of the
    data graphs once, as kusei.ttl and kusei.nt hold them (the dumps page counts the same).
    ``default_graph`` is what ``COUNT(*)`` over the SPARQL default graph gives: the same triples
    plus those of the dataset description itself, which lives in a graph of its own.
    """

    data_triples: int
    default_graph: int
    plans: int
    measures: int
    projects: int

    @property
    def description_triples(self) -> int:
        return self.default_graph - self.data_triples

    def as_json(self) -> dict[str, int | str]:
        return {
            "triples": self.data_triples, "default_graph_triples": self.default_graph,
            "description_triples": self.description_triples,
            "plans": self.plans, "measures": self.measures, "projects": self.projects,
            "triples_note": "triples is void:triples of the dataset description and the number of triples in "
                            "kusei.ttl and kusei.nt; the SPARQL default graph also holds the description's "
                            "own triples (default_graph_triples = triples + description_triples).",
        }


@dataclass
class Home:
    counts: Counts
    wards: list[WardSummary]
    dataset: str  # the dataset description's IRI

    @property
    def wards_with_plans(self) -> int:
        return sum(1 for ward in self.wards if ward.plans)

    def as_json(self) -> dict[str, object]:
        return {
            "dataset": self.dataset,
            "counts": self.counts.as_json(),
            "wards_with_plans": self.wards_with_plans,
            "wards": [{**ward_json(ward), "has_plans": bool(ward.plans), "page": ward.page_href}
                      for ward in self.wards],
        }


def _count(rows: list[Row]) -> int:
    return int(rows[0]["n"].value) if rows and "n" in rows[0] else 0


def _compute(release: Release, namer: Namer) -> Home:
    t = terms(release.base)
    dataset = t.dataset.value
    default_graph = _count(run(release, "count-triples"))
    # The build counted the data triples for VoID; the page shows that number rather than a second count.
    void = _count(run(release, "dataset-triples", dataset=t.dataset))
    types = {name: _count(run(release, "count-instances", cls=t.kusei(cls)))
             for name, cls in (("plans", "Plan"), ("measures", "Measure"), ("projects", "Project"))}
    counts = Counts(data_triples=void or default_graph, default_graph=default_graph, **types)
    # Wards in code order, which is the city's own order (Tsurumi first).
    return Home(counts=counts, wards=catalogue(release, namer).wards, dataset=dataset)


def build_home(release: Release, namer: Namer) -> Home:
    return release.memo("home", lambda: _compute(release, namer))
