"""Regressions of the error paths the review found, on the real Flask app (the test client)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from kusei.endpoint.web.app import create_app
from kusei.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _json(response) -> dict:  # noqa: ANN001 - a test-client response
    return json.loads(response.data)


def test_the_result_too_large_hint_is_said_once(data_dir: Path) -> None:
    # Regression: the executor and the service both appended "add LIMIT/OFFSET …".
    app = create_app(Settings(data_dir=data_dir, max_result_rows=10))
    response = app.test_client().get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert response.status_code == 422
    assert response.data.count(b"LIMIT/OFFSET") == 1


@pytest.mark.parametrize(("query", "status", "code"), [
    ("SELECT * WHERE { ?s ?p ?o } ; LOAD <http://127.0.0.1:9/x>", 403, "update-refused"),
    ("LOAD <http://127.0.0.1:9/x>", 403, "update-refused"),
    ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", 400, "federation-disabled"),
    ("SELECT * WHERE " + "{" * 300 + " ?s ?p ?o " + "}" * 300, 400, "query-too-complex"),
])
def test_each_refusal_says_what_it_is(client, query: str, status: int, code: str) -> None:  # noqa: ANN001
    # Regression: every guard refusal came out as 400 federation-disabled.
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/json"})
    assert (response.status_code, _json(response)["error"]) == (status, code)


def test_an_oversized_body_names_the_limit(data_dir: Path) -> None:
    # Regression: Werkzeug's "The data value transmitted exceeds the capacity limit", no number.
    app = create_app(Settings(data_dir=data_dir, max_body_bytes=1000))
    response = app.test_client().post("/sparql", data={"query": "ASK {} #" + "x" * 2000},
                                      headers={"Accept": "application/json"})
    assert response.status_code == 413
    body = _json(response)
    assert body["limit"] == 1000 and "1000 bytes" in body["message"]


def test_the_html_406_lists_the_types_as_words(client) -> None:  # noqa: ANN001
    # Regression: the HTML error page printed a Python list (['application/…', …]).
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"},
                          headers={"Accept": "text/html;q=0.1, image/png"})
    assert response.status_code == 406
    assert "Accept" in response.headers["Vary"]
    page = response.get_data(as_text=True)
    assert "['" not in page and "application/sparql-results+json, " in page


def test_query_page_visitors_are_not_one_client_for_the_rate_limit(data_dir: Path) -> None:
    # Regression: the no-JavaScript page called /sparql inside the app, so with a rate limit every
    # visitor counted as one address and the third and fourth got "Too many queries".
    app: Flask = create_app(Settings(data_dir=data_dir, rate_limit="2/minute"))
    client = app.test_client()
    for visitor in range(4):
        response = client.get("/query", query_string={"query": f"ASK {{ ?s ?p {visitor} }}"},
                              environ_base={"REMOTE_ADDR": f"127.0.0.{visitor + 2}"})
        assert response.status_code == 200
        assert "Too many" not in response.get_data(as_text=True)
        assert "ASK: " in response.get_data(as_text=True)


def _kusei(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kusei.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_version_and_help() -> None:
    # Regression: --version was an argparse error; serve --help showed no help for host, port, workers.
    version = _kusei("--version")
    assert version.returncode == 0 and version.stdout.startswith("kusei ")
    help_text = " ".join(_kusei("serve", "--help").stdout.split())
    for flag, default in (("--host", "127.0.0.1"), ("--port", "8000"), ("--workers", "2"), ("--timeout", "30")):
        assert flag in help_text and f"default: {default}" in help_text


def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "kusei.cli", "serve", "--data-dir", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, env={"KUSEI_PORT": "eighty",
                                                                                "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert "KUSEI_PORT='eighty'" in result.stderr and "Traceback" not in result.stderr


def test_the_service_description_follows_the_public_url_the_server_is_given(data_dir: Path) -> None:
    # Regression: `kusei serve --public-url` was ignored once a release existed.
    app = create_app(Settings(data_dir=data_dir, public_url="https://data.example.org/kusei"))
    response = app.test_client().get("/sparql", headers={"Accept": "application/n-triples"})
    assert b"<https://data.example.org/kusei/sparql>" in response.data


@pytest.mark.parametrize(("query", "media_type"), [
    ("ASKWHERE{?s ?p ?o}", "application/sparql-results+json"),
    ("CONSTRUCTWHERE{?s a ?o}LIMIT 1", "text/turtle"),
])
def test_a_query_whose_form_is_glued_to_its_body_is_answered(client, query: str, media_type: str) -> None:  # noqa: ANN001
    # The form is only known from the answer; the format is then negotiated for its kind.
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 200, response.data
    assert response.mimetype == media_type


def test_redirects_never_name_the_requests_host(client) -> None:  # noqa: ANN001
    # Regression: `Host: evil.example` on GET /dumps gave Location: http://evil.example/dumps/.
    response = client.get("/dumps", headers={"Host": "evil.example"})
    assert response.status_code in (301, 308)
    assert response.headers["Location"] == "/dumps/"


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=5-1", "items=0-5"])
def test_a_malformed_range_is_ignored(client, header: str) -> None:  # noqa: ANN001
    # Regression: answered 416; RFC 9110 lets a server ignore a Range it cannot read.
    whole = client.get("/dumps/kusei.nt")
    response = client.get("/dumps/kusei.nt", headers={"Range": header})
    assert response.status_code == 200
    assert response.data == whole.data


def test_a_readable_range_is_still_served(client) -> None:  # noqa: ANN001
    response = client.get("/dumps/kusei.nt", headers={"Range": "bytes=0-9"})
    assert response.status_code == 206 and len(response.data) == 10


def test_a_later_app_in_the_same_process_keeps_its_own_row_limit(data_dir: Path) -> None:
    # Regression: the query processes kept the first app's limits, so a later app with the default
    # limit was refused a 20-row answer after an app with max_result_rows=10 had run a query.
    query = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 20"
    small = create_app(Settings(data_dir=data_dir, max_result_rows=10)).test_client()
    assert small.get("/sparql", query_string={"query": query}).status_code == 422
    default = create_app(Settings(data_dir=data_dir)).test_client()
    response = default.get("/sparql", query_string={"query": query}, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert len(_json(response)["results"]["bindings"]) == 20


def _error_classes() -> list[type]:
    from kusei.endpoint.query import errors

    found, todo = [], [errors.KuseiError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_each_error_code_means_one_status() -> None:
    # Regression: 503 query-process-lost and 422 query-crashed shared "query-crashed", and the 422
    # per-query and 503 server memory bounds shared "memory-limit": a client that branches on the
    # code (retry or not) could not tell a refusal from a server-side loss.
    statuses: dict[str, set[int]] = {}
    for cls in _error_classes():
        statuses.setdefault(cls.code, set()).add(cls.status)
    shared = {code: sorted(found) for code, found in statuses.items() if len(found) > 1}
    assert not shared, shared
