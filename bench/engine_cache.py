"""What the web worker's Python costs the engine: pyoxigraph's answer to one query, alone and with a
step of the request's own work run before each answer.

The query is answered as the web worker answers it (``executor.answer`` on a read-only store, the
inline path's function), one distinct text after another. Before each answer one step of a
request runs on that text, as in the server: reading the query string (``lean._parse``), the
analysis and cost rules (``analyse(...).bounded``), the log line and its counts (``RequestLog._done``),
keeping the answer in the result cache, all of them, or a sleep as long as a client's turn-around.
Reported: the thread CPU of the answer alone (not of the step), p50. A step that leaves the
engine's data out of the CPU's caches makes the answer after it slower.

    .venv/bin/python -m bench.engine_cache --data-dir var
    .venv/bin/python -m bench.engine_cache --data-dir var --query bench/queries/real/r1-ask-plan.rq
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import pyoxigraph as ox  # noqa: E402

from bench.mix import PROLOGUE  # noqa: E402
from kusei.endpoint.query import analysis, executor, service  # noqa: E402
from kusei.endpoint.query.cache import Key, ResultCache  # noqa: E402
from kusei.endpoint.web import lean, requestlog  # noqa: E402
from kusei.release import CurrentRelease  # noqa: E402

DEFAULT_QUERY = PROJECT_ROOT / "endpoint" / "queries" / "07-population-households.rq"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True, help="a built Kusei data directory")
    parser.add_argument("--query", type=Path, default=DEFAULT_QUERY)
    parser.add_argument("--answers", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2, help="every step measured this many times, interleaved")
    args = parser.parse_args(argv)
    release = CurrentRelease(args.data_dir).latest()
    store = ox.Store.read_only(str(release.store_path))
    prefixes, base_iri = service._query_options(release.base)
    options = {"prefixes": prefixes, "base_iri": base_iri}
    query = PROLOGUE + args.query.read_text(encoding="utf-8")
    cache = ResultCache(64 << 20)
    log = requestlog.RequestLog(lambda environ, start_response: [], requestlog.Sink(os.devnull))

    def log_line(text: str) -> None:
        note = {"route": "/sparql", "query": requestlog.query_id(text), "release": release.id, "cache": "miss"}
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/sparql", "REMOTE_ADDR": "127.0.0.1",
                   requestlog.NOTE_KEY: note}
        log._done(environ, 200, 700, time.monotonic(), time.time())

    four = ("read the query string", "analysis and cost rules", "the log line", "the result cache")
    steps: dict[str, Callable[[str], object]] = {
        "nothing": lambda text: None,
        "read the query string": lambda text: lean._parse(urlencode({"query": text})),
        "analysis and cost rules": lambda text: analysis.analyse(text).bounded,
        "the log line": log_line,
        "the result cache": lambda text: cache.put(Key(release.id, text, (), (), "json"), text.encode() * 2),
        "all four": lambda text: [steps[name](text) for name in four],
        "0.3 ms asleep": lambda text: time.sleep(0.0003),
    }

    def answer_cpu(step: Callable[[str], object], label: str) -> float:
        samples = []
        for index in range(args.answers):
            text = f"{query}\n# engine-cache {label} {time.time_ns()} {index}"
            step(text)
            request = executor.make_request(text, default_graph_uris=None, named_graph_uris=None,
                                            result_format="json", union_default_graph=False,
                                            max_rows=10_000, max_bytes=1 << 24)
            started = time.thread_time_ns()
            executor.answer(ox, store, request, options)
            samples.append(time.thread_time_ns() - started)
        return statistics.median(samples[args.answers // 5:]) / 1000

    results: dict[str, list[float]] = {name: [] for name in steps}
    for round_ in range(args.rounds):
        for name, step in steps.items():
            results[name].append(answer_cpu(step, f"{round_}-{name}"))
    print(f"{'before each answer':26s} {'answer CPU µs, p50 per round':>30s}")
    for name, values in results.items():
        print(f"{name:26s} {' '.join(f'{value:8.0f}' for value in values):>30s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
