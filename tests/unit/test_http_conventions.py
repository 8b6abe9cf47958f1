"""The conventions every response follows (endpoint/web/http.py), checked with the Flask test client."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from flask.testing import FlaskClient

from kusei.endpoint.web.app import create_app
from kusei.settings import Settings

KUSEI = "https://w3id.org/kusei/def/"

ASK = {"query": "ASK { ?s ?p ?o }"}
JSON = {"Accept": "application/sparql-results+json"}


def test_cacheable_answers_are_stored_but_revalidated(client: FlaskClient) -> None:
    for path, kwargs in (("/sparql", {"query_string": ASK, "headers": JSON}), ("/", {})):
        response = client.get(path, **kwargs)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, no-cache"
        assert response.headers["ETag"]


def test_a_conditional_request_after_the_view_still_gets_304(client: FlaskClient) -> None:
    # Pages set no ETag in the view: _finish adds it, and must still answer If-None-Match with a
    # 304 although unconditional requests skip make_conditional.
    etag = client.get("/").headers["ETag"]
    again = client.get("/", headers={"If-None-Match": etag, "Accept-Encoding": "identity"})
    assert again.status_code == 304
    assert again.data == b""


def test_security_headers_on_every_answer(client: FlaskClient) -> None:
    for response in (client.get("/"), client.get("/sparql", query_string=ASK, headers=JSON),
                     client.get("/no-such-page")):
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_the_service_description_states_memory_and_request_time_limits(data_dir: Path) -> None:
    # Issue 12: each memory bound and request timeout is a setting whose value the service
    # description states; a bound turned off (0) is not stated.
    def limits(**settings: object) -> dict[str, str]:
        app = create_app(Settings(data_dir=data_dir, **settings))
        body = app.test_client().get("/sparql", headers={"Accept": "application/n-triples"}).data.decode()
        found = {}
        for triple in ox.parse(body, format=ox.RdfFormat.N_TRIPLES):
            if triple.predicate.value.startswith(KUSEI) and isinstance(triple.object, ox.Literal):
                found[triple.predicate.value.removeprefix(KUSEI)] = triple.object.value
        return found

    stated = limits(max_query_memory=300 << 20, max_server_memory=8 << 30, header_timeout=7, body_timeout=9)
    assert stated["maxQueryMemory"] == str(300 << 20)
    assert stated["maxServerMemory"] == str(8 << 30)
    # The per-query bound stated is the one applied: at most a slot's share of the server bound
    # past its reserve (issue 17.4), here (2 GiB - 1 GiB) / 8 slots.
    assert limits(max_query_memory=300 << 20, max_server_memory=2 << 30)["maxQueryMemory"] == str(128 << 20)
    assert float(stated["headerTimeLimit"]) == 7 and float(stated["bodyTimeLimit"]) == 9
    off = limits(max_query_memory=0, max_server_memory=0)
    assert "maxQueryMemory" not in off and "maxServerMemory" not in off
