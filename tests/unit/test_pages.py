"""Linked-Data pages: content negotiation, discovery headers, what the pages show, and escaping."""

from __future__ import annotations

import gc
import json
import os
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient

from kusei.endpoint.web.app import create_app
from kusei.endpoint.web.pages.terms import natural_key
from kusei.release import Manifest, open_store
from kusei.settings import Settings

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
RDF_TYPES = {
    "text/turtle": ("ttl", "turtle"),
    "application/ld+json": ("jsonld", "json-ld"),
    "application/rdf+xml": ("rdf", "xml"),
    "application/n-triples": ("nt", "nt"),
}
PLAN_PATH = "/id/plan/141089/2024"
MEASURE_PATH = "/id/plan/141089/2024/measure/1"
RDF_TYPE = rdflib.RDF.type


def release_of(app: Flask):
    return app.extensions["kusei_release"].latest()


def store_of(app: Flask) -> ox.Store:
    # The tests read the store directly, to check the pages against the data (pages never do).
    return open_store(release_of(app).path)


def select(app: Flask, query: str) -> list[dict]:
    solutions = store_of(app).query(query)
    return [{v.value: s[v] for v in solutions.variables} for s in solutions]


def parse(body: bytes, rdflib_format: str, base: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=body, format=rdflib_format, publicID=base)


@pytest.fixture()
def base(app: Flask) -> str:
    return release_of(app).base


# -- negotiation --------------------------------------------------------------------------------


def test_browser_gets_html_with_alternates(client: FlaskClient) -> None:
    response = client.get(PLAN_PATH, headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "Accept" in response.headers.get("Vary", "")
    link = response.headers["Link"]
    html = response.get_data(as_text=True)
    for media_type, (suffix, _) in RDF_TYPES.items():
        assert f'<{PLAN_PATH}.{suffix}>; rel="alternate"; type="{media_type}"' in link
        assert f'<link rel="alternate" type="{media_type}" href="{PLAN_PATH}.{suffix}"' in html
    assert '<script type="application/ld+json">' in html


@pytest.mark.parametrize("media_type", sorted(RDF_TYPES))
def test_rdf_by_accept(client: FlaskClient, base: str, media_type: str) -> None:
    response = client.get(PLAN_PATH, headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert "Accept" in response.headers.get("Vary", "")
    assert 'rel="alternate"' in response.headers["Link"]
    graph = parse(response.data, RDF_TYPES[media_type][1], base)
    assert (rdflib.URIRef(base + PLAN_PATH), RDF_TYPE, rdflib.URIRef(base + "/def/Plan")) in graph


@pytest.mark.parametrize("media_type", sorted(RDF_TYPES))
def test_rdf_by_suffix(client: FlaskClient, base: str, media_type: str) -> None:
    suffix, rdflib_format = RDF_TYPES[media_type]
    response = client.get(f"{MEASURE_PATH}.{suffix}", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.mimetype == media_type
    graph = parse(response.data, rdflib_format, base)
    assert (rdflib.URIRef(base + MEASURE_PATH), RDF_TYPE, rdflib.URIRef(base + "/def/Measure")) in graph


@pytest.mark.parametrize("accept", ["*/*", None])
def test_bare_star_and_no_accept_get_turtle(client: FlaskClient, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get(PLAN_PATH, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"


def test_format_parameter_and_not_acceptable(client: FlaskClient) -> None:
    assert client.get(PLAN_PATH + "?format=nt").mimetype == "application/n-triples"
    assert client.get(PLAN_PATH, headers={"Accept": "image/png"}).status_code == 406


def test_unknown_iri_is_404(client: FlaskClient) -> None:
    page = client.get("/id/plan/141089/1999", headers={"Accept": BROWSER})
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "141089/1999" in page.get_data(as_text=True)
    assert client.get("/id/plan/141089/1999", headers={"Accept": "text/turtle"}).status_code == 404
    assert client.get("/id/plan/141089/1999.ttl").status_code == 404


def test_iri_known_only_as_object_or_graph_name_resolves(app: Flask, client: FlaskClient, base: str) -> None:
    rows = select(app, f"""
        SELECT ?o WHERE {{
          ?s ?p ?o FILTER(isIRI(?o) && STRSTARTS(STR(?o), "{base}/id/"))
          FILTER NOT EXISTS {{ ?o ?q ?x }}
        }} LIMIT 1""")
    paths = [row["o"].value[len(base):] for row in rows]
    graphs = [g.value for g in store_of(app).named_graphs()]
    paths += [g[len(base):] for g in graphs if g.startswith(base)][:2]
    assert paths
    for path in paths:
        assert client.get(path, headers={"Accept": BROWSER}).status_code == 200, path
        assert client.get(path, headers={"Accept": "text/turtle"}).status_code == 200, path


def test_unchanged_page_answers_304(client: FlaskClient) -> None:
    first = client.get(PLAN_PATH, headers={"Accept": BROWSER})
    etag = first.headers.get("ETag")
    assert etag
    again = client.get(PLAN_PATH, headers={"Accept": BROWSER, "If-None-Match": etag})
    assert again.status_code == 304


# -- what the pages show ------------------------------------------------------------------------


def test_home_shows_counts_and_plans(app: Flask, client: FlaskClient, base: str) -> None:
    html = client.get("/", headers={"Accept": BROWSER}).get_data(as_text=True)
    for cls in ("Plan", "Measure", "Project"):
        count = select(app, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{base}/def/{cls}> }}")[0]["n"]
        assert f'<span class="num">{count.value}</span>' in html, cls
    plans = select(app, f"SELECT ?p WHERE {{ ?p a <{base}/def/Plan> }}")
    for row in plans:
        assert f'href="{row["p"].value[len(base):]}"' in html
    # Links meant for people lead to HTML pages: the dataset description is its page, not void.rdf.
    for target in ("/query", "/dumps/", "/def/", "/id/dataset/kusei", "/compare", "/id/plan/"):
        assert f'href="{target}"' in html


def test_measure_page_has_breadcrumbs_and_source_lines(app: Flask, client: FlaskClient, base: str) -> None:
    html = client.get(MEASURE_PATH, headers={"Accept": BROWSER}).get_data(as_text=True)
    crumbs = re.search(r'<nav class="crumbs".*?</nav>', html, re.S).group(0)
    assert crumbs.index('href="/id/area/141089"') < crumbs.index(f'href="{PLAN_PATH}"')
    row = select(app, f"""
        SELECT ?first ?last ?file WHERE {{
          <{base}{MEASURE_PATH}> <{base}/def/printing> ?p .
          ?p <{base}/def/firstLine> ?first ; <{base}/def/lastLine> ?last ;
              <http://www.w3.org/ns/prov#entity>/<{base}/def/fileName> ?file }}""")[0]
    first, last, file = int(row["first"].value), int(row["last"].value), row["file"].value
    assert file in html
    lines = (release_of(app).sources_dir / file).read_text(encoding="utf-8").splitlines()
    for number in (first, last):
        text = lines[number - 1]
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
        assert f'<th scope="row">{number}</th><td>{escaped}</td>' in html


def test_vocabulary_lists_every_class(app: Flask, client: FlaskClient, base: str) -> None:
    html = client.get("/def/", headers={"Accept": BROWSER}).get_data(as_text=True)
    rows = select(app, f"""
        SELECT DISTINCT ?c WHERE {{ GRAPH <{base}/graph/ontology> {{
          ?c a ?t FILTER(?t IN (<http://www.w3.org/2002/07/owl#Class>, <http://www.w3.org/2000/01/rdf-schema#Class>))
          FILTER(STRSTARTS(STR(?c), "{base}/def/")) }} }}""")
    assert rows, "the ontology graph declares no kusei: class"
    for row in rows:
        local = row["c"].value[len(base) + len("/def/"):]
        assert f'id="{local}"' in html, local
    ontology = client.get("/def/", headers={"Accept": "text/turtle"})
    assert ontology.mimetype == "text/turtle" and b"owl:Class" in ontology.data
    term = client.get("/def/Plan", headers={"Accept": BROWSER})
    assert term.status_code == 200 and 'href="/def/#Plan"' in term.get_data(as_text=True)


def test_pages_have_no_inline_script(client: FlaskClient) -> None:
    for path in ("/", MEASURE_PATH, "/def/", "/query"):
        html = client.get(path, headers={"Accept": BROWSER}).get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/ld+json"' in tag, (path, tag)
        assert not re.search(r"\son[a-z]+=", html), path
        assert not re.search(r"\sstyle=", html), path


def test_query_form_works_without_javascript(client: FlaskClient) -> None:
    query = "SELECT ?plan WHERE { ?plan a kusei:Plan }"
    html = client.get("/query", query_string={"query": query}, headers={"Accept": BROWSER}).get_data(as_text=True)
    assert '<table class="result-table">' in html
    assert re.search(r'<td><a href="/id/plan/\d+/\d+"', html)
    broken = client.get("/query", query_string={"query": "SELECT * WHERE { ?s ?p }"}).get_data(as_text=True)
    assert 'class="error"' in broken and "1 行" in broken


# -- escaping, on a throwaway release -----------------------------------------------------------

EVIL_BASE = "https://example.org/k"
EVIL = '<script>alert("x")</script> & </script><!--'


def _throwaway_release(data_dir: Path) -> None:
    release = data_dir / "releases" / "t1"
    (release / "sources").mkdir(parents=True)
    (release / "sources" / "doc.txt").write_text("line one\n<b>line two</b> <x-evil>&amp;\n", encoding="utf-8")
    escaped = json.dumps(EVIL)
    trig = f"""
    @prefix k: <{EVIL_BASE}/def/> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    <{EVIL_BASE}/graph/ontology> {{ <{EVIL_BASE}/def/Thing> a <http://www.w3.org/2002/07/owl#Class> ;
        rdfs:label {escaped}@en . }}
    <{EVIL_BASE}/graph/document/d> {{
      <{EVIL_BASE}/id/x> a k:Thing ; rdfs:label {escaped}@ja ; rdfs:comment "a\\nb"@en ;
        k:sourceDocument <{EVIL_BASE}/id/document/d> ; k:printing <{EVIL_BASE}/id/x#in-d> .
      <{EVIL_BASE}/id/x#in-d> <http://www.w3.org/ns/prov#entity> <{EVIL_BASE}/id/document/d> ;
        k:firstLine 1 ; k:lastLine 2 .
      <{EVIL_BASE}/id/document/d> k:fileName "doc.txt" ; rdfs:label {escaped}@ja .
    }}"""
    store = ox.Store(str(release / "store"))
    store.load(trig.encode("utf-8"), format=ox.RdfFormat.TRIG)
    # As `kusei build` writes every release: the default graph holds the merge of the named graphs.
    store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
    store.flush()
    del store
    gc.collect()  # the store must be closed before the app opens it read-only
    Manifest(id="t1", base=EVIL_BASE, published_at=EVIL_BASE, modified="2026-01-01", graphs={}, files=[],
             documents={}).write(release)
    os.symlink("releases/t1", data_dir / "current")


def _strings(data: object) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for value in data.values() for s in _strings(value)]
    if isinstance(data, list):
        return [s for value in data for s in _strings(value)]
    return []


def test_literals_are_escaped(tmp_path: Path) -> None:
    _throwaway_release(tmp_path)
    client = create_app(Settings(data_dir=tmp_path, base=EVIL_BASE)).test_client()
    for path in ("/id/x", "/id/document/d", "/def/"):
        response = client.get(path, headers={"Accept": BROWSER})
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert "<script>alert" not in html and "</script><!--" not in html, path
        if path != "/def/":
            assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;/script&gt;&lt;!--" in html
        # The embedded JSON-LD is still valid JSON holding the literal as it is.
        block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
        strings = set(_strings(json.loads(block)))
        assert path == "/def/" or EVIL in strings, path
    page = client.get("/id/x", headers={"Accept": BROWSER}).get_data(as_text=True)
    # The quoted source line shows its words, not the HTML markup the extraction left in it;
    # whatever is not such markup is escaped, not interpreted.
    assert "<td>line two &lt;x-evil&gt;&amp;</td>" in page
    assert "<b>line two" not in page and "&lt;b&gt;" not in page


def test_natural_key_reads_only_decimal_numbers() -> None:
    # Regression: "①" passed isdigit() and int("①") raised, so pages listing ①-marked projects were 500s.
    assert natural_key("①") == [(1, "①")]
    assert natural_key("measure/10") > natural_key("measure/2")
    assert natural_key("１２") == [(0, 12)]


def test_every_project_page_of_a_plan_with_circled_markers_answers(client: FlaskClient, app: Flask) -> None:
    rows = select(app, "SELECT DISTINCT ?p WHERE { ?p a <https://w3id.org/kusei/def/Project> ; "
                       "<https://w3id.org/kusei/def/marker> ?m FILTER(?m = \"①\") }")
    paths = [row["p"].value.removeprefix("https://w3id.org/kusei") for row in rows]
    assert paths
    for path in paths:
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 200, path
