"""What each layer of a cheap request costs, measured in-process (no HTTP server, no sockets).

A request is handed to WSGI callables that add one layer at a time:

1. ``floor``: the fixed-body WSGI app of ``bench/floor_app.py`` (the cost of the WSGI call itself);
2. ``flask``: a bare Flask app whose one route returns the same body (routing, request context,
   response object);
3. ``conventions``: that app with Kusei's HTTP conventions (``kusei.endpoint.web.http.init_app``:
   CORS, gzip negotiation, release ETag, security headers, error handlers);
4. ``304``: the real app answering a conditional GET of an ASK from its ETag (no cache lookup);
5. ``cached``: the real app answering an ASK from its result cache;
6. ``uncached``: the real app with the result cache off, i.e. a round trip to a query process;
7. ``inline``: the same app answering an ASK tied to a constant (``LOOKUP``, bounded by its form:
   ``endpoint/query/bounded.py``) in the web worker, beside the same ASK sent to a query process
   (``inline_queries`` off). Row 6 and the query process row go through the lean layer's check
   (not answered in the web worker: handed to Flask).

Rows 4 and 5, a cache hit of the same ASK POSTed as a direct query, and the inline lookup (GET and
POSTed, result cache off) are measured twice:
through Flask (the lean layer of ``endpoint/web/lean.py``
switched off, as before it existed) and through the lean layer, in the same run.

The differences between successive rows are the cost of each layer. A ``cProfile`` breakdown of the
cached path follows, grouped by the function that owns the time, so a trim can be aimed and
checked. Run against a built data directory::

    .venv/bin/python -m bench.layers --data-dir var [--requests 3000]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from flask import Flask, Response
from werkzeug.test import EnvironBuilder

from bench import floor_app
from kusei.endpoint.web import http as web
from kusei.endpoint.web.app import create_app
from kusei.release import CurrentRelease
from kusei.settings import Settings

WSGI = Callable[[dict, Callable[..., object]], Iterable[bytes]]
ASK = "ASK { ?s ?p ?o }"
ACCEPT = "application/sparql-results+json"
# Tied to a constant of the repository's data (Kanazawa's 2014 plan); answers false on other data,
# which costs the engine the same lookup.
LOOKUP = "ASK { <https://w3id.org/kusei/id/plan/141089/2014> a kusei:Plan }"

# Functions whose cumulative time names a layer of the cached path (file suffix, function name).
OWNERS = [
    ("flask/app.py", "wsgi_app", "the whole request in Flask"),
    ("flask/ctx.py", "__init__", "request context"),
    ("views/sparql.py", "read_request", "protocol parameters"),
    ("views/sparql.py", "_negotiate", "content negotiation"),
    ("web/http.py", "release_etag", "ETag (sha256 over release, URL, format)"),
    ("web/http.py", "not_modified", "If-None-Match check"),
    ("query/cache.py", "get", "result-cache lookup"),
    ("views/sparql.py", "_result_response", "response object"),
    ("flask_cors/extension.py", "cors_after_request", "CORS headers"),
    ("web/http.py", "_finish", "conventions after the view (ETag, compression, conditional, headers)"),
    ("flask_compress/flask_compress.py", "after_request", "  of which: gzip negotiation"),
    ("web/http.py", "fresh", "  of which: conditional response (304 decision)"),
    ("werkzeug/wrappers/response.py", "__call__", "WSGI response (headers, body)"),
]


def _bare_flask(settings: Settings, *, conventions: bool) -> Flask:
    app = Flask(__name__)
    app.config["KUSEI"] = settings
    app.extensions["kusei_release"] = CurrentRelease(settings.data_dir)

    @app.get("/sparql")
    def fixed() -> Response:
        return Response(floor_app.BODY, content_type=ACCEPT)

    if conventions:
        web.init_app(app)
    return app


def _caller(app: WSGI, environ: dict, posted: bytes | None = None) -> Callable[[], bytes]:
    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        holder[0] = status

    holder = [""]

    def call() -> bytes:
        fresh = dict(environ)
        if posted is not None:
            fresh["wsgi.input"] = io.BytesIO(posted)
        body = b"".join(app(fresh, start_response))
        if not holder[0].startswith(("200", "304")):
            raise SystemExit(f"unexpected answer {holder[0]}: {body[:200]!r}")
        return body

    return call


def _measure(rows: list[tuple[str, Callable[[], bytes], int]], rounds: int) -> list[float]:
    """Per row, the fastest of ``rounds`` batches, batches of all rows interleaved: on a shared
    machine load comes and goes, and interleaving spreads it over every row alike."""
    for _, call, requests in rows:
        for _ in range(min(200, requests)):
            call()
    best = [float("inf")] * len(rows)
    for _ in range(rounds):
        for index, (_, call, requests) in enumerate(rows):
            batch = max(1, requests // rounds)
            start = time.perf_counter()
            for _ in range(batch):
                call()
            best[index] = min(best[index], (time.perf_counter() - start) / batch * 1e6)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("var"), help="a built data directory (default: var)")
    parser.add_argument("--requests", type=int, default=3000, help="requests per row (default: 3000)")
    parser.add_argument("--rounds", type=int, default=10,
                        help="interleaved batches per row; the fastest counts (default: 10)")
    args = parser.parse_args(argv)

    settings = Settings.load(data_dir=args.data_dir)
    environ = EnvironBuilder(path="/sparql", query_string={"query": ASK}, headers={"Accept": ACCEPT}).get_environ()
    # The request log writes its lines to /dev/null: its work is measured, not the terminal's.
    settings = settings.with_overrides(access_log=os.devnull)
    kusei = create_app(settings)
    via_flask = create_app(settings)
    via_flask.extensions["kusei_lean"].enabled = False
    uncached = create_app(settings.with_overrides(result_cache_bytes=0))
    uncached_via_flask = create_app(settings.with_overrides(result_cache_bytes=0))
    uncached_via_flask.extensions["kusei_lean"].enabled = False
    hop = create_app(settings.with_overrides(result_cache_bytes=0, inline_queries=False))
    lookup = EnvironBuilder(path="/sparql", query_string={"query": LOOKUP}, headers={"Accept": ACCEPT}).get_environ()
    cached_call = _caller(via_flask, environ)
    etag = None

    def start(status: str, headers: list, exc_info: object = None) -> None:
        nonlocal etag
        etag = dict(headers).get("ETag")

    b"".join(kusei(dict(environ), start))
    b"".join(via_flask(dict(environ), start))
    posted = EnvironBuilder(path="/sparql", method="POST", data=ASK, content_type="application/sparql-query",
                            headers={"Accept": ACCEPT}).get_environ()
    _caller(kusei, posted, ASK.encode())()
    posted_lookup = EnvironBuilder(path="/sparql", method="POST", data=LOOKUP,
                                   content_type="application/sparql-query", headers={"Accept": ACCEPT}).get_environ()
    conditional = dict(environ, HTTP_IF_NONE_MATCH=etag or "")
    rows: list[tuple[str, Callable[[], bytes], int]] = [
        ("floor (WSGI call)", _caller(floor_app.app, environ), args.requests),
        ("bare Flask route", _caller(_bare_flask(settings, conventions=False), environ), args.requests),
        ("+ Kusei HTTP conventions", _caller(_bare_flask(settings, conventions=True), environ), args.requests),
        ("real app, 304 from ETag", _caller(via_flask, conditional), args.requests),
        ("real app, result-cache hit", cached_call, args.requests),
        ("real app, query process", _caller(uncached, environ), max(50, args.requests // 10)),
        ("real app, lookup in a query process", _caller(hop, lookup), max(50, args.requests // 10)),
        ("real app, lookup inline", _caller(uncached_via_flask, lookup), max(50, args.requests // 10)),
        ("real app, POST lookup inline", _caller(uncached_via_flask, posted_lookup, LOOKUP.encode()),
         max(50, args.requests // 10)),
        ("real app, POST result-cache hit", _caller(via_flask, posted, ASK.encode()), args.requests),
        ("lean path, 304 from ETag", _caller(kusei, conditional), args.requests),
        ("lean path, result-cache hit", _caller(kusei, environ), args.requests),
        ("lean path, POST result-cache hit", _caller(kusei, posted, ASK.encode()), args.requests),
        ("lean path, lookup inline", _caller(uncached, lookup), max(50, args.requests // 10)),
        ("lean path, POST lookup inline", _caller(uncached, posted_lookup, LOOKUP.encode()),
         max(50, args.requests // 10)),
    ]
    print(f"{'path':<34} {'µs/request':>11} {'layer adds':>11}")
    previous = None
    measured = _measure(rows, args.rounds)
    for (name, _, _), us in zip(rows, measured, strict=True):
        if name.startswith(("real app, POST", "real app, lookup")):
            print(f"{name:<34} {us:>11.0f}")
            continue
        if name.startswith("lean"):
            flask_row = measured[[row[0] for row in rows].index(name.replace("lean path", "real app"))]
            print(f"{name:<34} {us:>11.0f} {'':>11}  ({us / flask_row:.2f}× through Flask)")
            continue
        added = "" if previous is None else f"{us - previous:+.0f}"
        print(f"{name:<34} {us:>11.0f} {added:>11}")
        previous = us
    print(f"load average {os.getloadavg()[0]:.1f}")

    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.requests):
        cached_call()
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    print(f"\ncached ASK through Flask under cProfile ({args.requests} requests; "
          "the profiler inflates every figure alike)")
    total = None
    for suffix, function, label in OWNERS:
        spent = sum(cumulative for (file, _, func), (_, _, _, cumulative, _) in stats.items()
                    if file.endswith(suffix) and func == function)
        us = spent / args.requests * 1e6
        total = total or us
        print(f"  {label:<70} {us:>7.0f} µs {us / total:>6.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
