"""The result cache: repeated identical queries are answered without running again, never wrongly.

The engine's own counter (queries the worker processes answered) shows whether a request reached
the engine; ``Cache-Status`` (RFC 9211) says what the client was told.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kusei.endpoint.query import service
from kusei.endpoint.query.cache import Key, ResultCache
from kusei.endpoint.web.app import create_app
from kusei.settings import Settings

QUERY = "SELECT ?plan WHERE { ?plan a kusei:Plan } ORDER BY ?plan"
JSON_TYPE = "application/sparql-results+json"


def engine_queries() -> int:
    """Queries this process's executor has answered so far."""
    stats = service.pool_stats()
    assert stats, "no query has run in this process yet"
    return stats["queries"]


def get(client: FlaskClient, query: str, accept: str = JSON_TYPE, **extra: str):
    url = "/sparql?query=" + quote(query) + "".join(f"&{k}={quote(v)}" for k, v in extra.items())
    return client.get(url, headers={"Accept": accept})


def test_a_repeated_query_is_answered_from_the_cache(client: FlaskClient) -> None:
    first = get(client, QUERY)
    assert first.status_code == 200
    assert first.headers["Cache-Status"] == "kusei; fwd=miss; stored"
    ran = engine_queries()
    second = get(client, QUERY)
    assert second.status_code == 200
    assert second.headers["Cache-Status"] == "kusei; hit"
    assert engine_queries() == ran, "a cached answer must not reach the engine"
    assert second.data == first.data
    assert second.headers["Content-Type"] == first.headers["Content-Type"]
    assert second.headers["ETag"] == first.headers["ETag"]


def test_a_post_shares_the_cache_with_get(client: FlaskClient) -> None:
    query = QUERY + " LIMIT 2"
    first = get(client, query)
    ran = engine_queries()
    posted = client.post("/sparql", data={"query": query}, headers={"Accept": JSON_TYPE})
    assert posted.headers["Cache-Status"] == "kusei; hit"
    assert posted.data == first.data
    assert engine_queries() == ran


@pytest.mark.parametrize("change", ["format", "text", "dataset"])
def test_a_different_request_is_not_served_a_cached_answer(client: FlaskClient, change: str) -> None:
    query = QUERY + " LIMIT 3"
    first = get(client, query)
    assert first.status_code == 200
    if change == "format":
        other = get(client, query, accept="text/csv")
        assert other.headers["Content-Type"].startswith("text/csv")
    elif change == "text":
        other = get(client, query + " # another query")
        assert other.data == first.data  # same answer, but it was computed again
    else:
        other = get(client, query, **{"default-graph-uri": "https://w3id.org/kusei/graph/reference"})
        assert b'"bindings": []' in other.data or b'"bindings":[]' in other.data
    assert other.status_code == 200
    assert other.headers["Cache-Status"] == "kusei; fwd=miss; stored"


def test_errors_are_not_cached(client: FlaskClient) -> None:
    for _ in range(2):
        response = get(client, "SELECT * WHERE { ?s ?p }")
        assert response.status_code == 400
        assert "Cache-Status" not in response.headers


def test_revalidation_still_answers_304(client: FlaskClient) -> None:
    first = get(client, QUERY)
    again = client.get("/sparql?query=" + quote(QUERY),
                       headers={"Accept": JSON_TYPE, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_cache_off(data_dir: Path) -> None:
    app: Flask = create_app(Settings(data_dir=data_dir, result_cache_bytes=0))
    client = app.test_client()
    for _ in range(2):
        response = get(client, QUERY)
        assert response.status_code == 200
        assert "Cache-Status" not in response.headers


# -- the cache itself -----------------------------------------------------------------------------


def key(release: str, query: str, fmt: str = "json") -> Key:
    return Key(release, query, (), (), fmt)


def test_least_recently_used_answers_go_first() -> None:
    cache = ResultCache(max_bytes=8 * 1000)
    answers = {f"q{i}": bytes([i]) * 300 for i in range(30)}  # 30 x ~300 bytes > 8,000
    for query, body in answers.items():
        assert cache.put(key("r1", query), body)
        assert cache.get(key("r1", "q0")) == answers["q0"]  # kept in use, so never the oldest
    assert cache.size <= 8 * 1000
    assert cache.get(key("r1", "q0")) == answers["q0"]
    assert cache.get(key("r1", "q1")) is None  # the oldest untouched ones were dropped
    assert cache.get(key("r1", "q29")) == answers["q29"]


def test_an_answer_over_an_eighth_of_the_cache_is_not_kept() -> None:
    cache = ResultCache(max_bytes=8000)
    assert cache.put(key("r1", "small"), b"x" * 100)
    assert not cache.put(key("r1", "big"), b"x" * 1001)
    assert cache.get(key("r1", "big")) is None
    assert cache.get(key("r1", "small")) == b"x" * 100


def test_a_new_release_empties_the_cache() -> None:
    cache = ResultCache(max_bytes=10_000)
    cache.put(key("r1", "q"), b"old")
    assert cache.get(key("r2", "q")) is None  # the release is part of the key
    cache.put(key("r2", "other"), b"new")
    assert len(cache) == 1  # r1's answers were freed, not left to age out
    assert cache.get(key("r1", "q")) is None


def test_the_key_counts_towards_the_bound() -> None:
    cache = ResultCache(max_bytes=8000)
    assert not cache.put(key("r1", "q" * 1001), b"")  # over 8,000 / 8 in the key alone
