"""Slow, idle and overloading clients against the serving stack: do good clients keep being answered?

    python -m bench.slow_clients --data-dir var --stacks kusei gunicorn --duration 15

For each stack and each attack, 16 hostile connections run while 8 good clients (a query, the
home page, a dump listing, in turn) send requests; reported: the share of good requests answered
(2xx/3xx), the share answered or refused with the documented 503 "busy" (the answer to a query
when every slot is taken), and the p50/p90 latency of those. Everything binds 127.0.0.1 and stops
with the run. Attacks: `onebyte` (send one byte, wait), `headers` (a header line every 4 s),
`body` (a POST body, a few bytes every 4 s), `reader` (read a large result at ~1 KB/s), `idle`
(connect, never write, renew every 4.5 s), `runaway` (a 4-way cross-product COUNT, sent again as
soon as it is answered: more runaway queries than query slots).

Stacks: `kusei` is `kusei serve` itself; `gunicorn` is what it ran before (gthread, 4 threads per
worker); `granian` is granian's CLI with 4 blocking threads, as first measured.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from bench.servers import free_port, kusei_command, server

HOSTILE = 16
GOOD = 8
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def stack_command(stack: str, port: int, workers: int, threads: int, data_dir: Path) -> list[str]:
    if stack == "kusei":
        return kusei_command(data_dir, port, workers, 30.0)
    if stack == "gunicorn":  # as `kusei serve` ran it before granian
        return [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                "--threads", str(threads), "--timeout", "60", "--no-control-socket", "kusei.endpoint.wsgi:app"]
    return [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--blocking-threads", str(threads),
            "--http1-header-read-timeout", "10000", "kusei.endpoint.wsgi:app"]


def attacker(kind: str, port: int, stop: threading.Event, big: str) -> None:
    while not stop.is_set():
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        except OSError:
            time.sleep(0.2)
            continue
        try:
            if kind == "onebyte":
                sock.sendall(b"G")
                stop.wait(30)
            elif kind == "headers":
                sock.sendall(b"GET / HTTP/1.1\r\n")
                while not stop.wait(4):
                    sock.sendall(b"X-a: b\r\n")
            elif kind == "body":
                sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
                             b"\r\nContent-Length: 100000\r\n\r\nquery=")
                while not stop.wait(4):
                    sock.sendall(b"%20%20")
            elif kind == "runaway":
                sock.settimeout(120)  # a runaway query runs to the 30 s limit
                while not stop.is_set():
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                    conn.sock = sock
                    conn.request("GET", f"/sparql?query={urllib.parse.quote(RUNAWAY)}%20%23{time.monotonic()}")
                    conn.getresponse().read()
            elif kind == "reader":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.sendall(f"GET /sparql?query={urllib.parse.quote(big)} HTTP/1.1\r\nHost: x\r\n"
                             "Accept: application/sparql-results+json\r\n\r\n".encode())
                while not stop.wait(1):
                    if not sock.recv(1024):
                        break
            else:  # idle
                stop.wait(4.5)
        except OSError:
            pass
        finally:
            sock.close()


def good_client(port: int, stop: threading.Event, offset: int, results: list[tuple[str, float]]) -> None:
    targets = [f"/sparql?query={urllib.parse.quote('ASK { ?s ?p ?o }')}", "/", "/dumps/"]
    i = offset
    while not stop.is_set():
        target = targets[i % len(targets)]
        if target.startswith("/sparql"):
            target += f"%20%23{i}"  # past the result cache
        i += 1
        started = time.perf_counter()
        outcome = "failed"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", target)
            response = conn.getresponse()
            body = response.read()
            if response.status < 400:
                outcome = "ok"
            elif response.status == 503 and b"busy" in body:
                outcome = "busy"
            conn.close()
        except (OSError, http.client.HTTPException):
            pass
        results.append((outcome, time.perf_counter() - started))


def run_attack(kind: str, port: int, duration: float) -> dict:
    stop = threading.Event()
    big = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 100000"
    results: list[tuple[str, float]] = []
    threads = [threading.Thread(target=attacker, args=(kind, port, stop, big), daemon=True) for _ in range(HOSTILE)]
    for thread in threads:
        thread.start()
    time.sleep(2)  # let the attack settle in
    goods = [threading.Thread(target=good_client, args=(port, stop, n, results)) for n in range(GOOD)]
    for thread in goods:
        thread.start()
    time.sleep(duration)
    stop.set()
    for thread in goods:
        thread.join()
    latencies = sorted(took for outcome, took in results if outcome != "failed")
    answered = sum(outcome == "ok" for outcome, _ in results)
    busy = sum(outcome == "busy" for outcome, _ in results)
    p90 = latencies[int(0.9 * (len(latencies) - 1))] if latencies else float("nan")
    total = len(results) or 1
    return {"attack": kind, "requests": len(results), "answered": answered, "busy": busy,
            "share": answered / total, "share_with_busy": (answered + busy) / total,
            "p50": statistics.median(latencies) if latencies else float("nan"), "p90": p90}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--stacks", nargs="*", default=["kusei", "gunicorn"], choices=["kusei", "gunicorn", "granian"])
    parser.add_argument("--attacks", nargs="*", default=["onebyte", "headers", "body", "reader", "idle", "runaway"])
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "KUSEI_DATA_DIR": str(args.data_dir.resolve()), "KUSEI_WORKERS": str(args.workers)}
    print(f"{'stack':9s} {'attack':8s} {'good req':>8s} {'answered':>9s} {'+busy':>7s} {'p50 ms':>8s} {'p90 ms':>8s}")
    for stack in args.stacks:
        for kind in args.attacks:
            port = free_port()  # a fresh server per attack: no attack inherits another's leftovers
            probe = f"http://127.0.0.1:{port}/"
            with server(stack_command(stack, port, args.workers, args.threads, args.data_dir.resolve()), probe,
                        env, args.workdir / f"slow-{stack}.log"):
                row = run_attack(kind, port, args.duration)
            print(f"{stack:9s} {kind:8s} {row['requests']:8d} {row['share']:8.1%} {row['share_with_busy']:6.1%} "
                  f"{row['p50'] * 1000:8.1f} {row['p90'] * 1000:8.1f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
