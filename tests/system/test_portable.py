"""The example queries work outside Kusei's own pages: each declares its prefixes and gives the
same rows in Comunica (@comunica/query-sparql, run with Node from tests/node/) and in rdflib's
SPARQLStore as on /sparql. Comunica is handed the endpoint URL without a source type, so it must
recognise the endpoint from the service description that URL serves.

tests/node/ is installed by tests/setup.sh (npm ci), which .ci/run runs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import rdflib
import requests
from rdflib.plugins.stores.sparqlstore import SPARQLStore

from kusei.endpoint.web.pages.query import QUERIES_DIR
from kusei.namespaces import prefixes

pytestmark = pytest.mark.system

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
EXAMPLES = sorted(QUERIES_DIR.glob("*.rq"))
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
# Comunica starts Node and fetches the service description first; generous, never a test of speed.
CLIENT_TIMEOUT = 300

Row = tuple[tuple[str, tuple[str, ...]], ...]


def _row(bindings: dict[str, dict]) -> Row:
    """A solution as comparable terms (JSON results form). Blank nodes compare as "_": each
    client labels them its own way."""
    out = []
    for name, term in sorted(bindings.items()):
        if term["type"] == "bnode":
            out.append((name, ("bnode", "_")))
            continue
        kind = "uri" if term["type"] == "uri" else "literal"
        datatype = term.get("datatype", "")
        out.append((name, (kind, term["value"], term.get("xml:lang", "").lower(),
                           "" if datatype == XSD_STRING else datatype)))
    return tuple(out)


def _rdflib_row(row: rdflib.query.ResultRow, variables: list[str]) -> Row:
    bindings = {}
    for name in variables:
        term = row[name]
        if term is None:
            continue
        if isinstance(term, rdflib.BNode):
            bindings[name] = {"type": "bnode", "value": str(term)}
        elif isinstance(term, rdflib.URIRef):
            bindings[name] = {"type": "uri", "value": str(term)}
        else:
            literal = {"type": "literal", "value": str(term)}
            if term.language:
                literal["xml:lang"] = term.language
            elif term.datatype:
                literal["datatype"] = str(term.datatype)
            bindings[name] = literal
    return _row(bindings)


def endpoint_rows(server_url: str, query: str) -> Counter[Row]:
    response = requests.post(f"{server_url}/sparql", data={"query": query},
                             headers={"Accept": "application/sparql-results+json"}, timeout=CLIENT_TIMEOUT)
    assert response.status_code == 200, response.text
    return Counter(_row(b) for b in response.json()["results"]["bindings"])


@pytest.fixture(scope="module")
def node() -> str:
    executable = shutil.which("node")
    assert executable, "Node.js is needed for the Comunica runs (apt-get install nodejs)"
    assert (NODE_DIR / "node_modules" / "@comunica" / "query-sparql").is_dir(), \
        "Comunica is not installed: npm ci --prefix tests/node"
    return executable


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_declares_every_prefix_it_uses(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    declared = dict(re.findall(r"^PREFIX\s+([\w-]*):\s*<([^>]*)>", text, re.M))
    body = re.sub(r'"[^"\n]*"|<[^>\s]*>|#[^\n]*|^PREFIX[^\n]*', " ", text, flags=re.M)
    used = set(re.findall(r"(?<![\w?$:-])([a-z][\w-]*):", body))
    assert used <= set(declared), f"undeclared: {sorted(used - set(declared))}"
    known = prefixes("https://w3id.org/kusei")
    assert all(known[p] == iri for p, iri in declared.items() if p in known), declared


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_gives_the_same_rows_in_comunica(server_url: str, node: str, path: Path) -> None:
    expected = endpoint_rows(server_url, path.read_text(encoding="utf-8"))
    assert expected, f"{path.name} returns no rows at /sparql"
    run = subprocess.run([node, str(NODE_DIR / "query.mjs"), f"{server_url}/sparql", str(path)],
                         cwd=NODE_DIR, capture_output=True, text=True, timeout=CLIENT_TIMEOUT)
    assert run.returncode == 0, run.stderr[-3000:]
    got = Counter(_row(b) for b in json.loads(run.stdout)["results"]["bindings"])
    assert got == expected, (sorted(expected - got)[:3], sorted(got - expected)[:3])


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_gives_the_same_rows_in_rdflib_sparqlstore(server_url: str, path: Path) -> None:
    """SPARQLStore puts rdflib's own prefixes (schema: = https://schema.org/) before the query;
    the example's own declarations come later and win. POSTed as a form: example 15 with its
    Japanese comments is past the request-line limit of a GET (414)."""
    query = path.read_text(encoding="utf-8")
    expected = endpoint_rows(server_url, query)
    graph = rdflib.Graph(store=SPARQLStore(query_endpoint=f"{server_url}/sparql", returnFormat="json",
                                             method="POST_FORM"))
    result = graph.query(query)
    variables = [str(v) for v in result.vars]
    got = Counter(_rdflib_row(row, variables) for row in result)
    assert got == expected, (sorted(expected - got)[:3], sorted(got - expected)[:3])


def test_service_description_names_the_url_the_client_asked(server_url: str) -> None:
    for url in (f"{server_url}/sparql", f"{server_url.replace('127.0.0.1', 'localhost')}/sparql"):
        graph = rdflib.Graph().parse(data=requests.get(url, headers={"Accept": "text/turtle"}, timeout=60).text,
                                     format="turtle")
        service = rdflib.URIRef(url)
        assert (service, rdflib.RDF.type, SD.Service) in graph
        assert graph.value(service, SD.endpoint) == service


def test_service_description_names_the_public_url(data_dir: Path) -> None:
    from kusei.endpoint.web.app import create_app
    from kusei.settings import Settings

    client = create_app(Settings(data_dir=data_dir, public_url="https://kusei.example.org")).test_client()
    turtle = client.get("/sparql", headers={"Accept": "text/turtle"}).get_data(as_text=True)
    graph = rdflib.Graph().parse(data=turtle, format="turtle")
    service = rdflib.URIRef("https://kusei.example.org/sparql")
    assert graph.value(service, SD.endpoint) == service
