"""The vocabulary (ontology/kusei.ttl) and the SHACL gate (shapes/kusei-shapes.ttl).

The shapes are tested against tests/shapes_data/: conforming.ttl must conform, and every case in
violations/*.trig edits it and names the results it must produce (focus node, path, source
shape). Cases that do not touch the same triples or nodes are validated together, in batches,
because pyshacl takes about a second per run; each batch must produce exactly the union of its
cases' results, so a case cannot pass on another's results unnoticed. KUSEI_SHAPES_ISOLATED=1
validates every case on its own instead (slow).

pyshacl is run as the build runs it (graph/validate.py): the vocabulary as ont_graph,
inference="none", advanced=True. SHACL-SPARQL (sh:sparql) does not need advanced=True in pyshacl
0.40; it is SHACL Core+SPARQL. The vocabulary must be mixed in, though: sh:targetClass and
sh:class only see kusei:InfrastructureProject as a kusei:FacilityProject through its
rdfs:subClassOf triple.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from pyshacl import validate
from rdflib import OWL, RDF, RDFS, SH, SKOS, BNode, Literal, Namespace, URIRef
from rdflib.collection import Collection

from kusei.graph.gate.validate import memoised_sparql

ROOT = Path(__file__).resolve().parents[2]
ONTOLOGY_FILE = ROOT / "ontology" / "kusei.ttl"
SHAPES_FILE = ROOT / "shapes" / "kusei-shapes.ttl"
README = ROOT / "graph" / "README.md"
DATA = Path(__file__).resolve().parents[1] / "shapes_data"

KUSEI = Namespace("https://w3id.org/kusei/def/")
KSHAPE = Namespace("https://w3id.org/kusei/def/shapes/")
KT = Namespace("urn:kusei-test:")
DCTERMS = Namespace("http://purl.org/dc/terms/")
PROV = Namespace("http://www.w3.org/ns/prov#")
ORG = Namespace("http://www.w3.org/ns/org#")
SCHEMA = Namespace("http://schema.org/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
TIME = Namespace("http://www.w3.org/2006/time#")
QB = Namespace("http://purl.org/linked-data/cube#")
VANN = Namespace("http://purl.org/vocab/vann/")

# Terms the vocabulary defines beyond graph/README.md's list: the reference graph uses them.
KNOWN_EXTRA_TERMS = {"adoptedPrinted"}

ISOLATED = os.environ.get("KUSEI_SHAPES_ISOLATED") == "1"


# --------------------------------------------------------------------------------------------
# Loading and running pyshacl
# --------------------------------------------------------------------------------------------

@functools.cache
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY_FILE, format="turtle")


@functools.cache
def shapes() -> rdflib.Graph:
    return rdflib.Graph().parse(SHAPES_FILE, format="turtle")


@functools.cache
def conforming() -> rdflib.Graph:
    return rdflib.Graph().parse(DATA / "conforming.ttl", format="turtle")


def shacl(data: rdflib.Graph) -> rdflib.Graph:
    """Validate as graph/validate.py does; return the report graph."""
    # A copy: pyshacl adds a few RDFS/OWL axioms to the shapes graph it is given.
    shapes_graph = rdflib.Graph()
    shapes_graph += shapes()
    with memoised_sparql():
        _conforms, report, _text = validate(
            data, shacl_graph=shapes_graph, ont_graph=ontology(), inference="none", advanced=True,
            allow_warnings=True,
        )
    assert isinstance(report, rdflib.Graph), report  # a ValidationFailure means broken shapes
    return report


PathKey = Any  # a URIRef, or a tuple for a complex path: ("inverse", p), ("sequence", (p, q)) …


def path_key(graph: rdflib.Graph, node: rdflib.term.Node | None) -> PathKey:
    """A comparable form of a SHACL path, whichever graph its blank nodes live in."""
    if node is None or isinstance(node, URIRef):
        return node
    for kind, predicate in (("inverse", SH.inversePath), ("alternative", SH.alternativePath),
                            ("zero-or-more", SH.zeroOrMorePath), ("one-or-more", SH.oneOrMorePath)):
        inner = graph.value(node, predicate)
        if inner is not None:
            if kind == "alternative":
                return (kind, tuple(path_key(graph, n) for n in Collection(graph, inner)))
            return (kind, path_key(graph, inner))
    return ("sequence", tuple(path_key(graph, n) for n in Collection(graph, node)))


@dataclass(frozen=True)
class Result:
    focus: rdflib.term.Node
    path: PathKey
    shape: rdflib.term.Node

    def __str__(self) -> str:
        return f"{self.focus} {self.path} [{self.shape}]"


def results(report: rdflib.Graph) -> dict[Result, set[rdflib.term.Node]]:
    """Each (focus, path, source shape) reported, with the value nodes reported for it. Only the
    report's own results count: pyshacl also writes the nested results of sh:node as sh:detail."""
    found: dict[Result, set[rdflib.term.Node]] = {}
    for node in report.objects(None, SH.result):
        result = Result(report.value(node, SH.focusNode), path_key(report, report.value(node, SH.resultPath)),
                        report.value(node, SH.sourceShape))
        values = found.setdefault(result, set())
        value = report.value(node, SH.value)
        if value is not None:
            values.add(value)
    return found


# --------------------------------------------------------------------------------------------
# Violation cases
# --------------------------------------------------------------------------------------------

Triple = tuple[rdflib.term.Node, rdflib.term.Node, rdflib.term.Node]


@dataclass
class Case:
    name: str
    source: str
    remove: list[Triple] = field(default_factory=list)
    add: list[Triple] = field(default_factory=list)
    renames: dict[URIRef, URIRef] = field(default_factory=dict)
    expected: dict[Result, set[rdflib.term.Node]] = field(default_factory=dict)

    @property
    def pairs(self) -> set[tuple]:
        return {(s, p) for s, p, _o in self.remove + self.add}

    @property
    def subjects(self) -> set:
        return {s for s, _p, _o in self.remove + self.add}

    @property
    def renamed(self) -> set:
        return set(self.renames) | set(self.renames.values())

    @property
    def values(self) -> set:
        return {v for vs in self.expected.values() for v in vs}

    @property
    def nodes(self) -> set:
        edited = {n for s, _p, o in self.remove + self.add for n in (s, o) if isinstance(n, URIRef)}
        nodes = edited | self.renamed | {r.focus for r in self.expected} | self.values
        # A printing <entity>#in-<docid> is renamed with its entity.
        return nodes | {URIRef(str(n).split("#in-")[0]) for n in nodes if "#in-" in str(n)}


def load_cases() -> list[Case]:
    cases: dict[str, Case] = {}
    for path in sorted((DATA / "violations").glob("*.trig")):
        dataset = rdflib.Dataset()
        dataset.parse(path, format="trig")
        # Sorted: rdflib yields graphs in hash order, and the batching below depends on the order,
        # so the number of batch tests changed with PYTHONHASHSEED.
        for graph in sorted(dataset.graphs(), key=lambda g: str(g.identifier)):
            kind, _, name = str(graph.identifier).removeprefix(str(KT)).partition(":")
            if kind not in ("remove", "add", "rename", "expect"):
                continue
            case = cases.setdefault(name, Case(name, path.name))
            assert case.source == path.name, f"case {name} is in two files"
            if kind == "remove":
                case.remove.extend(graph)
            elif kind == "add":
                case.add.extend(graph)
            elif kind == "rename":
                case.renames.update({s: o for s, _p, o in graph.triples((None, KT.renamedTo, None))})
            else:
                for item in graph.subjects(KT.focus, None):
                    result = Result(graph.value(item, KT.focus), path_key(graph, graph.value(item, KT.path)),
                                    graph.value(item, KT.shape))
                    values = case.expected.setdefault(result, set())
                    if (value := graph.value(item, KT.value)) is not None:
                        values.add(value)
    for case in cases.values():
        assert case.expected, f"case {case.name} expects nothing"
        assert not (case.renames and (case.remove or case.add)), f"case {case.name}: rename or edit, not both"
    return sorted(cases.values(), key=lambda case: case.name)


def conflict(a: Case, b: Case) -> bool:
    """Whether two cases could mask or disturb each other's results in one validation."""
    a_focus, b_focus = {r.focus for r in a.expected}, {r.focus for r in b.expected}
    return bool(a.pairs & b.pairs or a.renamed & b.nodes or b.renamed & a.nodes
                or a.subjects & (b.values | b_focus) or b.subjects & (a.values | a_focus)
                or set(a.expected) & set(b.expected))


def batches(cases: list[Case]) -> list[list[Case]]:
    if ISOLATED:
        return [[case] for case in cases]
    out: list[list[Case]] = []
    for case in cases:
        for batch in out:
            if not any(conflict(case, other) for other in batch):
                batch.append(case)
                break
        else:
            out.append([case])
    return out


def apply(base: rdflib.Graph, cases: list[Case]) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph += base
    for case in cases:
        renames = dict(case.renames)
        # A renamed entity's printings are renamed with it, as the build mints <entity>#in-<docid>.
        for old, new in case.renames.items():
            for printing in set(graph.objects(old, KUSEI.printing)):
                renames[printing] = URIRef(str(printing).replace(str(old), str(new), 1))
        for old, new in renames.items():
            assert (old, None, None) in graph, f"{case.name}: nothing to rename at {old}"
            for s, p, o in list(graph.triples((old, None, None))):
                graph.remove((s, p, o))
                graph.add((new, p, o))
            for s, p, o in list(graph.triples((None, None, old))):
                graph.remove((s, p, o))
                graph.add((s, p, new))
        for triple in case.remove:
            # A triple that is not there would make the case test nothing.
            assert triple in graph, f"{case.name}: {triple} is not in conforming.ttl"
            graph.remove(triple)
        for triple in case.add:
            graph.add(triple)
    return graph


CASES = load_cases()
BATCHES = batches(CASES)
BATCH_OF = {case.name: index for index, batch in enumerate(BATCHES) for case in batch}


@functools.cache
def batch_data(index: int) -> rdflib.Graph:
    return apply(conforming(), BATCHES[index])


@pytest.fixture(scope="module")
def batch_results() -> dict[int, dict[Result, set[rdflib.term.Node]]]:
    return {index: results(shacl(batch_data(index))) for index in range(len(BATCHES))}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_violation_case(case: Case, batch_results: dict[int, dict[Result, set]]) -> None:
    found = batch_results[BATCH_OF[case.name]]
    for expected, values in case.expected.items():
        assert expected in found, f"{case.source} {case.name}: no result {expected}; got\n" + "\n".join(
            sorted(map(str, found)))
        assert values <= found[expected], f"{case.name}: {expected} reported values {found[expected]}"


@pytest.mark.parametrize("index", range(len(BATCHES)))
def test_no_unexpected_results(index: int, batch_results: dict[int, dict[Result, set]]) -> None:
    expected = {result for case in BATCHES[index] for result in case.expected}
    unexpected = set(batch_results[index]) - expected
    assert not unexpected, f"cases {[c.name for c in BATCHES[index]]} also produced\n" + "\n".join(
        sorted(map(str, unexpected)))


def test_conforming_data_conforms() -> None:
    found = results(shacl(conforming()))
    assert not found, "\n".join(sorted(map(str, found)))


# --------------------------------------------------------------------------------------------
# Coverage: every shape has a conforming and a violating example
# --------------------------------------------------------------------------------------------

def subclasses(cls: URIRef) -> set[URIRef]:
    return set(ontology().transitive_subjects(RDFS.subClassOf, cls))


def targets(shape: rdflib.term.Node, data: rdflib.Graph) -> set[rdflib.term.Node]:
    sg = shapes()
    found: set[rdflib.term.Node] = set(sg.objects(shape, SH.targetNode)) & set(data.all_nodes())
    for cls in sg.objects(shape, SH.targetClass):
        for sub in subclasses(cls):
            found |= set(data.subjects(RDF.type, sub))
    for predicate in sg.objects(shape, SH.targetSubjectsOf):
        found |= set(data.subjects(predicate, None))
    return found


def targeted_shapes() -> list[URIRef]:
    sg = shapes()
    kinds = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
    return sorted({s for k in kinds for s in sg.subjects(k, None)})


def test_every_targeted_shape_has_a_conforming_example() -> None:
    missing = [s for s in targeted_shapes() if not targets(s, conforming())]
    assert not missing, f"no focus node in conforming.ttl for {missing}"


def test_every_shape_has_a_violating_example() -> None:
    sg = shapes()
    expected = {r.shape for case in CASES for r in case.expected}
    property_shapes = {p for s in targeted_shapes() for p in sg.objects(s, SH.property)}
    assert property_shapes - expected == set(), "property shapes without a violation case"
    # A node shape is covered when a case reports it, or one of its property shapes on a focus
    # node it targets (a shared property shape may be covered through another class).
    by_shape: dict[rdflib.term.Node, set] = {}
    for index, batch in enumerate(BATCHES):
        for case in batch:
            for result in case.expected:
                by_shape.setdefault(result.shape, set()).add((index, result.focus))
    uncovered = []
    for shape in targeted_shapes():
        members = {shape, *sg.objects(shape, SH.property)}
        hits = {(i, focus) for m in members for i, focus in by_shape.get(m, ())}
        if not any(focus in targets(shape, batch_data(i)) for i, focus in hits):
            uncovered.append(shape)
    assert not uncovered, f"node shapes without a violating focus node: {uncovered}"


# --------------------------------------------------------------------------------------------
# The check digit in SPARQL agrees with the formula
# --------------------------------------------------------------------------------------------

def check_digit_ok(code: str) -> bool:
    total = sum(int(d) * w for d, w in zip(code[:5], (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10 == int(code[5])


def test_check_digit_examples() -> None:
    assert all(check_digit_ok(c) for c in ("141003", "141089", "141160"))
    assert not check_digit_ok("141088")


def test_check_digit_sparql_agrees_with_the_formula() -> None:
    city = URIRef("urn:test:area:141003")
    data = rdflib.Graph()
    data.add((city, RDF.type, SCHEMA.City))
    data.add((city, KUSEI.localGovernmentCode, Literal("141003")))
    codes = [f"{n:06d}" for n in range(141000, 141200)]
    for code in codes:
        # Plain administrative areas: the city's shape checks them without the ward shape's demands.
        area = URIRef(f"urn:test:area:{code}")
        data.add((area, RDF.type, SCHEMA.AdministrativeArea))
        data.add((area, SCHEMA.containedInPlace, city))
        data.add((area, KUSEI.localGovernmentCode, Literal(code)))
    found = results(shacl(data))
    flagged = found.get(Result(city, ("inverse", SCHEMA.containedInPlace), KSHAPE["City-wardCodes-checkDigit"]),
                        set())
    assert set(found) <= {Result(city, ("inverse", SCHEMA.containedInPlace), KSHAPE["City-wardCodes-checkDigit"])}
    assert {str(a).rsplit(":", 1)[1] for a in flagged} == {c for c in codes if not check_digit_ok(c)}
    assert URIRef("urn:test:area:141088") in flagged
    assert not {URIRef(f"urn:test:area:{c}") for c in ("141089", "141160")} & flagged


# --------------------------------------------------------------------------------------------
# The shapes file itself
# --------------------------------------------------------------------------------------------

def messages_ok(graph: rdflib.Graph, node: rdflib.term.Node) -> bool:
    langs = [m.language for m in graph.objects(node, SH.message) if isinstance(m, Literal)]
    return sorted(langs) == ["en", "ja"]


CONSTRAINT_PARAMETERS = {
    SH["class"], SH.datatype, SH.nodeKind, SH.minCount, SH.maxCount, SH.minInclusive, SH.minLength,
    SH.pattern, SH.languageIn, SH.uniqueLang, SH.equals, SH.disjoint, SH.lessThanOrEquals, SH["in"],
    SH.hasValue, SH.node, SH["not"], SH["or"], SH["and"], SH.qualifiedValueShape,
}


def test_shapes_parse_in_rdflib_and_pyoxigraph() -> None:
    quads = list(ox.parse(path=str(SHAPES_FILE), format=ox.RdfFormat.TURTLE))
    assert len(quads) == len(shapes()) > 0


def test_shapes_are_named_and_say_what_is_wrong_in_ja_and_en() -> None:
    sg = shapes()
    top = set(sg.subjects(RDF.type, SH.NodeShape)) | set(sg.subjects(RDF.type, SH.PropertyShape))
    assert all(isinstance(s, URIRef) and s.startswith(KSHAPE) for s in top), "unnamed or foreign shapes"
    referenced = set(sg.objects(None, SH.property)) | set(sg.objects(None, SH.qualifiedValueShape))
    assert all(isinstance(s, URIRef) for s in referenced), "property and qualified shapes need IRIs"
    for shape in top:
        if (shape, SH.sparql, None) in sg:
            # pyshacl adds a shape's messages to its SPARQL results: they would duplicate the
            # constraint's own message, so such a shape holds the SPARQL check alone.
            assert (shape, SH.message, None) not in sg, shape
            assert not set(sg.predicates(shape)) & CONSTRAINT_PARAMETERS, shape
            for constraint in sg.objects(shape, SH.sparql):
                assert messages_ok(sg, constraint), constraint
                assert (constraint, SH.prefixes, URIRef(str(KSHAPE))) in sg, constraint
        else:
            assert messages_ok(sg, shape), shape
    # A property shape not typed sh:PropertyShape would escape the checks above.
    for shape in set(sg.subjects(SH.path, None)) - top:
        assert messages_ok(sg, shape), shape


def test_shapes_and_fixtures_use_only_defined_kusei_terms() -> None:
    defined = {s for s in ontology().subjects(RDFS.isDefinedBy, None)}
    used: set[URIRef] = set()
    for graph in (shapes(), conforming()):
        for s, p, o in graph:
            used |= {n for n in (s, p, o) if isinstance(n, URIRef) and n.startswith(KUSEI)
                     and not n.startswith(KSHAPE)}
    for text in shapes().objects(None, SH.select):
        used |= {KUSEI[name] for name in re.findall(r"\bkusei:(\w+)", str(text))}
    assert used - defined == set(), "terms the vocabulary does not define"


def test_standard_namespaces_are_spelled_one_way() -> None:
    for path in (ONTOLOGY_FILE, SHAPES_FILE, DATA / "conforming.ttl"):
        assert "https://schema.org" not in path.read_text(encoding="utf-8"), path


# --------------------------------------------------------------------------------------------
# The vocabulary
# --------------------------------------------------------------------------------------------

def readme_terms() -> set[str]:
    section = README.read_text(encoding="utf-8").split("## Terms the mapping uses", 1)[1]
    return set(re.findall(r"\bkusei:(\w+)", section))


def defined_terms() -> set[str]:
    g = ontology()
    return {str(s).removeprefix(str(KUSEI)) for s in g.subjects(RDFS.isDefinedBy, URIRef(str(KUSEI)))}


def test_ontology_parses_in_rdflib_and_pyoxigraph() -> None:
    quads = list(ox.parse(path=str(ONTOLOGY_FILE), format=ox.RdfFormat.TURTLE))
    assert len(quads) == len(ontology()) > 0


def test_ontology_header() -> None:
    g, onto = ontology(), URIRef(str(KUSEI))
    assert (onto, RDF.type, OWL.Ontology) in g
    for predicate in (DCTERMS.title, DCTERMS.description):
        assert sorted(o.language for o in g.objects(onto, predicate)) == ["en", "ja"], predicate
    assert g.value(onto, OWL.versionInfo) is not None
    assert isinstance(g.value(onto, DCTERMS.license), URIRef)
    assert str(g.value(onto, VANN.preferredNamespacePrefix)) == "kusei"
    assert str(g.value(onto, VANN.preferredNamespaceUri)) == str(KUSEI)
    assert (None, OWL.imports, None) not in g  # standard terms are referenced by IRI only


def test_every_readme_term_is_defined_in_ja_and_en() -> None:
    g = ontology()
    terms = readme_terms()
    assert len(terms) > 80  # the README's table was read
    missing = terms - defined_terms()
    assert not missing, f"README terms the vocabulary lacks: {sorted(missing)}"
    assert defined_terms() - terms <= KNOWN_EXTRA_TERMS
    for name in sorted(terms | KNOWN_EXTRA_TERMS):
        term = KUSEI[name]
        types = set(g.objects(term, RDF.type))
        if name[0].isupper():
            assert OWL.Class in types, name
            # Anchored to a standard term, directly or through a Kusei superclass.
            assert set(g.objects(term, RDFS.subClassOf)) | set(g.objects(term, SKOS.closeMatch)), name
        else:
            assert types & {OWL.ObjectProperty, OWL.DatatypeProperty}, name
            assert (term, RDFS.domain, None) in g or (term, RDFS.range, None) in g, name
        for predicate in (RDFS.label, RDFS.comment):
            assert sorted(o.language for o in g.objects(term, predicate)) == ["en", "ja"], (name, predicate)
        assert (term, RDFS.isDefinedBy, URIRef(str(KUSEI))) in g, name


@pytest.mark.parametrize(("term", "predicate", "anchor"), [
    (KUSEI.Plan, RDFS.subClassOf, PROV.Plan),
    (KUSEI.Measure, RDFS.subClassOf, PROV.Plan),
    (KUSEI.Project, RDFS.subClassOf, PROV.Plan),
    (KUSEI.BureauProject, RDFS.subClassOf, PROV.Plan),
    (KUSEI.SourceDocument, RDFS.subClassOf, FOAF.Document),
    (KUSEI.Ward, RDFS.subClassOf, SCHEMA.AdministrativeArea),
    (KUSEI.WardOffice, RDFS.subClassOf, ORG.OrganizationalUnit),
    (KUSEI.WardOffice, RDFS.subClassOf, SCHEMA.GovernmentOrganization),
    (KUSEI.Bureau, RDFS.subClassOf, ORG.OrganizationalUnit),
    (KUSEI.Section, RDFS.subClassOf, ORG.OrganizationalUnit),
    (KUSEI.PopulationObservation, RDFS.subClassOf, QB.Observation),
    (KUSEI.FiscalYear, RDFS.subClassOf, TIME.ProperInterval),
    (KUSEI.InfrastructureProject, RDFS.subClassOf, KUSEI.FacilityProject),
    (KUSEI.Campaign, RDFS.subClassOf, SCHEMA.Event),
    (KUSEI.PolicyArea, RDFS.subClassOf, SKOS.Concept),
    (KUSEI.SectionType, RDFS.subClassOf, SKOS.Concept),
    (KUSEI.MTPTheme, RDFS.subClassOf, SKOS.Concept),
    (KUSEI.MTPStrategy, RDFS.subClassOf, SKOS.Concept),
    (KUSEI.MTPPolicy, RDFS.subClassOf, SKOS.Concept),
    (KUSEI.MTPBasicStrategy, RDFS.subClassOf, SKOS.Concept),
    (KUSEI.MTPPerspective, RDFS.subClassOf, SKOS.Concept),
    (KUSEI.sourceDocument, RDFS.subPropertyOf, PROV.hadPrimarySource),
    (KUSEI.plan, RDFS.subPropertyOf, DCTERMS.relation),
    (KUSEI.printing, RDFS.subPropertyOf, PROV.qualifiedPrimarySource),
    (KUSEI.Printing, RDFS.subClassOf, PROV.PrimarySource),
    (KUSEI.mtpTheme, RDFS.subPropertyOf, KUSEI.mtpReference),
    (KUSEI.mtpStrategy, RDFS.subPropertyOf, KUSEI.mtpReference),
    (KUSEI.mtpPolicy, RDFS.subPropertyOf, KUSEI.mtpReference),
    (KUSEI.mtpReference, RDFS.subPropertyOf, DCTERMS.relation),
    (KUSEI.sectionType, RDFS.subPropertyOf, ORG.classification),
])
def test_anchors(term: URIRef, predicate: URIRef, anchor: URIRef) -> None:
    assert (term, predicate, anchor) in ontology()


@pytest.mark.parametrize("name", ["policyArea", "sdg"])
def test_interpretive_terms_say_so(name: str) -> None:
    comments = {o.language: str(o) for o in ontology().objects(KUSEI[name], RDFS.comment)}
    assert "interpretation" in comments["en"] and "interpretation graph" in comments["en"]
    assert "解釈" in comments["ja"]


def test_union_domains_list_defined_classes() -> None:
    # Union domains are written as owl:unionOf lists of defined classes; a typo there would
    # silently widen a property's domain.
    g = ontology()
    for domain in g.objects(None, RDFS.domain):
        if isinstance(domain, BNode):
            members = list(Collection(g, g.value(domain, OWL.unionOf)))
            assert members and all((m, RDF.type, OWL.Class) in g for m in members), members
