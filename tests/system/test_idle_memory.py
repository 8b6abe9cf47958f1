"""A quiet server gives back what its queries took: after large answers and a quiet spell, the
whole process tree of `kusei serve` (2 web workers) shrinks under the stated idle bound (issue 20.5;
the bound is executor.memory.IDLE_TREE_BOUND, stated in bench/README.md)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from waiting import wait_for

from kusei.endpoint.query.executor.memory import IDLE_TREE_BOUND, tree_pss

pytestmark = [pytest.mark.system, pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]

MiB = 1 << 20
# ~50,000 rows, several MB of JSON: every copy of every triple.
LARGE = "SELECT * WHERE {{ ?s ?p ?o VALUES ?copy {{ 1 2 3 4 5 6 7 8 }} }} # {n}"


def test_after_large_answers_and_a_quiet_spell_the_tree_is_under_the_idle_bound(
        data_dir: Path, start_server: Callable[..., str]) -> None:
    url = start_server(data_dir, workers=2, KUSEI_QUERY_IDLE_SECONDS="1")
    root = start_server.pids[url]  # type: ignore[attr-defined]
    busiest = [0, 0]  # processes, PSS
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.1):  # sampling pace, not a wait
            pss, count = tree_pss(root)
            busiest[0] = max(busiest[0], count)
            busiest[1] = max(busiest[1], pss)

    def ask(n: int) -> None:
        with requests.Session() as session:  # a connection of its own: spread over both web workers
            for round_ in range(2):
                response = session.get(f"{url}/sparql", params={"query": LARGE.format(n=f"{n}-{round_}")},
                                       headers={"Accept": "application/sparql-results+json"}, timeout=120)
                assert response.status_code == 200, response.text[:300]
                assert len(response.json()["results"]["bindings"]) > 10_000

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        clients = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
    finally:
        stop.set()
        sampler.join()
    wait_for(lambda: tree_pss(root)[0] <= IDLE_TREE_BOUND and tree_pss(root)[1] < busiest[0],
             "the quiet server's tree to shrink under the idle bound", timeout=90,
             seen=lambda: f"{tree_pss(root)[0] / MiB:.0f} MiB in {tree_pss(root)[1]} processes "
                          f"(busiest {busiest[0]} processes, {busiest[1] / MiB:.0f} MiB)")
    # The large answers did grow the tree past the bound (else this test proves nothing) ...
    assert busiest[1] > IDLE_TREE_BOUND, f"the tree peaked at {busiest[1] / MiB:.0f} MiB only"
    # ... and the shrunk server answers at once (a process is forked for the query).
    response = requests.get(f"{url}/sparql", params={"query": "ASK { ?s ?p ?o }"},
                            headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code == 200 and response.json()["boolean"] is True
