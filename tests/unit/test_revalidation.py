"""Every route revalidates the same way: the ETag a 200 carries (plain, or ``:gzip`` when
compressed, or weak-compared) gets a 304 with that ETag, whichever route it is and whether the
view answers before doing its work or the app after. Through the app (werkzeug's test client),
on a built data directory."""

from __future__ import annotations

import gzip

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"
ASK = "ASK { ?s ?p ?o }"

ROUTES = [
    pytest.param("/id/plan/141089/2024", {"Accept": BROWSER}, id="resource-page"),  # the view's early 304
    pytest.param("/id/plan/141089/2024", {"Accept": "text/turtle"}, id="resource-rdf"),
    pytest.param("/id/plan/141089/2024.nt", {}, id="resource-suffix"),
    pytest.param("/def/", {"Accept": BROWSER}, id="vocabulary"),
    pytest.param("/", {"Accept": BROWSER}, id="home"),  # the app's 304, after the view
    pytest.param("/index.json", {}, id="home-json"),
    pytest.param("/dumps/", {"Accept": "application/json"}, id="dumps-listing"),
    pytest.param("/dumps/void.ttl", {}, id="dump-file"),
    pytest.param("/static/kusei.css", {}, id="static"),
    pytest.param("/sparql?query=" + ASK, {"Accept": "application/sparql-results+json"}, id="sparql"),
    pytest.param("/sparql", {"Accept": "text/turtle"}, id="service-description"),
]


@pytest.mark.parametrize(("path", "headers"), ROUTES)
@pytest.mark.parametrize("coding", ["identity", "gzip"])
def test_the_etag_of_a_200_gets_a_304(client: FlaskClient, path: str, headers: dict[str, str],
                                      coding: str) -> None:
    headers = {**headers, "Accept-Encoding": coding}
    first = client.get(path, headers=headers)
    assert first.status_code == 200, first.data[:300]
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.headers["Cache-Control"] == "public, no-cache"
    for held in (etag, "W/" + etag, f'"other", {etag}'):
        again = client.get(path, headers={**headers, "If-None-Match": held})
        assert again.status_code == 304, (held, again.data[:300])
        assert again.headers["ETag"] == etag
        assert again.data == b""
    other = client.get(path, headers={**headers, "If-None-Match": '"not-this-one"'})
    assert other.status_code == 200 and _plain(other) == _plain(first)


def _plain(response: TestResponse) -> bytes:
    # The gzip header holds the time it was written: compare what it holds.
    return gzip.decompress(response.data) if response.headers.get("Content-Encoding") == "gzip" else response.data


def test_a_representation_in_another_format_has_another_etag(client: FlaskClient) -> None:
    html = client.get("/id/plan/141089/2024", headers={"Accept": BROWSER, "Accept-Encoding": "identity"})
    turtle = client.get("/id/plan/141089/2024", headers={"Accept": "text/turtle", "Accept-Encoding": "identity"})
    assert html.headers["ETag"] != turtle.headers["ETag"]
    crossed = client.get("/id/plan/141089/2024", headers={"Accept": "text/turtle", "Accept-Encoding": "identity",
                                                          "If-None-Match": html.headers["ETag"]})
    assert crossed.status_code == 200
