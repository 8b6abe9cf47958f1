"""Load: 32 concurrent clients run the example queries against `kusei serve`; not one may fail.

Part of the normal suite, bounded in time: KUSEI_LOAD_SECONDS (default 60 on CI, i.e. CI=true,
else 15). Throughput and latency percentiles are printed and written to tests/artifacts/load.json.
The server is a `kusei serve` of its own, 2 web workers on a machine with two cores (their request
threads are more than the clients). Its result cache is off: the example queries repeat, and with
it on the figures would be the cache's, not the engine's.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from conftest import UNSHARED, serve_command, wait_until_ready
from reporting import report

PROJECT_ROOT = Path(__file__).resolve().parents[2]
QUERIES = sorted((PROJECT_ROOT / "endpoint" / "queries").glob("*.rq"))
ARTIFACT = Path(__file__).resolve().parents[1] / "artifacts" / "load.json"
CLIENTS = 32
WORKERS = 2
SECONDS = float(os.environ.get("KUSEI_LOAD_SECONDS") or (60 if os.environ.get("CI") == "true" else 15))
RESULT_TYPES = "application/sparql-results+json, application/n-triples;q=0.9"

pytestmark = [pytest.mark.system, pytest.mark.slow, pytest.mark.timeout(int(SECONDS) + 180)]


@pytest.fixture(scope="module")
def load_server(data_dir: Path) -> Iterator[str]:
    """A `kusei serve` of our own with WORKERS web workers, stopped (all of it) at the end."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    command = serve_command(data_dir, port, WORKERS)
    # 32 clients from one address: per-client fair shares off, as for every test server (conftest).
    environment = {**os.environ, "KUSEI_DATA_DIR": str(data_dir), "KUSEI_RESULT_CACHE_BYTES": "0", **UNSHARED}
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until_ready(process, url)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@dataclass
class Client:
    """One simulated user: a keep-alive session running the example queries in turn."""

    index: int
    latencies: list[float] = field(default_factory=list)
    per_query: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def run(self, url: str, queries: list[tuple[str, str]], until: float) -> None:
        turn = self.index
        with requests.Session() as http:
            while time.monotonic() < until:
                name, query = queries[turn % len(queries)]
                # Both protocol encodings a client is likely to use: GET, and a form POST.
                method = "GET" if turn % 2 == 0 else "POST"
                turn += 1
                started = time.perf_counter()
                try:
                    if method == "GET":
                        response = http.get(f"{url}/sparql", params={"query": query},
                                            headers={"Accept": RESULT_TYPES}, timeout=60)
                    else:
                        response = http.post(f"{url}/sparql", data={"query": query},
                                             headers={"Accept": RESULT_TYPES}, timeout=60)
                    body = response.content
                except requests.RequestException as exc:
                    self.errors.append(f"{method} {name}: {exc!r}")
                    continue
                elapsed = time.perf_counter() - started
                if response.status_code != 200 or not body:
                    self.errors.append(f"{method} {name}: {response.status_code} {body[:200]!r}")
                    continue
                self.latencies.append(elapsed)
                self.per_query.setdefault(name, []).append(elapsed)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (sorted here)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def test_concurrent_clients_run_the_example_queries(load_server: str, request: pytest.FixtureRequest) -> None:
    assert QUERIES, "no example queries found"
    queries = [(path.stem, path.read_text(encoding="utf-8")) for path in QUERIES]
    # Every query works once before the clock starts, so a broken example fails plainly here.
    for name, query in queries:
        response = requests.get(f"{load_server}/sparql", params={"query": query},
                                headers={"Accept": RESULT_TYPES}, timeout=60)
        assert response.status_code == 200, (name, response.text[:300])

    clients = [Client(index) for index in range(CLIENTS)]
    started = time.monotonic()
    until = started + SECONDS
    threads = [threading.Thread(target=client.run, args=(load_server, queries, until), daemon=True)
               for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 120)
    assert not any(thread.is_alive() for thread in threads), "clients still running long after the deadline"
    elapsed = time.monotonic() - started

    errors = [error for client in clients for error in client.errors]
    latencies = [value for client in clients for value in client.latencies]
    per_query: dict[str, list[float]] = {}
    for client in clients:
        for name, values in client.per_query.items():
            per_query.setdefault(name, []).extend(values)
    total = len(latencies) + len(errors)
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "clients": CLIENTS,
        "server": {"command": "kusei serve", "workers": WORKERS, "cpus": os.cpu_count()},
        "seconds": round(elapsed, 2),
        "requests": total,
        "errors": len(errors),
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "latency_ms": {"p50": round(percentile(latencies, 0.50) * 1000, 1) if latencies else None,
                       "p99": round(percentile(latencies, 0.99) * 1000, 1) if latencies else None,
                       "max": round(max(latencies) * 1000, 1) if latencies else None},
        "per_query": {name: {"requests": len(values), "p50_ms": round(percentile(values, 0.5) * 1000, 1),
                             "p99_ms": round(percentile(values, 0.99) * 1000, 1)}
                      for name, values in sorted(per_query.items())},
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    report(request.config, f"load: {CLIENTS} clients for {elapsed:.1f} s: {total} requests, {len(errors)} errors, "
                           f"{result['throughput_rps']} requests/s, p50 {result['latency_ms']['p50']} ms, "
                           f"p99 {result['latency_ms']['p99']} ms (written to tests/artifacts/load.json)")

    assert not errors, f"{len(errors)} of {total} requests failed: {errors[:5]}"
    assert all(client.latencies for client in clients), "a client got no answer at all"
    assert set(per_query) == {path.stem for path in QUERIES}
