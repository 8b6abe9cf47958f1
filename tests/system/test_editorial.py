"""Printed facts and editorial statements are apart: a document graph holds what its document
prints; Kusei's notes, inferred years, unprinted publishers, corrections and unstated types are in
/graph/editorial, which a consumer can leave out. Checked over HTTP, as a consumer would."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.system

BASE = "https://w3id.org/kusei"
KUSEI = BASE + "/def/"
EDITORIAL = BASE + "/graph/editorial"
DOCUMENT_GRAPHS = f"STRSTARTS(STR(?g), '{BASE}/graph/document/')"
PREFIXES = (f"PREFIX kusei: <{KUSEI}>\nPREFIX dcterms: <http://purl.org/dc/terms/>\n"
            "PREFIX prov: <http://www.w3.org/ns/prov#>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n")


def select(server_url: str, query: str) -> list[dict[str, str]]:
    response = requests.post(f"{server_url}/sparql", data={"query": PREFIXES + query},
                             headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code == 200, response.text
    return [{k: v["value"] for k, v in row.items()} for row in response.json()["results"]["bindings"]]


@pytest.mark.parametrize("prop", ["origin", "licenceNote", "documentKind", "fiscalYearInferred",
                                  "fiscalYearInferenceNote", "correction"])
def test_editorial_properties_are_only_in_the_editorial_graph(server_url: str, prop: str) -> None:
    rows = select(server_url, f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s kusei:{prop} ?o }} }} GROUP BY ?g")
    assert {row["g"] for row in rows} == {EDITORIAL}, rows


def test_a_text_search_of_the_document_graphs_finds_only_printed_text(server_url: str) -> None:
    """直通線 is printed in measures and projects, and also quoted in the 港北区 year-inference
    note on the plan, which Kusei wrote: a search of the document graphs hits the printed ones only."""
    hits = select(server_url, "SELECT ?g ?s ?p WHERE { GRAPH ?g { ?s ?p ?o FILTER(CONTAINS(STR(?o), '直通線')) } }")
    note = [r for r in hits if r["p"] == KUSEI + "fiscalYearInferenceNote"]
    assert note and {r["g"] for r in note} == {EDITORIAL}
    assert all(r["p"] != KUSEI + "fiscalYearInferenceNote" for r in hits if r["g"] != EDITORIAL)
    assert {r["s"] for r in hits if r["g"] != EDITORIAL}.isdisjoint({r["s"] for r in note})
    english = select(server_url, f"""SELECT ?g ?s ?p WHERE {{ GRAPH ?g {{ ?s ?p ?o
        FILTER({DOCUMENT_GRAPHS} && LANG(?o) = 'en' && ?p != rdfs:label) }} }}""")
    assert english == []


def test_an_unprinted_year_is_editorial_and_a_printed_one_is_not(server_url: str) -> None:
    rows = select(server_url, "SELECT ?plan ?g ?inferred WHERE { GRAPH ?g { ?plan kusei:year ?y } "
                              "?plan kusei:fiscalYearInferred ?inferred }")
    assert len({r["plan"] for r in rows}) >= 5
    for row in rows:
        assert (row["g"] == EDITORIAL) == (row["inferred"] == "true"), row
    assert any(r["inferred"] == "true" for r in rows)


def test_publisher_is_printed_only_where_an_issuer_is(server_url: str) -> None:
    rows = select(server_url, f"""SELECT ?doc ?g ?issuer WHERE {{
        GRAPH ?g {{ ?doc a kusei:SourceDocument }}
        OPTIONAL {{ GRAPH ?g {{ ?doc dcterms:publisher ?printed }} }}
        OPTIONAL {{ ?letter dcterms:isPartOf ?doc ; kusei:issuerPrinted ?issuer }}
        BIND(BOUND(?printed) AS ?inDocument) FILTER({DOCUMENT_GRAPHS}) }}""")
    assert len(rows) >= 5
    in_document = {r["doc"] for r in select(
        server_url, f"SELECT ?doc WHERE {{ GRAPH ?g {{ ?doc a kusei:SourceDocument ; dcterms:publisher ?o }} "
                    f"FILTER({DOCUMENT_GRAPHS}) }}")}
    with_issuer = {r["doc"] for r in rows if "issuer" in r}
    assert with_issuer and in_document == with_issuer
    # Every document still has a publisher once the editorial graph is included.
    published = {r["doc"] for r in select(
        server_url, "SELECT ?doc WHERE { ?doc a kusei:SourceDocument ; dcterms:publisher ?o }")}
    assert published == {r["doc"] for r in rows}


def test_a_type_the_text_does_not_state_is_editorial(server_url: str) -> None:
    rows = select(server_url, """SELECT ?c ?g ?role WHERE { GRAPH ?g { ?c a kusei:Mascot }
        OPTIONAL { ?c kusei:role ?role } }""")
    assert rows
    for row in rows:
        assert (row["g"] == EDITORIAL) == ("role" not in row), row
    assert any(r["g"] == EDITORIAL for r in rows)  # 重忠あさひくん: a name beside a picture, no role


def test_void_and_the_vocabulary_say_so(server_url: str) -> None:
    rows = select(server_url, f"SELECT ?c WHERE {{ <{EDITORIAL}> rdfs:comment ?c }}")
    assert any("do not print" in r["c"] for r in rows)
    void = requests.get(f"{server_url}/dumps/void.ttl", timeout=60).text
    assert "Exclude it to read the print alone" in void
    character = select(server_url, "SELECT ?c WHERE { kusei:Character rdfs:comment ?c FILTER(LANG(?c) = 'en') }")
    assert "editorial graph" in character[0]["c"]
