"""The reference graph from reference tables written for these tests (kusei.graph.mapping.reference):
no records, no build, no SHACL, no store.

The tables name one city, two wards and one bureau; the codes are the city's and two of its wards'
local-government codes (their check digits hold), the rest is made up here.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kusei.graph.input.record import RecordError
from kusei.graph.input.reference import Reference
from kusei.graph.mapping import MappedDocument
from kusei.graph.mapping.reference import Cited, cited, reference_quads
from kusei.namespaces import DCTERMS, ESTAT_SAC, ORG, RDFS, SCHEMA, SKOS, TIME, TYPE, XSD, Terms

BASE = "http://example.test/kusei"  # not the default base: every IRI must follow it
K = f"{BASE}/def/"
ID = f"{BASE}/id/"
TABLES = {
    "wards.yaml": """\
source: test ward table
city: {code: "141003", name: 試験市, reading: しけんし, romaji: Shiken-shi, en: Test City,
       wikidata: http://www.wikidata.org/entity/Q1}
wards:
  - {code: "141089", name: 北区, reading: きたく, romaji: Kita-ku, en: Kita Ward, e_stat_sac_dated: C14108-20000401}
  - {code: "141011", name: 南区, reading: みなみく, romaji: Minami-ku, en: Minami Ward}
""",
    "bureaus.yaml": """\
source: test bureau table
bureaus:
  - {key: roads, name: 道局, en: Roads Bureau}
""",
    "section_types.yaml": """\
source: test section table
types:
  - {key: general, name: 総務課, en: General Section}
""",
    "policy_areas.yaml": """\
areas:
  - {key: safety, ja: 安全, en: Safety, def_en: Being safe., def_ja: 安全であること。}
""",
    "mtp.yaml": """\
source: test plan table
title: 試験計画
title_en: Test Plan
adopted: 令和元年
basic_strategy: 試験の戦略
perspectives:
  - {key: first, name: 第一の視点, en: First perspective}
""",
}


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("reference")
    for name, text in TABLES.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def graph(tables: Path) -> list[ox.Quad]:
    terms = Terms(BASE)
    return reference_quads(Reference(tables), terms, terms.graph("reference"),
                           Cited(years=frozenset({2024}), themes=frozenset({"2"}), strategies=frozenset({7}),
                                 policies=frozenset({31})))


def objects(quads: list[ox.Quad], subject: str, predicate: str) -> set[str]:
    return {q.object.value for q in quads if q.subject.value == subject and q.predicate.value == predicate}


def test_every_quad_is_in_the_reference_graph(graph: list[ox.Quad]) -> None:
    assert {q.graph_name for q in graph} == {ox.NamedNode(f"{BASE}/graph/reference")}
    assert len(graph) == len(set(graph))  # nothing stated twice


def test_wards_their_offices_and_the_city(graph: list[ox.Quad]) -> None:
    kita, office = f"{ID}area/141089", f"{ID}organization/141089"
    assert objects(graph, kita, TYPE.value) == {K + "Ward", SCHEMA + "AdministrativeArea"}
    assert objects(graph, kita, RDFS + "label") == {"北区", "Kita Ward", "Kita-ku", "きたく"}
    assert objects(graph, kita, K + "office") == {office}
    assert objects(graph, kita, SCHEMA + "containedInPlace") == {f"{ID}area/141003"}
    assert objects(graph, kita, DCTERMS + "source") == {"test ward table"}
    # The dated area code is stated only for the ward whose table row gives it.
    assert objects(graph, kita, K + "eStatStandardAreaCode") == {
        ESTAT_SAC + "C14108", ESTAT_SAC + "C14108-20000401"}
    assert objects(graph, f"{ID}area/141011", K + "eStatStandardAreaCode") == {ESTAT_SAC + "C14101"}
    assert objects(graph, office, RDFS + "label") == {"北区役所", "Kita Ward Office"}
    assert objects(graph, office, ORG + "unitOf") == {f"{ID}organization/141003"}
    assert objects(graph, f"{ID}organization/141003/bureau/roads", ORG + "unitOf") == {f"{ID}organization/141003"}


def test_schemes_and_concepts(graph: list[ox.Quad]) -> None:
    area_scheme, safety = f"{ID}policy-area", f"{ID}policy-area/safety"
    assert objects(graph, safety, SKOS + "inScheme") == {area_scheme}
    assert objects(graph, area_scheme, SKOS + "hasTopConcept") == {safety}
    assert objects(graph, safety, SKOS + "definition") == {"Being safe.", "安全であること。"}
    assert not objects(graph, area_scheme, DCTERMS + "source")  # Kusei's own scheme has no source table
    assert objects(graph, f"{ID}section-type", DCTERMS + "source") == {"test section table"}


def test_the_plan_states_only_what_is_cited(graph: list[ox.Quad]) -> None:
    plan = f"{ID}mtp/2022-2025"
    concepts = {q.subject.value for q in graph if q.predicate.value == SKOS + "inScheme" and q.object.value == plan}
    assert concepts == {f"{plan}/basic-strategy", f"{plan}/basic-strategy/first", f"{plan}/theme/2",
                        f"{plan}/strategy/7", f"{plan}/policy/31"}
    assert objects(graph, f"{plan}/theme/2", SKOS + "notation") == {"テーマ2"}
    # Policies and perspectives are not top concepts; themes and strategies are.
    assert objects(graph, plan, SKOS + "hasTopConcept") == {f"{plan}/basic-strategy", f"{plan}/theme/2",
                                                          f"{plan}/strategy/7"}


def test_a_fiscal_year_runs_april_to_march(graph: list[ox.Quad]) -> None:
    year = f"{ID}fiscal-year/2024"
    assert objects(graph, year, K + "year") == {"2024"}
    begin, end = f"{year}/begin", f"{year}/end"
    assert objects(graph, year, TIME + "hasBeginning") == {begin}
    assert objects(graph, begin, TIME + "inXSDDate") == {"2024-04-01"}
    assert objects(graph, end, TIME + "inXSDDate") == {"2025-03-31"}
    dates = [q.object for q in graph if q.predicate.value == TIME + "inXSDDate"]
    assert {d.datatype.value for d in dates if isinstance(d, ox.Literal)} == {XSD + "date"}


def test_what_the_documents_cite(tables: Path) -> None:
    terms = Terms(BASE)
    graph = terms.graph("document/0123456789abcdef")
    plan = terms.id("plan/141089/2024")

    def quad(o: ox.NamedNode | ox.Literal) -> ox.Quad:
        return ox.Quad(plan, terms.kusei("cites"), o, graph)

    doc = MappedDocument(
        doc_id="0123456789abcdef", record_file="000_0123456789abcdef.yaml", graph=graph,
        quads=[quad(terms.mtp("theme/3")), quad(terms.mtp("strategy/5")), quad(terms.mtp("policy/12")),
               quad(terms.mtp("basic-strategy/first")), quad(terms.area("141089"))],
        interpretation=[],
        editorial=[ox.Triple(plan, terms.kusei("year"), ox.Literal("2023", datatype=ox.NamedNode(XSD + "integer")))])
    assert cited([doc], terms) == Cited(years=frozenset({2023}), themes=frozenset({"3"}),
                                        strategies=frozenset({5}), policies=frozenset({12}))


def test_a_code_failing_its_check_digit_stops_the_reading(tmp_path: Path) -> None:
    for name, text in TABLES.items():
        (tmp_path / name).write_text(text.replace('"141011"', '"141012"'), encoding="utf-8")
    with pytest.raises(RecordError, match="141012 fails the check digit"):
        Reference(tmp_path)
