"""Memory bounds per query process and per server (issue 12.1), with real query processes.

A query that would pass its bound is stopped by the executor's watchdog and reported as such
(422 per query, 503 for the server bound); bystanders keep being served. (Replacing a process
that kept memory after its query is tests/unit/test_executor.py::test_bloated_worker_is_replaced.)
"""

from __future__ import annotations

import json
import os
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
from waiting import wait_for

from kusei.endpoint.query.errors import MemoryLimitExceeded
from kusei.endpoint.query.executor import QueryExecutor, tree_memory
from kusei.endpoint.query.executor.memory import rss

pytestmark = [pytest.mark.system, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]

MiB = 1 << 20


def doubling(times: int, seed_length: int = 1000) -> str:
    """A short query whose answer doubles a string ``times`` times: ~seed_length x 2^times bytes."""
    binds = " ".join(f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1})" for i in range(times))
    return f'SELECT (STRLEN(?v{times}) AS ?n) WHERE {{ BIND("{"x" * seed_length}" AS ?v0) {binds} }}'


CROSS_SORT = "SELECT ?o ?o2 WHERE { ?s ?p ?o . ?s2 ?p2 ?o2 } ORDER BY ?o ?o2 LIMIT 1"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("memory") / "store"
    store = ox.Store(str(path))
    store.extend(ox.Quad(ox.NamedNode(f"http://example.org/s/{i}"), ox.NamedNode("http://example.org/p"),
                         ox.Literal(f"value {i}")) for i in range(3000))
    store.flush()
    del store
    return path


def test_query_past_its_memory_bound_is_stopped_and_named(store_path: Path) -> None:
    limit = 200 * MiB
    # busy_wait: the fresh process after the kill may take seconds to start on a loaded machine.
    with QueryExecutor(store_path, workers=1, max_rows=10, max_bytes=10**6, prefixes={},
                       max_query_memory=limit, isolate_network=False, busy_wait=60) as ex:
        ex.run("ASK {}", timeout=60)
        (pid,) = ex.worker_pids()
        with pytest.raises(MemoryLimitExceeded) as caught:
            ex.run(doubling(22), timeout=120)  # ~4 GiB if let run
        assert caught.value.scope == "query"
        assert "200 MiB" in caught.value.message and "max_query_memory" in caught.value.message
        assert ex.stats()["memory_kills"] == 1
        # The pool goes on with a fresh process.
        assert ex.run("ASK { ?s ?p ?o }", timeout=60).body.endswith(b"true}")
        assert pid not in ex.worker_pids()


def test_server_bound_counts_this_process_and_its_pool(store_path: Path) -> None:
    with QueryExecutor(store_path, workers=1, max_rows=10, max_bytes=10**6, prefixes={},
                       max_query_memory=None, isolate_network=False, prestart=True) as ex:
        ex.wait_ready(60)
        # This process and its pool: what the bound counts when no server master is the parent.
        baseline = sum(rss(pid) for pid in [os.getpid(), *ex.worker_pids()])
    bound = baseline + 300 * MiB
    with QueryExecutor(store_path, workers=1, max_rows=10, max_bytes=10**6, prefixes={},
                       max_query_memory=None, max_server_memory=bound, isolate_network=False) as ex:
        ex.wait_ready(60)
        with pytest.raises(MemoryLimitExceeded) as caught:
            ex.run(doubling(22), timeout=120)
        assert caught.value.scope == "server"
        assert "max_server_memory" in caught.value.message


def _get(url: str, timeout: float = 120) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body)
        except ValueError:
            return exc.code, {"raw": body[:500].decode(errors="replace")}


def test_http_memory_attacks_are_refused_and_the_tree_stays_bounded(
        data_dir: Path, start_server: Callable[..., str]) -> None:
    query_bound, server_bound = 400 * MiB, 2048 * MiB
    url = start_server(data_dir, workers=2, KUSEI_MAX_QUERY_MEMORY=str(query_bound),
                       KUSEI_MAX_SERVER_MEMORY=str(server_bound), KUSEI_QUERY_TIMEOUT="120")
    master = start_server.pids[url]  # type: ignore[attr-defined]
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], tree_memory(master)[0])
            stop.wait(0.05)  # the sampling rate, not a wait for anything

    attacks = [doubling(22), doubling(22), CROSS_SORT]
    answers: list[tuple[int, dict]] = []
    bystander: list[int] = []

    def attack(query: str) -> None:
        answers.append(_get(f"{url}/sparql?query={urllib.parse.quote(query)}"))

    def bystand() -> None:
        while not stop.is_set():
            bystander.append(_get(f"{url}/sparql?query={urllib.parse.quote('ASK { ?s ?p ?o }')}")[0])
            stop.wait(0.1)  # a bystander's pace, not a wait for anything

    sampler = threading.Thread(target=sample)
    others = threading.Thread(target=bystand)
    sampler.start()
    others.start()
    attackers = [threading.Thread(target=attack, args=(query,)) for query in attacks]
    for thread in attackers:
        thread.start()
    for thread in attackers:
        thread.join()
    stop.set()
    sampler.join()
    others.join()

    assert len(answers) == 3
    for status, body in answers:
        assert status in (422, 503), (status, body)
        assert "memory limit" in body.get("raw", "") and "max_query_memory" in body["raw"], body
    assert peak[0] < server_bound, f"tree peaked at {peak[0] >> 20} MiB"
    assert bystander and bystander.count(200) == len(bystander), bystander


def test_an_idle_process_gives_back_what_its_query_took(store_path: Path) -> None:
    """After a query that grew its process by ~100 MiB, the idle process is back near its size
    before it (issue 17.4: idle processes kept 244 MiB each), without being replaced."""
    grow = ("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?o ?o2 WHERE { ?s ?p ?o . ?s2 ?p ?o2 } "
            "LIMIT 1500000 }")
    with QueryExecutor(store_path, workers=1, max_rows=10, max_bytes=10**6, prefixes={}, max_query_memory=None,
                       max_worker_rss=None, isolate_network=False, busy_wait=60) as ex:
        ex.run("ASK { ?s ?p ?o }", timeout=60)
        (pid,) = ex.worker_pids()
        before = rss(pid)
        peak = [before]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.01):  # sampling pace, not a wait
                peak[0] = max(peak[0], rss(pid))

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            ex.run(grow, timeout=120)
        finally:
            stop.set()
            sampler.join()
        assert peak[0] - before > 64 * MiB, "the query did not grow the process: the test proves nothing"
        # The reply is sent before the process trims its heap: wait until it has (bounded).
        wait_for(lambda: rss(pid) - before <= 48 * MiB, "the idle process to give its memory back", timeout=30,
                 seen=lambda: f"idle at {rss(pid) >> 20} MiB, {before >> 20} MiB before")
        assert ex.worker_pids() == [pid]


def test_every_slot_running_its_hungriest_query_fits_the_server_bound() -> None:
    from kusei.settings import SERVER_MEMORY_RESERVE, Settings

    settings = Settings(max_server_memory=4 << 30, max_query_memory=1 << 30, max_concurrent_queries=8)
    assert settings.query_memory_bound * 8 + SERVER_MEMORY_RESERVE <= settings.max_server_memory
    assert Settings(max_server_memory=0, max_query_memory=1 << 30).query_memory_bound == 1 << 30
    assert Settings(max_server_memory=0, max_query_memory=0).query_memory_bound == 0
    assert Settings(max_server_memory=64 << 30, max_query_memory=1 << 30).query_memory_bound == 1 << 30
