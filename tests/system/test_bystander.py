"""A bystander is answered, not refused, while other clients' queries hold every slot (issue 17.4):
a client with nothing else running waits its turn; a client that already runs a query still gets
the documented 503 ``busy`` after the short wait."""

from __future__ import annotations

import http.client
import os
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from waiting import wait_for

from kusei.endpoint.query import slots

pytestmark = pytest.mark.system

# Never ends on the seed data: each holds its slot until its time limit.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }} # {n}"
TIME_LIMIT = 6


def _ask(url: str, query: str, source: str) -> tuple[int, str]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60, source_address=(source, 0))
    try:
        connection.request("GET", "/sparql?" + urlencode({"query": query}),
                           headers={"Accept": "application/sparql-results+json"})
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


def _slots_taken(master: int) -> int:
    taken = 0
    for directory in slots.slots_root().glob(f"{master}-*"):
        for path in directory.glob("slot-*.lock"):
            fd = slots.try_lock(path)
            if fd is None:
                taken += 1
            else:
                os.close(fd)
    return taken


def test_a_bystander_waits_for_a_slot_instead_of_a_503(data_dir: Path, start_server: Callable[..., str]) -> None:
    url = start_server(data_dir, workers=2, KUSEI_MAX_CONCURRENT_QUERIES="2", KUSEI_QUERY_TIMEOUT=str(TIME_LIMIT),
                       KUSEI_CLIENT_MAX_QUERIES="4", KUSEI_CLIENT_QUERY_SECONDS="0")
    master = start_server.pids[url]  # type: ignore[attr-defined]
    runaways: list[int] = []
    # Two clients, each from its own address, hold both slots until their time limit.
    threads = [threading.Thread(target=lambda n=n: runaways.append(_ask(url, RUNAWAY.format(n=n), f"127.0.7.{n}")[0]))
               for n in (1, 2)]
    for thread in threads:
        thread.start()
    wait_for(lambda: _slots_taken(master) == 2, "the runaway queries to hold both slots", timeout=30)
    # A client already running a query is refused after the short wait, as documented ...
    crowded: list[tuple[int, str]] = []
    crowd = threading.Thread(target=lambda: crowded.append(_ask(url, "ASK { ?s ?p ?o } # 1", "127.0.7.1")))
    crowd.start()
    # ... while a bystander (nothing running) waits until a slot frees and is answered.
    status, body = _ask(url, "ASK { ?s ?p ?o } # 2", "127.0.7.3")
    assert status == 200 and '"boolean":true' in body, (status, body[:300])
    for thread in [*threads, crowd]:
        thread.join(60)
    assert sorted(runaways) == [503, 503]  # stopped at their time limit
    assert crowded and crowded[0][0] == 503 and "busy" in crowded[0][1], crowded
