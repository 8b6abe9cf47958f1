"""The SPARQL 1.1 Protocol, content negotiation, dumps and HTTP conventions, against a real `kusei serve`."""

from __future__ import annotations

import csv
import gzip
import hashlib
import http.client
import io
import json
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest
import rdflib
import requests
from flask import Flask

from kusei.endpoint.web.app import create_app
from kusei.release import open_store
from kusei.settings import Settings

pytestmark = pytest.mark.system

RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
SKOS_PREF_LABEL = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


@pytest.fixture(scope="module")
def manifest(data_dir: Path) -> dict:
    return json.loads((data_dir / "current" / "release.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def base(manifest: dict) -> str:
    return manifest["base"]


@pytest.fixture(scope="module")
def document_graph(manifest: dict) -> str:
    return next(g for g in manifest["graphs"] if "/graph/document/" in g)


@pytest.fixture(scope="module")
def sparql(server_url: str) -> str:
    return f"{server_url}/sparql"


def bindings(response: requests.Response) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/sparql-results+json")
    return response.json()["results"]["bindings"]


def count(sparql: str, query: str, **params: object) -> int:
    response = requests.get(sparql, params={"query": query, **params}, timeout=30)
    return int(bindings(response)[0]["n"]["value"])


# -- transports -----------------------------------------------------------------------------------


def test_get(sparql: str) -> None:
    rows = bindings(requests.get(sparql, params={"query": "SELECT (1 AS ?one) {}"}, timeout=30))
    assert rows == [{"one": {"type": "literal", "value": "1",
                             "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}]


def test_post_form(sparql: str) -> None:
    response = requests.post(sparql, data={"query": "ASK { ?s ?p ?o }"}, timeout=30)
    assert response.status_code == 200
    assert response.json() == {"head": {}, "boolean": True}


@pytest.mark.parametrize("content_type",
                         ["application/sparql-query", "application/sparql-query; charset=UTF-8"])
def test_post_direct(sparql: str, content_type: str) -> None:
    query = 'SELECT ?label WHERE { VALUES ?label { "区運営方針"@ja } }'
    response = requests.post(sparql, data=query.encode("utf-8"), headers={"Content-Type": content_type},
                             timeout=30)
    assert bindings(response)[0]["label"] == {"type": "literal", "value": "区運営方針", "xml:lang": "ja"}


def test_post_direct_other_charset_is_refused(sparql: str) -> None:
    response = requests.post(sparql, data="ASK {}".encode("utf-16"),
                             headers={"Content-Type": "application/sparql-query; charset=UTF-16"}, timeout=30)
    assert response.status_code == 415


@pytest.mark.parametrize("content_type", [None, "text/plain"])
def test_post_without_a_protocol_media_type_is_refused(sparql: str, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = requests.post(sparql, data=b"query=ASK%20%7B%7D", headers=headers, timeout=30)
    assert response.status_code == 415
    assert "application/sparql-query" in response.text


def test_more_than_one_query_is_refused(sparql: str) -> None:
    response = requests.get(sparql, params=[("query", "ASK {}"), ("query", "SELECT * {}")], timeout=30)
    assert response.status_code == 400


def test_other_methods_are_refused(sparql: str) -> None:
    response = requests.put(sparql, params={"query": "ASK {}"}, timeout=30)
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_head(sparql: str) -> None:
    get = requests.get(sparql, params={"query": SELECT}, timeout=30)
    head = requests.head(sparql, params={"query": SELECT}, timeout=30)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["ETag"] == get.headers["ETag"]


def test_timeout_parameter_can_only_shorten(sparql: str) -> None:
    params = {"query": "SELECT * WHERE { ?s ?p ?o }", "timeout": "1e-9"}
    stopped = requests.get(sparql, params=params, timeout=30)
    assert stopped.status_code == 503
    assert "stopped" in stopped.text
    longer = requests.get(sparql, params={"query": "ASK {}", "timeout": "1e9"}, timeout=30)
    assert longer.status_code == 200


@pytest.mark.parametrize("accept", ["*/*;q=abc", "application/json;q=nan"])
def test_an_accept_header_with_no_valid_entry_is_disregarded(sparql: str, accept: str) -> None:
    # RFC 9110 lets a server ignore an unusable Accept; /sparql does as the dumps and pages do.
    response = requests.get(sparql, params={"query": "ASK {}"}, headers={"Accept": accept}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/sparql-results+json")
    listing = requests.get(sparql.replace("/sparql", "/dumps/"), headers={"Accept": accept}, timeout=30)
    assert listing.status_code == 200


def test_too_many_rows_is_an_error_not_a_truncated_answer(data_dir: Path) -> None:
    app = create_app(Settings(data_dir=data_dir, max_result_rows=10))
    response = app.test_client().get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert response.status_code == 422
    assert b"more than 10 rows" in response.data
    limited = app.test_client().get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 10"})
    assert limited.status_code == 200


# -- dataset --------------------------------------------------------------------------------------


def test_default_graph_is_the_union_of_the_named_graphs(sparql: str, manifest: dict) -> None:
    union = count(sparql, "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }")
    distinct_quads = count(sparql, "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o "
                                   "{ GRAPH ?g { ?s ?p ?o } } }")
    assert union == distinct_quads > 0
    assert count(sparql, COUNT_ALL) == sum(manifest["graphs"].values())


def test_graph_on_a_plan_document_graph(sparql: str, document_graph: str) -> None:
    # No PREFIX lines: kusei: and the other README prefixes are pre-declared.
    query = f"SELECT ?plan WHERE {{ GRAPH <{document_graph}> {{ ?plan a kusei:Plan }} }}"
    plans = bindings(requests.get(sparql, params={"query": query}, timeout=30))
    assert len(plans) == 1
    assert "/id/plan/" in plans[0]["plan"]["value"]


def test_a_query_may_redeclare_a_predeclared_prefix(sparql: str) -> None:
    query = "PREFIX kusei: <http://example.org/> SELECT ?x WHERE { BIND(kusei:a AS ?x) }"
    rows = bindings(requests.get(sparql, params={"query": query}, timeout=30))
    assert rows[0]["x"]["value"] == "http://example.org/a"


def test_default_graph_uri_defines_the_default_graph(sparql: str, base: str, manifest: dict) -> None:
    reference = f"{base}/graph/reference"
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert count(sparql, query, **{"default-graph-uri": reference}) == manifest["graphs"][reference]
    # Only what is named is in the dataset: no GRAPH match without named-graph-uri.
    assert count(sparql, COUNT_ALL, **{"default-graph-uri": reference}) == 0


def test_named_graph_uri_defines_the_named_graphs(sparql: str, base: str, manifest: dict,
                                                 document_graph: str) -> None:
    params = [("query", "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"),
              ("named-graph-uri", document_graph), ("named-graph-uri", f"{base}/graph/reference")]
    rows = bindings(requests.post(sparql, data=params, timeout=30))
    assert sorted(row["g"]["value"] for row in rows) == sorted([document_graph, f"{base}/graph/reference"])
    # With only named graphs given, the default graph is empty.
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert count(sparql, query, **{"named-graph-uri": document_graph}) == 0


def test_protocol_dataset_overrides_from(sparql: str, base: str, document_graph: str) -> None:
    query = f"ASK FROM <{document_graph}> {{ ?s a kusei:Plan }}"
    assert requests.get(sparql, params={"query": query}, timeout=30).json()["boolean"] is True
    params = {"query": query, "default-graph-uri": f"{base}/graph/reference"}
    assert requests.get(sparql, params=params, timeout=30).json()["boolean"] is False


def test_describe_returns_the_bounded_description(sparql: str, app: Flask, document_graph: str) -> None:
    query = f"SELECT ?plan WHERE {{ GRAPH <{document_graph}> {{ ?plan a kusei:Plan }} }}"
    plan = bindings(requests.get(sparql, params={"query": query}, timeout=30))[0]["plan"]["value"]
    response = requests.get(sparql, params={"query": f"DESCRIBE <{plan}>", "format": "nt"}, timeout=30)
    assert response.status_code == 200
    got = {quad.triple for quad in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)}
    # Checked against the store itself (the merged default graph), part by part.
    store = open_store(app.extensions["kusei_release"].latest().path)
    node = ox.NamedNode(plan)
    own = {q.triple for q in store.quads_for_pattern(node, None, None, ox.DefaultGraph())}
    incoming = {q.triple for q in store.quads_for_pattern(None, None, node, ox.DefaultGraph())
                if isinstance(q.subject, ox.NamedNode) and q.subject != node}
    assert own and incoming  # the plan's measures point at the plan
    assert own <= got and incoming <= got
    linked = {t.object for t in own if isinstance(t.object, ox.NamedNode)} | {t.subject for t in incoming}
    labels = {q.triple for other in linked for prop in (RDFS_LABEL, SKOS_PREF_LABEL)
              for q in store.quads_for_pattern(other, prop, None, ox.DefaultGraph())}
    assert labels <= got
    # The plan's printings <plan>#in-<docid> (document and lines) are part of its description.
    fragments = {q.triple for t in own if isinstance(t.object, ox.NamedNode) and t.object.value.startswith(plan + "#")
                 for q in store.quads_for_pattern(t.object, None, None, ox.DefaultGraph())}
    assert fragments and fragments <= got
    assert got - own - incoming - labels - fragments == set()  # the plan's own triples hold no blank nodes


# -- formats and negotiation ----------------------------------------------------------------------

SELECT = "SELECT ?s ?label WHERE { ?s a kusei:Ward ; rdfs:label ?label } ORDER BY ?s ?label LIMIT 5"
CONSTRUCT = "CONSTRUCT { ?s a kusei:Ward ; rdfs:label ?label } WHERE { ?s a kusei:Ward ; rdfs:label ?label }"


def _parse_results(media_type: str, body: bytes) -> int:
    """The number of rows in a results document."""
    if media_type == "application/sparql-results+json":
        return len(json.loads(body)["results"]["bindings"])
    if media_type == "text/csv":
        return len(list(csv.reader(io.StringIO(body.decode("utf-8"))))) - 1
    if media_type == "text/tab-separated-values":
        return len(body.decode("utf-8").strip("\n").split("\n")) - 1
    return len(list(rdflib.query.Result.parse(io.BytesIO(body), format="xml")))


RESULT_TYPES = [("json", "application/sparql-results+json"), ("xml", "application/sparql-results+xml"),
                ("csv", "text/csv"), ("tsv", "text/tab-separated-values")]
GRAPH_TYPES = [("ttl", "text/turtle", "turtle"), ("nt", "application/n-triples", "nt"),
               ("jsonld", "application/ld+json", "json-ld"), ("rdf", "application/rdf+xml", "xml"),
               ("trig", "application/trig", "trig"), ("nq", "application/n-quads", "nquads")]


@pytest.mark.parametrize(("name", "media_type"), RESULT_TYPES)
def test_result_formats_by_accept_and_by_name(sparql: str, name: str, media_type: str) -> None:
    by_accept = requests.get(sparql, params={"query": SELECT}, headers={"Accept": media_type}, timeout=30)
    by_name = requests.get(sparql, params={"query": SELECT, "format": name}, timeout=30)
    for response in (by_accept, by_name):
        assert response.status_code == 200
        assert response.headers["Content-Type"].split(";")[0] == media_type
        assert _parse_results(media_type, response.content) == 5
    assert by_accept.content == by_name.content


@pytest.mark.parametrize(("name", "media_type", "rdflib_format"), GRAPH_TYPES)
def test_graph_formats_by_accept_and_by_name(sparql: str, name: str, media_type: str,
                                             rdflib_format: str) -> None:
    expected = count(sparql, "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?label "
                             "{ ?s a kusei:Ward ; rdfs:label ?label } }") + count(
        sparql, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a kusei:Ward }")
    by_accept = requests.get(sparql, params={"query": CONSTRUCT}, headers={"Accept": media_type}, timeout=30)
    by_name = requests.get(sparql, params={"query": CONSTRUCT, "format": name}, timeout=30)
    for response in (by_accept, by_name):
        assert response.status_code == 200
        assert response.headers["Content-Type"].split(";")[0] == media_type
        dataset = rdflib.Dataset()
        dataset.parse(data=response.content, format=rdflib_format)
        assert len(set(dataset.triples((None, None, None)))) == expected
    assert by_accept.content == by_name.content


def test_turtle_is_written_with_prefixes(sparql: str) -> None:
    body = requests.get(sparql, params={"query": CONSTRUCT}, timeout=30).text
    assert "@prefix kusei:" in body and "a kusei:Ward" in body


def test_jsonld_is_compacted_with_the_dataset_context(sparql: str, data_dir: Path) -> None:
    document = requests.get(sparql, params={"query": CONSTRUCT, "format": "jsonld"}, timeout=30).json()
    context = json.loads((data_dir / "current" / "dumps" / "context.jsonld").read_text(encoding="utf-8"))
    assert document["@context"] == context["@context"]
    assert any(node.get("@type") == "kusei:Ward" for node in document["@graph"])


@pytest.mark.parametrize(("accept", "expected"), [
    (None, "text/turtle"),
    ("*/*", "text/turtle"),
    ("application/*", "application/n-triples"),
    ("text/turtle;q=0, */*;q=0.1", "application/n-triples"),
    ("application/rdf+xml;q=0.5, application/ld+json;q=0.9, text/*;q=0.7", "application/ld+json"),
    ("text/*;q=0.9, text/turtle;q=0.1, application/n-triples;q=0.5", "application/n-triples"),
])
def test_graph_negotiation_by_quality_and_specificity(sparql: str, accept: str | None, expected: str) -> None:
    headers = {"Accept": accept} if accept else {}
    session = requests.Session()
    if accept is None:
        session.headers.pop("Accept")
    response = session.get(sparql, params={"query": CONSTRUCT}, headers=headers, timeout=30)
    assert response.headers["Content-Type"].split(";")[0] == expected


def test_select_negotiation_defaults_to_json(sparql: str) -> None:
    for accept in ("*/*", "application/json", "text/html,application/xhtml+xml,*/*;q=0.8"):
        response = requests.get(sparql, params={"query": SELECT}, headers={"Accept": accept}, timeout=30)
        assert response.headers["Content-Type"].startswith("application/sparql-results+json"), accept


@pytest.mark.parametrize("query", [SELECT, CONSTRUCT, "ASK {}"])
def test_unacceptable_format_is_406_listing_what_is_offered(sparql: str, query: str) -> None:
    response = requests.get(sparql, params={"query": query}, headers={"Accept": "image/png"}, timeout=30)
    assert response.status_code == 406
    assert "Accept" in response.headers["Vary"]
    offered = "text/turtle" if query.startswith("CONSTRUCT") else "application/sparql-results+json"
    assert offered in response.text


def test_unknown_format_name_is_406(sparql: str) -> None:
    response = requests.get(sparql, params={"query": SELECT, "format": "yaml"}, timeout=30)
    assert response.status_code == 406


def test_csv_opens_japanese_text(sparql: str) -> None:
    query = 'SELECT ?label WHERE { VALUES ?label { "中区" } }'
    response = requests.get(sparql, params={"query": query, "format": "csv"}, timeout=30)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode("utf-8").splitlines() == ["label", "中区"]


# -- errors ---------------------------------------------------------------------------------------


def test_syntax_error_is_400_with_message_and_position(sparql: str) -> None:
    query = "SELECT * WHERE {\n  ?s ?p ?o .\n  FILTER(?s = )\n}"
    with pytest.raises(SyntaxError) as parser:
        ox.Store().query(query)
    expected = str(parser.value)  # pyoxigraph reports the furthest point its parser reached
    assert expected.startswith("error at ")
    response = requests.get(sparql, params={"query": query}, timeout=30)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text.startswith(expected)
    as_json = requests.get(sparql, params={"query": query}, headers={"Accept": "application/json"},
                           timeout=30)
    assert as_json.status_code == 400
    body = as_json.json()
    assert body["error"] == "query-syntax"
    assert body["message"] == expected
    assert expected.startswith(f"error at {body['line']}:{body['column']}:")
    assert body["line"] > 1 and body["column"] >= 1


def test_errors_never_carry_a_stack_trace(sparql: str, server_url: str) -> None:
    for response in (requests.get(sparql, params={"query": "SELECT ?"}, timeout=30),
                     requests.get(f"{server_url}/no/such/page", timeout=30),
                     requests.get(sparql, params={"query": "ASK {}", "default-graph-uri": "not an iri"},
                                  timeout=30)):
        assert 400 <= response.status_code < 500
        assert "Traceback" not in response.text and 'File "' not in response.text


@pytest.mark.parametrize("send", [
    lambda url: requests.post(url, data={"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}, timeout=30),
    lambda url: requests.get(url, params={"update": "CLEAR ALL"}, timeout=30),
    lambda url: requests.post(url, data=b"CLEAR ALL", headers={"Content-Type": "application/sparql-update"},
                              timeout=30),
    lambda url: requests.get(url, params={"query": "INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> 1 } }"},
                             timeout=30),
    lambda url: requests.post(url, data={"query": "PREFIX x: <urn:x#>\n# note\nDROP ALL"}, timeout=30),
], ids=["form-update", "get-update", "direct-update", "update-as-query", "update-after-prologue"])
def test_updates_are_refused_and_change_nothing(sparql: str, send: object) -> None:
    before = count(sparql, COUNT_ALL)
    response = send(sparql)  # type: ignore[operator]
    assert response.status_code == 403
    assert "read-only" in response.text
    assert count(sparql, COUNT_ALL) == before
    assert count(sparql, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:g> { ?s ?p ?o } }") == 0


# -- service description and VoID -------------------------------------------------------------------


def test_service_description(sparql: str, manifest: dict) -> None:
    response = requests.get(sparql, headers={"Accept": "text/turtle"}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=response.content, format="turtle")
    service = graph.value(predicate=rdflib.RDF.type, object=SD.Service)
    assert service is not None
    assert str(graph.value(service, SD.endpoint)).endswith("/sparql")
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (service, SD.feature, SD.UnionDefaultGraph) in graph
    assert (service, SD.feature, SD.BasicFederatedQuery) not in graph
    formats = {str(o) for o in graph.objects(service, SD.resultFormat)}
    assert "http://www.w3.org/ns/formats/SPARQL_Results_JSON" in formats
    assert "http://www.w3.org/ns/formats/Turtle" in formats and len(formats) == 10
    dataset = graph.value(service, SD.defaultDataset)
    named = {str(graph.value(g, SD.name)) for g in graph.objects(dataset, SD.namedGraph)}
    assert named == set(manifest["graphs"])
    assert any(str(o).endswith("/.well-known/void") for o in graph.objects(service, rdflib.RDFS.seeAlso))


@pytest.mark.parametrize(("name", "rdflib_format"), [("jsonld", "json-ld"), ("rdf", "xml"), ("nt", "nt")])
def test_service_description_in_other_formats(sparql: str, name: str, rdflib_format: str) -> None:
    response = requests.get(sparql, params={"format": name}, timeout=30)
    graph = rdflib.Graph().parse(data=response.content, format=rdflib_format)
    assert (None, SD.feature, SD.UnionDefaultGraph) in graph


def test_browsers_are_sent_to_the_query_page(sparql: str) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = requests.get(sparql, headers={"Accept": accept}, allow_redirects=False, timeout=30)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/query")


def test_well_known_void(server_url: str, base: str) -> None:
    response = requests.get(f"{server_url}/.well-known/void", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=response.content, format="turtle")
    dataset = rdflib.URIRef(f"{base}/id/dataset/kusei")
    assert (dataset, rdflib.RDF.type, VOID.Dataset) in graph
    assert graph.value(dataset, VOID.sparqlEndpoint) is not None
    as_jsonld = requests.get(f"{server_url}/.well-known/void", headers={"Accept": "application/ld+json"},
                             timeout=30)
    assert len(rdflib.Graph().parse(data=as_jsonld.content, format="json-ld")) == len(graph)


# -- HTTP conventions -----------------------------------------------------------------------------


def test_etag_304_and_vary(sparql: str) -> None:
    params = {"query": SELECT}
    first = requests.get(sparql, params=params, timeout=30)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert {"Accept", "Accept-Encoding"} <= {v.strip() for v in first.headers["Vary"].split(",")}
    again = requests.get(sparql, params=params, headers={"If-None-Match": etag}, timeout=30)
    assert again.status_code == 304 and again.content == b""
    other = requests.get(sparql, params=params, headers={"If-None-Match": etag, "Accept": "text/csv"},
                         timeout=30)
    assert other.status_code == 200 and other.headers["ETag"] != etag


def test_gzip(sparql: str) -> None:
    response = requests.get(sparql, params={"query": CONSTRUCT}, headers={"Accept-Encoding": "gzip"},
                            stream=True, timeout=30)
    assert response.headers["Content-Encoding"] == "gzip"
    raw = response.raw.read(decode_content=False)
    assert gzip.decompress(raw).startswith(b"@prefix")
    again = requests.get(sparql, params={"query": CONSTRUCT}, timeout=30,
                         headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_cors_preflight_and_headers(sparql: str) -> None:
    preflight = requests.options(sparql, timeout=30, headers={
        "Origin": "https://yasgui.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    actual = requests.get(sparql, params={"query": "ASK {}"}, headers={"Origin": "https://yasgui.example"},
                          timeout=30)
    assert actual.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in actual.headers["Access-Control-Expose-Headers"]


def test_security_headers(server_url: str) -> None:
    response = requests.get(f"{server_url}/dumps/", timeout=30)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# -- dumps ----------------------------------------------------------------------------------------


def test_dumps_listing(server_url: str, manifest: dict, data_dir: Path) -> None:
    listing = requests.get(f"{server_url}/dumps/", params={"format": "json"}, timeout=30)
    assert listing.status_code == 200
    files = {f["name"]: f for f in listing.json()["files"]}
    on_disk = {p.name for p in (data_dir / "current" / "dumps").iterdir()}
    on_disk |= {f"sources/{p.name}" for p in (data_dir / "current" / "sources").iterdir()}
    assert set(files) == on_disk
    for described in manifest["files"]:
        assert files[described["name"]]["sha256"] == described["sha256"]
        assert files[described["name"]]["bytes"] == described["bytes"]
    by_accept = requests.get(f"{server_url}/dumps/", headers={"Accept": "application/json"}, timeout=30)
    assert by_accept.json() == listing.json()
    page = requests.get(f"{server_url}/dumps/", headers={"Accept": "text/html"}, timeout=30)
    assert page.headers["Content-Type"].startswith("text/html")
    assert "kusei.ttl.gz" in page.text and files["kusei.ttl"]["sha256"] in page.text
    assert "Accept" in page.headers["Vary"]


def test_dump_file_download(server_url: str, data_dir: Path) -> None:
    path = data_dir / "current" / "dumps" / "kusei.nt"
    data = path.read_bytes()
    response = requests.get(f"{server_url}/dumps/kusei.nt", headers={"Accept-Encoding": "identity"},
                            timeout=30)
    assert response.status_code == 200
    assert response.content == data
    assert int(response.headers["Content-Length"]) == len(data)
    assert response.headers["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert response.headers["Content-Type"].startswith("application/n-triples")
    assert "Last-Modified" in response.headers


def test_source_documents_are_served(server_url: str, data_dir: Path) -> None:
    source = sorted((data_dir / "current" / "sources").iterdir())[0]
    response = requests.get(f"{server_url}/dumps/sources/{source.name}", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == source.read_bytes()
    assert requests.get(f"{server_url}/dumps/sources/..%2Frelease.json", timeout=30).status_code == 404


def test_dump_range_and_conditional(server_url: str, data_dir: Path) -> None:
    url = f"{server_url}/dumps/kusei.ttl"
    data = (data_dir / "current" / "dumps" / "kusei.ttl").read_bytes()
    first = requests.get(url, timeout=30)
    part = requests.get(url, headers={"Range": "bytes=10-19", "Accept-Encoding": "gzip"}, timeout=30)
    assert part.status_code == 206
    assert part.content == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    assert "Content-Encoding" not in part.headers
    by_etag = requests.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
    assert by_etag.status_code == 304
    by_date = requests.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]}, timeout=30)
    assert by_date.status_code == 304
    unsatisfiable = requests.get(url, headers={"Range": f"bytes={len(data) + 10}-"}, timeout=30)
    assert unsatisfiable.status_code == 416


def test_gzip_dumps_are_downloads(server_url: str, data_dir: Path) -> None:
    response = requests.get(f"{server_url}/dumps/kusei.ttl.gz", stream=True, timeout=30)
    assert response.headers["Content-Type"] == "application/gzip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "Content-Encoding" not in response.headers
    raw = response.raw.read(decode_content=False)
    assert gzip.decompress(raw) == (data_dir / "current" / "dumps" / "kusei.ttl").read_bytes()


@pytest.mark.parametrize("path", [
    "/dumps/../release.json", "/dumps/..%2Frelease.json", "/dumps/%2E%2E/release.json",
    "/dumps/%2Fetc%2Fpasswd", "/dumps//etc/passwd", "/dumps/..%2F..%2F..%2Fetc%2Fpasswd",
    "/dumps/store", "/dumps/.", "/dumps/%5C..%5Crelease.json", "/dumps/kusei.ttl%00.gz",
])
def test_dump_paths_cannot_escape(server_url: str, path: str) -> None:
    # http.client sends the path exactly as written; requests would normalise the dots.
    location = urlsplit(server_url)
    connection = http.client.HTTPConnection(location.hostname, location.port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status in (404, 400, 308), (path, response.status)
    assert b'"id"' not in body and b"root:" not in body
