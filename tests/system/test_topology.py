"""The production topology on loopback: nginx (endpoint/deploy/) in front of two `kusei serve` replicas.

Shows the cache keyed by the release (hits with the right ETag, never an old answer after a
switch), failover when a replica dies, and the rate limit applied to the real client address,
which the replicas learn from the proxy's X-Forwarded-For (KUSEI_TRUSTED_PROXIES). Clients use
source addresses 127.0.0.2 … 127.0.0.5, bound on their sockets.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import free_port
from waiting import wait_for

from kusei.distribute import publish
from kusei.endpoint.deploy.nginx import Front, nginx_command, render, switch
from kusei.release import CurrentRelease, Manifest, ManifestFile, digest_id

pytestmark = [pytest.mark.system, pytest.mark.slow]

if not (shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")):
    pytest.skip("nginx is not installed (tests/setup.sh installs Debian's nginx)", allow_module_level=True)

RATE_LIMIT = 10  # per minute, per replica web worker
CACHE_CLIENT = "127.0.0.4"
HEADER_TIMEOUT = 2  # seconds
MARK = b"# a later release\n"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def release(self) -> str:
        return self.headers.get("kusei-release", "")

    @property
    def etag_release(self) -> str:
        return self.headers.get("etag", "").removeprefix("W/").strip('"').split("-")[0]


def fetch(port: int, path: str, *, source: str = CACHE_CLIENT, method: str = "GET", body: bytes | None = None,
          headers: dict[str, str] | None = None, timeout: float = 60) -> Answer:
    """One request on a fresh connection from ``source`` (a loopback address of its own)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers={"Accept-Encoding": "gzip", **(headers or {})})
        response = conn.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        conn.close()


def hits(answer: Answer) -> bool:
    return "kusei-proxy; hit" in answer.headers.get("cache-status", "")


def derived_release(data_dir: Path, into: Path) -> str:
    """A second valid release (the built one with a changed void.ttl); returns its id."""
    release = into / "releases" / "next"
    shutil.copytree((data_dir / "current").resolve(), release)
    manifest = Manifest.model_validate_json((release / "release.json").read_bytes())
    void = release / "dumps" / "void.ttl"
    void.write_bytes(void.read_bytes() + MARK)
    files = [ManifestFile(**{**f.model_dump(), "bytes": void.stat().st_size,
                             "sha256": hashlib.sha256(void.read_bytes()).hexdigest()})
             if f.name == "void.ttl" else f for f in manifest.files]
    updated = manifest.model_copy(update={"files": files, "id": digest_id(files, manifest.search_index)})
    updated.write(release)
    release.rename(release.with_name(updated.id))
    (into / "current").symlink_to(Path("releases") / updated.id)
    return updated.id


@dataclass
class Topology:
    port: int
    prefix: Path
    replicas: list[Path]  # data directories
    urls: list[str]
    logs: list[Path]
    pids: list[int]

    def replica_lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for log in self.logs if log.exists()
                for line in log.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def topology(data_dir: Path, start_server: Callable[..., str], tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Topology]:
    root = tmp_path_factory.mktemp("topology")
    replicas = [root / "a", root / "b"]
    publish(data_dir, replicas, report=lambda _: None)
    logs = [root / "a.log", root / "b.log"]
    urls = [start_server(directory, workers=1, KUSEI_TRUSTED_PROXIES="127.0.0.1",
                         KUSEI_RATE_LIMIT=f"{RATE_LIMIT}/minute", KUSEI_ACCESS_LOG=str(log))
            for directory, log in zip(replicas, logs, strict=True)]
    port = free_port()
    prefix = root / "nginx"
    release = CurrentRelease(replicas[0]).latest().id
    # A short head timeout, so the test of silent connections is quick.
    render(Front(prefix, f"127.0.0.1:{port}", [url.removeprefix("http://") for url in urls],
                 header_timeout=HEADER_TIMEOUT), release)
    process = subprocess.Popen(nginx_command(prefix, "-g", "daemon off;"), stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if fetch(port, "/").status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start: {(prefix / 'error.log').read_text(errors='replace')}")
            time.sleep(0.05)
        yield Topology(port, prefix, replicas, urls, logs, [start_server.pids[url] for url in urls])
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_repeated_requests_are_cache_hits_with_the_right_etag(topology: Topology) -> None:
    release = CurrentRelease(topology.replicas[0]).latest().id
    answers = [fetch(topology.port, "/def/") for _ in range(4)]
    assert [a.status for a in answers] == [200] * 4
    assert [hits(a) for a in answers] == [False, True, True, True]
    assert {a.headers["etag"] for a in answers} == {answers[0].headers["etag"]}
    assert {a.etag_release for a in answers} == {a.release for a in answers} == {release}
    assert len({a.body for a in answers}) == 1
    # A client holding the ETag is answered 304 by the proxy itself.
    again = fetch(topology.port, "/def/", headers={"If-None-Match": answers[0].headers["etag"]})
    assert again.status == 304
    asked = [line for line in topology.replica_lines() if line["path"] == "/def/"]
    assert len(asked) == 1  # the replicas saw the first request only
    # A POSTed query is cached too, keyed by its text.
    query = b"SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    posted = [fetch(topology.port, "/sparql", method="POST", body=query,
                    headers={"Content-Type": "application/sparql-query", "Accept": "text/csv"})
              for _ in range(3)]
    assert [(p.status, hits(p)) for p in posted] == [(200, False), (200, True), (200, True)]
    assert len({p.body for p in posted}) == 1
    other = fetch(topology.port, "/sparql", method="POST", body=query + b" LIMIT 1",
                  headers={"Content-Type": "application/sparql-query", "Accept": "text/csv"})
    assert other.status == 200 and not hits(other)
    print("\ncache: 3 of 4 GETs and 2 of 3 POSTs were hits; replicas asked once for /def/; 304 from the proxy")


def test_the_proxy_closes_connections_that_send_nothing(topology: Topology) -> None:
    # granian keeps such a connection until its client leaves; the front closes it.
    silent = [socket.create_connection(("127.0.0.1", topology.port), timeout=10 * HEADER_TIMEOUT)
              for _ in range(3)]
    try:
        for conn in silent:
            assert conn.recv(1) == b""  # closed by the proxy, not by the recv timeout (an error)
    finally:
        for conn in silent:
            conn.close()
    assert fetch(topology.port, "/def/").status == 200


def test_the_rate_limit_counts_the_real_client(topology: Topology) -> None:
    def ask(source: str, n: int) -> int:
        return fetch(topology.port, "/sparql?query=" + quote(f"ASK {{ ?s ?p {n} }}"), source=source).status

    # Distinct queries: each is a cache miss and reaches a replica. Each replica counts the
    # client on its own, so it is refused after at most 2 x the limit.
    statuses = []
    for n in range(2 * RATE_LIMIT + 2):
        statuses.append(ask("127.0.0.2", 1000 + n))
        if statuses[-1] == 429:
            break
    assert statuses[-1] == 429 and RATE_LIMIT < len(statuses) <= 2 * RATE_LIMIT + 1, statuses
    # Another client behind the same proxy is not refused: the replicas count it apart.
    assert [ask("127.0.0.3", 2000 + n) for n in range(3)] == [200, 200, 200]
    refused = [line for line in topology.replica_lines() if line["status"] == 429]
    assert refused and {line["client"] for line in refused} == {"127.0.0.2"}
    assert {line.get("peer") for line in refused} == {"127.0.0.1"}
    print(f"\nrate limit: 127.0.0.2 refused after {len(statuses) - 1} queries; 127.0.0.3 answered")


def test_a_new_release_switches_without_mixed_or_stale_answers(topology: Topology, tmp_path: Path,
                                                             data_dir: Path) -> None:
    old = CurrentRelease(topology.replicas[0]).latest().id
    new = derived_release(data_dir, tmp_path / "staging")
    path = "/dumps/void.ttl"
    assert fetch(topology.port, path).release == old
    assert hits(fetch(topology.port, path))
    seen: list[tuple[str, str, bool, float]] = []
    stop = threading.Event()
    problems: list[str] = []

    def client(source: str) -> None:
        while not stop.is_set():
            started = time.monotonic()
            answer = fetch(topology.port, path, source=source)
            if answer.status != 200:
                problems.append(f"{answer.status}")
                continue
            body = answer.body
            if answer.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            seen.append((answer.release, answer.headers.get("etag", ""), body.endswith(MARK), started))

    threads = [threading.Thread(target=client, args=(f"127.0.0.{5 + i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: any(entry[0] == old for entry in seen), "answers of the old release first")
        publish(tmp_path / "staging", topology.replicas, report=lambda _: None)
        switch(topology.prefix, new)
        switched = time.monotonic()
        # Wait on what a new client sees: the new release from the proxy.
        deadline = switched + 30
        while fetch(topology.port, path).release != new and time.monotonic() < deadline:
            time.sleep(0.02)
        confirmed = time.monotonic()
        # Requests started after the confirmation (and its margin), for the check of stale answers below.
        wait_for(lambda: sum(1 for entry in seen if entry[3] > confirmed + 0.1) >= 3,
                 "answers to requests started after the proxy served the new release")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not problems
    # No mixed answer: the header, the ETag (a dump's is its checksum) and the bytes all belong to
    # one release.
    for release, _, marked, _ in seen:
        assert marked == (release == new), (release, marked)
    etags = {release: {etag for r, etag, *_ in seen if r == release} for release in (old, new)}
    assert all(len(values) == 1 for values in etags.values()) and etags[old] != etags[new], etags
    # No stale answer once the proxy serves the new release: every request started after that is
    # answered from the new one. (The margin covers nginx's old workers, which stop accepting
    # connections a moment after the new ones start.)
    stale = [entry for entry in seen if entry[3] > confirmed + 0.1 and entry[0] != new]
    assert not stale
    after = [fetch(topology.port, path) for _ in range(3)]
    assert {a.release for a in after} == {new} and hits(after[-1])
    print(f"\nswitch: {len(seen)} answers during it ({sum(1 for s in seen if s[0] == old)} old, "
          f"{sum(1 for s in seen if s[0] == new)} new), none mixed, none stale after "
          f"{confirmed - switched:.2f} s")


def _process_tree(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                pending.extend(int(child) for child in (task / "children").read_text().split())
            except OSError:
                pass
    return found


def test_a_killed_replica_fails_no_request(topology: Topology) -> None:
    results: list[int] = []
    stop = threading.Event()
    counter = iter(range(10**9))
    lock = threading.Lock()

    def client(source: str) -> None:
        while not stop.is_set():
            with lock:
                n = next(counter)
            try:
                # Uncached (a new URL each time): every request reaches a replica.
                status = fetch(topology.port, f"/id/plan/?n={n}", source=source, timeout=30).status
            except OSError:
                status = 0
            results.append(status)

    threads = [threading.Thread(target=client, args=(f"127.0.0.{10 + i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while len(results) < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
        before = len(results)
        for pid in _process_tree(topology.pids[1]):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        while len(results) < before + 40 and time.monotonic() < deadline + 60:
            time.sleep(0.02)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    failed = [status for status in results if status != 200]
    # At most the requests in flight at the kill (one per client thread); nginx retries them on
    # the other replica when the connection breaks before an answer.
    assert len(failed) <= len(threads), failed
    assert len(results) >= before + 40
    survivors = [line for line in topology.replica_lines() if str(line["path"]) == "/id/plan/"]
    assert survivors
    print(f"\nfailover: {len(results)} requests, {before} before the kill, {len(failed)} failed")
