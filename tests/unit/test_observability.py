"""The request log, /metrics and the client address behind trusted proxies, on the Flask app."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.test import TestResponse

from kusei.endpoint.web.app import create_app
from kusei.endpoint.web.proxies import client_address
from kusei.endpoint.web.requestlog import query_id
from kusei.settings import Settings, SettingsError

PROXY = "127.0.0.1"
NETS = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.1.0.0/16"))


class BufferedClient(FlaskClient):
    """Takes each body whole, as a server does: the log line is written once the last byte is taken."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:  # noqa: ANN401
        return super().open(*args, buffered=True, **kwargs)


def make_app(data_dir: Path, **settings: object) -> Flask:
    app = create_app(Settings(data_dir=data_dir, **settings))  # type: ignore[arg-type]
    app.config["TESTING"] = True
    app.test_client_class = BufferedClient
    return app


def log_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


# -- client_address -------------------------------------------------------------------------------


@pytest.mark.parametrize(("peer", "forwarded", "expected"), [
    ("192.0.2.9", "203.0.113.5", "192.0.2.9"),  # the peer is no trusted proxy: the header is the client's
    ("127.0.0.1", None, "127.0.0.1"),  # a trusted proxy that forwards nothing is itself the client
    ("127.0.0.1", "203.0.113.5", "203.0.113.5"),
    ("127.0.0.1", "198.51.100.1, 203.0.113.5", "203.0.113.5"),  # the client's own claim stands left
    ("127.0.0.1", "203.0.113.5, 10.1.2.3", "203.0.113.5"),  # a second trusted hop is skipped
    ("127.0.0.1", "10.1.9.9, 10.1.2.3", "10.1.9.9"),  # all hops trusted: the farthest is the client
    ("127.0.0.1", "not-an-address, 203.0.113.5", "203.0.113.5"),
    ("127.0.0.1", "203.0.113.5, junk", "127.0.0.1"),  # junk from a trusted hop: the hop that sent it
    ("127.0.0.1", "[2001:db8::7]:4711", "2001:db8::7"),
    ("127.0.0.1", "203.0.113.5:5000", "203.0.113.5"),
])
def test_forwarded_for_is_read_only_from_trusted_proxies(peer: str, forwarded: str | None, expected: str) -> None:
    assert client_address(peer, forwarded, NETS) == expected


def test_no_trusted_proxies_means_the_header_is_ignored() -> None:
    assert client_address("127.0.0.1", "203.0.113.5", ()) == "127.0.0.1"


def test_a_bad_proxy_address_stops_at_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="KUSEI_TRUSTED_PROXIES"):
        Settings.load(data_dir=tmp_path, trusted_proxies="10.0.0.0/33")
    with pytest.raises(SettingsError, match="KUSEI_METRICS_CLIENTS"):
        Settings.load(data_dir=tmp_path, metrics_clients="localhost")


def test_the_rate_limit_counts_each_client_behind_a_trusted_proxy(data_dir: Path) -> None:
    client = make_app(data_dir, rate_limit="2/minute", trusted_proxies=PROXY, access_log="off").test_client()

    def ask(forwarded: str, peer: str = PROXY) -> int:
        return client.get("/sparql", query_string={"query": "ASK {}"}, environ_base={"REMOTE_ADDR": peer},
                          headers={"X-Forwarded-For": forwarded}).status_code

    assert [ask("203.0.113.5") for _ in range(3)] == [200, 200, 429]
    assert ask("203.0.113.6") == 200  # another client behind the same proxy has its own count
    # 203.0.113.5 claiming to be another client: the proxy appends its real address, which counts.
    assert ask("198.51.100.77, 203.0.113.5") == 429
    # From a peer that is no trusted proxy, the header changes nothing: it is one client.
    assert [ask(f"198.51.100.{n}", peer="192.0.2.1") for n in range(3)] == [200, 200, 429]


# -- the request log ------------------------------------------------------------------------------


def test_one_line_per_request_with_its_fields(data_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    client = make_app(data_dir, access_log=str(log), trusted_proxies=PROXY).test_client()
    query = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"
    env = {"REMOTE_ADDR": PROXY}
    assert client.get("/sparql", query_string={"query": query}, environ_base=env,
                      headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 200
    assert client.post("/sparql", data=query, content_type="application/sparql-query").status_code == 200
    assert client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p }"}).status_code == 400
    assert client.get("/no/such/page").status_code == 404
    home = client.get("/")
    lines = log_lines(log)
    assert len(lines) == 5
    first, posted, bad, missing, page = lines
    assert first["client"] == "203.0.113.5" and first["peer"] == PROXY
    assert (first["method"], first["path"], first["route"], first["status"]) == ("GET", "/sparql", "/sparql", 200)
    assert first["query"] == posted["query"] == query_id(query)  # GET and POST of one text: one id
    assert first["cache"] == "miss" and posted["cache"] == "hit"
    assert first["release"] == home.headers["ETag"].strip('"').split("-")[0]
    assert first["bytes"] > 0 and first["duration"] >= 0
    assert "query=" not in str(first)  # the text of a query is not logged, only its id
    assert (bad["status"], bad["error"]) == (400, "query-syntax")
    assert bad["query"] != first["query"]
    assert (missing["status"], missing["error"], missing["route"]) == (404, "not-found", "unmatched")
    assert page["bytes"] == len(home.data) and "error" not in page
    assert str(first["time"]).endswith("Z")


def test_a_body_whole_in_memory_reaches_the_server_as_a_list_with_its_line_written(
        data_dir: Path, tmp_path: Path) -> None:
    # granian writes a list in one call but pulls any other iterable chunk by chunk across its
    # threads: the lean path's answers must reach it as the lists they are.
    from werkzeug.test import EnvironBuilder

    log = tmp_path / "access.log"
    app = make_app(data_dir, access_log=str(log))
    environ = EnvironBuilder(path="/sparql", query_string={"query": "ASK { ?s ?p ?o }"},
                             headers={"Accept": "application/sparql-results+json"}).get_environ()
    statuses: list[str] = []
    body = app.wsgi_app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    assert type(body) is list and statuses == ["200 OK"]
    (line,) = log_lines(log)  # written at the hand-over, with the bytes the list holds
    assert (line["status"], line["bytes"]) == (200, sum(map(len, body)))
    page = app.wsgi_app(EnvironBuilder(path="/").get_environ(), lambda *args: None)
    assert type(page) is not list and len(log_lines(log)) == 1  # Flask's: counted as it is sent
    b"".join(page)
    page.close()  # type: ignore[attr-defined]
    assert len(log_lines(log)) == 2


def test_the_log_can_be_turned_off(data_dir: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    client = make_app(data_dir, access_log="off").test_client()
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200
    assert '"path":"/sparql"' not in capfd.readouterr().err


def test_the_log_goes_to_stderr_by_default(data_dir: Path, capfd: pytest.CaptureFixture[str]) -> None:
    client = make_app(data_dir).test_client()
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    assert [line["path"] for line in lines] == ["/sparql"]


# -- /metrics -------------------------------------------------------------------------------------


def test_metrics_count_requests_refusals_and_cache(data_dir: Path, tmp_path: Path) -> None:
    client: FlaskClient = make_app(data_dir, access_log="off").test_client()
    before = samples(client.get("/metrics").get_data(as_text=True))
    for _ in range(2):
        assert client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}).status_code == 200
    assert client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p }"}).status_code == 400
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain" and "ETag" not in response.headers
    after = samples(response.get_data(as_text=True))

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("kusei_http_requests_total", route="/sparql", method="GET", status="200") == 2
    assert grew("kusei_http_requests_total", route="/sparql", method="GET", status="400") == 1
    assert grew("kusei_refusals_total", code="query-syntax") == 1
    assert grew("kusei_result_cache_lookups_total", result="hit") == 1
    assert grew("kusei_result_cache_lookups_total", result="miss") == 1
    assert grew("kusei_http_request_duration_seconds_count", route="/sparql") == 3
    assert grew("kusei_query_slot_wait_seconds_count") == 2  # the hit never asked for a slot
    release = [labels for (name, labels) in after if name == "kusei_release_info"]
    assert len(release) == 1 and dict(release[0])["id"]
    assert after[("kusei_query_slots", (("state", "total"),))] == 8
    assert after[("kusei_server_memory_bytes", ())] > 0


def test_metrics_answer_only_the_configured_clients(data_dir: Path) -> None:
    client = make_app(data_dir, access_log="off", trusted_proxies=PROXY).test_client()
    assert client.get("/metrics").status_code == 200  # loopback
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 403
    # A public client behind the proxy on loopback is that public client, not loopback.
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 403
    opened = make_app(data_dir, access_log="off", metrics_clients="192.0.2.0/24").test_client()
    assert opened.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 200
    assert opened.get("/metrics").status_code == 403  # loopback is no longer listed


def test_slots_in_use_are_read_without_taking_a_lock(tmp_path: Path) -> None:
    from kusei.endpoint.query.slots import QuerySlots
    from kusei.endpoint.web.metrics import slots_in_use

    slots = QuerySlots(tmp_path / "slots", 3)
    assert slots_in_use(slots.paths) == 0
    with slots.hold(wait=1), slots.hold(wait=1):
        assert slots_in_use(slots.paths) == 2
        with slots.hold(wait=1):
            assert slots_in_use(slots.paths) == 3
    assert slots_in_use(slots.paths) == 0
