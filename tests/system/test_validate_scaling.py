"""The SHACL gate validates the shared graphs once and each document with only the shared data it
reaches (graph/gate/validate.py), so that validation time grows linearly with the documents. These
tests check that it still rejects what validating each document with all the shared triples
rejects, and attributes it the same way, on the seed data with one defect or several put in.

The merged graph is then judged only where documents meet (graph/gate/crossing.py): the last
tests check that this finds what validating the whole merged graph finds, with the same messages,
for defects that only the merge shows, one per rule of crossing.py.

The inputs are those of a real build of the seed records, captured where the build hands them to
``validate_graphs``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

import kusei.graph.build
from kusei.graph.gate.crossing import uncovered_shapes
from kusei.graph.gate.validate import (
    SHARED_SOURCE,
    UNION_SOURCE,
    Violation,
    _shacl,
    memoised_sparql,
    to_rdflib,
    validate_graphs,
    validate_union,
)
from kusei.settings import Settings

pytestmark = [pytest.mark.system, pytest.mark.slow]  # a build of the records and SHACL runs on all of them

KUSEI = "https://w3id.org/kusei/def/"
KSHAPE = KUSEI + "shapes/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
SPATIAL = "http://purl.org/dc/terms/spatial"
IDENTIFIER = "http://purl.org/dc/terms/identifier"
IN_XSD_DATE = "http://www.w3.org/2006/time#inXSDDate"
SCHEMA_CITY = "http://schema.org/City"

Parts = list[tuple[str, list[ox.Triple]]]


@dataclass(frozen=True)
class Inputs:
    parts: Parts
    shared: list[ox.Triple]
    shapes: rdflib.Graph
    ontology: rdflib.Graph


class _Captured(Exception):
    pass


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    captured: dict[str, Inputs] = {}

    def capture(parts: Parts, shared: list[ox.Triple], shapes: rdflib.Graph, ontology: rdflib.Graph) -> None:
        captured["inputs"] = Inputs(parts, shared, shapes, ontology)
        raise _Captured

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kusei.graph.build, "validate_graphs", capture)
        with pytest.raises(_Captured):
            kusei.graph.build.build(Settings(data_dir=Path(tmp_path_factory.mktemp("capture"))), report=lambda _: None)
    result = captured["inputs"]
    assert len(result.parts) >= 3 and result.shared
    return result


def validate(inputs: Inputs, parts: Parts, shared: list[ox.Triple]) -> list[Violation]:
    outcome = validate_graphs(parts, shared, inputs.shapes, inputs.ontology)
    assert outcome.conforms == (not outcome.violations)
    return outcome.violations


def each_with_all_shared(inputs: Inputs, parts: Parts, shared: list[ox.Triple]) -> set[tuple[str, ...]]:
    """The reference: every document validated with all the shared triples, as the build did
    before; (source file, focus, path, message, shape) of every violation."""
    shared_graph = to_rdflib(shared)
    found = set()
    with memoised_sparql():
        for source, triples in parts:
            for result in _shacl(to_rdflib(triples) + shared_graph, inputs.shapes, inputs.ontology):
                if result.is_violation:
                    found.add((source, *result.key))
    return found


def keys(violations: list[Violation]) -> set[tuple[str, ...]]:
    return {(v.focus, v.path, v.message, v.shape) for v in violations}


# --- finding things in the seed data and putting defects in ------------------------------------

def is_type(triple: ox.Triple, cls: str) -> bool:
    return triple.predicate.value == RDF_TYPE and triple.object.value == cls


def subjects(triples: list[ox.Triple]) -> set[str]:
    return {t.subject.value for t in triples}


def part_with(inputs: Inputs, predicate: str) -> int:
    return next(i for i, (_, triples) in enumerate(inputs.parts) if any(t.predicate.value == predicate
                                                                          for t in triples))


def untouched_ward(inputs: Inputs) -> str:
    """A ward that no document says anything about."""
    described = set().union(*(subjects(triples) for _, triples in inputs.parts))
    return sorted(t.subject.value for t in inputs.shared if is_type(t, KUSEI + "Ward")
                  and t.subject.value not in described)[0]


def flower_ward(inputs: Inputs) -> tuple[int, str]:
    """The document stating a ward's flower, and that ward (a reference node it describes)."""
    index = part_with(inputs, KUSEI + "wardFlower")
    ward = next(t.subject.value for t in inputs.parts[index][1] if t.predicate.value == KUSEI + "wardFlower")
    return index, ward


def without_english_label(shared: list[ox.Triple], node: str) -> list[ox.Triple]:
    changed = [t for t in shared if not (t.subject.value == node and t.predicate.value == RDFS_LABEL
                                         and t.object.language == "en")]
    assert len(changed) == len(shared) - 1
    return changed


def with_part(parts: Parts, index: int, change: Callable[[list[ox.Triple]], list[ox.Triple]]) -> Parts:
    return [(source, change(triples) if i == index else triples) for i, (source, triples) in enumerate(parts)]


def replaced(triples: list[ox.Triple], old: ox.Triple, new_object: ox.Literal | ox.NamedNode) -> list[ox.Triple]:
    assert old in triples
    return [t for t in triples if t != old] + [ox.Triple(old.subject, old.predicate, new_object)]


# --- a defect in the shared graphs: reported once, not once per document -----------------------

@pytest.mark.parametrize("which", ["untouched ward", "ward a document describes"])
def test_violation_in_reference_data_is_reported_once(inputs: Inputs, which: str) -> None:
    ward = untouched_ward(inputs) if which == "untouched ward" else flower_ward(inputs)[1]
    outcome = validate_graphs(inputs.parts, without_english_label(inputs.shared, ward), inputs.shapes,
                              inputs.ontology)
    assert not outcome.conforms
    assert [(v.source_file, v.focus, v.path, v.shape) for v in outcome.violations] == [
        (SHARED_SOURCE, ward, RDFS_LABEL, KSHAPE + "Ward-label")]
    # the merged report holds it once too, under one report
    report = outcome.report
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    assert len(list(report.subjects(rdflib.RDF.type, sh.ValidationReport))) == 1
    assert [str(f) for f in report.objects(None, sh.focusNode)] == [ward]


def test_shared_violation_of_a_node_every_document_describes_is_still_reported(inputs: Inputs) -> None:
    index, ward = flower_ward(inputs)
    violations = validate(inputs, [inputs.parts[index]], without_english_label(inputs.shared, ward))
    assert [(v.source_file, v.focus, v.shape) for v in violations] == [(SHARED_SOURCE, ward, KSHAPE + "Ward-label")]


def test_shared_node_completed_by_a_document_fails_only_where_some_document_does_not_complete_it(
        inputs: Inputs) -> None:
    """A ward office's account link moved to the reference graph, the account's type left in its
    document: with each document and all shared triples, as before, the office conforms alongside
    that document only, and fails alongside any other."""
    account = "http://xmlns.com/foaf/0.1/account"
    index = part_with(inputs, account)
    link = next(t for t in inputs.parts[index][1] if t.predicate.value == account)
    parts = with_part(inputs.parts, index, lambda ts: [t for t in ts if t != link])
    shared = inputs.shared + [link]
    assert validate(inputs, [parts[index]], shared) == []
    other = next(i for i, (_, ts) in enumerate(parts) if link.subject.value not in subjects(ts))
    violations = validate(inputs, [parts[index], parts[other]], shared)
    assert [(v.source_file, v.focus, v.path, v.shape) for v in violations] == [
        (SHARED_SOURCE, link.subject.value, account, KSHAPE + "WardOffice-account")]


def test_reference_node_a_document_only_reaches_is_judged_with_all_its_data(inputs: Inputs) -> None:
    """A document's run holds only the wards it reaches, so the city's wards cannot be counted
    there: that run must not judge the city, which the shared run validates with all its wards."""
    city = next(t.subject.value for t in inputs.shared if is_type(t, SCHEMA_CITY))
    wards = sum(1 for t in inputs.shared if t.predicate.value == "http://schema.org/containedInPlace"
                and t.object.value == city)
    assert wards > 1
    shapes = rdflib.Graph()
    shapes += inputs.shapes
    shapes.parse(format="turtle", data=f"""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:test:City> a sh:NodeShape ; sh:targetClass <{SCHEMA_CITY}> ; sh:property <urn:test:City-wards> .
        <urn:test:City-wards> a sh:PropertyShape ;
            sh:path [ sh:inversePath <http://schema.org/containedInPlace> ] ; sh:minCount {wards} ;
            sh:message "the city has all its wards"@en .""")
    assert validate_graphs(inputs.parts, inputs.shared, shapes, inputs.ontology).violations == []
    missing = [t for t in inputs.shared if not (t.predicate.value == "http://schema.org/containedInPlace"
                                                and t.subject.value == untouched_ward(inputs))]
    violations = validate_graphs(inputs.parts, missing, shapes, inputs.ontology).violations
    assert [(v.source_file, v.focus, v.message) for v in violations if v.shape.startswith("urn:test:")] == [
        (SHARED_SOURCE, city, "the city has all its wards")]


# --- a document's defect, also where it lies in the data it links to ---------------------------

def test_measure_pointing_to_a_policy_area_that_does_not_exist_fails_its_document(inputs: Inputs) -> None:
    index = 1
    source, triples = inputs.parts[index]
    # A measure's link, not the banner's (FY2014's 目指せ！環境未来都市 has policy areas too).
    measures = {t.subject.value for t in triples if is_type(t, KUSEI + "Measure")}
    link = next(t for t in inputs.shared if t.predicate.value == KUSEI + "policyArea" and t.subject.value in measures)
    shared = replaced(inputs.shared, link, ox.NamedNode("https://w3id.org/kusei/id/policy-area/no-such-area"))
    violations = validate(inputs, inputs.parts[:3], shared)
    assert [(v.source_file, v.focus, v.path, v.shape) for v in violations] == [
        (source, link.subject.value, KUSEI + "policyArea", KSHAPE + "Measure-policyArea")]


def test_document_pointing_to_a_ward_that_does_not_exist_fails(inputs: Inputs) -> None:
    index = 2
    source, triples = inputs.parts[index]
    link = next(t for t in triples if t.predicate.value == SPATIAL)
    parts = with_part(inputs.parts[:3], index,
                      lambda ts: replaced(ts, link, ox.NamedNode("https://w3id.org/kusei/id/area/999999")))
    violations = validate(inputs, parts, inputs.shared)
    assert (source, link.subject.value, SPATIAL, KSHAPE + "spatial-ward") in {
        (v.source_file, v.focus, v.path, v.shape) for v in violations}
    assert {v.source_file for v in violations} == {source}


def test_defect_two_hops_into_reference_data_fails_every_document_citing_it(inputs: Inputs) -> None:
    """A fiscal year's beginning is checked from each plan (plan → fiscal year → instant → date)."""
    fiscal_years = {t.object.value for _, triples in inputs.parts for t in triples
                    if t.predicate.value == KUSEI + "fiscalYear"}
    date = next(t for t in inputs.shared if t.predicate.value == IN_XSD_DATE)
    year = next(t.subject.value for t in inputs.shared if t.object == date.subject)
    assert year in fiscal_years
    citing = sorted(source for source, triples in inputs.parts
                    if any(t.predicate.value == KUSEI + "fiscalYear" and t.object.value == year for t in triples))
    shared = replaced(inputs.shared, date, ox.Literal("1900-01-01", datatype=date.object.datatype))
    violations = validate(inputs, inputs.parts, shared)
    assert [(v.source_file, v.path, v.shape) for v in violations] == [
        (source, KUSEI + "fiscalYear", KSHAPE + "Plan-fiscalYear-consistent") for source in citing]


def test_document_statement_about_a_reference_node_is_the_documents(inputs: Inputs) -> None:
    index, ward = flower_ward(inputs)
    source = inputs.parts[index][0]
    parts = with_part(inputs.parts, index, lambda ts: ts + [
        ox.Triple(ox.NamedNode(ward), ox.NamedNode(KUSEI + "wardFlower"), ox.Literal("ばら", language="ja"))])
    violations = validate(inputs, parts, inputs.shared)
    assert [(v.source_file, v.focus, v.shape) for v in violations] == [(source, ward, KSHAPE + "Ward-wardFlower")]


def test_blank_node_in_a_document_is_still_validated(inputs: Inputs) -> None:
    """Text corrections are blank nodes (pyshacl's focus_nodes option would skip them)."""
    index = next(i for i, (_, ts) in enumerate(inputs.parts) if any(is_type(t, KUSEI + "TextCorrection") for t in ts))
    source, triples = inputs.parts[index]
    correction = next(t.subject for t in triples if is_type(t, KUSEI + "TextCorrection"))
    assert isinstance(correction, ox.BlankNode)
    parts = with_part(inputs.parts, index, lambda ts: [t for t in ts if not (
        t.subject == correction and t.predicate.value == RDFS_COMMENT)])
    violations = validate(inputs, parts[index:index + 1], inputs.shared)
    assert [(v.source_file, v.path, v.shape) for v in violations] == [
        (source, RDFS_COMMENT, KSHAPE + "TextCorrection-comment")]


# --- several defects at once: the same as before, and the same as one document at a time -------

@pytest.fixture(scope="module")
def defective(inputs: Inputs) -> tuple[Parts, list[ox.Triple]]:
    """The seed data with defects of every kind above, plus a wrong check digit of a ward's code
    (checked from the city, over all its wards) in a document set where one document describes
    the city."""
    shared = without_english_label(inputs.shared, untouched_ward(inputs))
    index, ward = flower_ward(inputs)
    shared = without_english_label(shared, ward)
    measure_link = next(t for t in shared if t.predicate.value == KUSEI + "policyArea")
    shared = replaced(shared, measure_link, ox.NamedNode("https://w3id.org/kusei/id/policy-area/no-such-area"))
    date = next(t for t in shared if t.predicate.value == IN_XSD_DATE)
    shared = replaced(shared, date, ox.Literal("1900-01-01", datatype=date.object.datatype))
    code = next(t for t in shared if t.predicate.value == KUSEI + "localGovernmentCode"
                and t.subject.value == untouched_ward(inputs))
    wrong = ox.Literal(code.object.value[:5] + str((int(code.object.value[5]) + 1) % 10))
    shared = replaced(shared, code, wrong)
    shared = replaced(shared, next(t for t in shared if t.subject == code.subject and t.predicate.value == IDENTIFIER),
                      wrong)
    city = next(t.subject for t in shared if is_type(t, SCHEMA_CITY))
    parts = with_part(inputs.parts, index, lambda ts: ts + [
        ox.Triple(ox.NamedNode(ward), ox.NamedNode(KUSEI + "wardFlower"), ox.Literal("ばら", language="ja"))])
    parts = with_part(parts, 0, lambda ts: ts + [
        ox.Triple(city, ox.NamedNode(KUSEI + "wardTree"), ox.Literal("いちょう", language="ja"))])
    link = next(t for t in parts[1][1] if t.predicate.value == SPATIAL)
    parts = with_part(parts, 1, lambda ts: replaced(ts, link, ox.NamedNode("https://w3id.org/kusei/id/area/999999")))
    return parts, shared


def test_same_violations_as_each_document_with_all_shared_data(
        inputs: Inputs, defective: tuple[Parts, list[ox.Triple]]) -> None:
    parts, shared = defective
    violations = validate(inputs, parts, shared)
    before = each_with_all_shared(inputs, parts, shared)
    assert keys(violations) == {key[1:] for key in before}
    assert len(violations) == len(keys(violations))  # each once
    assert {v.shape.removeprefix(KSHAPE) for v in violations} == {  # every defect put in is found
        "Ward-label", "City-wardCodes-checkDigit", "Measure-policyArea", "spatial-ward",
        "Plan-fiscalYear-consistent", "Ward-wardFlower"}
    # A violation found only with one document's data stays that document's.
    counts: dict[tuple[str, ...], set[str]] = {}
    for source, *key in before:
        counts.setdefault(tuple(key), set()).add(source)
    for v in violations:
        sources = counts[(v.focus, v.path, v.message, v.shape)]
        if v.source_file == SHARED_SOURCE:
            assert v.focus in subjects(shared)
        else:
            assert sources == {v.source_file}, v


def test_all_documents_at_once_is_the_union_of_each_alone(
        inputs: Inputs, defective: tuple[Parts, list[ox.Triple]]) -> None:
    parts, shared = defective
    together = set(validate(inputs, parts, shared))
    alone = set().union(*(validate(inputs, [part], shared) for part in parts))
    assert together == alone


# --- the merged graph: judged where documents meet, with the same findings as judging all of it --

SCHEMA_POSITION = "http://schema.org/position"
PROV_ENTITY = "http://www.w3.org/ns/prov#entity"


def whole_union(inputs: Inputs, parts: Parts, shared: list[ox.Triple],
                cheapest_first: bool = True) -> set[tuple[str, ...]]:
    """The reference: every node of the merged graph judged, as the build did before."""
    union = to_rdflib(shared)
    for _source, triples in parts:
        union += to_rdflib(triples)
    with memoised_sparql(cheapest_first):
        return {r.key for r in _shacl(union, inputs.shapes, inputs.ontology) if r.is_violation}


def union_violations(inputs: Inputs, parts: Parts, shared: list[ox.Triple]) -> set[tuple[str, ...]]:
    outcome = validate_union(parts, shared, inputs.shapes, inputs.ontology)
    assert outcome.judged is not None, "the restricted run fell back to judging every node"
    assert outcome.conforms == (not outcome.violations)
    assert {v.source_file for v in outcome.violations} <= {UNION_SOURCE}
    return keys(outcome.violations)


def node(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def test_todays_shapes_are_all_covered_by_the_rules(inputs: Inputs) -> None:
    assert uncovered_shapes(inputs.shapes) == []


@pytest.mark.parametrize("path", [f"( <{SPATIAL}> <http://schema.org/containedInPlace> )",
                                  "[ sh:oneOrMorePath <http://purl.org/dc/terms/isPartOf> ]"])
def test_a_shape_reading_further_than_the_rules_know_makes_the_run_judge_everything(
        inputs: Inputs, path: str) -> None:
    shapes = rdflib.Graph()
    shapes += inputs.shapes
    shapes.parse(format="turtle", data=f"""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <{KSHAPE}Test> a sh:NodeShape ; sh:targetClass <{KUSEI}Plan> ; sh:property <{KSHAPE}Test-ward-city> .
        <{KSHAPE}Test-ward-city> a sh:PropertyShape ; sh:path {path} ; sh:minCount 1 .""")
    assert uncovered_shapes(shapes) == [KSHAPE + "Test-ward-city"]
    outcome = validate_union(inputs.parts[:2], inputs.shared, shapes, inputs.ontology)
    assert outcome.judged is None


def test_seed_merge_judges_few_nodes_and_conforms(inputs: Inputs) -> None:
    outcome = validate_union(inputs.parts, inputs.shared, inputs.shapes, inputs.ontology)
    assert outcome.conforms
    entities = {t.subject.value for _, triples in inputs.parts for t in triples}
    assert outcome.judged is not None and 0 < outcome.judged < len(entities) / 4


def flower_in_another_part(inputs: Inputs) -> tuple[Parts, str]:
    """Two documents each give the ward one flower, different ones: each is right alone (at most
    one kusei:wardFlower), the merge gives the ward two."""
    index, ward = flower_ward(inputs)
    other = (index + 1) % len(inputs.parts)
    parts = [inputs.parts[index], inputs.parts[other]]
    parts = with_part(parts, 1, lambda ts: ts + [
        ox.Triple(node(ward), node(KUSEI + "wardFlower"), ox.Literal("ゆり", language="ja"))])
    return parts, ward


def test_cross_document_and_per_document_defects_found_with_the_same_messages(inputs: Inputs) -> None:
    parts, ward = flower_in_another_part(inputs)
    # and one defect of a single document: a measure's title in English
    source, triples = parts[0]
    title = next(t for t in triples if t.predicate.value == "http://purl.org/dc/terms/title"
                 and any(is_type(u, KUSEI + "Measure") and u.subject == t.subject for u in triples))
    parts = with_part(parts, 0, lambda ts: replaced(ts, title, ox.Literal("A title", language="en")))

    per_document = validate(inputs, parts, inputs.shared)
    assert keys(per_document) == {key[1:] for key in each_with_all_shared(inputs, parts, inputs.shared)}
    assert [(v.source_file, v.focus, v.shape) for v in per_document] == [
        (source, title.subject.value, KSHAPE + "title-one-ja")]

    merged = union_violations(inputs, parts, inputs.shared)
    # between them the two runs find what judging the whole merged graph finds, message for message
    assert merged | keys(per_document) == whole_union(inputs, parts, inputs.shared)
    assert [(f, p, s) for f, p, _m, s in merged] == [(ward, KUSEI + "wardFlower", KSHAPE + "Ward-wardFlower")]


def test_each_document_alone_conforms_but_the_merge_does_not(inputs: Inputs) -> None:
    parts, ward = flower_in_another_part(inputs)
    assert validate(inputs, parts, inputs.shared) == []
    merged = union_violations(inputs, parts, inputs.shared)
    assert merged == whole_union(inputs, parts, inputs.shared)
    assert [(f, s) for f, _p, _m, s in merged] == [(ward, KSHAPE + "Ward-wardFlower")]


def project_under_another_documents_measure(inputs: Inputs) -> tuple[Parts, str]:
    """A project in one document placed under a measure of another, at a position taken there:
    the other plan's positions (Plan-projectPositions-unique) and the project's plan
    (Project-measure-samePlan) go wrong only in the merge."""
    triples_a = inputs.parts[0][1]
    project = next(t.subject for t in triples_a if is_type(t, KUSEI + "Project")
                   and any(u.subject == t.subject and u.predicate.value == KUSEI + "measure" for u in triples_a))
    measure = next(t.object for t in triples_a if t.subject == project and t.predicate.value == KUSEI + "measure")
    position = next(t.object for t in triples_a if t.subject == project and t.predicate.value == SCHEMA_POSITION)
    plan_b = next(t.subject for t in inputs.parts[1][1] if is_type(t, KUSEI + "Plan"))
    stray = node(plan_b.value + "/measure/99/project/1")
    parts = with_part(inputs.parts, 1, lambda ts: ts + [
        ox.Triple(stray, node(RDF_TYPE), node(KUSEI + "Project")),
        ox.Triple(stray, node(KUSEI + "measure"), measure),
        ox.Triple(stray, node(KUSEI + "plan"), plan_b),
        ox.Triple(stray, node(SCHEMA_POSITION), position)])
    return parts, measure.value


def printing_claiming_another_document(inputs: Inputs) -> Parts:
    """A printing node in one document's graph that names another document."""
    doc_a = next(t.subject for t in inputs.parts[0][1] if is_type(t, KUSEI + "SourceDocument"))
    printing = next(t for t in inputs.parts[1][1] if t.predicate.value == PROV_ENTITY)
    return with_part(inputs.parts, 1, lambda ts: ts + [ox.Triple(printing.subject, printing.predicate, doc_a)])


def ward_code_restated(inputs: Inputs) -> Parts:
    """A document restates its ward's local government code with a wrong check digit: the city's
    check over its wards' codes reads it, and the city is in no document."""
    index = 2
    ward = next(t.object for t in inputs.parts[index][1] if t.predicate.value == SPATIAL)
    code = next(t.object.value for t in inputs.shared
                if t.subject == ward and t.predicate.value == KUSEI + "localGovernmentCode")
    wrong = code[:5] + str((int(code[5]) + 1) % 10)
    return with_part(inputs.parts, index, lambda ts: ts + [
        ox.Triple(ward, node(KUSEI + "localGovernmentCode"), ox.Literal(wrong))])


@pytest.mark.parametrize("defect", ["project under another document's measure",
                                    "printing naming another document", "ward code restated"])
def test_defects_only_the_merge_shows_are_found_as_judging_all_of_it_finds_them(inputs: Inputs, defect: str) -> None:
    if defect == "project under another document's measure":
        parts, _measure = project_under_another_documents_measure(inputs)
        expected = {"Plan-projectPositions-unique", "Project-measure-samePlan"}
    elif defect == "printing naming another document":
        parts = printing_claiming_another_document(inputs)
        expected = {"SourceDocument-linesWithin", "SourceDocument-printingsOwned"}
    else:
        parts = ward_code_restated(inputs)
        expected = {"City-wardCodes-checkDigit"}
    parts = parts[:3]
    merged = union_violations(inputs, parts, inputs.shared)
    whole = whole_union(inputs, parts, inputs.shared)
    # Nothing the merge does not show; and what it shows is found by one of the two runs: a
    # document's own run finds what it sees itself (the printing's second document, say). That run
    # may find more: the stray project's measure has no type in the stray's own document.
    assert merged <= whole
    assert whole <= merged | keys(validate(inputs, parts, inputs.shared))
    assert expected <= {shape.removeprefix(KSHAPE) for *_rest, shape in merged}


def test_matching_patterns_cheapest_first_finds_what_rdflibs_order_finds(
        inputs: Inputs, defective: tuple[Parts, list[ox.Triple]]) -> None:
    parts, shared = defective
    parts, _measure = project_under_another_documents_measure(Inputs(parts, shared, inputs.shapes, inputs.ontology))
    ordered = whole_union(inputs, parts[:3], shared)
    assert ordered == whole_union(inputs, parts[:3], shared, cheapest_first=False)
    assert len(ordered) > 5
