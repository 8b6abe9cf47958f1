"""Optional per-client throttling of /sparql (KUSEI_RATE_LIMIT): 429 with Retry-After, nothing else counted."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode, urlsplit

import limits.storage.memory
import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from kusei import cli
from kusei.endpoint.web import throttle
from kusei.endpoint.web.app import create_app
from kusei.settings import Settings

pytestmark = pytest.mark.system

ASK = {"query": "ASK {}"}


def make_app(data_dir: Path, rate_limit: str) -> Flask:
    app = create_app(Settings(data_dir=data_dir, rate_limit=rate_limit))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def throttled(data_dir: Path) -> FlaskClient:
    return make_app(data_dir, "3/minute").test_client()


def query(client: FlaskClient, address: str, method: str = "GET", **kwargs: object) -> TestResponse:
    """A query from the client at ``address``: GET and HEAD in the URL, POST as a form."""
    environ = {"REMOTE_ADDR": address}
    if method == "POST":
        return client.post("/sparql", data=ASK, environ_base=environ, **kwargs)
    return client.open("/sparql", method=method, query_string=ASK, environ_base=environ, **kwargs)


def retry_after(response: TestResponse | http.client.HTTPResponse) -> int:
    value = response.headers["Retry-After"]
    assert value.isdigit(), value  # delay-seconds, not an HTTP date
    return int(value)


# -- Flask test client ----------------------------------------------------------------------------


def test_the_query_past_the_limit_gets_429_with_retry_after(throttled: FlaskClient) -> None:
    assert [query(throttled, "10.0.0.1").status_code for _ in range(3)] == [200, 200, 200]
    refused = query(throttled, "10.0.0.1")
    assert refused.status_code == 429
    assert 1 <= retry_after(refused) <= 60
    assert refused.mimetype == "text/plain"
    text = refused.get_data(as_text=True)
    assert "Too many queries from your address: at most 3 per minute." in text
    assert f"retry_after: {retry_after(refused)}" in text
    assert "Content-Security-Policy" in refused.headers  # web.py's conventions still apply


def test_429_body_follows_content_negotiation(throttled: FlaskClient) -> None:
    for _ in range(3):
        query(throttled, "10.0.0.1")
    as_json = query(throttled, "10.0.0.1", headers={"Accept": "application/json"})
    assert as_json.status_code == 429 and as_json.mimetype == "application/json"
    body = json.loads(as_json.get_data(as_text=True))
    assert body["error"] == "too-many-requests"
    assert body["limit"] == "3 per 1 minute"
    assert body["retry_after"] == retry_after(as_json)
    as_html = query(throttled, "10.0.0.1", headers={"Accept": "text/html"})
    assert as_html.status_code == 429 and as_html.mimetype == "text/html"
    # Browsers get the site's error page, in both languages.
    page = as_html.get_data(as_text=True)
    assert "<h1>リクエストが多すぎます" in page and "429 Too many requests" in page


def test_429_carries_cors_headers(throttled: FlaskClient) -> None:
    origin = {"Origin": "https://yasgui.example"}
    for _ in range(3):
        query(throttled, "10.0.0.1", headers=origin)
    refused = query(throttled, "10.0.0.1", headers=origin)
    assert refused.status_code == 429
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]
    assert not any(name.lower().startswith("x-ratelimit") for name in refused.headers.keys())


def test_get_head_and_post_share_one_count(throttled: FlaskClient) -> None:
    assert [query(throttled, "10.0.0.1", method).status_code for method in ("GET", "HEAD", "POST")] == [200] * 3
    assert query(throttled, "10.0.0.1", "POST").status_code == 429
    assert query(throttled, "10.0.0.1", "HEAD").status_code == 429


def test_other_clients_are_not_affected(throttled: FlaskClient) -> None:
    for _ in range(4):
        query(throttled, "10.0.0.1")
    assert query(throttled, "10.0.0.1").status_code == 429
    assert [query(throttled, "10.0.0.2").status_code for _ in range(3)] == [200, 200, 200]
    assert query(throttled, "2001:db8::1").status_code == 200
    # X-Forwarded-For is not trusted: a refused client cannot claim another address.
    assert query(throttled, "10.0.0.1", headers={"X-Forwarded-For": "10.0.0.9"}).status_code == 429


def test_preflights_pages_and_dumps_are_neither_counted_nor_refused(throttled: FlaskClient) -> None:
    environ = {"REMOTE_ADDR": "10.0.0.1"}
    preflight = {"Origin": "https://yasgui.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}

    def others() -> list[int]:
        return [throttled.options("/sparql", headers=preflight, environ_base=environ).status_code,
                throttled.get("/", environ_base=environ).status_code,
                throttled.get("/query", environ_base=environ).status_code,
                throttled.get("/dumps/", environ_base=environ).status_code,
                throttled.get("/.well-known/void", environ_base=environ).status_code]

    for _ in range(3):
        assert others() == [200] * 5
    # Fifteen requests elsewhere used none of the three queries ...
    assert [query(throttled, "10.0.0.1").status_code for _ in range(3)] == [200, 200, 200]
    assert query(throttled, "10.0.0.1").status_code == 429
    # ... and a throttled client still gets everything else.
    assert others() == [200] * 5


def test_retry_after_is_when_a_query_is_allowed_again(throttled: FlaskClient,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # A clock the test moves: the storage's and the handler's, so nothing waits for real time.
    now = [1_000_000.0]
    clock = SimpleNamespace(time=lambda: now[0])
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    monkeypatch.setattr(throttle, "time", clock)
    assert query(throttled, "10.0.0.1").status_code == 200
    now[0] += 20
    assert [query(throttled, "10.0.0.1").status_code for _ in range(3)] == [200, 200, 429]
    now[0] += 10
    first = query(throttled, "10.0.0.1")
    assert first.status_code == 429 and retry_after(first) == 30  # the first query leaves the window
    now[0] += 29.5  # refused queries do not push the window on
    second = query(throttled, "10.0.0.1")
    assert second.status_code == 429 and retry_after(second) == 1
    now[0] += 1
    assert query(throttled, "10.0.0.1").status_code == 200
    # A moving window: only the first query has left it, not all three (as a fixed window would have).
    third = query(throttled, "10.0.0.1")
    assert third.status_code == 429 and retry_after(third) == 20


def test_off_by_default_and_when_empty(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUSEI_RATE_LIMIT", raising=False)
    assert Settings().rate_limit == ""
    monkeypatch.setenv("KUSEI_RATE_LIMIT", " 5/second ")
    assert Settings().rate_limit == "5/second"
    app = make_app(data_dir, "")
    assert "kusei_limiter" not in app.extensions
    client = app.test_client()
    assert {query(client, "10.0.0.1", method).status_code for _ in range(10) for method in ("GET", "POST")} == {200}


def test_several_limits_in_one_setting(data_dir: Path) -> None:
    client = make_app(data_dir, "5/hour;2/minute").test_client()
    assert [query(client, "10.0.0.1").status_code for _ in range(3)] == [200, 200, 429]
    assert "at most 2 per minute" in query(client, "10.0.0.1").get_data(as_text=True)


@pytest.mark.parametrize("value", ["lots", "120", "120/fortnight", "0/minute", "120/minute;"])
def test_a_bad_value_stops_the_app_at_start(data_dir: Path, value: str) -> None:
    with pytest.raises(ValueError, match="KUSEI_RATE_LIMIT"):
        create_app(Settings(data_dir=data_dir, rate_limit=value))


def test_a_bad_value_stops_kusei_serve(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--data-dir", str(data_dir), "--rate-limit", "lots"]) == 2
    assert "cannot serve: KUSEI_RATE_LIMIT 'lots' is not a rate limit" in capsys.readouterr().err


# -- the real server (kusei serve) ----------------------------------------------------------------


def request_from(url: str, address: str, path: str, headers: dict[str, str] | None = None) -> tuple[
        http.client.HTTPResponse, str]:
    """GET ``path`` over a connection from ``address`` (any 127.x.y.z is this machine on Linux)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30, source_address=(address, 0))
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response, response.read().decode("utf-8")
    finally:
        connection.close()


def test_the_server_throttles_per_client_address(data_dir: Path, start_server: Callable[..., str]) -> None:
    url = start_server(data_dir, KUSEI_RATE_LIMIT="3/minute")  # one worker: the limit is exact
    path = "/sparql?" + urlencode(ASK)
    origin = {"Origin": "https://yasgui.example"}
    assert [request_from(url, "127.0.0.2", path)[0].status for _ in range(3)] == [200, 200, 200]
    refused, body = request_from(url, "127.0.0.2", path, origin)
    assert refused.status == 429
    assert 1 <= retry_after(refused) <= 60
    assert "at most 3 per minute" in body
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]
    assert request_from(url, "127.0.0.3", path)[0].status == 200
    assert request_from(url, "127.0.0.2", "/dumps/")[0].status == 200
    assert request_from(url, "127.0.0.2", "/")[0].status == 200
    assert request_from(url, "127.0.0.2", path)[0].status == 429


def test_service_description_states_the_rate_limit_only_when_on(data_dir: Path) -> None:
    def describe(rate_limit: str) -> rdflib.Graph:
        client = create_app(Settings(data_dir=data_dir, rate_limit=rate_limit)).test_client()
        turtle = client.get("/sparql", headers={"Accept": "text/turtle"}).get_data(as_text=True)
        return rdflib.Graph().parse(data=turtle, format="turtle")

    kusei = rdflib.Namespace("https://w3id.org/kusei/def/")
    on = describe("120/minute")
    assert [str(v) for v in on.objects(None, kusei.rateLimit)] == ["120/minute"]
    comments = " ".join(map(str, on.objects(None, rdflib.RDFS.comment)))
    assert "Each client address may send 120/minute queries" in comments
    assert list(describe("").objects(None, kusei.rateLimit)) == []
