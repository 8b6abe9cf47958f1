"""Off-the-shelf SPARQL clients, unmodified, against the running server."""

from __future__ import annotations

import pytest
import rdflib
import requests
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, POST, TURTLE, XML, SPARQLWrapper

from kusei.settings import DEFAULT_BASE

pytestmark = pytest.mark.system

KUSEI = "PREFIX kusei: <https://w3id.org/kusei/def/>\n"
WARDS = KUSEI + ("SELECT ?ward ?label WHERE { ?ward a kusei:Ward ; rdfs:label ?label "
                 "FILTER(lang(?label) = 'ja') }")
ASK = KUSEI + "ASK { ?plan a kusei:Plan }"
CONSTRUCT = KUSEI + ("CONSTRUCT { ?ward a kusei:Ward ; rdfs:label ?label } "
                     "WHERE { ?ward a kusei:Ward ; rdfs:label ?label }")


@pytest.fixture
def wrapper(server_url: str) -> SPARQLWrapper:
    return SPARQLWrapper(f"{server_url}/sparql")


@pytest.mark.parametrize("method", ["GET", POST])
def test_sparqlwrapper_select_json(wrapper: SPARQLWrapper, method: str) -> None:
    wrapper.setMethod(method)
    wrapper.setQuery(WARDS)
    wrapper.setReturnFormat(JSON)
    result = wrapper.query().convert()
    rows = result["results"]["bindings"]
    assert result["head"]["vars"] == ["ward", "label"]
    assert len(rows) >= 18  # Yokohama has 18 wards
    assert any(row["label"]["value"] == "中区" for row in rows)


def test_sparqlwrapper_ask(wrapper: SPARQLWrapper) -> None:
    wrapper.setQuery(ASK)
    wrapper.setReturnFormat(JSON)
    assert wrapper.query().convert()["boolean"] is True
    wrapper.setReturnFormat(XML)
    assert wrapper.query().convert().getElementsByTagName("boolean")[0].firstChild.data == "true"


def test_sparqlwrapper_construct(wrapper: SPARQLWrapper) -> None:
    wrapper.setQuery(CONSTRUCT)
    wrapper.setReturnFormat(XML)  # SPARQLWrapper's RDF/XML → rdflib graph
    graph = wrapper.query().convert()
    wards = set(graph.subjects(rdflib.RDF.type, rdflib.URIRef("https://w3id.org/kusei/def/Ward")))
    assert len(wards) >= 18
    wrapper.setReturnFormat(TURTLE)
    turtle = wrapper.query().convert()
    assert len(rdflib.Graph().parse(data=turtle, format="turtle")) == len(graph)


@pytest.fixture
def remote(server_url: str) -> rdflib.Graph:
    return rdflib.Graph(store=SPARQLStore(query_endpoint=f"{server_url}/sparql"))


def test_rdflib_sparqlstore_select(remote: rdflib.Graph) -> None:
    rows = list(remote.query(WARDS))
    assert len(rows) >= 18
    assert rdflib.Literal("中区", lang="ja") in {row.label for row in rows}


def test_rdflib_sparqlstore_ask_and_construct(remote: rdflib.Graph) -> None:
    assert remote.query(ASK).askAnswer is True
    graph = remote.query(CONSTRUCT).graph
    assert len(set(graph.subjects(rdflib.RDF.type, rdflib.URIRef("https://w3id.org/kusei/def/Ward")))) >= 18


# Moved from the unit tests, which start no server.
PLAN = "/id/plan/141089/2024"
PLANS = "SELECT ?plan WHERE { ?plan a kusei:Plan } ORDER BY ?plan"


def test_rdflib_dereferences_through_conneg(server_url: str) -> None:
    graph = rdflib.Graph()
    graph.parse(server_url + PLAN)
    assert (rdflib.URIRef(DEFAULT_BASE + PLAN), rdflib.RDF.type, rdflib.URIRef(DEFAULT_BASE + "/def/Plan")) in graph
    # Incoming links and labels of linked resources come with the description.
    assert any(graph.triples((None, None, rdflib.URIRef(DEFAULT_BASE + PLAN))))


def test_a_client_without_validators_gets_hits_from_the_server(server_url: str) -> None:
    """SPARQLWrapper sends no If-None-Match: the second identical query is a hit on a real server."""
    statuses = []
    for _ in range(2):
        # A text no other test sends, so the first request is a miss whatever ran before.
        response = requests.get(server_url + "/sparql", params={"query": PLANS + " LIMIT 4 # cache-status"},
                                headers={"Accept": "application/sparql-results+json", "Origin": "https://yasgui.example"},
                                timeout=30)
        assert response.status_code == 200
        statuses.append(response.headers["Cache-Status"])
    assert statuses == ["kusei; fwd=miss; stored", "kusei; hit"]
    # A browser-side client (YASGUI) may read it.
    assert "Cache-Status" in response.headers["Access-Control-Expose-Headers"].split(", ")
    # and which release answered (the header a proxy keys its cache on)
    assert "Kusei-Release" in response.headers["Access-Control-Expose-Headers"].split(", ")
    assert response.headers["Kusei-Release"] and response.headers["ETag"].strip('"').startswith(
        response.headers["Kusei-Release"])
    wrapper = SPARQLWrapper(server_url + "/sparql")
    wrapper.setQuery(PLANS + " LIMIT 4")
    wrapper.setReturnFormat(JSON)
    rows = wrapper.query().convert()["results"]["bindings"]
    assert len(rows) == 4
