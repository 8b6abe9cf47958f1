"""Benchmark Kusei's /sparql against Oxigraph's own server on the same synthetic data.

Run on demand (not part of the tests); everything binds 127.0.0.1 and stops when the run ends.

    python -m bench.run                          # 18 wards x 10 years (~0.95M quads in named graphs), 3 s per cell
    python -m bench.run --wards 4 --years 5 --duration 2 --queries 20 24 27
    python -m bench.run --skip-http              # only the executor-overhead table

See bench/README.md for what each table means.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import statistics
import sys
import threading
import time
import urllib.parse
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyoxigraph as ox

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # `python bench/run.py` as well as `python -m bench.run`
    sys.path.insert(0, str(PROJECT_ROOT))

from bench.executor_cost import executor_overhead, timeout_stop  # noqa: E402
from bench.generate import BASE, generate  # noqa: E402
from bench.mix import REAL_QUERY_DIRS, Query, empty_answers, load_queries  # noqa: E402
from bench.servers import SERVERS, free_port, kusei_server, oxigraph_server, print_resources, request  # noqa: E402
from kusei.release import Manifest, current_link, read_manifest, release_dir, store_dir  # noqa: E402

ACCEPT_RESULTS = "application/sparql-results+json"
ACCEPT_GRAPH = "application/n-triples"
NEWLINE = b"\n"


# -- data ------------------------------------------------------------------------------------------


def prepare_data(workdir: Path, wards: int, years: int) -> Path:
    """A Kusei data directory (releases/<id>/store, release.json, current) for this size; cached."""
    # v3: years from 2014, and the entities every query asks about (bench/generate.py)
    data_dir = workdir / f"kusei-v3-{wards}x{years}"
    if read_manifest(current_link(data_dir)) is not None:
        return data_dir
    nquads = workdir / f"data-v3-{wards}x{years}.nq"
    if not nquads.is_file():
        print(f"generating {nquads.name} …", file=sys.stderr)
        with nquads.open("w", encoding="utf-8") as out:
            generate(out, wards=wards, years=years, measures=10, projects=6, items=5, seed=1)
    release_id = f"bench{wards}x{years}"
    release = release_dir(data_dir, release_id)
    release.mkdir(parents=True, exist_ok=True)
    print(f"bulk-loading {nquads.name} into {store_dir(release)} …", file=sys.stderr)
    store = ox.Store(str(store_dir(release)))
    store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    # As `kusei build` does: the default graph holds the merge of the named graphs, once per triple.
    store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
    store.optimize()
    graphs = {g.value: 0 for g in store.named_graphs()}
    for row in store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"):
        graphs[row["g"].value] = int(row["n"].value)
    del store  # closes RocksDB before the servers open it read-only
    Manifest(id=release_id, base=BASE, published_at=BASE, modified="2026-11-23", graphs=graphs, files=[],
             documents={}).write(release)
    link = current_link(data_dir)
    if link.is_symlink():
        link.unlink()
    link.symlink_to(release_dir(Path(), release_id))
    return data_dir


# -- load ------------------------------------------------------------------------------------------


@dataclass
class Cell:
    server: str
    query: str
    mode: str  # "uncached" | "repeated" | "revalidated"
    concurrency: int
    requests: int = 0
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list, repr=False)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def run_cell(endpoint: str, query: Query, mode: str, concurrency: int, duration: float,
             max_requests: int, name: str, tag: str = "") -> Cell:
    """``concurrency`` client threads with keep-alive connections, for ``duration`` s at most.
    ``tag`` marks the texts of a warm-up cell, so the measured cell after it sends others."""
    cell = Cell(name, query.name, mode, concurrency)
    accept = ACCEPT_GRAPH if query.graph else ACCEPT_RESULTS
    parts = urllib.parse.urlsplit(endpoint)
    counter = iter(range(10**9))
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def client(source: str) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120, source_address=(source, 0))
        etag: str | None = None
        try:
            while time.monotonic() < stop_at:
                with lock:
                    n = next(counter)
                    if n >= max_requests:
                        return
                base_text = query.text_for(name)
                # The query's name and the cell's concurrency are in the comment: two rows that
                # send the same text (22 and 22-own), or the c=8 cell after the c=1 cell of one
                # query (its counter starts again at 0), must not answer each other from the cache.
                text = (base_text if mode != "uncached"
                        else f"{base_text}\n# bench {query.name} c{concurrency} {tag}{n}\n")
                url = f"{endpoint}?query={urllib.parse.quote(text)}"
                headers = {"Accept": accept}
                if mode == "revalidated" and etag:
                    headers["If-None-Match"] = etag
                started = time.perf_counter()
                try:
                    status, response_headers, _ = request(url, "GET", headers, conn)
                except (OSError, http.client.HTTPException):
                    status, response_headers = 0, {}
                    conn.close()
                    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120,
                                                      source_address=(source, 0))
                took = time.perf_counter() - started
                etag = response_headers.get("etag", etag)
                with lock:
                    cell.requests += 1
                    cell.statuses[str(status)] = cell.statuses.get(str(status), 0) + 1
                    if status in (200, 304):
                        cell.latencies.append(took)
                    else:
                        cell.errors += 1
        finally:
            conn.close()

    # Each client thread is a client of its own, from its own loopback address, as concurrent users
    # are: Kusei bounds what one address may run at once (KUSEI_CLIENT_MAX_QUERIES, a wait for a
    # share past it) and its query time per minute, which 8 threads of one address would meet as
    # one client. Oxigraph bounds neither; the addresses change nothing for it.
    threads = [threading.Thread(target=client, args=(f"127.0.0.{10 + index}",)) for index in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cell.seconds = time.monotonic() - started
    return cell


def answer_size(endpoint: str, query: Query, name: str) -> tuple[str, object]:
    """A short description of the answer (rows or triples) and a fingerprint to compare servers by.

    Triples are compared as a set of N-Triples lines (a CONSTRUCT may repeat a triple); rows by
    their number, since equal queries may order or name unordered solutions differently."""
    accept = ACCEPT_GRAPH if query.graph else ACCEPT_RESULTS
    status, _, body = request(f"{endpoint}?query={urllib.parse.quote(query.text_for(name))}", "GET",
                              {"Accept": accept})
    if status != 200:
        return f"HTTP {status}", ("status", status)
    if query.graph:
        lines = frozenset(line.strip() for line in body.split(NEWLINE) if line.strip())
        return f"{len(lines)} triples", lines
    data = json.loads(body)
    if "boolean" in data:
        return str(data["boolean"]).lower(), data["boolean"]
    rows = len(data["results"]["bindings"])
    return f"{rows} rows", rows


# -- report ----------------------------------------------------------------------------------------


def print_table(cells: list[Cell], queries: list[Query], servers: list[str]) -> None:
    """One table per mode and concurrency; every server's ratio is taken against Oxigraph's."""
    by_key = {(c.server, c.query, c.mode, c.concurrency): c for c in cells}
    modes = [mode for mode in ("uncached", "repeated", "revalidated") if any(c.mode == mode for c in cells)]
    concurrencies = sorted({c.concurrency for c in cells})
    others = [name for name in servers if name != "oxigraph"]

    def part(c: Cell | None) -> str:
        if c is None:
            return f"{'-':>9s} {'-':>7s} {'-':>7s}"
        err = f"({c.errors} err)" if c.errors else ""
        return f"{c.rps:9.1f} {c.percentile(50) * 1000:7.1f} {c.percentile(99) * 1000:7.1f}{err}"

    for mode in modes:
        for conc in concurrencies:
            print(f"\n== {mode}, concurrency {conc}: req/s, p50 ms, p99 ms; ratios vs oxigraph ==")
            print(f"{'query':28s} " + " | ".join(f"{name:>25s}" for name in servers) + " | "
                  + " ".join(f"{name[:12] + ' req/s,p50':>22s}" for name in others))
            for query in queries:
                row = {name: by_key.get((name, query.name, mode, conc)) for name in servers}
                ratios = []
                o = row.get("oxigraph")
                for name in others:
                    k = row[name]
                    if k and o and o.rps and o.latencies and k.latencies:
                        ratios.append(f"{k.rps / o.rps:11.2f},{k.percentile(50) / o.percentile(50):10.2f}")
                    else:
                        ratios.append(f"{'-':>22s}")
                print(f"{query.name[:28]:28s} " + " | ".join(f"{part(row[name]):>25s}" for name in servers)
                      + " | " + " ".join(ratios))
            geomeans = []
            for name in others:
                pairs = [(by_key.get((name, q.name, mode, conc)), by_key.get(("oxigraph", q.name, mode, conc)))
                         for q in queries]
                logs = [math.log(k.rps / o.rps) for k, o in pairs if k and o and k.rps and o.rps]
                geomeans.append(f"{name} {math.exp(sum(logs) / len(logs)):.2f}x over {len(logs)}" if logs else name)
            print("geomean req/s vs oxigraph: " + ", ".join(geomeans))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=PROJECT_ROOT / "bench" / "out",
                        help="data, stores and logs (default bench/out, git-ignored; reused between runs)")
    parser.add_argument("--wards", type=int, default=18)
    parser.add_argument("--years", type=int, default=11,
                        help="fiscal years per ward from 2014 (default 11, to 2024: ~1.1M quads in the named graphs)")
    parser.add_argument("--allow-empty", action="store_true",
                        help="measure even queries that find nothing on this data (a small --wards/--years)")
    parser.add_argument("--queries", nargs="*", help="query name prefixes (default: all)")
    parser.add_argument("--concurrency", type=int, nargs="*", default=[1, 8])
    parser.add_argument("--modes", nargs="*", default=["uncached", "repeated", "revalidated"],
                        choices=["uncached", "repeated", "revalidated"])
    parser.add_argument("--inprocess", action="store_true",
                        help="also serve Kusei with queries evaluated in-process (no time limit), to measure "
                             "what the worker processes cost over HTTP")
    parser.add_argument("--no-floor", action="store_true",
                        help="leave out the fixed-answer app that measures the HTTP stack alone")
    parser.add_argument("--minimal", action="store_true",
                        help="also serve the least app that answers queries (bench/minimal_app.py: parse, "
                             "pyoxigraph, serialise; no guard, limits or log), Kusei's ceiling on this stack")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per cell (server x query x …)")
    parser.add_argument("--warmup", type=float, default=0.0,
                        help="seconds each server is sent the cell's requests, unmeasured, before the cell "
                             "(Kusei's pools grow to the concurrency and their new query processes warm "
                             "their caches; 0: measure from the first request)")
    parser.add_argument("--max-requests", type=int, default=5000, help="requests per cell at most")
    parser.add_argument("--max-total", type=float, default=1800.0,
                        help="start no new cell after this many seconds")
    parser.add_argument("--workers", type=int, default=2, help="web workers of kusei serve (and the floor app)")
    parser.add_argument("--query-timeout", type=float, default=30.0, help="Kusei's query timeout")
    parser.add_argument("--oxigraph-timeout", type=float, default=None,
                        help="pass --timeout-s to Oxigraph (off by default: see bench/README.md)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="an existing data directory (e.g. `kusei build`'s, the repository's records) instead "
                             "of generated data; the examples and bench/queries/real/ are measured on it")
    parser.add_argument("--without-inline", action="store_true",
                        help="also serve Kusei with every query sent to a query process (KUSEI_INLINE_QUERIES=false), "
                             "to measure answering queries bounded by their form in the web worker")
    parser.add_argument("--skip-http", action="store_true", help="only the executor measurements")
    parser.add_argument("--skip-executor", action="store_true", help="only the HTTP comparison")
    args = parser.parse_args(argv)

    args.workdir.mkdir(parents=True, exist_ok=True)
    data_dir = args.data_dir or prepare_data(args.workdir, args.wards, args.years)
    store_path = store_dir(current_link(data_dir).resolve())
    queries = load_queries(args.queries, REAL_QUERY_DIRS if args.data_dir else None)
    if not queries:
        parser.error("no query matched")
    empty = empty_answers(store_path, queries)
    if empty:
        print(f"{'WARNING' if args.allow_empty else 'ERROR'}: on this data ({args.wards} wards x {args.years} years) "
              f"these queries find nothing: {', '.join(empty)}", file=sys.stderr, flush=True)
        if not args.allow_empty:
            return 2
    results: dict = {"wards": args.wards, "years": args.years, "queries": [q.name for q in queries],
                     "duration": args.duration, "warmup": args.warmup}
    began = time.monotonic()

    if not args.skip_http:
        cells: list[Cell] = []
        apps = {"kusei": "kusei.endpoint.wsgi:app"}
        if args.without_inline:
            apps["hop"] = "kusei.endpoint.wsgi:app"
        if args.inprocess:
            apps["inproc"] = "bench.inprocess_app:app"
        if args.minimal:
            apps["minimal"] = "bench.minimal_app:app"
        if not args.no_floor:
            apps["floor"] = "bench.floor_app:app"
        ports = {name: free_port() for name in [*apps, "oxigraph"]}
        endpoints = {name: f"http://127.0.0.1:{ports[name]}/sparql" for name in apps}
        endpoints["oxigraph"] = f"http://127.0.0.1:{ports['oxigraph']}/query"
        servers = list(endpoints)
        with ExitStack() as stack:
            for name, app in apps.items():
                stack.enter_context(kusei_server(
                    data_dir, ports[name], args.workers, args.workdir, args.query_timeout, app,
                    settings={"KUSEI_INLINE_QUERIES": "false"} if name == "hop" else None, name=name))
            stack.enter_context(oxigraph_server(
                store_path, ports["oxigraph"], args.workdir, args.oxigraph_timeout))
            compared = [name for name in servers if name != "floor"]  # floor answers anything alike
            print("answers (" + " | ".join(compared) + "):")
            mismatched = []
            for query in queries:
                answers = [answer_size(endpoints[name], query, name) for name in compared]
                agree = len({fingerprint for _, fingerprint in answers}) == 1
                verdict = "same" if agree else ("differ (reported apart)" if not query.same_answer
                                                 else "MISMATCH")
                if query.same_answer and not agree:
                    mismatched.append(query.name)
                print(f"  {query.name:34s} " + " | ".join(size for size, _ in answers) + f"  {verdict}",
                      flush=True)
            results["mismatched"] = mismatched
            if mismatched:
                print(f"WARNING: the servers answer {', '.join(mismatched)} differently; "
                      "their figures are not comparable", flush=True)
            for mode in args.modes:
                for conc in args.concurrency:
                    for query in queries:
                        # All servers back to back for each query, so drift hits them alike.
                        for name in servers:
                            if time.monotonic() - began > args.max_total:
                                print("--max-total reached; skipping the remaining cells", file=sys.stderr)
                                break
                            if args.warmup > 0:
                                run_cell(endpoints[name], query, mode, conc, args.warmup, args.max_requests,
                                         name, tag="warm-up ")
                            cell = run_cell(endpoints[name], query, mode, conc, args.duration,
                                            args.max_requests, name)
                            cells.append(cell)
                            p50, p99 = cell.percentile(50) * 1000, cell.percentile(99) * 1000
                            print(f"  {mode:8s} c={conc} {name:10s} {query.name:32s} {cell.rps:8.1f} req/s "
                                  f"p50 {p50:8.1f} ms p99 {p99:8.1f} ms {cell.statuses}", flush=True)
        print_table(cells, queries, servers)
        print_resources()
        results["resources"] = [asdict(r) for r in SERVERS]
        results["http"] = [{**asdict(c), "latencies": None, "rps": c.rps, "p50_ms": c.percentile(50) * 1000,
                            "p99_ms": c.percentile(99) * 1000} for c in cells]

    if not args.skip_executor:
        print("\n== timeout mechanism: executor (worker processes) vs in-process, p50 per query ==")
        results["executor"] = executor_overhead(store_path, queries, min(args.duration, 5.0),
                                                max(args.concurrency))
        per_query = results["executor"]["per_query"]
        summary = (f"  median executor/raw {statistics.median(r['executor_vs_raw'] for r in per_query):.2f}, "
                   f"median added {statistics.median(r['added_ms'] for r in per_query):.2f} ms per query")
        if all("executor_vs_engine" in r for r in per_query):
            versus_engine = statistics.median(r["executor_vs_engine"] for r in per_query)
            summary += f", median executor/engine {versus_engine:.2f}"
        print(summary)
        results["timeout_stop"] = timeout_stop(store_path)
        print(f"  runaway query with a 1 s timeout stopped after "
              f"{results['timeout_stop']['stopped_after_s']:.3f} s; next query answered "
              f"{results['timeout_stop']['next_query_after_kill_s']:.3f} s later (worker respawn)")

    out = args.workdir / "results.json"
    out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"\nresults written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
