"""Page weight and time to first byte per page type, search latency, and the search index build.

Builds a release from the repository's records into a temporary directory (or uses
``--data-dir``), starts it as `kusei serve` does (one web worker) on 127.0.0.1 (stopped at the end, and
killed with this process), and measures:

- per page type: bytes as sent (gzip, as a browser asks) and uncompressed, and the median TTFB
  over ``--repeat`` requests after one warm-up request;
- search: p50 and p95 over 100 queries taken from the index's own titles, folded variants and
  misses, as a browser would send them;
- the index build time: ``build_index`` over the release's quads, best of 5.

    .venv/bin/python -m bench.pages [--data-dir DIR] [--repeat 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox
import requests

from bench.servers import free_port, kusei_command, server
from kusei.graph.build import build
from kusei.graph.publish.search import build_index
from kusei.release import current_link, open_release, open_store
from kusei.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "home": "/", "query": "/query", "ward": "/ward/141089", "years": "/ward/141089/years",
    "plan": "/id/plan/141089/2024", "measure": "/id/plan/141089/2024/measure/1",
    "project": "/id/plan/141089/2024/measure/1/project/1", "mascot": "/id/mascot/141089/botan-chan",
    "section": "/id/organization/141089/section/koseki", "document": "/id/document/a9155f3b6863ac96",
    "vocabulary": "/def/", "term": "/def/Measure", "dumps": "/dumps/",
    "search": "/search?q=%E5%AD%90%E8%82%B2%E3%81%A6",
    "compare": "/compare", "browse": "/id/", "dataset": "/id/dataset/kusei", "404": "/no/such/page",
}
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Accept-Encoding": "gzip"}


def _ttfb(url: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    with requests.get(url, headers=BROWSER, stream=True, timeout=60) as response:
        first = next(response.raw.stream(1, decode_content=False), b"")
        elapsed = time.perf_counter() - started
        rest = response.raw.read(decode_content=False)
        wire = len(first) + len(rest)
        size = len(requests.get(url, headers={**BROWSER, "Accept-Encoding": "identity"}, timeout=60).content)
    return elapsed * 1000, wire, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="kusei-bench-pages-"))
    if not current_link(data_dir).exists():
        build(Settings(data_dir=data_dir), report=lambda _: None)
    release = open_release(current_link(data_dir).resolve())

    store = open_store(release.path)
    base = release.base
    quads = list(store.quads_for_pattern(None, None, None, None))
    quads = [q for q in quads if not isinstance(q.graph_name, ox.DefaultGraph)]
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        index = build_index(quads, base)
        timings.append(time.perf_counter() - started)
    print(f"search index: {len(index['entries'])} entries from {len(quads)} quads, "
          f"built in {min(timings) * 1000:.0f} ms (best of 5)")

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = kusei_command(data_dir, port, workers=1, timeout=30)
    probe = url + "/"
    with server(command, probe, dict(os.environ), data_dir / "bench-pages-server.log"):
        print(f"\n{'page':<12}{'wire B':>9}{'html B':>9}{'TTFB p50 ms':>13}")
        for name, path in PAGES.items():
            _ttfb(url + path)  # warm-up: per-release caches fill on the first request
            runs = [_ttfb(url + path) for _ in range(args.repeat)]
            print(f"{name:<12}{runs[0][1]:>9,}{runs[0][2]:>9,}{statistics.median(r[0] for r in runs):>13.1f}")

        titles = [e["title"] for e in index["entries"] if e["title"]]
        queries = [t[:4] for t in titles[:: max(1, len(titles) // 60)]][:60]
        queries += ["ボタン", "ＧＵＲＵＲＩ", "こそだて", "子育て 金沢", "ｶﾅｻﾞﾜ", "防災", "みどり", "区役所"] * 4
        queries += [f"該当なし{n}" for n in range(100 - len(queries))]
        latencies = []
        for query in queries[:100]:
            started = time.perf_counter()
            response = requests.get(url + "/search.json", params={"q": query}, timeout=60)
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
        latencies.sort()
        print(f"\nsearch over HTTP, {len(latencies)} queries: p50 {statistics.median(latencies):.1f} ms, "
              f"p95 {latencies[int(len(latencies) * 0.95) - 1]:.1f} ms")


if __name__ == "__main__":
    main()
