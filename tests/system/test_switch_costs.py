"""Switching releases costs no answers (issue 17.6).

16 clients query a real server while ``current`` switches between two releases once a second, as
a build's switch does: every answer is a 200 (none refused as ``release-changed`` or ``busy``
while query processes restart: none restart) and each is wholly one release's, ETag and bytes.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from graph_input import copy_input, point_current
from waiting import wait_for

from kusei.graph.build import build
from kusei.settings import DEFAULT_BASE, Settings

pytestmark = [pytest.mark.system, pytest.mark.slow]

EXEMPLAR = "000_a9155f3b6863ac96.yaml"
QUERY = f"""PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?modified WHERE {{ GRAPH ?g {{ <{DEFAULT_BASE}/id/dataset/kusei> dct:modified ?modified }} }}"""
CLIENTS = 16
SWITCH_EVERY = 1.0
SWITCHES = 8


def test_switches_once_a_second_cost_no_answer(tmp_path: Path, start_server: Callable[..., str]) -> None:
    records = copy_input(tmp_path / "input", [EXEMPLAR])
    data_dir = tmp_path / "data"
    quiet = lambda _: None  # noqa: E731
    releases = [build(Settings(data_dir=data_dir, modified=modified), records_dir=records, report=quiet).release_id
                for modified in ("2026-11-23", "2027-02-01")]
    url = start_server(data_dir, workers=2)
    probe = url + "/sparql?" + urlencode({"query": QUERY})

    body_of: dict[str, str] = {}
    for release in releases:
        point_current(data_dir, release)
        deadline = time.monotonic() + 60
        while True:  # until the server answers from the release just pointed at
            response = requests.get(probe, timeout=60)
            if response.status_code == 200 and release in response.headers.get("ETag", ""):
                break
            assert time.monotonic() < deadline, (response.status_code, response.headers.get("ETag"))
        body_of[release] = hashlib.sha256(response.content).hexdigest()
    assert body_of[releases[0]] != body_of[releases[1]]

    stop = threading.Event()
    seen: list[tuple[int, str, str]] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        with requests.Session() as http:
            i = 0
            while not stop.is_set():
                i += 1
                response = http.get(probe + f"%23{n}-{i}", timeout=60)  # new to the result cache each time
                with lock:
                    seen.append((response.status_code, response.headers.get("ETag", ""),
                                 hashlib.sha256(response.content).hexdigest() if response.ok else response.text[:200]))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        for turn in range(SWITCHES):
            point_current(data_dir, releases[turn % 2])
            since = len(seen)
            time.sleep(SWITCH_EVERY)  # the pace of the switches, not a wait for anything
            # Each release is answered under the clients before the next switch (the last
            # assertion below), however slowly the loaded machine answers.
            wait_for(lambda turn=turn, since=since: any(releases[turn % 2] in etag for _, etag, _ in seen[since:]),
                     f"an answer from release {releases[turn % 2]} after switch {turn + 1}")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)

    statuses = Counter(status for status, _, _ in seen)
    refused = [text for status, _, text in seen if status != 200]
    mixed = [(etag, digest) for status, etag, digest in seen
             if status == 200 and not any(r in etag and body_of[r] == digest for r in releases)]
    print(f"switches every {SWITCH_EVERY:g} s: {len(seen)} answers, statuses {dict(statuses)}, {len(mixed)} mixed")
    assert not mixed, mixed[:3]
    assert not refused, refused[:3]
    releases_seen = {r for _, etag, _ in seen for r in releases if r in etag}
    assert releases_seen == set(releases)  # the switches did happen under the clients
