"""Search: how long the build takes to write the index (with its readings), how big it is, and
the latency of searches on it, p50/p95 per query through the Flask app (JSON answers).

    .venv/bin/python -m bench.search --data-dir var [--repeat 200]

Latency is the CPU time the request takes in this thread (wall time on a shared machine mostly
measures the other processes); each query is run ``--repeat`` times and the percentiles are over
all runs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from kusei.endpoint.web.app import create_app
from kusei.graph.publish.search import write_index
from kusei.release import current_link, open_release, open_store
from kusei.settings import Settings

QUERIES = ("防災", "ぼうさい", "ボウサイ", "子育て", "こそだて", "かなざわ", "金沢", "地域 防災", "いっずん",
           "釜利谷", "臈利谷", "ちいきぼうさいきょてん", "子育て 支援", "ｺｿﾀﾞﾃ", "みどり", "区役所", "zzz",
           "ぼうさいざざざ")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    release = open_release(current_link(args.data_dir).resolve())
    quads = list(open_store(release.path).quads_for_pattern(None, None, None, None))
    out = Path("/tmp") / "kusei-bench-search.json"
    started = time.perf_counter()
    entries = write_index(out, quads, release.base)
    built = time.perf_counter() - started
    print(f"index: {entries} entries from {len(quads):,} quads in {built:.2f} s (readings included), "
          f"{out.stat().st_size:,} bytes")

    app = create_app(Settings(data_dir=args.data_dir))
    client = app.test_client()
    client.get("/search.json", query_string={"q": "warm"})  # loads the index once
    timings: list[float] = []
    for query in QUERIES:
        own: list[float] = []
        for _ in range(args.repeat):
            # CPU time of this process: on a shared machine, wall time mostly measures the others.
            t0 = time.thread_time()
            response = client.get("/search.json", query_string={"q": query})
            own.append((time.thread_time() - t0) * 1000)
            assert response.status_code == 200
        total = response.get_json()["total"]
        print(f"{query:14} {total:4d} results  p50 {statistics.median(own):6.2f} ms  p95 {percentile(own, 95):6.2f} ms")
        timings += own
    print(f"all queries: p50 {statistics.median(timings):.2f} ms, p95 {percentile(timings, 95):.2f} ms "
          f"({len(timings)} requests)")


if __name__ == "__main__":
    main()
