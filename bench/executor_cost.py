"""What the query processes cost: the same queries answered in-process (raw pyoxigraph, the app's
engine path) and through the executor, and how fast a runaway query is stopped."""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from bench.generate import BASE
from bench.mix import Query


def _in_process_paths(store_path: Path, prefixes: dict[str, str]) -> dict[str, Callable[[Query], None]]:
    """The ways to answer a query without worker processes: raw pyoxigraph, and the app's engine."""
    direct = ox.Store.read_only(str(store_path))

    def raw(q: Query) -> None:
        # The merged default graph, as the app's engine reads it (not the union of every graph).
        result = direct.query(q.text, prefixes=prefixes)
        if isinstance(result, ox.QueryTriples):
            result.serialize(format=ox.RdfFormat.N_TRIPLES)
        else:
            result.serialize(format=ox.QueryResultsFormat.JSON)

    paths: dict[str, Callable[[Query], None]] = {"raw": raw}
    try:  # the app's current in-process path (engine + formats); skipped if its API has moved on
        from kusei.endpoint.query import service as engine
        from kusei.endpoint.web import negotiation
        from kusei.release import open_release
        from kusei.settings import Settings

        release = open_release(store_path.parent)
        settings = Settings(data_dir=store_path.parent.parent.parent, max_result_rows=10**6)
        json_format = negotiation.negotiate_results(None, "json")
        nt_format = negotiation.negotiate_graph(None, "nt")

        def app_engine(q: Query) -> None:
            outcome = engine.execute(release, q.text, settings=settings, timeout=60, max_rows=10**6)
            if outcome.kind == "graph":
                nt_format.write(outcome.triples or [], release.base)
            else:
                json_format.write(outcome)

        app_engine(Query("probe", "ASK {}", False))
        paths["engine"] = app_engine
    except Exception as exc:  # noqa: BLE001 - a benchmark of another module's API must not stop the run
        print(f"  (engine path not measured: {type(exc).__name__}: {exc})", file=sys.stderr)
    return paths


def executor_overhead(store_path: Path, queries: list[Query], duration: float, threads: int) -> dict:
    """Per query: p50 of executor.run vs in-process paths, alternating in one process; then the
    whole mix at ``threads`` concurrent callers, executor vs raw in-process."""
    from kusei.endpoint.query.executor import QueryExecutor

    prefixes = {"kusei": f"{BASE}/def/"}
    paths = _in_process_paths(store_path, prefixes)
    rows = []
    with QueryExecutor(store_path, workers=threads, max_rows=10**6, max_bytes=10**9,
                       prefixes=prefixes, union_default_graph=False) as executor:
        executor.wait_ready(120)  # workers still starting would eat the CPU being measured

        def exe(q: Query) -> None:
            executor.run(q.text, timeout=60, result_format="json")

        contenders = {**paths, "executor": exe}
        for query in queries:
            samples: dict[str, list[float]] = {name: [] for name in contenders}
            stop_at = time.monotonic() + duration
            # Alternate the contenders so machine noise (other processes) hits them alike.
            while time.monotonic() < stop_at or len(samples["executor"]) < 3:
                for name, fn in contenders.items():
                    started = time.perf_counter()
                    fn(query)
                    samples[name].append(time.perf_counter() - started)
                if len(samples["executor"]) >= 2000:
                    break
            p50 = {name: statistics.median(values) for name, values in samples.items()}
            row = {"query": query.name, "runs": len(samples["executor"]),
                   **{f"{name}_ms": value * 1000 for name, value in p50.items()},
                   "executor_vs_raw": p50["executor"] / p50["raw"],
                   "added_ms": (p50["executor"] - p50["raw"]) * 1000}
            if "engine" in p50:
                row["executor_vs_engine"] = p50["executor"] / p50["engine"]
            rows.append(row)
            engine_part = (f"engine {p50['engine'] * 1000:9.2f} ms  " if "engine" in p50 else "")
            versus = (f"  x{row['executor_vs_engine']:5.2f} vs engine" if "engine" in p50 else "")
            print(f"  {query.name:30s} raw {p50['raw'] * 1000:9.2f} ms  {engine_part}"
                  f"executor {p50['executor'] * 1000:9.2f} ms  x{row['executor_vs_raw']:5.2f} vs raw{versus}"
                  f"  ({row['runs']} runs)", flush=True)

        mix = {}
        for name in ("raw", "executor"):
            fn = contenders[name]
            done = [0]
            lock = threading.Lock()
            stop_at = time.monotonic() + duration * 2

            def caller(offset: int, fn: Callable[[Query], None] = fn, done: list[int] = done,
                       lock: threading.Lock = lock, stop_at: float = stop_at) -> None:
                i = offset
                while time.monotonic() < stop_at:
                    fn(queries[i % len(queries)])
                    i += 1
                    with lock:
                        done[0] += 1

            workers = [threading.Thread(target=caller, args=(i,)) for i in range(threads)]
            started = time.monotonic()
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            mix[name] = done[0] / (time.monotonic() - started)
        print(f"  whole mix, {threads} threads: raw in-process {mix['raw']:.1f} q/s, executor "
              f"{mix['executor']:.1f} q/s (x{mix['executor'] / mix['raw']:.2f})", flush=True)
    return {"per_query": rows, "mix_threads": threads, "mix_qps": mix}


def timeout_stop(store_path: Path) -> dict:
    """How soon after its timeout a runaway query is stopped, and what replacing the worker costs."""
    from kusei.endpoint.query.errors import QueryTimeout
    from kusei.endpoint.query.executor import QueryExecutor

    pathological = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with QueryExecutor(store_path, workers=1, max_rows=10, max_bytes=10**6, prefixes={}) as executor:
        executor.run("ASK {}", timeout=60)
        started = time.monotonic()
        try:
            executor.run(pathological, timeout=1.0)
        except QueryTimeout:
            pass
        stopped = time.monotonic() - started
        started = time.monotonic()
        executor.run("ASK {}", timeout=60)  # waits for the replacement worker
        replaced = time.monotonic() - started
    return {"timeout_s": 1.0, "stopped_after_s": stopped, "next_query_after_kill_s": replaced}
