"""Wards and years side by side: the ward list, a ward's plans, the policy-area comparison, the
year-over-year view and the chart, all from one catalogue of plans read once per release.

Policy areas are Kusei's editorial classification of measures (the interpretation graph);
projects are counted under the areas of their measure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kusei.endpoint.web.pages.data import run
from kusei.endpoint.web.pages.terms import Namer, natural_key
from kusei.namespaces import terms
from kusei.release import Release


@dataclass
class Item:
    iri: str
    href: str | None
    title: str
    number: str | None = None
    number_value: int | None = None  # kusei:number, the printed number as an integer
    projects: list[Item] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)


@dataclass
class PlanSummary:
    iri: str
    href: str | None
    ward: str
    ward_code: str
    ward_label: str
    year: int | None
    inferred: bool
    label: str
    goal_title: str | None
    goal_href: str | None
    goal_tagline: str | None
    measures: list[Item] = field(default_factory=list)
    # Every project of the plan, also those printed under a banner, which is not a measure.
    project_count: int = 0

    @property
    def short_label(self) -> str:
        return f"{self.ward_label} {'FY' + str(self.year) if self.year else '—'}"


@dataclass
class WardSummary:
    iri: str
    href: str | None
    page_href: str
    code: str
    label_ja: str
    label_en: str | None
    reading: str | None
    plans: list[PlanSummary] = field(default_factory=list)


@dataclass
class Area:
    iri: str
    href: str | None
    label_ja: str
    label_en: str | None


@dataclass
class Catalogue:
    wards: list[WardSummary]
    plans: list[PlanSummary]
    areas: list[Area]

    def ward(self, code: str) -> WardSummary | None:
        return next((w for w in self.wards if w.code == code), None)


def _first(rows: list[dict], key: str) -> str | None:
    return rows[0][key].value if rows and key in rows[0] else None


def _build(release: Release, namer: Namer) -> Catalogue:
    wards = _wards(release, namer)
    plans = _plans(release, namer, wards)
    measures = _measures(release, namer)
    _add_projects(release, namer, plans, measures)
    for _pos, item, plan_iri in sorted(measures.values(), key=lambda x: (x[0], natural_key(x[1].iri))):
        if plan_iri in plans:
            plans[plan_iri].measures.append(item)
    ordered_plans = sorted(plans.values(), key=lambda p: (p.ward_code, p.year or 0, p.iri))
    for summary in ordered_plans:
        if summary.ward in wards:
            wards[summary.ward].plans.append(summary)
    return Catalogue(sorted(wards.values(), key=lambda w: w.code), ordered_plans, _areas(release, namer, measures))


def _wards(release: Release, namer: Namer) -> dict[str, WardSummary]:
    """The wards by IRI, with their Japanese and English names and reading."""
    wards: dict[str, WardSummary] = {}
    for row in run(release, "wards"):
        iri = row["ward"].value
        ward = wards.setdefault(iri, WardSummary(
            iri=iri, href=namer.href(iri), page_href=f"/ward/{row['code'].value}", code=row["code"].value,
            label_ja=namer.short(iri), label_en=None, reading=None))
        lang = row["lang"].value.lower() if "lang" in row else ""
        if lang == "ja":
            ward.label_ja = row["label"].value
        elif lang == "en":
            ward.label_en = row["label"].value
        elif lang == "ja-hrkt":
            ward.reading = row["label"].value
    return wards


def _plans(release: Release, namer: Namer, wards: dict[str, WardSummary]) -> dict[str, PlanSummary]:
    """The plans by IRI, each with its ward, year and basic goal (no measures yet)."""
    plans: dict[str, PlanSummary] = {}
    for row in run(release, "plans"):
        iri = row["plan"].value
        if iri in plans:
            continue
        of_ward = wards.get(row["ward"].value)
        year = row.get("year")
        plans[iri] = PlanSummary(
            iri=iri, href=namer.href(iri), ward=row["ward"].value,
            ward_code=of_ward.code if of_ward else row["ward"].value.rsplit("/", 1)[-1],
            ward_label=of_ward.label_ja if of_ward else namer.short(row["ward"].value),
            year=int(year.value) if year is not None else None,
            inferred="inferred" in row and row["inferred"].value == "true",
            label=row["label"].value if "label" in row else namer.short(iri),
            goal_title=row["goalTitle"].value if "goalTitle" in row else None,
            goal_href=namer.href(row["goal"].value) if "goal" in row else None,
            goal_tagline=row["goalTagline"].value if "goalTagline" in row else None,
        )
    return plans


def _measures(release: Release, namer: Namer) -> dict[str, tuple[int, Item, str]]:
    """Measure IRI → (printed position, the measure with its policy areas, its plan's IRI)."""
    measures: dict[str, tuple[int, Item, str]] = {}
    for row in run(release, "measures"):
        iri = row["m"].value
        if iri not in measures:
            pos = int(row["pos"].value) if "pos" in row else 0
            item = Item(iri, namer.href(iri), row["title"].value if "title" in row else namer.short(iri),
                        number=row["num"].value if "num" in row else None,
                        number_value=int(row["n"].value) if "n" in row else None)
            measures[iri] = (pos, item, row["plan"].value)
        if "area" in row and row["area"].value not in measures[iri][1].areas:
            measures[iri][1].areas.append(row["area"].value)
    return measures


def _add_projects(release: Release, namer: Namer, plans: dict[str, PlanSummary],
                  measures: dict[str, tuple[int, Item, str]]) -> None:
    """Each measure's projects in printed order, and each plan's count of projects."""
    projects: dict[str, list[tuple[int, Item]]] = {}
    seen: set[str] = set()
    for row in run(release, "projects"):
        if row["p"].value in seen:
            continue
        seen.add(row["p"].value)
        if row["plan"].value in plans:
            plans[row["plan"].value].project_count += 1
        pos = int(row["pos"].value) if "pos" in row else 0
        iri = row["p"].value
        title = row["title"].value if "title" in row else namer.short(iri)
        projects.setdefault(row["m"].value, []).append((pos, Item(iri, namer.href(iri), title)))
    for iri, (_, item, _plan) in measures.items():
        item.projects = [p for _, p in sorted(projects.get(iri, []), key=lambda x: (x[0], natural_key(x[1].iri)))]


def _areas(release: Release, namer: Namer, measures: dict[str, tuple[int, Item, str]]) -> list[Area]:
    """The policy areas, most used first: they are where plans can be compared at all."""
    usage: dict[str, int] = {}
    for _, item, _plan in measures.values():
        for area in item.areas:
            usage[area] = usage.get(area, 0) + 1
    areas: dict[str, Area] = {}
    for row in run(release, "policy-areas"):
        iri = row["area"].value
        areas.setdefault(iri, Area(iri, namer.href(iri), row["ja"].value if "ja" in row else namer.short(iri),
                                   row["en"].value if "en" in row else None))
    return sorted(areas.values(), key=lambda a: (-usage.get(a.iri, 0), natural_key(a.iri)))


def catalogue(release: Release, namer: Namer) -> Catalogue:
    return release.memo("catalogue", lambda: _build(release, namer))


# -- comparison ---------------------------------------------------------------------------------


@dataclass
class Comparison:
    plans: list[PlanSummary]
    rows: list[tuple[Area, list[list[Item]]]]  # per area: per plan, the measures in it
    unclassified: list[list[Item]]


def compare(cat: Catalogue, plan_iris: list[str] | None = None) -> Comparison:
    plans = [p for p in cat.plans if not plan_iris or p.iri in plan_iris] or cat.plans
    rows = []
    for area in cat.areas:
        cells = [[m for m in plan.measures if area.iri in m.areas] for plan in plans]
        if any(cells):
            rows.append((area, cells))
    unclassified = [[m for m in plan.measures if not m.areas] for plan in plans]
    return Comparison(plans, rows, unclassified)


# -- year over year -----------------------------------------------------------------------------

# What the year-over-year view compares, in the order it lists them: the components a plan
# prints with a title of its own (example query 15 lists the same), then the ward's sections and
# mascots, whose IRIs are the ward's and so are "in both" when both documents print them.
STEP_TYPES = ("BasicGoal", "Banner", "Measure", "Project", "OperationItem", "Section", "Character")
STATUSES = ("continued", "new", "dropped", "in both")


@dataclass
class Change:
    status: str  # one of STATUSES
    kind: str  # the local name of the component's class (of the later one when continued)
    title: str
    before: Item | None
    after: Item | None
    evidence: str | None = None  # why Kusei takes the later one to continue the earlier one (en)
    evidence_ja: str | None = None


@dataclass
class YearStep:
    before: PlanSummary
    after: PlanSummary
    changes: list[Change]

    def count(self, status: str) -> int:
        return sum(1 for c in self.changes if c.status == status)


def _step(release: Release, namer: Namer, before: PlanSummary, after: PlanSummary) -> YearStep:
    kusei = terms(release.base).vocab
    changes: dict[tuple[str, str, str, str], Change] = {}
    for row in run(release, "year-step", before_plan=before.iri, after_plan=after.iri):
        earlier, later = row.get("before"), row.get("after")
        status, kind = row["status"].value, row["type"].value.removeprefix(kusei)
        key = (status, kind, earlier.value if earlier else "", later.value if later else "")
        if key in changes:
            continue  # a second evidence or label of the same pair
        changes[key] = Change(
            status, kind, (row.get("afterLabel") or row["beforeLabel"]).value,
            Item(earlier.value, namer.href(earlier.value), row["beforeLabel"].value) if earlier else None,
            Item(later.value, namer.href(later.value), row["afterLabel"].value) if later else None,
            row["evidence"].value if "evidence" in row else None,
            row["evidenceJa"].value if "evidenceJa" in row else None)
    order = {t: i for i, t in enumerate(STEP_TYPES)}

    def rank(c: Change) -> tuple:
        shown = c.before or c.after
        return STATUSES.index(c.status), order.get(c.kind, len(order)), natural_key(shown.iri if shown else "")

    ranked = sorted(changes.values(), key=rank)
    return YearStep(before, after, ranked)


def year_over_year(release: Release, namer: Namer, ward: WardSummary) -> list[YearStep]:
    """One step per pair of consecutive plans of the ward that have a fiscal year."""
    plans = [p for p in ward.plans if p.year is not None]
    return release.memo(f"years-{ward.code}", lambda: [
        _step(release, namer, before, after) for before, after in zip(plans, plans[1:], strict=False)])
