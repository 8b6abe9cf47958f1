"""Benchmark Kusei's /sparql against Oxigraph's own server on the same synthetic data.

Run on demand (not part of the tests); everything binds 127.0.0.1 and stops when the run ends.

    python -m bench.run                          # 18 wards x 20 years (~1M quads), 3 s per cell
    python -m bench.run --wards 4 --years 5 --duration 2 --queries 20 24 27
    python -m bench.run --skip-http              # only the executor-overhead table

See bench/README.md for what each table means.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyoxigraph as ox

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # `python bench/run.py` as well as `python -m bench.run`
    sys.path.insert(0, str(PROJECT_ROOT))

from bench.generate import BASE, generate  # noqa: E402

QUERY_DIRS = [PROJECT_ROOT / "endpoint" / "queries", PROJECT_ROOT / "bench" / "queries"]
# The endpoint pre-declares kusei:; Oxigraph does not, so every query states it (for both).
PROLOGUE = f"PREFIX kusei: <{BASE}/def/>\n"
ACCEPT_RESULTS = "application/sparql-results+json"
ACCEPT_GRAPH = "application/n-triples"
READY_TIMEOUT = 120.0
NEWLINE = b"\n"


# -- data ------------------------------------------------------------------------------------------


def prepare_data(workdir: Path, wards: int, years: int) -> Path:
    """A Kusei data directory (releases/<id>/store, release.json, current) for this size; cached."""
    data_dir = workdir / f"kusei-v2-{wards}x{years}"
    if (data_dir / "current" / "release.json").is_file():
        return data_dir
    nquads = workdir / f"data-{wards}x{years}.nq"
    if not nquads.is_file():
        print(f"generating {nquads.name} …", file=sys.stderr)
        with nquads.open("w", encoding="utf-8") as out:
            generate(out, wards=wards, years=years, measures=10, projects=6, items=5, seed=1)
    release_id = f"bench{wards}x{years}"
    release = data_dir / "releases" / release_id
    release.mkdir(parents=True, exist_ok=True)
    print(f"bulk-loading {nquads.name} into {release / 'store'} …", file=sys.stderr)
    store = ox.Store(str(release / "store"))
    store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    # As `kusei build` does: the default graph holds the merge of the named graphs, once per triple.
    store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
    store.optimize()
    graphs = {g.value: 0 for g in store.named_graphs()}
    for row in store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"):
        graphs[row["g"].value] = int(row["n"].value)
    del store  # closes RocksDB before the servers open it read-only
    manifest = {"id": release_id, "base": BASE, "published_at": BASE, "modified": "2026-11-23",
                "graphs": graphs, "files": [], "documents": {}}
    (release / "release.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    link = data_dir / "current"
    if link.is_symlink():
        link.unlink()
    link.symlink_to(Path("releases") / release_id)
    return data_dir


@dataclass(frozen=True)
class Query:
    name: str
    text: str
    graph: bool  # CONSTRUCT/DESCRIBE
    # What Oxigraph is sent instead, when its own form of the query would answer something else
    # (Kusei's DESCRIBE is a bounded description; Oxigraph's is the concise bounded description).
    peer_text: str | None = None
    # Whether both servers must give the same answer; a query reported apart need not.
    same_answer: bool = True

    def text_for(self, server: str) -> str:
        return self.peer_text if server == "oxigraph" and self.peer_text else self.text


PEER_SUFFIX = ".oxigraph.rq"
_FORM = re.compile(r"^\s*(?:#[^\n]*\n|PREFIX[^\n]*\n|BASE[^\n]*\n|\s)*(\w+)", re.IGNORECASE)


def load_queries(selected: list[str] | None) -> list[Query]:
    queries = []
    for directory in QUERY_DIRS:
        for path in sorted(directory.glob("*.rq")):
            if path.name.endswith(PEER_SUFFIX):
                continue
            if selected and not any(path.stem.startswith(s) for s in selected):
                continue
            text = PROLOGUE + path.read_text(encoding="utf-8")
            form = _FORM.match(text)
            verb = form.group(1).upper() if form else ""
            graph = verb in ("CONSTRUCT", "DESCRIBE")
            peer = path.with_name(path.stem + PEER_SUFFIX)
            if peer.is_file():
                queries.append(Query(path.stem, text, graph, PROLOGUE + peer.read_text(encoding="utf-8")))
                if verb == "DESCRIBE":
                    # Each server's own DESCRIBE too, reported apart: their answers differ by design.
                    queries.append(Query(path.stem + "-own", text, graph, same_answer=False))
            else:
                queries.append(Query(path.stem, text, graph))
    return queries


# -- servers ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM, 0, 0, 0)


@dataclass
class Resources:
    """What one server costs: time from start to its first answer, and the resident memory and
    process count of its whole process tree, idle (just after that answer) and at the peak of the
    run (sampled every 0.2 s)."""

    name: str
    cold_start_s: float = 0.0
    idle_rss: int = 0
    idle_processes: int = 0
    peak_rss: int = 0
    peak_processes: int = 0


SERVERS: list[Resources] = []


def tree(root: int) -> tuple[int, int]:
    """Resident bytes and number of processes of ``root`` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_bytes().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    rss = count = 0
    pending = [root]
    while pending:
        pid = pending.pop()
        try:
            rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
        count += 1
        pending.extend(children.get(pid, ()))
    return rss, count


@contextmanager
def server(command: list[str], url_probe: str, env: dict[str, str], log: Path) -> Iterator[Resources]:
    """Run ``command`` (in its own process group) until the block ends; wait until it answers.

    The command line and the settings passed in the environment are printed first, so every
    result can be read with the configuration that produced it. The server's resources are
    sampled while the block runs (see :class:`Resources`, also kept in ``SERVERS``)."""
    settings = " ".join(f"{k}={v}" for k, v in sorted(env.items()) if k.startswith("KUSEI_"))
    print(f"server {log.stem}: {' '.join(command)}" + (f"  [{settings}]" if settings else ""), flush=True)
    resources = Resources(log.stem)
    started = time.monotonic()
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=sink, stderr=sink,
                                preexec_fn=_die_with_parent, start_new_session=True)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.2):
            rss, count = tree(proc.pid)
            resources.peak_rss = max(resources.peak_rss, rss)
            resources.peak_processes = max(resources.peak_processes, count)

    sampler = threading.Thread(target=sample, daemon=True)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{command[0]} exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
            try:
                status, _, _ = request(url_probe, "GET", {})
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(command)} did not answer within {READY_TIMEOUT:.0f} s")
            time.sleep(0.05)
        resources.cold_start_s = time.monotonic() - started
        time.sleep(1)  # let the workers that did not take the probe finish starting
        resources.idle_rss, resources.idle_processes = tree(proc.pid)
        resources.peak_rss, resources.peak_processes = resources.idle_rss, resources.idle_processes
        SERVERS.append(resources)
        sampler.start()
        yield resources
    finally:
        stop.set()
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass


def print_resources() -> None:
    print("\n== resources per server (whole process tree) ==")
    print(f"  {'server':22s} {'cold start':>10s} {'idle MiB':>9s} {'idle procs':>10s} {'peak MiB':>9s} "
          f"{'peak procs':>10s}")
    for r in SERVERS:
        print(f"  {r.name:22s} {r.cold_start_s:9.2f}s {r.idle_rss / 2**20:9.0f} {r.idle_processes:10d} "
              f"{r.peak_rss / 2**20:9.0f} {r.peak_processes:10d}")


def kusei_command(data_dir: Path, port: int, workers: int, timeout: float) -> list[str]:
    """`kusei serve` as a user runs it, on 127.0.0.1:``port``."""
    return [sys.executable, "-m", "kusei.cli", "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--timeout", str(timeout)]


def kusei_server(data_dir: Path, port: int, workers: int, logdir: Path,
                 timeout: float, app: str = "kusei.endpoint.wsgi:app") -> AbstractContextManager[Resources]:
    """Kusei as `kusei serve` runs it; any other ``app`` under the very same granian options
    (bench.serve_app). The options are printed with the command."""
    from kusei.cli import server_options
    from kusei.settings import Settings

    env = {**os.environ, "KUSEI_DATA_DIR": str(data_dir), "KUSEI_QUERY_TIMEOUT": str(timeout),
           "KUSEI_WORKERS": str(workers), "KUSEI_HOST": "127.0.0.1", "KUSEI_PORT": str(port)}
    if app == "kusei.endpoint.wsgi:app":
        command = kusei_command(data_dir, port, workers, timeout)
    else:
        command = [sys.executable, "-m", "bench.serve_app", app]
    options = server_options(Settings.load(data_dir=data_dir, port=port, workers=workers, query_timeout=timeout))
    shown = {key: value for key, value in options.items() if key not in ("target", "process_name")}
    print(f"granian options for {app}: {shown}", flush=True)
    probe = f"http://127.0.0.1:{port}/sparql?query=" + urllib.parse.quote("ASK {}")
    return server(command, probe, env, logdir / f"kusei-{app.split(':')[0]}.log")


def oxigraph_server(store: Path, port: int, logdir: Path,
                    timeout: float | None) -> AbstractContextManager[Resources]:
    binary = Path(sys.executable).parent / "oxigraph"
    command = [str(binary if binary.exists() else "oxigraph"), "serve-read-only", "--location", str(store),
               "--bind", f"127.0.0.1:{port}"]
    # No --union-default-graph: the store's default graph already holds the merge of the named
    # graphs (as `kusei build` writes it) and Kusei answers from it alone. With the option Oxigraph
    # would match every pattern against the default graph and every named graph, i.e. twice the
    # data with duplicate solutions: more work than Kusei does and a different answer.
    if timeout:
        # Oxigraph 0.5.13 keeps one thread per query sleeping for the whole timeout, so at a few
        # thousand queries per second it runs out of threads ("Resource temporarily unavailable").
        command += ["--timeout-s", str(int(timeout))]
    probe = f"http://127.0.0.1:{port}/query?query=" + urllib.parse.quote("ASK {}")
    return server(command, probe, dict(os.environ), logdir / "oxigraph.log")


# -- load ------------------------------------------------------------------------------------------


def request(url: str, method: str, headers: dict[str, str],
            conn: http.client.HTTPConnection | None = None) -> tuple[int, dict[str, str], bytes]:
    parts = urllib.parse.urlsplit(url)
    own = conn is None
    conn = conn or http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        conn.request(method, f"{parts.path}?{parts.query}", headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        if own:
            conn.close()


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
             max_requests: int, name: str) -> Cell:
    """``concurrency`` client threads with keep-alive connections, for ``duration`` s at most."""
    cell = Cell(name, query.name, mode, concurrency)
    accept = ACCEPT_GRAPH if query.graph else ACCEPT_RESULTS
    parts = urllib.parse.urlsplit(endpoint)
    counter = iter(range(10**9))
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        etag: str | None = None
        try:
            while time.monotonic() < stop_at:
                with lock:
                    n = next(counter)
                    if n >= max_requests:
                        return
                base_text = query.text_for(name)
                text = base_text if mode != "uncached" else f"{base_text}\n# bench {n}\n"
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
                    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
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

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
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


# -- executor overhead -----------------------------------------------------------------------------


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
        from kusei.endpoint.query import formats
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
                formats.serialize_graph(outcome.triples or [], nt_format, release.base)
            else:
                formats.serialize_solutions(outcome, json_format)

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=PROJECT_ROOT / "bench" / "out",
                        help="data, stores and logs (default bench/out, git-ignored; reused between runs)")
    parser.add_argument("--wards", type=int, default=18)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--queries", nargs="*", help="query name prefixes (default: all)")
    parser.add_argument("--concurrency", type=int, nargs="*", default=[1, 8])
    parser.add_argument("--modes", nargs="*", default=["uncached", "repeated", "revalidated"],
                        choices=["uncached", "repeated", "revalidated"])
    parser.add_argument("--inprocess", action="store_true",
                        help="also serve Kusei with queries evaluated in-process (no time limit), to measure "
                             "what the worker processes cost over HTTP")
    parser.add_argument("--no-floor", action="store_true",
                        help="leave out the fixed-answer app that measures the HTTP stack alone")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per cell (server x query x …)")
    parser.add_argument("--max-requests", type=int, default=5000, help="requests per cell at most")
    parser.add_argument("--max-total", type=float, default=1800.0,
                        help="start no new cell after this many seconds")
    parser.add_argument("--workers", type=int, default=2, help="web workers of kusei serve (and the floor app)")
    parser.add_argument("--query-timeout", type=float, default=30.0, help="Kusei's query timeout")
    parser.add_argument("--oxigraph-timeout", type=float, default=None,
                        help="pass --timeout-s to Oxigraph (off by default: see bench/README.md)")
    parser.add_argument("--skip-http", action="store_true", help="only the executor measurements")
    parser.add_argument("--skip-executor", action="store_true", help="only the HTTP comparison")
    args = parser.parse_args(argv)

    args.workdir.mkdir(parents=True, exist_ok=True)
    data_dir = prepare_data(args.workdir, args.wards, args.years)
    store_path = (data_dir / "current").resolve() / "store"
    queries = load_queries(args.queries)
    if not queries:
        parser.error("no query matched")
    results: dict = {"wards": args.wards, "years": args.years, "queries": [q.name for q in queries]}
    began = time.monotonic()

    if not args.skip_http:
        cells: list[Cell] = []
        apps = {"kusei": "kusei.endpoint.wsgi:app"}
        if args.inprocess:
            apps["inproc"] = "bench.inprocess_app:app"
        if not args.no_floor:
            apps["floor"] = "bench.floor_app:app"
        ports = {name: free_port() for name in [*apps, "oxigraph"]}
        endpoints = {name: f"http://127.0.0.1:{ports[name]}/sparql" for name in apps}
        endpoints["oxigraph"] = f"http://127.0.0.1:{ports['oxigraph']}/query"
        servers = list(endpoints)
        with ExitStack() as stack:
            for name, app in apps.items():
                stack.enter_context(kusei_server(
                    data_dir, ports[name], args.workers, args.workdir, args.query_timeout, app))
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
