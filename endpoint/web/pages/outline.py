"""A plan as the document reads: its parts in printed order, nested, each with its source lines.

The generic property table shows a plan as a bag of triples; this model puts the same data back
into the shape of the printed plan (goal, measures with their projects, operation items, columns,
bureau projects, then the ward's mascot, contacts and notices).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pyoxigraph as ox

from kusei.endpoint.web.pages.data import run
from kusei.endpoint.web.pages.terms import (
    DCTERMS,
    LABEL_PREDICATES,
    RDF_TYPE,
    RDFS,
    SCHEMA,
    Labels,
    Namer,
    natural_key,
)
from kusei.namespaces import SDMX_DIM, terms
from kusei.release import Release

# Groups of top-level parts, in the order the plans print them; a part goes into the first group
# naming one of its classes. Unknown classes fall into the last group, so nothing is hidden.
GROUPS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("goal", "基本目標", "Basic goal", ("BasicGoal",)),
    # A theme above the measures (目指せ！環境未来都市) is its own part, not one of the measures.
    ("banners", "重点テーマ", "Banner", ("Banner",)),
    ("measures", "施策", "Measures", ("Measure",)),
    ("operation", "組織運営", "How the office runs", ("OperationItem",)),
    ("columns", "コラム", "Columns", ("Column",)),
    ("bureau", "局の事業", "City-bureau projects", ("BureauProject",)),
    ("facilities", "施設・都市基盤の事業", "Facilities and infrastructure",
     ("FacilityProject", "InfrastructureProject")),
    ("campaigns", "キャンペーン", "Campaigns", ("Campaign",)),
    ("ward", "区の紹介・問合せ・お知らせ", "The ward, contacts and notices",
     ("Mascot", "PopulationObservation", "ContactPoint", "Notice", "CoverLetter", "Section",
      "OnlineAccount")),
)
OTHER_GROUP = ("other", "その他", "Other parts")

# Shown by the outline itself (heading, number, place), so not again as a fact.
STRUCTURAL = {
    RDF_TYPE, RDFS + "label", DCTERMS + "title", SCHEMA + "name", SCHEMA + "position",
    DCTERMS + "description", DCTERMS + "isPartOf", DCTERMS + "hasPart", DCTERMS + "spatial",
}
# Links from a part to its parent: the outline nests a part under the first one present.
PARENT_LOCALS = ("itemOf", "measure", "banner")
# Said again by the build for simple queries (written-out super-properties) or by the number
# beside the printed one: the outline shows the specific statement once.
REPEATED_LOCALS = ("measureOrBanner", "mtpReference", "number")
SDMX_REF_PERIOD = SDMX_DIM + "refPeriod"


def lines_href(document_href: str, first: int, last: int | None) -> str:
    """The document's text with the lines ``first``–``last`` marked, scrolled to the first."""
    return f"{document_href}?lines={first}-{last or first}#L{first}"


@dataclass
class Link:
    text: str
    href: str | None


@dataclass
class Fact:
    iri: str
    label_ja: str
    label_en: str | None
    texts: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


@dataclass
class Part:
    iri: str
    href: str | None
    kind_ja: str
    kind_en: str | None
    classes: list[str]
    title: str
    number: str | None
    marker: str | None
    tagline: str | None
    descriptions: list[str]
    first: int | None
    last: int | None
    source_href: str | None
    facts: list[Fact] = field(default_factory=list)
    children: list[Part] = field(default_factory=list)
    position: int | None = None


@dataclass
class Group:
    key: str
    title_ja: str
    title_en: str
    parts: list[Part]


@dataclass
class Outline:
    plan: str
    document_href: str | None
    groups: list[Group]

    def iris(self) -> set[str]:
        """Every part the outline shows, at any depth."""
        seen: set[str] = set()
        stack = [part for group in self.groups for part in group.parts]
        while stack:
            part = stack.pop()
            seen.add(part.iri)
            stack.extend(part.children)
        return seen


def _int(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> int | None:
    if isinstance(term, ox.Literal):
        try:
            return int(term.value)
        except ValueError:
            return None
    return None


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _literal_text(literals: list[ox.Literal]) -> list[str]:
    # Japanese first; an English gloss of the same thing adds nothing to the outline.
    ja = [lit.value for lit in literals if (lit.language or "ja").startswith("ja")]
    return ja or [lit.value for lit in literals]


def build_outline(release: Release, namer: Namer, plan: str, term_labels: Labels) -> Outline | None:
    """The outline of ``plan``, or None when the IRI has no parts (not a plan)."""
    return release.memo("outline " + plan, lambda: _build(release, namer, plan, term_labels))


def _build(release: Release, namer: Namer, plan: str, term_labels: Labels) -> Outline | None:
    rows = run(release, "outline-parts", plan=plan)
    if not rows:
        return None
    props: dict[str, dict[str, list]] = {}
    for row in rows:
        props.setdefault(row["s"].value, {}).setdefault(row["p"].value, []).append(row["o"])
    document = next(iter(run(release, "plan-document", plan=plan)), None)
    reader = _Parts(terms(release.base).vocab, namer, term_labels, props, _linked_labels(release, props),
                    namer.href(document["d"].value) if document else None)
    parts = {subject: reader.part(subject) for subject in props}
    return Outline(plan=plan, document_href=reader.document_href, groups=_groups(_roots(reader, parts)))


def _linked_labels(release: Release, props: dict[str, dict[str, list]]) -> Labels:
    """The labels of what the parts link to outside the plan (areas, wards, classes of the data)."""
    linked = {
        term.value for by_pred in props.values() for values in by_pred.values()
        for term in values if isinstance(term, ox.NamedNode)
    } - set(props)
    labels = Labels()
    for row in run(release, "objects-of", subjects=linked, predicates=LABEL_PREDICATES) if linked else []:
        if isinstance(row["o"], ox.Literal):
            labels.add(row["s"].value, row["p"].value, row["o"])
    return labels


@dataclass
class _Parts:
    """The plan's parts as the query found them (subject → predicate → values), read into Parts."""

    kusei: str
    namer: Namer
    term_labels: Labels
    props: dict[str, dict[str, list]]
    labels: Labels
    document_href: str | None

    def one(self, subject: str, predicate: str) -> ox.NamedNode | ox.BlankNode | ox.Literal | None:
        values = self.props[subject].get(predicate, [])
        return min(values, key=lambda t: natural_key(t.value)) if values else None

    def text(self, subject: str, predicate: str) -> str | None:
        values = [t for t in self.props[subject].get(predicate, []) if isinstance(t, ox.Literal)]
        texts = _literal_text(values)
        return texts[0] if texts else None

    def title_of(self, subject: str) -> str:
        for predicate in (DCTERMS + "title", SCHEMA + "name", RDFS + "label"):
            found = self.text(subject, predicate)
            if found:
                return found
        return self.namer.short(subject)

    def label_of(self, iri: str) -> str:
        if iri in self.props:
            return self.title_of(iri)
        return self.labels.best(iri) or self.term_labels.best(iri) or self.namer.short(iri)

    @functools.cached_property
    def structural(self) -> set[str]:
        return STRUCTURAL | {self.kusei + local for local in (
            "firstLine", "lastLine", "sourceDocument", "plan", "printedNumber", "marker", "tagline", "printing",
            *PARENT_LOCALS, *REPEATED_LOCALS,
        )}

    def facts(self, subject: str) -> list[Fact]:
        namer, term_labels, own = self.namer, self.term_labels, self.props[subject]
        facts = []
        shown = set(own) - self.structural
        # A value the document prints is shown as printed ("90,997世帯"), not also as the number
        # it normalises to (90997); the printed date likewise stands for the observation's period.
        shown -= {p for p in shown if p + "Printed" in own}
        if self.kusei + "asOfPrinted" in own:
            shown.discard(SDMX_REF_PERIOD)
        for predicate in sorted(shown, key=lambda p: namer.curie(p) or p):
            values = own[predicate]
            literals = [t for t in values if isinstance(t, ox.Literal)]
            iris = sorted({t.value for t in values if isinstance(t, ox.NamedNode)}, key=natural_key)
            if not literals and not iris:
                continue  # blank nodes (corrections) are on the part's own page
            facts.append(Fact(
                iri=predicate,
                label_ja=term_labels.get(predicate, "ja") or namer.short(predicate),
                label_en=term_labels.get(predicate, "en"),
                texts=_literal_text(literals),
                links=[Link(self.label_of(iri), namer.href(iri)) for iri in iris],
            ))
        return facts

    def part(self, subject: str) -> Part:
        namer, term_labels, kusei = self.namer, self.term_labels, self.kusei
        classes = [t.value for t in self.props[subject].get(RDF_TYPE, []) if isinstance(t, ox.NamedNode)]
        own = [c for c in classes if c.startswith(kusei)] or classes
        kind = own[0] if own else None
        first = _int(self.one(subject, kusei + "firstLine"))
        last = _int(self.one(subject, kusei + "lastLine"))
        return Part(
            iri=subject,
            href=namer.href(subject),
            kind_ja=(term_labels.get(kind, "ja") if kind else None) or (namer.short(kind) if kind else ""),
            kind_en=term_labels.get(kind, "en") if kind else None,
            classes=[_local(c) for c in classes],
            title=self.title_of(subject),
            number=self.text(subject, kusei + "printedNumber"),
            marker=self.text(subject, kusei + "marker"),
            tagline=self.text(subject, kusei + "tagline"),
            descriptions=_literal_text([t for t in self.props[subject].get(DCTERMS + "description", [])
                                        if isinstance(t, ox.Literal)]),
            first=first,
            last=last,
            source_href=lines_href(self.document_href, first, last) if self.document_href and first else None,
            facts=self.facts(subject),
            position=_int(self.one(subject, SCHEMA + "position")),
        )


def _printed_order(part: Part) -> tuple:
    return (part.first if part.first is not None else 10**9, part.position or 0, natural_key(part.iri))


def _roots(reader: _Parts, parts: dict[str, Part]) -> list[Part]:
    """Each part under its parent (in printed order); the parts with none, in printed order."""
    roots: list[Part] = []
    for subject, part in parts.items():
        parent = None
        for predicate in [reader.kusei + local for local in PARENT_LOCALS] + [DCTERMS + "isPartOf"]:
            candidate = reader.one(subject, predicate)
            if isinstance(candidate, ox.NamedNode) and candidate.value in parts and candidate.value != subject:
                parent = candidate.value
                break
        (parts[parent].children if parent else roots).append(part)
    for part in parts.values():
        part.children.sort(key=_printed_order)
    return sorted(roots, key=_printed_order)


def _groups(roots: list[Part]) -> list[Group]:
    """The top-level parts in the plan's groups (GROUPS, then the rest), empty groups left out."""
    groups: dict[str, Group] = {}
    for key, ja, en, _ in (*GROUPS, (*OTHER_GROUP, ())):
        groups[key] = Group(key, ja, en, [])
    for part in roots:
        key = next((g[0] for g in GROUPS if set(g[3]) & set(part.classes)), OTHER_GROUP[0])
        groups[key].parts.append(part)
    return [g for g in groups.values() if g.parts]


@dataclass
class Place:
    """Where a part sits among its siblings: the n-th measure of a plan, with its neighbours."""

    number: str | None
    index: int
    total: int
    kind_ja: str
    previous: Link | None
    next: Link | None


def build_place(release: Release, namer: Namer, iri: str, term_labels: Labels) -> Place | None:
    """Previous and next among the parts of the same parent and class, in printed order."""
    rows = run(release, "outline-place", part=iri)
    if not rows:
        return None
    cls = min(row["cls"].value for row in rows)
    siblings: dict[str, dict] = {}
    for row in rows:
        if row["cls"].value == cls:
            siblings.setdefault(row["sib"].value, row)
    order = sorted(siblings, key=lambda s: (_int(siblings[s].get("pos")) or 0, natural_key(s)))
    index = order.index(iri)

    def link(position: int) -> Link | None:
        if not 0 <= position < len(order):
            return None
        row = siblings[order[position]]
        label = row["label"].value if "label" in row else namer.short(order[position])
        number = row["num"].value if "num" in row else None
        return Link(f"{number}. {label}" if number else label, namer.href(order[position]))

    number = siblings[iri].get("num")
    return Place(
        number=number.value if number is not None else None,
        index=index + 1,
        total=len(order),
        kind_ja=term_labels.get(cls, "ja") or namer.short(cls),
        previous=link(index - 1),
        next=link(index + 1),
    )
