"""The lean path of GET /sparql (endpoint/web/lean.py) answers exactly as the Flask app would.

Each request is sent twice to one app, once with the lean layer switched off (Flask answers) and
once with it on; status, header list (names, values, order), body and the request-log line must
be the same. Only ``Date`` (a clock reading) and the gzip header's mtime (ditto) may differ, by the
time that passes between the two. A counter in front of Flask shows which requests the
lean layer answered itself, so the comparison is not of Flask against Flask.
"""

from __future__ import annotations

import gzip
import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from werkzeug.http import parse_date
from werkzeug.test import EnvironBuilder, run_wsgi_app

from kusei.endpoint.query import inline, service
from kusei.endpoint.web.app import create_app
from kusei.settings import Settings

ASK = "ASK { ?s ?p ?o }"
SELECT = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 40"  # over 500 bytes: gzipped
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s a ?o . BIND(?p AS ?p) } LIMIT 5"
JSON = "application/sparql-results+json"


def counted_app(data_dir: Path, tmp_path: Path, **overrides: object) -> tuple[Flask, Path, list[str]]:
    """An app logging to a file, and the paths of the requests its lean layer handed to Flask."""
    log = tmp_path / "access.log"
    app = create_app(Settings(data_dir=data_dir, access_log=str(log), **overrides))
    flask_saw: list[str] = []
    lean = app.extensions["kusei_lean"]
    inner = lean.wsgi_app

    def flask_side(environ: dict, start_response: object) -> object:
        flask_saw.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    lean.wsgi_app = flask_side
    return app, log, flask_saw


@pytest.fixture
def setup(data_dir: Path, tmp_path: Path) -> Iterator[tuple[Flask, Path, list[str]]]:
    yield counted_app(data_dir, tmp_path)


def call(app: Flask, path: str, method: str = "GET", **kwargs: object) -> tuple[str, list[tuple[str, str]], bytes]:
    environ = EnvironBuilder(path=path, method=method, **kwargs).get_environ()  # type: ignore[arg-type]
    body_iter, status, headers = run_wsgi_app(app, environ, buffered=True)
    return status, list(headers.items()), b"".join(body_iter)


def last_log(log: Path) -> dict:
    record = json.loads(log.read_text().splitlines()[-1])
    del record["time"], record["duration"]
    return record


def both(app: Flask, log: Path, flask_saw: list[str], path: str, method: str = "GET",
         **kwargs: object) -> tuple[tuple, tuple, bool]:
    """The answer with the lean layer off, then on; whether Flask saw the second request."""
    lean = app.extensions["kusei_lean"]
    enabled = lean.enabled
    call(app, path, method, **kwargs)  # fills the result cache, as a first request would
    started = math.floor(time.time())  # Date has whole seconds
    lean.enabled = False
    off = (*call(app, path, method, **kwargs), last_log(log))
    lean.enabled = enabled
    before = len(flask_saw)
    on = (*call(app, path, method, **kwargs), last_log(log))
    ended = time.time()
    # Each Date is a reading of the clock while its request ran, however long the two requests took.
    for _, headers, _, _ in (off, on):
        for name, value in headers:
            if name == "Date":
                assert started <= parse_date(value).timestamp() <= ended, (value, started, ended)
    return off, on, len(flask_saw) > before


def same(off: tuple, on: tuple) -> None:
    status_off, headers_off, body_off, log_off = off
    status_on, headers_on, body_on, log_on = on
    assert status_on == status_off
    assert [name for name, _ in headers_on] == [name for name, _ in headers_off]
    for (name, value_on), (_, value_off) in zip(headers_on, headers_off, strict=True):
        if name == "Date":  # read from the clock in each request (checked in both()): the later one is not earlier
            assert parse_date(value_on) >= parse_date(value_off)
        else:
            assert value_on == value_off, name
    if dict(headers_on).get("Content-Encoding") == "gzip":
        assert gzip.decompress(body_on) == gzip.decompress(body_off)
        assert body_on[:4] == body_off[:4] and body_on[8:] == body_off[8:]  # all but the mtime
    else:
        assert body_on == body_off
    assert log_on == log_off


def url(**params: str) -> str:
    return "/sparql?" + urlencode(params)


LEAN_CASES = [
    pytest.param(url(query=ASK), {"Accept": JSON}, id="ask-json"),
    pytest.param(url(query=ASK), {}, id="ask-no-accept"),
    pytest.param(url(query=SELECT), {"Accept": "application/sparql-results+xml"}, id="select-xml"),
    pytest.param(url(query=SELECT), {"Accept": "text/csv"}, id="select-csv"),
    pytest.param(url(query=SELECT, format="tsv"), {"Accept": JSON}, id="format-param"),
    pytest.param(url(query=SELECT), {"Accept": JSON, "Accept-Encoding": "gzip, deflate"}, id="gzip-large"),
    pytest.param(url(query=ASK), {"Accept": JSON, "Accept-Encoding": "gzip"}, id="gzip-small"),
    pytest.param(url(query=SELECT), {"Accept": JSON, "Accept-Encoding": "br;q=1, gzip;q=0.5"}, id="gzip-second"),
    pytest.param(url(query=CONSTRUCT), {"Accept": "text/turtle"}, id="construct-turtle"),
    pytest.param(url(query=CONSTRUCT), {"Accept": "application/n-triples", "Origin": "https://example.org"},
                 id="construct-nt-cors"),
    pytest.param(url(query="PREFIX x: <http://example.org/>\n" + ASK), {"Accept": JSON}, id="prologue"),
    pytest.param(url(query=ASK, **{"default-graph-uri": "https://example.org/g"}), {"Accept": JSON},
                 id="default-graph"),
    pytest.param(url(query=ASK, ignored="1"), {"Accept": JSON}, id="unknown-param"),
    pytest.param(url(query=ASK), {"Accept": JSON, "If-None-Match": "*"}, id="if-none-match-star"),
]

DIRECT = "application/sparql-query"
POST_CASES = [
    pytest.param({"Accept": JSON}, {"data": ASK, "content_type": DIRECT}, id="direct"),
    pytest.param({"Accept": JSON}, {"data": ASK, "content_type": DIRECT + "; charset=UTF-8"}, id="direct-charset"),
    pytest.param({"Accept": JSON}, {"data": {"query": ASK}}, id="form"),
    pytest.param({"Accept": JSON, "Accept-Encoding": "gzip"}, {"data": {"query": SELECT, "format": "xml"}},
                 id="form-gzip-format"),
    pytest.param({"Accept": "text/turtle"}, {"data": CONSTRUCT, "content_type": DIRECT}, id="direct-construct"),
    pytest.param({"Accept": JSON, "If-None-Match": "*"}, {"data": {"query": ASK}}, id="if-none-match-ignored"),
]


@pytest.mark.parametrize(("headers", "extra"), POST_CASES)
def test_posted_queries_in_the_cache_are_answered_as_flask_does(setup: tuple, headers: dict[str, str],
                                                               extra: dict) -> None:
    app, log, flask_saw = setup
    off, on, via_flask = both(app, log, flask_saw, "/sparql", "POST", headers=headers, **extra)
    same(off, on)
    assert not via_flask, "the lean layer should have answered this one itself"
    assert off[0] == "200 OK" and "ETag" not in dict(off[1])
    assert dict(on[1])["Cache-Status"] == "kusei; hit"


def test_a_body_refused_for_want_of_readers_is_refused_alike(setup: tuple) -> None:
    app, log, flask_saw = setup
    readers = app.extensions["kusei_body_readers"]
    held = 0
    while readers.acquire(blocking=False):
        held += 1
    try:
        off, on, via_flask = both(app, log, flask_saw, "/sparql", "POST", headers={"Accept": JSON},
                                  data=ASK, content_type=DIRECT)
    finally:
        for _ in range(held):
            readers.release()
    same(off, on)
    assert on[0].startswith("503") and via_flask


@pytest.mark.parametrize(("path", "headers"), LEAN_CASES)
def test_the_lean_path_answers_as_flask_does(setup: tuple, path: str, headers: dict[str, str]) -> None:
    app, log, flask_saw = setup
    off, on, via_flask = both(app, log, flask_saw, path, headers=headers)
    same(off, on)
    assert not via_flask, "the lean layer should have answered this one itself"
    assert off[0] in ("200 OK", "304 NOT MODIFIED")
    if off[0] == "200 OK":
        assert dict(on[1])["Cache-Status"] == "kusei; hit"


def test_revalidation_with_the_etag_is_a_304_from_the_lean_path(setup: tuple) -> None:
    app, log, flask_saw = setup
    for encoding in ("identity", "gzip"):
        headers = {"Accept": JSON, "Accept-Encoding": encoding}
        _, got, _ = call(app, url(query=SELECT), headers=headers)
        etag = dict(got)["ETag"]
        assert etag.endswith(':gzip"') == (encoding == "gzip")
        off, on, via_flask = both(app, log, flask_saw, url(query=SELECT),
                                  headers={**headers, "If-None-Match": f'"other", {etag}'})
        same(off, on)
        assert on[0] == "304 NOT MODIFIED" and not via_flask
    # An ETag that does not match is a 200 that werkzeug makes conditional: Flask's to answer.
    off, on, via_flask = both(app, log, flask_saw, url(query=SELECT), headers={"Accept": JSON, "If-None-Match": '"x"'})
    same(off, on)
    assert on[0] == "200 OK" and via_flask


DIRECT_LATIN1 = "application/sparql-query; charset=latin1"
FLASK_CASES = [
    pytest.param("GET", url(query=ASK), {"Accept": "image/png"}, {}, id="not-acceptable"),
    pytest.param("GET", url(query="ASK { ?s ?p }"), {"Accept": JSON}, {}, id="syntax-error"),
    pytest.param("GET", url(query="SELECT * { ?s ?p ?o } LIMIT 1", timeout="1"), {"Accept": JSON}, {}, id="timeout"),
    pytest.param("GET", url(query=ASK, timeout="-1"), {"Accept": JSON}, {}, id="bad-timeout"),
    pytest.param("GET", url(query=ASK, update="DROP ALL"), {"Accept": JSON}, {}, id="update"),
    pytest.param("GET", url(query=ASK) + "&" + urlencode({"query": ASK}), {"Accept": JSON}, {}, id="two-queries"),
    pytest.param("GET", "/sparql", {"Accept": "text/turtle"}, {}, id="service-description"),
    pytest.param("GET", url(query="INSERT DATA { <a:a> <a:b> <a:c> }"), {"Accept": JSON}, {}, id="update-form"),
    pytest.param("GET", url(query=ASK), {"Accept": JSON, "Host": "bad host"}, {}, id="bad-host"),
    pytest.param("GET", url(query=ASK), {"Accept": JSON, "Range": "bytes=0-3"}, {}, id="range"),
    pytest.param("GET", url(query=ASK), {"Accept": JSON, "If-Modified-Since": "Mon, 07 Dec 2026 00:00:00 GMT"},
                 {}, id="if-modified-since"),
    pytest.param("HEAD", url(query=ASK), {"Accept": JSON}, {}, id="head"),
    pytest.param("GET", url(query=ASK), {"Accept": JSON}, {"data": "abc", "content_type": "text/plain"},
                 id="get-with-body"),
    pytest.param("POST", url(query=ASK), {"Accept": JSON}, {"data": ASK, "content_type": "application/sparql-query"},
                 id="post-two-queries"),
    pytest.param("POST", "/sparql", {"Accept": JSON}, {"data": {"query": ASK, "update": "DROP ALL"}},
                 id="post-update-param"),
    pytest.param("POST", "/sparql", {"Accept": JSON}, {"data": ASK, "content_type": "text/plain"}, id="post-415"),
    pytest.param("POST", "/sparql", {"Accept": JSON}, {"data": ASK, "content_type": DIRECT_LATIN1},
                 id="post-latin1"),
    pytest.param("POST", "/sparql", {"Accept": JSON},
                 {"data": b"ASK { ?s ?p \xff }", "content_type": "application/sparql-query"},
                 id="post-bad-utf8"),
    pytest.param("POST", "/sparql", {"Accept": JSON}, {"data": "", "content_type": "application/sparql-query"},
                 id="post-empty"),
    pytest.param("POST", "/sparql", {"Accept": JSON}, {"data": "DROP ALL", "content_type": "application/sparql-update"},
                 id="post-update"),
    pytest.param("POST", "/sparql", {"Accept": JSON}, {"data": {"query": ASK, "timeout": "x"}}, id="post-bad-timeout"),
    pytest.param("POST", "/sparql", {"Accept": JSON}, {"data": ASK + " " * Settings().max_body_bytes,
                                                       "content_type": "application/sparql-query"}, id="post-413"),
    pytest.param("OPTIONS", url(query=ASK), {"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
                 {}, id="cors-preflight"),
    pytest.param("GET", "/sparql/", {"Accept": JSON}, {}, id="other-path"),
]


@pytest.mark.parametrize(("method", "path", "headers", "extra"), FLASK_CASES)
def test_everything_else_is_left_to_flask(setup: tuple, method: str, path: str, headers: dict[str, str],
                                         extra: dict) -> None:
    app, log, flask_saw = setup
    off, on, via_flask = both(app, log, flask_saw, path, method, headers=headers, **extra)
    same(off, on)
    assert via_flask


def test_a_throttled_server_answers_everything_through_flask(data_dir: Path, tmp_path: Path) -> None:
    # flask-limiter counts every /sparql request; the lean layer must not let hits go uncounted.
    app = create_app(Settings(data_dir=data_dir, access_log="off", rate_limit="2/minute"))
    statuses = [call(app, url(query=ASK), headers={"Accept": JSON})[0] for _ in range(3)]
    assert statuses[-1].startswith("429")


# -- misses the query service answers in the web worker (service.tries_inline) ----------------------

PLAN = "<https://w3id.org/kusei/id/plan/141089/2014>"
DCT = "PREFIX dcterms: <http://purl.org/dc/terms/>\n"
INLINE_ASK = f"ASK {{ {PLAN} a kusei:Plan }}"
INLINE_SELECT = DCT + f"SELECT ?m ?t WHERE {{ ?m kusei:plan {PLAN} ; a kusei:Measure ; dcterms:title ?t }} ORDER BY ?m"
INLINE_CONSTRUCT = DCT + (f"CONSTRUCT {{ ?m dcterms:title ?t }} WHERE {{ VALUES ?plan {{ {PLAN} }} "
                          "?m kusei:plan ?plan ; dcterms:title ?t }")
# Linear in the data, answered in the web worker on a small release such as the tests' (inline.SMALL_RELEASE).
INLINE_LINEAR = f"SELECT ?p ?o WHERE {{ {PLAN} ?p ?o }} ORDER BY ?p ?o"


@pytest.fixture(autouse=True)
def patient_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    # A loaded machine may take longer than the inline time budget, and the query would go to a
    # query process: still the same answer, but these tests count where it was answered.
    monkeypatch.setattr(inline, "SECONDS", 60.0)


def evaluations(before: tuple[int, int, int] = (0, 0, 0)) -> tuple[int, int, int]:
    now = (inline.counts["answered"], inline.counts["abandoned"], service.pool_stats().get("queries", 0))
    return (now[0] - before[0], now[1] - before[1], now[2] - before[2])


def both_missing(app: Flask, log: Path, flask_saw: list[str], path: str, method: str = "GET",
                 **kwargs: object) -> tuple[tuple, tuple, bool, list[tuple[int, int, int]]]:
    """As :func:`both`, each path with an empty result cache; also, per path, how many answers
    the web worker gave, how many it abandoned for a query process, and how many a query process
    gave."""
    lean = app.extensions["kusei_lean"]
    cache = app.extensions["kusei_result_cache"]
    call(app, path, method, **kwargs)  # the inline store is opened, as a first request would
    answered: list[tuple[int, int, int]] = []
    cache.clear()
    lean.enabled = False
    before = evaluations()
    off = (*call(app, path, method, **kwargs), last_log(log))
    answered.append(evaluations(before))
    lean.enabled = True
    cache.clear()
    saw = len(flask_saw)
    before = evaluations()
    on = (*call(app, path, method, **kwargs), last_log(log))
    answered.append(evaluations(before))
    return off, on, len(flask_saw) > saw, answered


MISS_CASES = [
    pytest.param("GET", url(query=INLINE_ASK), {"Accept": JSON}, {}, id="ask-json"),
    pytest.param("GET", url(query=INLINE_SELECT), {"Accept": "application/sparql-results+xml"}, {}, id="select-xml"),
    pytest.param("GET", url(query=INLINE_SELECT), {"Accept": "text/csv", "Accept-Encoding": "gzip"}, {},
                 id="select-csv-gzip"),
    pytest.param("GET", url(query=INLINE_LINEAR, format="tsv"), {"Origin": "https://example.org"}, {},
                 id="linear-tsv-cors"),
    # Turtle is written in the web layer (fmt.write), N-Triples by the evaluator.
    pytest.param("GET", url(query=INLINE_CONSTRUCT), {"Accept": "text/turtle"}, {}, id="construct-turtle"),
    pytest.param("GET", url(query=INLINE_CONSTRUCT), {"Accept": "application/n-triples"}, {}, id="construct-nt"),
    pytest.param("POST", "/sparql", {"Accept": JSON}, {"data": INLINE_SELECT, "content_type": DIRECT},
                 id="post-direct"),
    pytest.param("POST", "/sparql", {"Accept": JSON, "Accept-Encoding": "gzip"},
                 {"data": {"query": INLINE_LINEAR, "format": "xml"}}, id="post-form-gzip"),
]


@pytest.mark.parametrize(("method", "path", "headers", "extra"), MISS_CASES)
def test_inline_misses_are_answered_as_flask_does(setup: tuple, method: str, path: str, headers: dict[str, str],
                                                  extra: dict) -> None:
    app, log, flask_saw = setup
    off, on, via_flask, answered = both_missing(app, log, flask_saw, path, method, headers=headers, **extra)
    same(off, on)
    assert not via_flask, "the lean layer should have answered this miss itself"
    assert answered == [(1, 0, 0), (1, 0, 0)], "each path should have asked the web worker's evaluator once"
    assert on[0] == "200 OK"
    assert dict(on[1])["Cache-Status"] == "kusei; fwd=miss; stored"
    assert on[3]["cache"] == "miss"
    # The answer was kept: the next request is a hit, answered by the lean layer too.
    status, headers_after, _ = call(app, path, method, headers=headers, **extra)
    assert status == "200 OK" and dict(headers_after)["Cache-Status"] == "kusei; hit"


HANDED_CASES = [
    # Over the server's byte limit: the view's refusal, from the answer got on the lean path.
    pytest.param(url(query=INLINE_SELECT), {"Accept": JSON}, {"max_result_bytes": 200}, 422, id="too-large"),
]


@pytest.mark.parametrize(("path", "headers", "overrides", "status"), HANDED_CASES)
def test_what_the_lean_layer_does_not_write_goes_to_the_view_with_the_answer(
        data_dir: Path, tmp_path: Path, path: str, headers: dict[str, str], overrides: dict, status: int) -> None:
    app, log, flask_saw = counted_app(data_dir, tmp_path, **overrides)
    off, on, via_flask, answered = both_missing(app, log, flask_saw, path, headers=headers)
    same(off, on)
    assert via_flask
    assert on[0].startswith(str(status))
    assert status < 400 or on[3]["error"] == off[3]["error"] != ""
    # Over the web worker's budget (inline.ROWS < the server's row limit), then refused by a query
    # process: asked once on the lean path too; the view sent that refusal rather than asking again.
    assert answered == [(0, 1, 1), (0, 1, 1)]


def test_misses_answered_by_a_query_process_take_the_lean_path_too(setup: tuple) -> None:
    app, log, flask_saw = setup
    for path in (url(query=ASK),  # not bounded by its form: a query process's
                 url(query=INLINE_ASK, **{"default-graph-uri": "https://example.org/g"}),  # a dataset
                 url(query=INLINE_ASK, **{"named-graph-uri": "https://example.org/g"})):
        off, on, via_flask, answered = both_missing(app, log, flask_saw, path, headers={"Accept": JSON})
        same(off, on)
        assert not via_flask and answered == [(0, 0, 1), (0, 0, 1)]
        assert on[0] == "200 OK" and dict(on[1])["Cache-Status"] == "kusei; fwd=miss; stored"


def test_a_query_process_refusal_goes_to_the_view_asked_once(data_dir: Path, tmp_path: Path) -> None:
    app, log, flask_saw = counted_app(data_dir, tmp_path, query_timeout=0.5)
    slow = url(query="SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
    off, on, via_flask, answered = both_missing(app, log, flask_saw, slow, headers={"Accept": JSON})
    assert via_flask and answered[1] == (0, 0, 1), "the view sent the lean path's refusal without asking again"
    assert on[0] == off[0] and on[0].startswith("5") and on[3]["error"] == off[3]["error"] == "timeout"


# Pieces a query string is made of: plain characters, the separators, `+`, escapes of ASCII, of
# UTF-8 (whole and cut), of bytes that are no UTF-8, a `%` that starts no escape, a backslash (the
# escape character of the codec the fast path uses) and characters outside ASCII.
_PIECES = ["a", "Q", "0", "=", "&", "+", " ", "%", "%2", "%zz", "%20", "%25", "%2B", "%26", "%3D", "%5C", "%5c",
           "\\", "\\x41", "%E3%81%82", "%e3%81", "%81", "%FF", "%C3%A9", "%00", "é", "あ", "#", ";"]


def test_the_query_string_parse_agrees_with_urllib_on_every_kind_of_input() -> None:
    import random
    from urllib.parse import parse_qsl

    from kusei.endpoint.web import lean

    chosen = random.Random(20)
    texts = ["", "&", "=", "query", "query=", "=x", "a=1&&b=2&", urlencode({"query": "SELECT * { ?s ?p ?o } # 区"}),
             urlencode({"query": open(Path(__file__).parents[2] / "endpoint/queries/06-sections-missions.rq").read()})]
    texts += ["".join(chosen.choice(_PIECES) for _ in range(chosen.randint(1, 14))) for _ in range(20000)]
    for text in texts:
        assert lean.parse_qsl(text) == parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"), text
