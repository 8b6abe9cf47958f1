"""The conventions every response follows (endpoint/web/http.py), checked with the Flask test client."""

from __future__ import annotations

from flask.testing import FlaskClient

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
