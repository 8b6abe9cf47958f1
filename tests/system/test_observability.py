"""`kusei serve` with two web workers: /metrics reports the whole server, the log one line a request."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from kusei.endpoint.web.requestlog import query_id

pytestmark = pytest.mark.system

REQUESTS = 24


def sparql_200s(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (sample.name == "kusei_http_requests_total" and sample.labels.get("route") == "/sparql"
                    and sample.labels.get("status") == "200"):
                return sample.value
    return 0.0


def test_metrics_sum_every_web_worker(data_dir: Path, start_server: Callable[..., str], tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    url = start_server(data_dir, workers=2, KUSEI_ACCESS_LOG=str(log))
    # The readiness probe of start_server was a /sparql query too: count from the log's lines.
    for n in range(REQUESTS):
        # A new connection each time: the kernel spreads them over both workers.
        response = requests.get(f"{url}/sparql", params={"query": f"ASK {{ ?s ?p {n} }}"},
                                headers={"Connection": "close"}, timeout=30)
        assert response.status_code == 200
    # A line is written once the server has taken the last byte, which may be just after the
    # client has it: wait for all of them.
    ids = {query_id(f"ASK {{ ?s ?p {n} }}") for n in range(REQUESTS)}
    deadline = time.monotonic() + 30
    while True:
        answered = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        sparql = [line for line in answered if line["path"] == "/sparql" and line["status"] == 200]
        if ids <= {line.get("query") for line in sparql} or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert ids <= {line.get("query") for line in sparql}
    # Each scrape is answered by one worker or the other; each must count both workers' requests.
    # (Counting only its own, a worker would be short by the other's share: with 24 connections
    # spread by the kernel, both get some.)
    for _ in range(6):
        scrape = requests.get(f"{url}/metrics", headers={"Connection": "close"}, timeout=30)
        assert scrape.status_code == 200
        assert sparql_200s(scrape.text) == len(sparql)
