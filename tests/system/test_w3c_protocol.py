"""The W3C SPARQL 1.1 Protocol test suite (tests/w3c/), run against `kusei serve` on a store of its data.

Every test of the manifest runs. The endpoint is read-only, so the tests that perform an update
and expect success are run as refusal tests instead: the update must get a 4xx, the store must be
unchanged, and the test's follow-up ASK (which checks the update's effect) must answer false.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import requests
from rdflib.collection import Collection

from kusei.release import Manifest

pytestmark = [pytest.mark.system, pytest.mark.slow]

SUITE = Path(__file__).resolve().parents[1] / "w3c" / "sparql11" / "protocol"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")

BOOLEAN_TYPES = {"application/sparql-results+json", "application/sparql-results+xml"}
TABULAR_TYPES = BOOLEAN_TYPES | {"text/csv", "text/tab-separated-values"}
RDF_TYPES = {"application/rdf+xml": "xml", "text/turtle": "turtle", "application/n-triples": "nt"}
UPDATE_TYPE = "application/sparql-update"
ALL_QUADS = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"

# Tests that cannot apply to this endpoint, with the reason. None so far: every query test runs
# as written, and every update test runs as a refusal test.
NOT_APPLICABLE: dict[str, str] = {}


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: frozenset[int]  # expected status classes: 2, 3, 4
    expected_boolean: bool | None
    expected_format: str | None

    @property
    def is_update(self) -> bool:
        content_type = self.headers.get("content-type", "")
        body = self.body or b""
        return (content_type.startswith(UPDATE_TYPE) or body.startswith(b"update=")
                or "update=" in self.path)


@dataclass(frozen=True)
class ProtocolTest:
    id: str
    name: str
    requests: list[HttpRequest]
    graphs: dict[str, Path] = field(default_factory=dict)  # graph IRI → data file

    @property
    def needs_update(self) -> bool:
        # An update the test expects to succeed; our answer is a refusal.
        first = self.requests[0]
        return first.is_update and not first.statuses <= {4}


def _list(graph: rdflib.Graph, node: rdflib.term.Node | None) -> list:
    return list(Collection(graph, node)) if node is not None else []


def _request(graph: rdflib.Graph, node: rdflib.term.Node) -> HttpRequest:
    headers = {str(graph.value(h, HT.fieldName)).lower(): str(graph.value(h, HT.fieldValue))
               for h in _list(graph, graph.value(node, HT.headers))}
    body_node = graph.value(node, HT.body)
    body = None
    if body_node is not None:
        encoding = str(graph.value(body_node, CNT.characterEncoding) or "UTF-8")
        body = str(graph.value(body_node, CNT.chars)).encode(encoding)
    response = graph.value(node, HT.resp)
    # hts:StatusCode2xx → 2
    statuses = frozenset(int(str(s).rsplit("StatusCode", 1)[1][0])
                         for s in graph.objects(response, MF.expectedStatus))
    boolean = graph.value(response, MF.expectedBoolean)
    expected_format = graph.value(response, MF.expectedFormat)
    return HttpRequest(
        method=str(graph.value(node, HT.methodName)), path=str(graph.value(node, HT.absolutePath)),
        headers=headers, body=body, statuses=statuses,
        expected_boolean=None if boolean is None else bool(boolean.toPython()),
        expected_format=None if expected_format is None else str(expected_format))


def load_tests() -> list[ProtocolTest]:
    graph = rdflib.Graph().parse(SUITE / "manifest.ttl", format="turtle")
    manifest = graph.value(predicate=rdflib.RDF.type, object=MF.Manifest)
    tests = []
    for entry in _list(graph, graph.value(manifest, MF.entries)):
        action = graph.value(entry, MF.action)
        graphs = {str(graph.value(d, rdflib.RDFS.label)): Path(str(graph.value(d, UT.graph)).removeprefix("file://"))
                  for d in graph.objects(entry, UT.graphData)}
        tests.append(ProtocolTest(
            id=str(entry).rsplit("#", 1)[1], name=str(graph.value(entry, MF.name)),
            requests=[_request(graph, r) for r in _list(graph, graph.value(action, HT.requests))],
            graphs=graphs))
    return tests


TESTS = load_tests()


def _write_release(data_dir: Path, graphs: dict[str, Path]) -> None:
    """A minimal release (store + manifest) holding the suite's data in the named graphs it uses."""
    release = data_dir / "releases" / "w3c-protocol"
    (release / "dumps").mkdir(parents=True)
    (release / "sources").mkdir()
    store = ox.Store(str(release / "store"))
    for iri, path in sorted(graphs.items()):
        store.load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(iri))
    store.flush()
    counts = {iri: len(list(store.quads_for_pattern(None, None, None, ox.NamedNode(iri)))) for iri in graphs}
    del store
    gc.collect()  # closes the store before the server opens it
    Manifest(id="w3c-protocol", base="http://www.example/kusei", published_at="http://www.example/kusei",
             modified="2012-11-20", graphs=counts, files=[], documents={}).write(release)
    (data_dir / "current").symlink_to(Path("releases") / "w3c-protocol")


@pytest.fixture(scope="module")
def suite_graphs() -> dict[str, Path]:
    graphs: dict[str, Path] = {}
    for test in TESTS:
        graphs.update(test.graphs)
    return graphs


@pytest.fixture(scope="module")
def w3c_url(tmp_path_factory: pytest.TempPathFactory, start_server: Callable[..., str],
            suite_graphs: dict[str, Path]) -> str:
    data_dir = tmp_path_factory.mktemp("w3c-protocol")
    _write_release(data_dir, suite_graphs)
    return start_server(data_dir)


def send(base_url: str, request: HttpRequest) -> requests.Response:
    # The manifest's paths start with /sparql/, to be replaced by the endpoint's own path.
    path = request.path.replace("/sparql/", "/sparql", 1)
    return requests.request(request.method, base_url + path, headers=request.headers, data=request.body,
                            allow_redirects=False, timeout=30)


def _media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip()


def _boolean(response: requests.Response) -> bool:
    if _media_type(response) == "application/sparql-results+json":
        return response.json()["boolean"]
    return bool(rdflib.query.Result.parse(data=response.text, format="xml").askAnswer)


def check(response: requests.Response, request: HttpRequest) -> None:
    assert response.status_code // 100 in request.statuses, (response.status_code, response.text[:500])
    if request.expected_format == "boolean":
        assert _media_type(response) in BOOLEAN_TYPES
        answer = _boolean(response)
        if request.expected_boolean is not None:
            assert answer is request.expected_boolean
    elif request.expected_format == "tabular":
        assert _media_type(response) in TABULAR_TYPES
        if _media_type(response) == "application/sparql-results+json":
            assert "results" in response.json()
    elif request.expected_format == "RDF":
        assert _media_type(response) in RDF_TYPES
        rdflib.Graph().parse(data=response.content, format=RDF_TYPES[_media_type(response)])


def store_state(base_url: str) -> set[tuple[str, ...]]:
    response = requests.post(f"{base_url}/sparql", data=ALL_QUADS.encode(), timeout=30,
                             headers={"Content-Type": "application/sparql-query",
                                      "Accept": "application/sparql-results+json"})
    rows = response.json()["results"]["bindings"]
    return {tuple(row[v]["value"] for v in ("g", "s", "p", "o")) for row in rows}


def test_suite_is_complete() -> None:
    assert len(TESTS) == 34
    assert len({t.id for t in TESTS}) == 34


@pytest.mark.parametrize("test", TESTS, ids=[t.id for t in TESTS])
def test_protocol(test: ProtocolTest, w3c_url: str, suite_graphs: dict[str, Path]) -> None:
    if test.id in NOT_APPLICABLE:
        pytest.skip(NOT_APPLICABLE[test.id])
    initial = store_state(w3c_url)
    assert len(initial) == len(suite_graphs)
    if not test.needs_update:
        for request in test.requests:
            check(send(w3c_url, request), request)
        assert store_state(w3c_url) == initial
        return
    update, *follow_ups = test.requests
    refused = send(w3c_url, update)
    assert 400 <= refused.status_code < 500, (refused.status_code, refused.text[:500])
    assert "read-only" in refused.text
    assert store_state(w3c_url) == initial
    for request in follow_ups:
        # Each follow-up asks whether the update took effect; on a read-only endpoint it did not.
        response = send(w3c_url, request)
        assert response.status_code == 200
        assert _boolean(response) is (not request.expected_boolean)
