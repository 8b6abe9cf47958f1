"""The endpoint serves exactly the dumps: every named graph of the store, fetched over HTTP with
CONSTRUCT … GRAPH, is term for term the same graph as in the downloaded files.

Oxigraph normalises some literals as it loads them (a derived integer type becomes xsd:integer);
anything the build publishes that the store would change shows up here as a difference. One is
known and stated (graph/README.md, /dumps/): ``dcat:byteSize`` in void.ttl is the
xsd:nonNegativeInteger DCAT-AP 3 requires, which the endpoint's dataset graph serves as
xsd:integer. The data graphs have no exception.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

pytestmark = pytest.mark.system

BASE = "https://w3id.org/kusei"
XSD = "http://www.w3.org/2001/XMLSchema#"
BYTE_SIZE = "http://www.w3.org/ns/dcat#byteSize"


def as_stored(triples: list[ox.Triple]) -> list[ox.Triple]:
    """void.ttl as Oxigraph stores it: the one stated exception, and nothing else, rewritten."""
    out = []
    for t in triples:
        if t.predicate.value == BYTE_SIZE and isinstance(t.object, ox.Literal):
            assert t.object.datatype.value == XSD + "nonNegativeInteger"  # as DCAT-AP 3 requires
            t = ox.Triple(t.subject, t.predicate, ox.Literal(t.object.value, datatype=ox.NamedNode(XSD + "integer")))
        out.append(t)
    return out


def canonical(triples: list[ox.Triple]) -> set[str]:
    """The triples as N-Triples text, each blank node replaced by a digest of what it says and who
    points at it: CONSTRUCT mints new blank-node labels, and the graphs' blank nodes (corrections,
    OWL lists) are told apart by their content. Every other term is compared exactly."""
    outgoing: dict[ox.BlankNode, list[str]] = defaultdict(list)
    incoming: dict[ox.BlankNode, list[str]] = defaultdict(list)
    for t in triples:
        if isinstance(t.subject, ox.BlankNode):
            outgoing[t.subject].append(f"{t.predicate} {'_' if isinstance(t.object, ox.BlankNode) else t.object}")
        if isinstance(t.object, ox.BlankNode):
            incoming[t.object].append(f"{'_' if isinstance(t.subject, ox.BlankNode) else t.subject} {t.predicate}")

    def name(term: ox.Term) -> str:
        if not isinstance(term, ox.BlankNode):
            return str(term)
        text = "\n".join(sorted(outgoing[term])) + "|" + "\n".join(sorted(incoming[term]))
        return "_:" + hashlib.sha256(text.encode()).hexdigest()[:24]

    return {f"{name(t.subject)} {t.predicate} {name(t.object)}" for t in triples}


def fetch(server_url: str, query: str) -> list[ox.Triple]:
    response = requests.post(f"{server_url}/sparql", data={"query": query},
                             headers={"Accept": "application/n-triples"}, timeout=120)
    assert response.status_code == 200, response.text[:500]
    return list(ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES))


@pytest.fixture(scope="module")
def dumps(data_dir: Path) -> Path:
    return data_dir / "current" / "dumps"


@pytest.fixture(scope="module")
def dumped_graphs(dumps: Path) -> dict[str, list[ox.Triple]]:
    graphs: dict[str, list[ox.Triple]] = defaultdict(list)
    for quad in ox.parse(path=str(dumps / "kusei.nq"), format=ox.RdfFormat.N_QUADS):
        graphs[quad.graph_name.value].append(quad.triple)
    # The dataset description is published beside the data dumps, as void.ttl.
    graphs[f"{BASE}/graph/dataset"] = as_stored(list(ox.parse(path=str(dumps / "void.ttl"),
                                                              format=ox.RdfFormat.TURTLE)))
    return dict(graphs)


def test_the_endpoint_serves_the_dumped_graphs_and_no_other(server_url: str,
                                                            dumped_graphs: dict[str, list[ox.Triple]]) -> None:
    response = requests.get(f"{server_url}/sparql", params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }"},
                            headers={"Accept": "application/sparql-results+json"}, timeout=60)
    served = {row["g"]["value"] for row in response.json()["results"]["bindings"]}
    assert served == set(dumped_graphs)
    assert len(served) >= 9  # five documents, reference, interpretation, ontology, dataset …


def test_every_named_graph_is_term_for_term_the_dumps(server_url: str,
                                                      dumped_graphs: dict[str, list[ox.Triple]]) -> None:
    differing = {}
    for graph, triples in sorted(dumped_graphs.items()):
        served = fetch(server_url, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        dumped, got = canonical(triples), canonical(served)
        if dumped != got:
            differing[graph] = (sorted(dumped - got)[:3], sorted(got - dumped)[:3])
    assert not differing, differing


def test_the_default_graph_is_kusei_ttl_with_the_dataset_description(server_url: str, dumps: Path) -> None:
    dumped = list(ox.parse(path=str(dumps / "kusei.ttl"), format=ox.RdfFormat.TURTLE))
    dumped += as_stored(list(ox.parse(path=str(dumps / "void.ttl"), format=ox.RdfFormat.TURTLE)))
    served = fetch(server_url, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    assert canonical(served) == canonical(dumped)


def test_line_numbers_keep_the_datatype_the_vocabulary_states(server_url: str) -> None:
    response = requests.get(f"{server_url}/sparql", params={"query": f"""
        SELECT (COUNT(*) AS ?all) (SUM(IF(DATATYPE(?line) = <http://www.w3.org/2001/XMLSchema#integer>, 1, 0)) AS ?int)
        WHERE {{ ?p <{BASE}/def/firstLine>|<{BASE}/def/lastLine> ?line }}"""},
        headers={"Accept": "application/sparql-results+json"}, timeout=60)
    row = response.json()["results"]["bindings"][0]
    assert int(row["all"]["value"]) > 100
    assert row["int"]["value"] == row["all"]["value"]


def test_the_validation_report_covers_the_merged_graph(dumps: Path) -> None:
    report = (dumps / "validation-report.ttl").read_text(encoding="utf-8")
    assert "validation/merged" in report and "merged default graph" in report


def test_the_jsonld_dump_holds_every_quad_with_short_terms(dumps: Path) -> None:
    """kusei.jsonld is the same dataset as kusei.nq, written with the context's short terms."""
    import json

    import rdflib
    from rdflib.compare import isomorphic

    from_jsonld = rdflib.Dataset()
    from_jsonld.parse(dumps / "kusei.jsonld", format="json-ld")
    from_nquads = rdflib.Dataset()
    from_nquads.parse(dumps / "kusei.nq", format="nquads")
    names = {g.identifier for g in from_nquads.graphs() if len(g)}
    assert names == {g.identifier for g in from_jsonld.graphs() if len(g)}
    for name in names:
        assert isomorphic(from_jsonld.graph(name), from_nquads.graph(name)), name

    document = json.loads((dumps / "kusei.jsonld").read_text(encoding="utf-8"))
    context = json.loads((dumps / "context.jsonld").read_text(encoding="utf-8"))["@context"]
    assert document["@context"] == context
    assert context["firstLine"] == {"@id": "kusei:firstLine", "@type": "http://www.w3.org/2001/XMLSchema#integer"}
    assert context["label"]["@container"] == "@language" and context["printing"]["@type"] == "@id"
    text = json.dumps(document, ensure_ascii=False)
    assert '"label": {"ja": ' in text and '"firstLine": "' in text and '"rdfs:label": [{"@language"' not in text


def test_the_dumps_page_says_what_each_file_holds_and_how_the_counts_relate(
        server_url: str, dumps: Path) -> None:
    page = requests.get(f"{server_url}/dumps/", headers={"Accept": "text/html"}, timeout=60).text
    for name in ("kusei.trig", "kusei.ttl", "kusei.jsonld", "void.ttl", "context.jsonld"):
        row = next(r for r in page.split("<tr>") if f'href="{name}"' in r)
        holds = row.split("</td>")[1]
        assert len(holds) > 40, name  # a "holds" cell that says something
        # in both languages: Japanese first, the English in a span of its own
        japanese = holds.split('<span lang="en">')[0]
        assert any("\u3040" <= ch <= "\u9fff" for ch in japanese) and '<span lang="en">' in holds, holds
    assert "Dataset().parse" in page and "Graph().parse gives 0 triples" in page
    merged = sum(1 for line in (dumps / "kusei.nt").read_text(encoding="utf-8").splitlines() if line.strip())
    quads = sum(1 for line in (dumps / "kusei.nq").read_text(encoding="utf-8").splitlines() if line.strip())
    void = list(ox.parse(path=str(dumps / "void.ttl"), format=ox.RdfFormat.TURTLE))
    stated = {int(t.object.value) for t in void
              if t.subject.value == f"{BASE}/id/dataset/kusei" and t.predicate.value == "http://rdfs.org/ns/void#triples"}
    response = requests.get(f"{server_url}/sparql", params={
        "query": "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"},
        headers={"Accept": "application/sparql-results+json"}, timeout=60)
    default_graph = int(response.json()["results"]["bindings"][0]["n"]["value"])
    assert stated == {merged}
    assert f"hold {merged:,} triples" in page and f"hold {quads:,} quads" in page
    assert f"{merged:,} トリプル" in page and f"{quads:,} クワッド" in page
    assert default_graph == merged + len(void) and f"{default_graph:,} in all" in page
