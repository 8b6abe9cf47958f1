"""Provenance where documents meet, and the union graph's validity.

ぼたんちゃん (Kanazawa's mascot) is printed by two documents of the seed data, on different
lines. Every surface a consumer meets must keep each document paired with its own lines: the
document graphs, the merged default graph, DESCRIBE and the resource page's source excerpts.
The SHACL gate must validate that merged graph too, and the vocabulary's sub-property hierarchy
must not make valid data fail the shapes under RDFS entailment.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import requests
from pyshacl import validate as shacl_validate

import kusei.graph.build
from kusei.graph.gate.validate import UNION_SOURCE, validate_graphs, validate_union
from kusei.settings import Settings

pytestmark = pytest.mark.system

BASE = "https://w3id.org/kusei"
KUSEI = BASE + "/def/"
PROV_ENTITY = "http://www.w3.org/ns/prov#entity"
SCHEMA_NAME = "http://schema.org/name"
MASCOT = BASE + "/id/mascot/141089/botan-chan"
NAME = "ぼたんちゃん"
PREFIXES = f"PREFIX kusei: <{KUSEI}>\nPREFIX prov: <http://www.w3.org/ns/prov#>\n"


def select(server_url: str, query: str) -> list[dict[str, str]]:
    response = requests.get(f"{server_url}/sparql", params={"query": PREFIXES + query},
                            headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code == 200, response.text
    return [{k: v["value"] for k, v in row.items()} for row in response.json()["results"]["bindings"]]


@pytest.fixture(scope="module")
def documents(data_dir: Path) -> dict[str, list[str]]:
    """Document IRI → its lines, for the documents that print the mascot's name."""
    release = data_dir / "current"
    manifest = json.loads((release / "release.json").read_text(encoding="utf-8"))
    found = {}
    for doc_id, record in manifest["documents"].items():
        text = (release / "sources" / record.replace(".yaml", ".txt")).read_text(encoding="utf-8")
        if NAME in text:
            found[f"{BASE}/id/document/{doc_id}"] = text.splitlines()
    return found


@pytest.fixture(scope="module")
def printings(server_url: str) -> dict[str, tuple[int, int]]:
    """From the merged default graph (no GRAPH): document IRI → (first, last) of each printing."""
    rows = select(server_url, f"""
        SELECT ?p ?doc ?first ?last WHERE {{
          <{MASCOT}> kusei:printing ?p . ?p prov:entity ?doc ; kusei:firstLine ?first ; kusei:lastLine ?last }}""")
    paired = {row["doc"]: (int(row["first"]), int(row["last"])) for row in rows}
    assert len(paired) == len(rows), "a document with two line ranges for one entity"
    return paired


def test_each_document_printing_the_mascot_has_its_own_lines(
        printings: dict[str, tuple[int, int]], documents: dict[str, list[str]]) -> None:
    assert len(documents) >= 2  # the seed data prints ぼたんちゃん twice: the case under test
    assert set(printings) == set(documents)
    assert len(set(printings.values())) == len(printings), "the documents print it on different lines"
    for document, (first, last) in printings.items():
        lines = documents[document]
        assert 1 <= first <= last <= len(lines)
        assert NAME in "".join(lines[first - 1:last]), (document, first, last)


def test_named_graphs_hold_one_printing_each(server_url: str, printings: dict[str, tuple[int, int]]) -> None:
    rows = select(server_url, f"""
        SELECT ?g ?p ?doc ?first ?last WHERE {{ GRAPH ?g {{
          <{MASCOT}> kusei:sourceDocument ?source ; kusei:printing ?p .
          ?p prov:entity ?doc ; kusei:firstLine ?first ; kusei:lastLine ?last }} }}""")
    assert len(rows) == len(printings)
    for row in rows:
        doc_id = row["doc"].rsplit("/", 1)[-1]
        assert row["g"] == f"{BASE}/graph/document/{doc_id}"
        assert row["p"] == f"{MASCOT}#in-{doc_id}"
        assert (int(row["first"]), int(row["last"])) == printings[row["doc"]]


def test_describe_pairs_documents_and_lines(server_url: str, printings: dict[str, tuple[int, int]]) -> None:
    response = requests.get(f"{server_url}/sparql", params={"query": f"DESCRIBE <{MASCOT}>"},
                            headers={"Accept": "text/turtle"}, timeout=60)
    assert response.status_code == 200, response.text
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    mascot = rdflib.URIRef(MASCOT)
    described = {}
    for printing in graph.objects(mascot, rdflib.URIRef(KUSEI + "printing")):
        document = str(graph.value(printing, rdflib.URIRef(PROV_ENTITY)))
        described[document] = (int(graph.value(printing, rdflib.URIRef(KUSEI + "firstLine"))),
                               int(graph.value(printing, rdflib.URIRef(KUSEI + "lastLine"))))
    assert described == printings
    assert {str(d) for d in graph.objects(mascot, rdflib.URIRef(KUSEI + "sourceDocument"))} == set(printings)


def test_page_quotes_each_documents_own_lines(server_url: str, printings: dict[str, tuple[int, int]],
                                               documents: dict[str, list[str]]) -> None:
    page = requests.get(f"{server_url}/id/mascot/141089/botan-chan", headers={"Accept": "text/html"}, timeout=60)
    assert page.status_code == 200
    boxes = re.findall(r'<section class="block source">(.*?)</section>', page.text, re.S)
    assert len(boxes) == len(printings)
    for document, (first, last) in printings.items():
        path = document.removeprefix(BASE)
        box = next(b for b in boxes if f'href="{path}"' in b)
        shown = [(int(n), html.unescape(t)) for n, t in re.findall(r'<th scope="row">(\d+)</th><td>(.*?)</td>', box)]
        assert shown == [(n, documents[document][n - 1]) for n in range(first, last + 1)]


# --- the union ----------------------------------------------------------------------------------

Parts = list[tuple[str, list[ox.Triple]]]


class _Captured(Exception):
    pass


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Parts, list[ox.Triple], rdflib.Graph, rdflib.Graph]:
    """What the build hands the SHACL gate, captured before it runs."""
    captured: list = []

    def capture(*args: object) -> None:
        captured.extend(args)
        raise _Captured

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kusei.graph.build, "validate_graphs", capture)
        with pytest.raises(_Captured):
            kusei.graph.build.build(Settings(data_dir=tmp_path_factory.mktemp("capture")), report=lambda _: None)
    return tuple(captured)  # type: ignore[return-value]


def _renamed_in_one_part(parts: Parts, change: Callable[[ox.Triple], ox.Triple | None]) -> Parts:
    """The parts with ``change`` applied to the second document printing the mascot."""
    printing = [i for i, (_, triples) in enumerate(parts)
                if any(t.subject.value == MASCOT for t in triples)]
    assert len(printing) >= 2
    target = printing[1]
    return [(name, [c for t in triples if (c := change(t) if i == target else t) is not None])
            for i, (name, triples) in enumerate(parts)]


def test_the_union_of_the_seed_data_conforms(inputs: tuple) -> None:
    parts, shared, shapes, ontology = inputs
    outcome = validate_union(parts, shared, shapes, ontology)
    assert outcome.conforms, "\n".join(map(str, outcome.violations))


def test_a_conflict_only_the_union_shows_is_caught(inputs: tuple) -> None:
    """Two documents giving the mascot different names: each document graph is valid on its own,
    the merged graph (what SPARQL users and kusei.ttl get) has two names and is not."""
    parts, shared, shapes, ontology = inputs

    def rename(t: ox.Triple) -> ox.Triple:
        if t.subject.value == MASCOT and t.predicate.value == SCHEMA_NAME:
            return ox.Triple(t.subject, t.predicate, ox.Literal("ぼたん", language="ja"))
        return t

    changed = _renamed_in_one_part(parts, rename)
    assert validate_graphs(changed, shared, shapes, ontology).conforms
    outcome = validate_union(changed, shared, shapes, ontology)
    assert not outcome.conforms
    assert {(v.source_file, v.focus, v.path) for v in outcome.violations} == {(UNION_SOURCE, MASCOT, SCHEMA_NAME)}


def test_the_union_conforms_under_rdfs_entailment(inputs: tuple) -> None:
    """kusei:plan is not ⊑ dcterms:isPartOf: with it, RDFS would give every nested item a second
    isPartOf (its plan) and break the shapes that pair isPartOf with the direct parent."""
    parts, shared, shapes, ontology = inputs
    union = rdflib.Graph()
    for _, triples in [*parts, ("shared", shared)]:
        union.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    conforms, _report, text = shacl_validate(union, shacl_graph=shapes, ont_graph=ontology, inference="rdfs",
                                             advanced=True, allow_warnings=True)
    assert conforms, text[:4000]
