"""Abuse benchmarks of issue 17: one client's runaway queries against everyone else (fairness),
and release switches under load (switching). Run on demand; figures depend on the machine.

    python -m bench.abuse fairness --data-dir var [--via sparql|query] [--seconds 60]
    python -m bench.abuse switching --data-dir DIR --every 10 [--seconds 60]
    python -m bench.abuse memory --data-dir var --hungry 8
    python -m bench.abuse slow-readers --data-dir var [--readers 130]

Clients are told apart by address: the runaway client binds 127.0.0.2, the good clients
127.0.0.3 … (all loopback on Linux), so the server sees them as the different clients they are.
Every figure is printed with the settings that produced it.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

from bench.servers import free_port, kusei_command, server
from kusei.release import SWITCH_PREFIX, current_link, kept_releases, release_dir

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
# Cheap queries; the counter in the comment makes each one new to the result cache.
GOOD = ["SELECT ?s WHERE {{ ?s a ?type }} LIMIT 5 # {n}",
        "ASK {{ ?s ?p ?o }} # {n}",
        "SELECT (COUNT(*) AS ?n) WHERE {{ ?s a <https://w3id.org/kusei/def/Plan> }} # {n}"]


def get(port: int, path: str, source: str, timeout: float = 120) -> tuple[int, str | None, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        connection.request("GET", path, headers={"Accept": "application/sparql-results+json"})
        response = connection.getresponse()
        return response.status, response.getheader("Retry-After"), response.read()
    finally:
        connection.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def fairness(args: argparse.Namespace) -> None:
    port = free_port()
    env = {**os.environ, "KUSEI_DATA_DIR": str(args.data_dir)}
    logdir = Path(tempfile.mkdtemp(prefix="kusei-abuse-"))
    command = kusei_command(args.data_dir, port, 2, 30.0)
    with server(command, f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D", env, logdir / "fairness.log"):
        stop = threading.Event()
        runaway: Counter[int] = Counter()
        good: list[tuple[int, float]] = []

        def run_away() -> None:
            path = ("/sparql?" if args.via == "sparql" else "/query?") + urlencode({"query": RUNAWAY})
            while not stop.is_set():
                try:
                    status, _, _ = get(port, path, "127.0.0.2")
                except OSError:
                    status = 0
                runaway[status] += 1
                if status == 429:
                    time.sleep(0.1)  # a hostile client retries at once; a little pause spares the bench's CPU

        def good_client(index: int) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                query = GOOD[n % len(GOOD)].format(n=f"{index}-{n}")
                started = time.monotonic()
                try:
                    status, _, _ = get(port, "/sparql?" + urlencode({"query": query}), f"127.0.0.{3 + index}")
                except OSError:
                    status = 0
                good.append((status, time.monotonic() - started))
                time.sleep(0.2)

        threads = [threading.Thread(target=run_away, daemon=True) for _ in range(16)]
        for thread in threads:
            thread.start()
        time.sleep(3)  # the runaways hold what they can get first
        clients = [threading.Thread(target=good_client, args=(i,), daemon=True) for i in range(args.clients)]
        for thread in clients:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        for thread in clients:
            thread.join(timeout=150)
        ok = [seconds for status, seconds in good if 200 <= status < 300]
        statuses = Counter(status for status, _ in good)
        print(f"fairness (16 runaway queries from 127.0.0.2 via /{args.via}; {args.clients} other clients, "
              f"{args.seconds:g} s): other clients {len(good)} queries, {100 * len(ok) / max(1, len(good)):.1f} % 2xx "
              f"{dict(statuses)}, p50 {percentile([s for _, s in good], 0.5):.2f} s, "
              f"p90 {percentile([s for _, s in good], 0.9):.2f} s; runaway client's answers {dict(runaway)}")


def _point(data_dir: Path, release: str) -> None:
    temp = data_dir / f"{SWITCH_PREFIX}bench-{os.getpid()}"
    temp.symlink_to(release_dir(Path(), release))
    os.replace(temp, current_link(data_dir))


def switching(args: argparse.Namespace) -> None:
    """16 clients query while ``current`` switches between two releases every ``--every`` seconds,
    as a build's switch does. An answer is mixed if its ETag's release and its body disagree."""
    releases = sorted(p.name for p in kept_releases(args.data_dir))
    if len(releases) < 2:
        sys.exit("switching needs a data directory with two releases (build twice with different --modified)")
    first, second = releases[:2]
    port = free_port()
    env = {**os.environ, "KUSEI_DATA_DIR": str(args.data_dir)}
    logdir = Path(tempfile.mkdtemp(prefix="kusei-abuse-"))
    command = kusei_command(args.data_dir, port, 2, 30.0)
    query = ("PREFIX dct: <http://purl.org/dc/terms/> SELECT ?modified WHERE { GRAPH ?g { "
             "<https://w3id.org/kusei/id/dataset/kusei> dct:modified ?modified } }")
    _point(args.data_dir, first)
    with server(command, f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D", env, logdir / "switching.log"):
        # What each release answers, learnt before the switching starts.
        body_of: dict[str, bytes] = {}
        for release in (first, second):
            _point(args.data_dir, release)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                connection.request("GET", "/sparql?" + urlencode({"query": query, "n": "probe"}))
                response = connection.getresponse()
                body = response.read()
                etag = response.getheader("ETag") or ""
                connection.close()
                if release in etag:
                    body_of[release] = body
                    break
        stop = threading.Event()
        results: list[tuple[int, float, bool]] = []

        def client(index: int) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                started = time.monotonic()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120,
                                                        source_address=(f"127.0.0.{3 + index}", 0))
                try:
                    # A comment new each time: answered by the engine, not the result cache.
                    connection.request("GET", "/sparql?" + urlencode({"query": f"{query} # {index}-{n}"}))
                    response = connection.getresponse()
                    body = response.read()
                    etag = response.getheader("ETag") or ""
                    status = response.status
                except OSError:
                    status, body, etag = 0, b"", ""
                finally:
                    connection.close()
                mixed = status == 200 and not any(r in etag and body == b for r, b in body_of.items())
                results.append((status, time.monotonic() - started, mixed))

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(16)]
        for thread in threads:
            thread.start()
        switches = 0
        end = time.monotonic() + args.seconds
        current = first
        while time.monotonic() < end:
            time.sleep(args.every)
            current = second if current == first else first
            _point(args.data_dir, current)
            switches += 1
        stop.set()
        for thread in threads:
            thread.join(timeout=150)
        statuses = Counter(status for status, _, _ in results)
        unavailable = statuses.get(503, 0)
        print(f"switching every {args.every:g} s for {args.seconds:g} s ({switches} switches, 16 clients): "
              f"{len(results)} answers {dict(statuses)}; 503: {100 * unavailable / max(1, len(results)):.2f} %; "
              f"mixed: {sum(mixed for _, _, mixed in results)}; "
              f"p50 {percentile([s for _, s, _ in results], 0.5):.3f} s, "
              f"p99 {percentile([s for _, s, _ in results], 0.99):.3f} s")


HUNGRY = "SELECT ?o ?o2 WHERE {{ ?s ?p ?o . ?s2 ?p2 ?o2 }} ORDER BY ?o ?o2 LIMIT 1 # {n}"
DISTINCT = ("SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?o ?o2 WHERE {{ ?s ?p ?o . ?s2 ?p ?o2 }} "
            "LIMIT 1500000 }} # {n}")


def memory(args: argparse.Namespace) -> None:
    """``--hungry`` memory-hungry queries at once, each from its own address, with a bystander
    asking small queries; the server's whole process tree sampled every 50 ms. Then the idle tree
    after three rounds of 8 DISTINCT queries (what idle query processes keep)."""
    from bench.servers import tree

    port = free_port()
    env = {**os.environ, "KUSEI_DATA_DIR": str(args.data_dir)}
    logdir = Path(tempfile.mkdtemp(prefix="kusei-abuse-"))
    command = kusei_command(args.data_dir, port, 2, 120.0)
    with server(command, f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D", env, logdir / "memory.log") as res:
        root = res.pid
        stop = threading.Event()
        peak = [0]

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], tree(root)[0])
                time.sleep(0.05)

        hogs: Counter[str] = Counter()
        bystander: Counter[str] = Counter()

        def hog(index: int) -> None:
            path = "/sparql?" + urlencode({"query": HUNGRY.format(n=index)})
            try:
                status, _, body = get(port, path, f"127.0.1.{index + 1}", timeout=300)
            except OSError:
                status, body = 0, b""
            hogs[_said(status, body)] += 1

        def bystand() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                path = "/sparql?" + urlencode({"query": f"ASK {{ ?s ?p ?o }} # {n}"})
                try:
                    status, _, body = get(port, path, "127.0.2.1")
                except OSError:
                    status, body = 0, b""
                bystander[_said(status, body)] += 1
                time.sleep(0.1)

        watchers = [threading.Thread(target=sample, daemon=True), threading.Thread(target=bystand, daemon=True)]
        for thread in watchers:
            thread.start()
        hungry = [threading.Thread(target=hog, args=(i,)) for i in range(args.hungry)]
        for thread in hungry:
            thread.start()
        for thread in hungry:
            thread.join()
        stop.set()
        for thread in watchers:
            thread.join()
        print(f"memory ({args.hungry} hungry queries at once, server bound {_bound()} MiB): tree peak "
              f"{peak[0] >> 20} MiB (idle before {res.idle_rss >> 20} MiB); hungry answers {dict(hogs)}; "
              f"bystander {dict(bystander)}", flush=True)
        for round_ in range(3):
            queries = [threading.Thread(target=get, args=(port, "/sparql?" + urlencode(
                {"query": DISTINCT.format(n=f"{round_}-{i}")}), f"127.0.3.{i + 1}", 300)) for i in range(8)]
            for thread in queries:
                thread.start()
            for thread in queries:
                thread.join()
        time.sleep(2)
        print(f"idle tree after 3 rounds of 8 DISTINCT queries: {tree(root)[0] >> 20} MiB "
              f"in {tree(root)[1]} processes", flush=True)


BIG = ("SELECT * WHERE {{ ?s ?p ?o VALUES ?copy {{ {copies} }} }}")


def slow_readers(args: argparse.Namespace) -> None:
    """``--readers`` clients (each from its own address, one started every 0.15 s) ask for the same
    large answer and read it at 8 KB/s; the server's tree is sampled every 50 ms."""
    import socket

    from bench.servers import tree

    port = free_port()
    env = {**os.environ, "KUSEI_DATA_DIR": str(args.data_dir)}
    logdir = Path(tempfile.mkdtemp(prefix="kusei-abuse-"))
    command = kusei_command(args.data_dir, port, 2, 120.0)
    query = BIG.format(copies=" ".join(str(i) for i in range(args.copies)))
    path = "/sparql?" + urlencode({"query": query, "format": "json"})
    with server(command, f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D", env, logdir / "slow.log") as res:
        status, _, body = get(port, path, "127.0.5.1")
        print(f"the answer: {status}, {len(body) / 1e6:.1f} MB", flush=True)
        stop = threading.Event()
        peak = [0]
        heads: Counter[str] = Counter()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], tree(res.pid)[0])
                time.sleep(0.05)

        def reader(index: int) -> None:
            try:
                sock = socket.socket()
                sock.bind((f"127.0.6.{index % 250 + 1}" if index < 250 else "127.0.0.1", 0))
                sock.settimeout(120)
                sock.connect(("127.0.0.1", port))
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n".encode())
                first = sock.recv(4096)
                heads[first.split(b"\r\n", 1)[0].decode(errors="replace")] += 1
                while not stop.wait(0.5):
                    if not sock.recv(4096):
                        break
                sock.close()
            except OSError as exc:
                heads[type(exc).__name__] += 1

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        readers = []
        for index in range(args.readers):
            thread = threading.Thread(target=reader, args=(index,), daemon=True)
            thread.start()
            readers.append(thread)
            time.sleep(0.15)
        time.sleep(args.seconds)
        stop.set()
        for thread in readers:
            thread.join(timeout=30)
        print(f"slow readers ({args.readers} clients reading a {len(body) / 1e6:.1f} MB answer at 8 KB/s): "
              f"tree peak {peak[0] >> 20} MiB (idle before {res.idle_rss >> 20} MiB); first lines {dict(heads)}",
              flush=True)


def _said(status: int, body: bytes) -> str:
    """The status with, for a refusal, the first words of its message."""
    return str(status) if status == 200 else f"{status} {body[:48].decode(errors='replace').strip()}"


def _bound() -> int:
    from kusei.settings import Settings

    return Settings().max_server_memory >> 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    fair = sub.add_parser("fairness")
    fair.add_argument("--data-dir", type=Path, required=True)
    fair.add_argument("--via", choices=["sparql", "query"], default="sparql")
    fair.add_argument("--seconds", type=float, default=60)
    fair.add_argument("--clients", type=int, default=8)
    switch = sub.add_parser("switching")
    switch.add_argument("--data-dir", type=Path, required=True)
    switch.add_argument("--every", type=float, default=10)
    switch.add_argument("--seconds", type=float, default=60)
    hungry = sub.add_parser("memory")
    hungry.add_argument("--data-dir", type=Path, required=True)
    hungry.add_argument("--hungry", type=int, default=8)
    slow = sub.add_parser("slow-readers")
    slow.add_argument("--data-dir", type=Path, required=True)
    slow.add_argument("--readers", type=int, default=130)
    slow.add_argument("--copies", type=int, default=15)
    slow.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    {"fairness": fairness, "switching": switching, "memory": memory,
     "slow-readers": slow_readers}[args.what](args)


if __name__ == "__main__":
    main()
