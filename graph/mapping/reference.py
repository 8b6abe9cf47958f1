"""The reference graph: wards, city, offices, bureaus, and Kusei's concept schemes, as RDF.

The tables are read and checked by the input stage (:class:`kusei.graph.input.reference.Reference`);
this module only turns them into quads. The Medium-Term Plan's themes, strategies and policies and
the fiscal years are stated only as far as the mapped documents cite them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from kusei.graph.input.reference import Reference
from kusei.graph.mapping import MappedDocument
from kusei.namespaces import (
    DCTERMS,
    ESTAT_SAC,
    ORG,
    QB,
    RDFS,
    SCHEMA,
    SKOS,
    TIME,
    TYPE,
    Terms,
    iri,
    lit,
    typed,
)


@dataclass(frozen=True)
class Cited:
    """What of the reference tables the documents use: fiscal years and Medium-Term Plan parts."""

    years: frozenset[int] = frozenset()
    themes: frozenset[str] = frozenset()
    strategies: frozenset[int] = frozenset()
    policies: frozenset[int] = frozenset()


def cited(mapped: list[MappedDocument], terms: Terms) -> Cited:
    """The years the documents' plans are for and the Medium-Term Plan parts they link to."""
    found: dict[str, set] = {"theme": set(), "strategy": set(), "policy": set()}
    prefix = terms.mtp().value + "/"
    for doc in mapped:
        for quad in doc.quads:
            value = getattr(quad.object, "value", "")
            if isinstance(quad.object, ox.NamedNode) and value.startswith(prefix):
                kind, _, number = value[len(prefix):].partition("/")
                if kind in found:
                    found[kind].add(number if kind == "theme" else int(number))
    year = terms.kusei("year")
    years = {int(t.object.value) for d in mapped for t in [*(q.triple for q in d.quads), *d.editorial]
             if t.predicate == year and isinstance(t.object, ox.Literal)}
    return Cited(frozenset(years), frozenset(found["theme"]), frozenset(found["strategy"]),
                 frozenset(found["policy"]))


@dataclass
class _Quads:
    """The quads of one graph, with the shapes of statement the reference graph repeats."""

    terms: Terms
    graph: ox.NamedNode
    out: list[ox.Quad] = field(default_factory=list)

    def add(self, s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
        self.out.append(ox.Quad(s, ox.NamedNode(p), o, self.graph))

    def a(self, s: ox.NamedNode, *classes: str) -> None:
        for cls in classes:
            self.add(s, TYPE.value, ox.NamedNode(cls))

    def labels(self, s: ox.NamedNode, ja: str, en: str, pred: str = RDFS + "label") -> None:
        self.add(s, pred, lit(ja, "ja"))
        self.add(s, pred, lit(en, "en"))

    def scheme(self, node: ox.NamedNode, ja: str, en: str, source: str | None) -> None:
        self.a(node, SKOS + "ConceptScheme")
        self.labels(node, ja, en, SKOS + "prefLabel")
        self.labels(node, ja, en)
        if source:
            self.add(node, DCTERMS + "source", lit(source, "ja"))

    def concept(self, node: ox.NamedNode, cls: str, in_scheme: ox.NamedNode, ja: str, en: str,
                notation: str | None = None, top: bool = True) -> None:
        self.a(node, SKOS + "Concept", self.terms.vocab + cls)
        self.labels(node, ja, en, SKOS + "prefLabel")
        self.labels(node, ja, en)
        self.add(node, SKOS + "inScheme", in_scheme)
        if top:
            self.add(node, SKOS + "topConceptOf", in_scheme)
            self.add(in_scheme, SKOS + "hasTopConcept", node)
        if notation:
            self.add(node, SKOS + "notation", lit(notation))


def reference_quads(reference: Reference, terms: Terms, graph: ox.NamedNode, cited: Cited) -> list[ox.Quad]:
    """The reference graph ``graph``: the tables of ``reference``, with what ``cited`` names."""
    q = _Quads(terms, graph)
    _places(q, reference)
    _bureaus(q, reference)
    _schemes(q, reference)
    _medium_term_plan(q, reference, cited)
    _fiscal_years(q, cited.years)
    population = terms.id("dataset/population")
    q.a(population, QB + "DataSet")
    q.labels(population, "区の人口・世帯数 (資料掲載値)",
             "Ward population and households (as printed in the documents)")
    return q.out


def _places(q: _Quads, reference: Reference) -> None:
    k, terms, city = q.terms.vocab, q.terms, reference.city
    city_area, city_org = terms.area(city["code"]), terms.organization(city["code"])
    q.a(city_area, SCHEMA + "City")
    q.labels(city_area, city["name"], city["en"])
    q.add(city_area, RDFS + "label", lit(city["romaji"], "ja-Latn"))
    q.add(city_area, RDFS + "label", lit(city["reading"], "ja-Hrkt"))
    q.add(city_area, DCTERMS + "identifier", lit(city["code"]))
    q.add(city_area, k + "localGovernmentCode", lit(city["code"]))
    q.add(city_area, SCHEMA + "sameAs", ox.NamedNode(city["wikidata"]))
    q.add(city_area, DCTERMS + "source", lit(reference.ward_source, "ja"))
    q.a(city_org, ORG + "FormalOrganization", SCHEMA + "GovernmentOrganization")
    q.labels(city_org, city["name"], city["en"])
    q.add(city_org, k + "jurisdiction", city_area)

    for code, ward in sorted(reference.wards.items()):
        area, office = terms.area(code), terms.organization(code)
        q.a(area, k + "Ward", SCHEMA + "AdministrativeArea")
        q.labels(area, ward["name"], ward["en"])
        q.add(area, RDFS + "label", lit(ward["romaji"], "ja-Latn"))
        q.add(area, RDFS + "label", lit(ward["reading"], "ja-Hrkt"))
        q.add(area, DCTERMS + "identifier", lit(code))
        q.add(area, k + "localGovernmentCode", lit(code))
        q.add(area, SCHEMA + "containedInPlace", city_area)
        q.add(area, k + "office", office)
        q.add(area, k + "eStatStandardAreaCode", ox.NamedNode(f"{ESTAT_SAC}C{code[:5]}"))
        if "e_stat_sac_dated" in ward:
            q.add(area, k + "eStatStandardAreaCode", ox.NamedNode(ESTAT_SAC + ward["e_stat_sac_dated"]))
        q.add(area, DCTERMS + "source", lit(reference.ward_source, "ja"))
        q.a(office, k + "WardOffice", ORG + "OrganizationalUnit", SCHEMA + "GovernmentOrganization")
        q.labels(office, f"{ward['name']}役所", f"{ward['en']} Office")
        q.add(office, ORG + "unitOf", city_org)
        q.add(office, k + "jurisdiction", area)


def _bureaus(q: _Quads, reference: Reference) -> None:
    city = reference.city["code"]
    for bureau in reference.bureaus:
        node = q.terms.bureau(city, bureau["key"])
        q.a(node, q.terms.vocab + "Bureau", ORG + "OrganizationalUnit")
        q.labels(node, bureau["name"], bureau["en"])
        q.add(node, ORG + "unitOf", q.terms.organization(city))
        q.add(node, DCTERMS + "source", lit(reference.bureau_source, "ja"))


def _schemes(q: _Quads, reference: Reference) -> None:
    terms = q.terms
    section_scheme = terms.id("section-type")
    q.scheme(section_scheme, "区役所の課の種類", "Kinds of ward-office section", reference.section_source)
    for st in reference.section_types:
        q.concept(terms.id(f"section-type/{st['key']}"), "SectionType", section_scheme, st["name"], st["en"])

    area_scheme = terms.id("policy-area")
    q.scheme(area_scheme, "政策分野 (Kusei の分類)", "Policy areas (Kusei classification)", None)
    q.add(area_scheme, RDFS + "comment", lit(
        "Kusei's own classification for comparing measures across wards and years. Assigning a "
        "measure to an area is an editorial interpretation, published in the interpretation graph.",
        "en"))
    for area in reference.policy_areas:
        node = terms.id(f"policy-area/{area['key']}")
        q.concept(node, "PolicyArea", area_scheme, area["ja"], area["en"])
        q.labels(node, area["def_ja"], area["def_en"], SKOS + "definition")


def _medium_term_plan(q: _Quads, reference: Reference, cited: Cited) -> None:
    terms, mtp = q.terms, reference.mtp
    plan = terms.mtp()
    q.scheme(plan, mtp["title"], mtp["title_en"], mtp["source"])
    q.add(plan, terms.vocab + "adoptedPrinted", lit(mtp["adopted"], "ja"))
    basic = terms.mtp("basic-strategy")
    q.concept(basic, "MTPBasicStrategy", plan, mtp["basic_strategy"], f"Basic strategy: {mtp['basic_strategy']}")
    for p in mtp["perspectives"]:
        node = terms.mtp(f"basic-strategy/{p['key']}")
        q.concept(node, "MTPPerspective", plan, p["name"], p["en"], top=False)
        q.add(node, SKOS + "broader", basic)
    for theme in sorted(cited.themes):
        q.concept(terms.mtp(f"theme/{theme}"), "MTPTheme", plan, f"中期計画 テーマ{theme}",
                  f"Medium-Term Plan theme {theme}", f"テーマ{theme}")
    for number in sorted(cited.strategies):
        q.concept(terms.mtp(f"strategy/{number}"), "MTPStrategy", plan, f"中期計画 戦略{number}",
                  f"Medium-Term Plan strategy {number}", f"戦略{number}")
    for number in sorted(cited.policies):
        q.concept(terms.mtp(f"policy/{number}"), "MTPPolicy", plan, f"中期計画 政策{number}",
                  f"Medium-Term Plan policy {number}", f"政策{number}", top=False)


def _fiscal_years(q: _Quads, years: frozenset[int]) -> None:
    for year in sorted(years):
        node = q.terms.fiscal_year(year)
        q.a(node, q.terms.vocab + "FiscalYear", TIME + "ProperInterval")
        q.labels(node, f"{year}年度", f"FY{year}")
        q.add(node, q.terms.vocab + "year", typed(year, "integer"))
        for pred, date, end in ((TIME + "hasBeginning", f"{year}-04-01", "begin"),
                                (TIME + "hasEnd", f"{year + 1}-03-31", "end")):
            instant = iri(node, end)
            q.add(node, pred, instant)
            q.a(instant, TIME + "Instant")
            q.add(instant, TIME + "inXSDDate", typed(date, "date"))
            q.add(instant, RDFS + "label", lit(date))
        q.add(node, RDFS + "comment", lit(
            "A Japanese local-government fiscal year runs from 1 April to 31 March "
            "(Local Autonomy Act, art. 208).", "en"))
