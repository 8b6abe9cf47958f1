"""Fair shares (issue 17.5): a client running runaway queries gets 429 with Retry-After past its share,
and other clients' queries are answered meanwhile.

Clients are told apart by address: the runaway one connects from 127.0.0.2, the others from
127.0.0.1 (both loopback addresses on Linux).
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

pytestmark = [pytest.mark.system, pytest.mark.slow]

# Runs far past the time limit on the test data: a three-way cross product.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
CHEAP = "SELECT ?s WHERE { ?s a ?type } LIMIT 3"
RUNAWAYS = 8
MAX_PER_CLIENT = 2


def _get(url: str, query: str, source: str) -> tuple[int, str | None]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120, source_address=(source, 0))
    try:
        connection.request("GET", "/sparql?" + urlencode({"query": query}), headers={"Accept": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Retry-After")
    finally:
        connection.close()


@pytest.fixture(scope="module")
def server(data_dir: Path, start_server: Callable[..., str]) -> str:
    return start_server(data_dir, workers=2, KUSEI_QUERY_TIMEOUT="5", KUSEI_CLIENT_MAX_QUERIES=str(MAX_PER_CLIENT),
                        KUSEI_CLIENT_QUERY_SECONDS="8")


def test_runaway_client_is_refused_past_its_share_and_others_are_answered(server: str) -> None:
    start = threading.Barrier(RUNAWAYS)
    runaway: list[tuple[int, str | None]] = []
    done = threading.Event()

    def run_away() -> None:
        start.wait()
        runaway.append(_get(server, RUNAWAY, "127.0.0.2"))

    threads = [threading.Thread(target=run_away) for _ in range(RUNAWAYS)]
    for thread in threads:
        thread.start()
    others: list[int] = []

    def other_client() -> None:
        while not done.is_set():
            others.append(_get(server, CHEAP, "127.0.0.1")[0])

    other = threading.Thread(target=other_client)
    other.start()
    for thread in threads:
        thread.join()
    done.set()
    other.join()

    statuses = sorted(status for status, _ in runaway)
    refused = [retry for status, retry in runaway if status == 429]
    assert len(refused) >= RUNAWAYS - MAX_PER_CLIENT, statuses
    assert all(retry is not None and int(retry) >= 1 for retry in refused)
    assert others and all(200 <= status < 300 for status in others), others

    # Its minute's query time is spent (2 queries stopped at 5 s > 8 s): even a cheap query waits,
    # another client's does not. (A query new to the result cache: answers from it cost no query time.)
    status, retry = _get(server, CHEAP + " # after the wave", "127.0.0.2")
    assert status == 429 and retry is not None and int(retry) >= 1, (status, runaway)
    assert _get(server, CHEAP, "127.0.0.1")[0] == 200


def test_the_shares_are_in_the_service_description(server: str) -> None:
    status, _ = _get(server, CHEAP, "127.0.0.3")
    assert status == 200
    parts = urlsplit(server)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    connection.request("GET", "/sparql", headers={"Accept": "application/ld+json"})
    body = json.dumps(json.loads(connection.getresponse().read()))
    connection.close()
    assert "maxConcurrentQueriesPerClient" in body and "queryTimePerClientPerMinute" in body
