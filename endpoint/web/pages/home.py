"""What the home page shows: counts, and the wards with their plans by fiscal year."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from kusei.endpoint.query import service
from kusei.endpoint.web.pages.terms import LABEL_PREDICATES, Labels, Namer
from kusei.release import Release
from kusei.settings import Settings

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


def _count(release: Release, query: str, settings: Settings) -> int:
    for row in service.select(release, query, settings=settings):
        return int(row["n"].value) if "n" in row else 0
    return 0


def _labels(release: Release, iris: set[str], settings: Settings) -> Labels:
    labels = Labels()
    if iris:
        values = " ".join(str(ox.NamedNode(iri)) for iri in sorted(iris))
        predicates = " ".join(f"<{p}>" for p in LABEL_PREDICATES)
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {values} }} VALUES ?p {{ {predicates} }} ?s ?p ?o }}"
        labels.add_triples(service.construct(release, query, settings=settings))
    return labels


def _compute(release: Release, namer: Namer, settings: Settings) -> Home:
    kusei = release.base + "/def/"
    # The default graph is the merge of the named graphs: each statement once.
    counts = {"triples": _count(release, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", settings)}
    for name, cls in (("plans", "Plan"), ("measures", "Measure"), ("projects", "Project")):
        counts[name] = _count(release, TYPE_COUNT_QUERY.format(cls=kusei + cls), settings)

    rows = service.select(release, PLANS_QUERY.format(kusei=kusei), settings=settings)
    iris = {row["plan"].value for row in rows} | {row["ward"].value for row in rows}
    labels = _labels(release, iris, settings)
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
        year = row.get("year")
        inferred = row.get("inferred")
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


def build_home(release: Release, namer: Namer, settings: Settings) -> Home:
    return release.memo("home", lambda: _compute(release, namer, settings))
