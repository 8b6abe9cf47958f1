"""Latency of the query editor's completion (/query/complete), the target being under 20 ms p95.

Three measurements, each over a mix that replays typing — a prefix growing letter by letter
(``k`` … ``kusei:Meas``), predicates after ``;``, Japanese labels (``金``, ``金沢``, ``施策``) and
romaji — every request a different text, so no answer comes from a cache:

1. ``lookup``: :func:`kusei.endpoint.web.pages.completion.complete` on the loaded index alone;
2. ``app``: the Flask app in-process (routing, JSON, HTTP conventions), no socket;
3. ``http``: a running server over HTTP (``--url``), e.g. one started by ``kusei serve``.

``--nq`` builds the index from N-Quads instead of the release (e.g. ``bench.generate``'s ~1M quads,
18 wards x 10 years) for the lookup: the index then holds every plan, measure and project.

    .venv/bin/python -m bench.completion --data-dir var [--url http://127.0.0.1:8000] [--nq bench/out/data.nq]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import requests

from kusei import formats
from kusei.endpoint.web.app import create_app
from kusei.endpoint.web.pages import completion
from kusei.graph.publish.completion import build_index
from kusei.release import current_link, open_release
from kusei.settings import DEFAULT_BASE, Settings


def typing_mix() -> list[tuple[str, str]]:
    """(kind, text) pairs, as the editor asks them while one types."""
    mix: list[tuple[str, str]] = []
    for word in ("kusei", "skos", "dcterms", "schema", "rdfs", "org", "prov"):
        mix += [("prefix", word[:n]) for n in range(1, len(word) + 1)]
    for word in ("kusei:Measure", "kusei:Plan", "kusei:PolicyArea", "schema:Organization", "org:Organization"):
        colon = word.index(":")
        mix += [("class", word[:n]) for n in range(colon + 1, len(word) + 1)]
    for word in ("kusei:plan", "kusei:policyArea", "dcterms:title", "rdfs:label", "kusei:year", "skos:prefLabel"):
        colon = word.index(":")
        mix += [("property", word[:n]) for n in range(colon + 1, len(word) + 1)]
    for word in ("金沢区", "港北区", "施策", "子育て", "泉区役所", "地域", "防災", "kanazawa", "kohoku"):
        mix += [("resource", word[:n]) for n in range(1, len(word) + 1)]
        mix += [("term", word[:n]) for n in range(1, len(word) + 1)]
    return mix


def timed(call: Callable[[str, str], object], mix: list[tuple[str, str]], rounds: int) -> list[float]:
    for kind, text in mix[:20]:  # warm: the index is read once per release and process
        call(kind, text)
    times = []
    for _ in range(rounds):
        for kind, text in mix:
            started = time.perf_counter()
            call(kind, text)
            times.append((time.perf_counter() - started) * 1000)
    return times


def report(name: str, times: list[float], size: str) -> None:
    times = sorted(times)
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"{name:8} {len(times):6} requests  p50 {statistics.median(times):6.2f} ms  p95 {p95:6.2f} ms  "
          f"max {times[-1]:7.2f} ms  ({size})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("var"))
    parser.add_argument("--url", help="a running server to measure over HTTP")
    parser.add_argument("--nq", type=Path, help="N-Quads to build the index from for the lookup")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    mix = typing_mix()
    release = open_release(current_link(args.data_dir).resolve())
    prefixes = formats.prefixes(release.base)

    if args.nq:
        with args.nq.open("rb") as stream:
            raw = build_index(ox.parse(stream, format=ox.RdfFormat.N_QUADS), DEFAULT_BASE)
        index = completion.from_raw(raw, formats.prefixes(DEFAULT_BASE))
    else:
        index = completion.load(release, prefixes)
    size = f"{len(index.terms)} terms, {len(index.resources)} resources"
    report("lookup", timed(lambda kind, text: completion.complete(index, text, kind), mix, args.rounds), size)

    app = create_app(Settings(data_dir=args.data_dir))
    client = app.test_client()
    release_index = completion.load(release, prefixes)
    size = f"{len(release_index.terms)} terms, {len(release_index.resources)} resources"

    def in_app(kind: str, text: str) -> None:
        response = client.get("/query/complete", query_string={"kind": kind, "prefix": text})
        assert response.status_code == 200

    report("app", timed(in_app, mix, args.rounds), size)
    if args.url:
        session = requests.Session()

        def over_http(kind: str, text: str) -> None:
            response = session.get(args.url.rstrip("/") + "/query/complete", params={"kind": kind, "prefix": text})
            assert response.status_code == 200

        report("http", timed(over_http, mix, args.rounds), size)


if __name__ == "__main__":
    main()
