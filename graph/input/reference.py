"""The reference graph: wards, city, offices, bureaus, and Kusei's concept schemes.

None of this comes from the five documents; each table in ``graph/reference/`` says where it
comes from, and the graph states that source (``dcterms:source``) on every scheme and table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from ruamel.yaml.error import MarkedYAMLError

from kusei.graph.input import yamlsafe
from kusei.graph.input.record import RecordError, RecordErrors
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

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"


def check_digit_ok(code: str) -> bool:
    """全国地方公共団体コード: the 6th digit is (11 - Σ weight·digit mod 11) mod 10, weights 6..2."""
    if len(code) != 6 or not code.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(code[:5], (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10 == int(code[5])


def _load(name: str, directory: Path) -> dict:
    # Contributors extend these tables too: read them with the same bounds as a record.
    try:
        return yamlsafe.load(directory / name, typ="safe")  # type: ignore[no-any-return]
    except yamlsafe.UnsafeYAML as exc:
        raise RecordErrors([RecordError(name, exc.line, "(yaml)", exc.reason)]) from exc
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise RecordErrors([RecordError(name, mark.line + 1 if mark else None, "(yaml)",
                                        exc.problem or exc.context or str(exc))]) from exc


@dataclass
class Reference:
    directory: Path = REFERENCE_DIR
    wards: dict = field(init=False)
    bureaus: list = field(init=False)
    section_types: list = field(init=False)
    policy_areas: list = field(init=False)
    mtp: dict = field(init=False)
    city: dict = field(init=False)

    def __post_init__(self) -> None:
        table = _load("wards.yaml", self.directory)
        self.city = table["city"]
        self.wards = {w["code"]: w for w in table["wards"]}
        self._ward_source = table["source"]
        bureaus = _load("bureaus.yaml", self.directory)
        self.bureaus, self._bureau_source = bureaus["bureaus"], bureaus["source"]
        sections = _load("section_types.yaml", self.directory)
        self.section_types, self._section_source = sections["types"], sections["source"]
        self.policy_areas = _load("policy_areas.yaml", self.directory)["areas"]
        self.mtp = _load("mtp.yaml", self.directory)
        for code in [self.city["code"], *self.wards]:
            if not check_digit_ok(code):
                raise RecordError("wards.yaml", None, "code", f"{code} fails the check digit")

    @property
    def section_keys(self) -> frozenset[str]:
        return frozenset(s["key"] for s in self.section_types)

    @property
    def bureau_keys(self) -> frozenset[str]:
        return frozenset(b["key"] for b in self.bureaus)

    def ward(self, code: str) -> dict | None:
        return self.wards.get(code)

    @staticmethod
    def unknown_ward(file: str, line: int | None, code: str) -> RecordError:
        return RecordError(file, line, "document.ward", f"{code} is not a Yokohama ward code (wards.yaml)")

    def quads(self, terms: Terms, graph: ox.NamedNode, *, years: set[int], themes: set[str],
              strategies: set[int], policies: set[int]) -> list[ox.Quad]:
        out: list[ox.Quad] = []

        def add(s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
            out.append(ox.Quad(s, ox.NamedNode(p), o, graph))

        def labels(s: ox.NamedNode, ja: str, en: str, pred: str = RDFS + "label") -> None:
            add(s, pred, lit(ja, "ja"))
            add(s, pred, lit(en, "en"))

        k = terms.vocab
        city = self.city
        city_area, city_org = terms.area(city["code"]), terms.organization(city["code"])
        add(city_area, TYPE.value, ox.NamedNode(SCHEMA + "City"))
        labels(city_area, city["name"], city["en"])
        add(city_area, RDFS + "label", lit(city["romaji"], "ja-Latn"))
        add(city_area, RDFS + "label", lit(city["reading"], "ja-Hrkt"))
        add(city_area, DCTERMS + "identifier", lit(city["code"]))
        add(city_area, k + "localGovernmentCode", lit(city["code"]))
        add(city_area, SCHEMA + "sameAs", ox.NamedNode(city["wikidata"]))
        add(city_area, DCTERMS + "source", lit(self._ward_source, "ja"))
        for cls in (ORG + "FormalOrganization", SCHEMA + "GovernmentOrganization"):
            add(city_org, TYPE.value, ox.NamedNode(cls))
        labels(city_org, city["name"], city["en"])
        add(city_org, k + "jurisdiction", city_area)

        for code, ward in sorted(self.wards.items()):
            area, office = terms.area(code), terms.organization(code)
            add(area, TYPE.value, ox.NamedNode(k + "Ward"))
            add(area, TYPE.value, ox.NamedNode(SCHEMA + "AdministrativeArea"))
            labels(area, ward["name"], ward["en"])
            add(area, RDFS + "label", lit(ward["romaji"], "ja-Latn"))
            add(area, RDFS + "label", lit(ward["reading"], "ja-Hrkt"))
            add(area, DCTERMS + "identifier", lit(code))
            add(area, k + "localGovernmentCode", lit(code))
            add(area, SCHEMA + "containedInPlace", city_area)
            add(area, k + "office", office)
            add(area, k + "eStatStandardAreaCode", ox.NamedNode(f"{ESTAT_SAC}C{code[:5]}"))
            if "e_stat_sac_dated" in ward:
                add(area, k + "eStatStandardAreaCode", ox.NamedNode(ESTAT_SAC + ward["e_stat_sac_dated"]))
            add(area, DCTERMS + "source", lit(self._ward_source, "ja"))
            for cls in (k + "WardOffice", ORG + "OrganizationalUnit", SCHEMA + "GovernmentOrganization"):
                add(office, TYPE.value, ox.NamedNode(cls))
            labels(office, f"{ward['name']}役所", f"{ward['en']} Office")
            add(office, ORG + "unitOf", city_org)
            add(office, k + "jurisdiction", area)

        for bureau in self.bureaus:
            node = terms.bureau(city["code"], bureau["key"])
            add(node, TYPE.value, ox.NamedNode(k + "Bureau"))
            add(node, TYPE.value, ox.NamedNode(ORG + "OrganizationalUnit"))
            labels(node, bureau["name"], bureau["en"])
            add(node, ORG + "unitOf", city_org)
            add(node, DCTERMS + "source", lit(self._bureau_source, "ja"))

        def scheme(node: ox.NamedNode, ja: str, en: str, source: str | None) -> None:
            add(node, TYPE.value, ox.NamedNode(SKOS + "ConceptScheme"))
            labels(node, ja, en, SKOS + "prefLabel")
            labels(node, ja, en)
            if source:
                add(node, DCTERMS + "source", lit(source, "ja"))

        def concept(node: ox.NamedNode, cls: str, in_scheme: ox.NamedNode, ja: str, en: str,
                    notation: str | None = None, top: bool = True) -> None:
            add(node, TYPE.value, ox.NamedNode(SKOS + "Concept"))
            add(node, TYPE.value, ox.NamedNode(k + cls))
            labels(node, ja, en, SKOS + "prefLabel")
            labels(node, ja, en)
            add(node, SKOS + "inScheme", in_scheme)
            if top:
                add(node, SKOS + "topConceptOf", in_scheme)
                add(in_scheme, SKOS + "hasTopConcept", node)
            if notation:
                add(node, SKOS + "notation", lit(notation))

        section_scheme = terms.id("section-type")
        scheme(section_scheme, "区役所の課の種類", "Kinds of ward-office section", self._section_source)
        for st in self.section_types:
            concept(terms.id(f"section-type/{st['key']}"), "SectionType", section_scheme, st["name"], st["en"])

        area_scheme = terms.id("policy-area")
        scheme(area_scheme, "政策分野 (Kusei の分類)", "Policy areas (Kusei classification)", None)
        add(area_scheme, RDFS + "comment", lit(
            "Kusei's own classification for comparing measures across wards and years. Assigning a "
            "measure to an area is an editorial interpretation, published in the interpretation graph.",
            "en"))
        for area in self.policy_areas:
            node = terms.id(f"policy-area/{area['key']}")
            concept(node, "PolicyArea", area_scheme, area["ja"], area["en"])
            labels(node, area["def_ja"], area["def_en"], SKOS + "definition")

        mtp = self.mtp
        plan = terms.mtp()
        scheme(plan, mtp["title"], mtp["title_en"], mtp["source"])
        add(plan, k + "adoptedPrinted", lit(mtp["adopted"], "ja"))
        basic = terms.mtp("basic-strategy")
        concept(basic, "MTPBasicStrategy", plan, mtp["basic_strategy"],
                f"Basic strategy: {mtp['basic_strategy']}")
        for p in mtp["perspectives"]:
            node = terms.mtp(f"basic-strategy/{p['key']}")
            concept(node, "MTPPerspective", plan, p["name"], p["en"], top=False)
            add(node, SKOS + "broader", basic)
        for theme in sorted(themes):
            concept(terms.mtp(f"theme/{theme}"), "MTPTheme", plan, f"中期計画 テーマ{theme}",
                    f"Medium-Term Plan theme {theme}", f"テーマ{theme}")
        for number in sorted(strategies):
            concept(terms.mtp(f"strategy/{number}"), "MTPStrategy", plan, f"中期計画 戦略{number}",
                    f"Medium-Term Plan strategy {number}", f"戦略{number}")
        for number in sorted(policies):
            concept(terms.mtp(f"policy/{number}"), "MTPPolicy", plan, f"中期計画 政策{number}",
                    f"Medium-Term Plan policy {number}", f"政策{number}", top=False)

        for year in sorted(years):
            node = terms.fiscal_year(year)
            add(node, TYPE.value, ox.NamedNode(k + "FiscalYear"))
            add(node, TYPE.value, ox.NamedNode(TIME + "ProperInterval"))
            labels(node, f"{year}年度", f"FY{year}")
            add(node, k + "year", typed(year, "integer"))
            for pred, date in ((TIME + "hasBeginning", f"{year}-04-01"), (TIME + "hasEnd", f"{year + 1}-03-31")):
                instant = iri(node, "begin" if pred.endswith("Beginning") else "end")
                add(node, pred, instant)
                add(instant, TYPE.value, ox.NamedNode(TIME + "Instant"))
                add(instant, TIME + "inXSDDate", typed(date, "date"))
                add(instant, RDFS + "label", lit(date))
            add(node, RDFS + "comment", lit(
                "A Japanese local-government fiscal year runs from 1 April to 31 March "
                "(Local Autonomy Act, art. 208).", "en"))

        population = terms.id("dataset/population")
        add(population, TYPE.value, ox.NamedNode(QB + "DataSet"))
        labels(population, "区の人口・世帯数 (資料掲載値)",
               "Ward population and households (as printed in the documents)")
        return out
