"""What the home page shows: counts, and the wards with their plans by fiscal year."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox
from kusei.endpoint.web.pages.memo import cached
from kusei.endpoint.web.pages.terms import Labels, Namer

from kusei.release import Release

TYPE_COUNT_QUERY = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{cls}> }}"
PLANS_QUERY = """
PREFIX kusei: <{kusei}>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?plan ?ward ?year ?inferred (COUNT(DISTINCT ?measure) AS ?measures) WHERE {{
  ?plan a kusei:Plan ; dcterms:spatial ?ward .
  OPTIONAL {{ ?plan kusei:year ?year }}
  OPTIONAL {{ ?plan kusei:fiscalYearInferred ?inferred }}
  OPTIONAL {{ ?measure a kusei:Measure ; kusei:plan ?plan }}
}} GROUP BY ?plan ?ward ?year ?inferred
"""


@dataclass
class PlanEntry:
    href: str
    year: int | None
    label: str
    inferred: bool
    measures: int


@dataclass
class WardEntry:
    href: str
    label_ja: str
    label_en: str | None
    code: str
    plans: list[PlanEntry] = field(default_factory=list)


@dataclass
class Home:
    counts: dict[str, int]
    wards: list[WardEntry]


def _count(store: ox.Store, query: str) -> int:
    for row in store.query(query, use_default_graph_as_union=True):
        return int(row[0].value) if row[0] is not None else 0
    return 0


def _labels(store: ox.Store, iris: set[str]) -> Labels:
    labels = Labels()
    for iri in iris:
        for quad in store.quads_for_pattern(ox.NamedNode(iri), None, None, None):
            labels.add_triples([quad.triple])
    return labels


def _compute(release: Release, namer: Namer) -> Home:
    store = release.store
    kusei = release.base + "/def/"
    # The union graph may hold a statement once per graph that states it; count it once.
    triples = _count(store, "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }")
    counts = {"triples": triples}
    for name, cls in (("plans", "Plan"), ("measures", "Measure"), ("projects", "Project")):
        counts[name] = _count(store, TYPE_COUNT_QUERY.format(cls=kusei + cls))

    rows = list(store.query(PLANS_QUERY.format(kusei=kusei), use_default_graph_as_union=True))
    iris = {row["plan"].value for row in rows} | {row["ward"].value for row in rows}
    labels = _labels(store, iris)
    wards: dict[str, WardEntry] = {}
    for row in rows:
        ward = row["ward"].value
        entry = wards.get(ward)
        if entry is None:
            code = ward.rsplit("/", 1)[-1]
            entry = wards[ward] = WardEntry(
                href=namer.href(ward),
                label_ja=labels.get(ward, "ja") or namer.short(ward),
                label_en=labels.get(ward, "en"),
                code=code,
            )
        year = row["year"]
        inferred = row["inferred"]
        entry.plans.append(
            PlanEntry(
                href=namer.href(row["plan"].value),
                year=int(year.value) if year is not None else None,
                label=labels.get(row["plan"].value, "ja") or namer.short(row["plan"].value),
                inferred=inferred is not None and inferred.value == "true",
                measures=int(row["measures"].value),
            )
        )
    for entry in wards.values():
        entry.plans.sort(key=lambda plan: plan.year or 0)
    # Wards in code order, which is the city's own order (Tsurumi first).
    return Home(counts=counts, wards=sorted(wards.values(), key=lambda ward: ward.code))


def build_home(release: Release, namer: Namer) -> Home:
    return cached(release, "home", lambda: _compute(release, namer))
