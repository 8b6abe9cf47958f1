"""Record → RDF on a record written for these tests: the triples of a measure, a project, a
correction and a printing node, straight from ``map_record`` (no build, no SHACL, no store).

The document below is eleven lines written for the tests; the record transcribes it as the
records in graph/records/ transcribe theirs. Line numbers matter: a printing node's first and
last line are counted in this text.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kusei.graph.input.record import RecordError, load_record
from kusei.graph.input.reference import Reference
from kusei.graph.input.textmatch import SourceText
from kusei.graph.input.verify import locate_all
from kusei.graph.mapping import MappedDocument, map_record
from kusei.namespaces import DCTERMS, PROV, RDFS, SCHEMA, TYPE, XSD, Terms

BASE = "http://example.test/kusei"  # not the default base: every minted IRI must follow the setting
DOC_ID = "0123456789abcdef"
SOURCE = f"000_{DOC_ID}.txt"
DOCUMENT = """\
金沢区 令和6年度 区運営方針

基本目標
海と緑のまちで、みんなが笑顔になる区

施策１ 安全で安心なまちをつくる
地域の防災力を高めます。
◆ 防災訓練の実施
町内会と一緒に年２回の訓練を行います。
・避難所の点検
・備蓄品の確認
施策２ 子育てを支えあうまち
"""
RECORD = f"""\
document:
  file: {SOURCE}
  ward: "141089"
  kind: policy
  origin: written for the unit tests of the mapping
  licence: written for the unit tests of the mapping
plan:
  title: 令和6年度 区運営方針
  fiscal_year: {{printed: 令和6年度, year: 2024}}
  basic_goal:
    title: 海と緑のまちで、みんなが笑顔になる区
  measures:
    - number: "１"
      title: 安全で安心なまちをつくる
      description: [地域の防災力を高めます。]
      policy_areas: [disaster-prevention]
      projects:
        - title: 防災訓練の実施
          marker: ◆
          description: [町内会と一緒に年２回の訓練を行います。]
          items: [避難所の点検, 備蓄品の確認]
    - number: "２"
      title:
        printed: 子育てを支えあうまち
        corrected: 子育てを支え合うまち
        note: the usual spelling of 支え合う
      policy_areas: [child-rearing]
"""

T = Terms(BASE)
PLAN = T.plan("141089", 2024)
MEASURE = ox.NamedNode(f"{PLAN.value}/measure/1")  # 「１」 in ASCII digits
PROJECT = ox.NamedNode(f"{MEASURE.value}/project/1")
GRAPH = T.graph(f"document/{DOC_ID}")
TITLE = ox.NamedNode(DCTERMS + "title")
DESCRIPTION = ox.NamedNode(DCTERMS + "description")


def _map(tmp_path: Path, record: str = RECORD) -> MappedDocument:
    (tmp_path / SOURCE).write_text(DOCUMENT, encoding="utf-8")
    path = tmp_path / "tiny.yaml"
    path.write_text(record, encoding="utf-8")
    loaded, lines = load_record(path)
    source = SourceText(tmp_path / SOURCE)
    spans, missing = locate_all(loaded, lines, source, path.name)
    assert not missing, missing
    return map_record(loaded, path.name, lines, spans, source, T, Reference())


@pytest.fixture
def mapped(tmp_path: Path) -> MappedDocument:
    return _map(tmp_path)


def _objects(triples: list[ox.Quad] | list[ox.Triple], s: ox.NamedNode | ox.BlankNode, p: ox.NamedNode) -> list:
    return [t.object for t in triples if t.subject == s and t.predicate == p]


def _one(triples: list[ox.Quad] | list[ox.Triple], s: ox.NamedNode | ox.BlankNode, p: ox.NamedNode) -> object:
    found = _objects(triples, s, p)
    assert len(found) == 1, (s, p, found)
    return found[0]


def _kusei(local: str) -> ox.NamedNode:
    return T.kusei(local)


def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


def test_every_quad_is_in_the_document_graph(mapped: MappedDocument) -> None:
    assert mapped.doc_id == DOC_ID and mapped.graph == GRAPH
    assert {quad.graph_name for quad in mapped.quads} == {GRAPH}
    assert all(str(q.subject).startswith(f"<{BASE}/") or isinstance(q.subject, ox.BlankNode) for q in mapped.quads)


def test_a_measure(mapped: MappedDocument) -> None:
    q = mapped.quads
    assert _objects(q, MEASURE, TYPE) == [_kusei("Measure")]
    assert _one(q, MEASURE, TITLE) == ox.Literal("安全で安心なまちをつくる", language="ja")
    assert _one(q, MEASURE, _kusei("printedNumber")) == ox.Literal("１", datatype=ox.NamedNode(XSD + "string"))
    assert _one(q, MEASURE, ox.NamedNode(SCHEMA + "position")) == _integer(1)
    assert _one(q, MEASURE, DESCRIPTION) == ox.Literal("地域の防災力を高めます。", language="ja")
    assert _one(q, MEASURE, _kusei("plan")) == PLAN
    assert _one(q, MEASURE, ox.NamedNode(DCTERMS + "isPartOf")) == PLAN
    assert MEASURE in _objects(q, PLAN, ox.NamedNode(DCTERMS + "hasPart"))
    # The policy area is Kusei's reading, so it is kept out of the document graph.
    assert not _objects(q, MEASURE, _kusei("policyArea"))
    assert _objects(mapped.interpretation, MEASURE, _kusei("policyArea")) == [T.id("policy-area/disaster-prevention")]


def test_a_project_and_its_items(mapped: MappedDocument) -> None:
    q = mapped.quads
    assert _objects(q, PROJECT, TYPE) == [_kusei("Project")]
    assert _one(q, PROJECT, _kusei("measure")) == MEASURE
    assert _one(q, PROJECT, TITLE) == ox.Literal("防災訓練の実施", language="ja")
    assert _one(q, PROJECT, _kusei("marker")) == ox.Literal("◆", datatype=ox.NamedNode(XSD + "string"))
    items = {_one(q, item, ox.NamedNode(SCHEMA + "position")).value: _one(q, item, ox.NamedNode(RDFS + "label"))
             for item in (ox.NamedNode(f"{PROJECT.value}/item/{n}") for n in (1, 2))}
    assert items == {"1": ox.Literal("避難所の点検", language="ja"), "2": ox.Literal("備蓄品の確認", language="ja")}
    assert _one(q, ox.NamedNode(f"{PROJECT.value}/item/2"), _kusei("itemOf")) == PROJECT


def test_printing_nodes_pair_the_document_with_each_entitys_own_lines(mapped: MappedDocument) -> None:
    q, document = mapped.quads, T.document(DOC_ID)
    # (entity, first line, last line) in DOCUMENT: a project's items are their own entities, so
    # the project ends at its description (line 9) and each item has its own line.
    expected = [(MEASURE, 6, 7), (PROJECT, 8, 9), (ox.NamedNode(f"{PROJECT.value}/item/2"), 11, 11)]
    for entity, first, last in expected:
        printing = ox.NamedNode(f"{entity.value}#in-{DOC_ID}")
        assert _one(q, entity, _kusei("printing")) == printing
        assert _one(q, entity, _kusei("sourceDocument")) == document
        assert _objects(q, printing, TYPE) == [_kusei("Printing")]
        assert _one(q, printing, ox.NamedNode(PROV + "entity")) == document
        assert (_one(q, printing, _kusei("firstLine")), _one(q, printing, _kusei("lastLine"))) == \
            (_integer(first), _integer(last)), entity
    # The plan spans the whole document.
    plan_printing = ox.NamedNode(f"{PLAN.value}#in-{DOC_ID}")
    assert _one(q, plan_printing, _kusei("lastLine")) == _integer(len(DOCUMENT.splitlines()))


def test_a_correction_keeps_the_printed_text_and_puts_the_reading_beside_it(mapped: MappedDocument) -> None:
    measure = ox.NamedNode(f"{PLAN.value}/measure/2")
    assert _one(mapped.quads, measure, TITLE) == ox.Literal("子育てを支えあうまち", language="ja")
    assert not any(isinstance(t.object, ox.Literal) and t.object.value == "子育てを支え合うまち" for t in mapped.quads)
    ed = mapped.editorial
    node = _one(ed, measure, _kusei("correction"))
    assert isinstance(node, ox.BlankNode)
    assert _objects(ed, node, TYPE) == [_kusei("TextCorrection")]
    assert _one(ed, node, _kusei("correctedProperty")) == TITLE
    assert _one(ed, node, _kusei("printedText")) == ox.Literal("子育てを支えあうまち", language="ja")
    assert _one(ed, node, _kusei("correctedText")) == ox.Literal("子育てを支え合うまち", language="ja")
    assert _one(ed, node, ox.NamedNode(RDFS + "comment")) == ox.Literal("the usual spelling of 支え合う", language="en")


def test_the_same_record_maps_to_the_same_triples(tmp_path: Path, mapped: MappedDocument) -> None:
    # Blank-node ids come from the content, so dumps stay byte-identical from build to build.
    other = tmp_path / "again"
    other.mkdir()
    again = _map(other)
    assert again.quads == mapped.quads and again.editorial == mapped.editorial


def test_a_column_under_a_measure_the_plan_lacks_names_file_line_and_field(tmp_path: Path) -> None:
    record = RECORD + "  columns:\n    - measure: \"9\"\n      title: 防災訓練の実施\n"
    with pytest.raises(RecordError) as caught:
        _map(tmp_path, record)
    error = caught.value
    assert (error.file, error.field) == ("tiny.yaml", "plan.columns[0].measure")
    assert error.line == record.splitlines().index('    - measure: "9"') + 1
    assert "no measure '9'" in str(error)
