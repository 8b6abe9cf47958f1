"""Rebuilding while serving, failed builds, and starting on a missing or corrupt release.

A `kusei serve` server answers a bounded load of queries and page requests while ``build`` publishes a
second release with another release date and licence. Every answer must be whole: its ETag and its
bytes are those of the old release or those of the new one, never a mix and never an error; and
after the swap every new request gets the new release. A build that fails (a broken record, a
SHACL violation) must change nothing that is served.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from graph_input import copy_input
from waiting import wait_for

from kusei.endpoint.web.app import create_app
from kusei.graph.build import BuildError, build
from kusei.graph.input.record import RecordErrors
from kusei.release import ReleaseError
from kusei.settings import DEFAULT_BASE, Settings

pytestmark = [pytest.mark.system, pytest.mark.slow]

# One record keeps each build at a few seconds; the swap does not care how big the release is.
EXEMPLAR = "000_a9155f3b6863ac96.yaml"
MODIFIED_A, MODIFIED_B, MODIFIED_FAILED = "2026-11-23", "2027-02-01", "2028-03-03"
LICENCE_B = "https://creativecommons.org/publicdomain/zero/1.0/"
DESCRIPTION_QUERY = f"""PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?modified ?licence WHERE {{
  GRAPH ?g {{ <{DEFAULT_BASE}/id/dataset/kusei> dct:modified ?modified ; dct:license ?licence }}
}}"""
# Fixed URLs whose bytes depend on the release: a query, the dump listing, VoID, the home page.
PROBES = {
    "query": "/sparql?" + urlencode({"query": DESCRIPTION_QUERY}),
    "dumps": "/dumps/?format=json",
    "void": "/.well-known/void?format=ttl",
    "home": "/",
    "resource": "/id/plan/141089/2024?format=nt",
}
LOAD_THREADS = 4
MAX_REQUESTS = 20_000  # per load phase, all threads together
MAX_SECONDS = 120.0
ANSWERS_EACH_SIDE = 20  # before the build starts, and after the swap


def quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class Answer:
    """What one release serves at a probe URL."""

    etag: str
    digest: str


@dataclass
class Observation:
    probe: str
    started: float
    ended: float
    status: int | None = None
    answer: Answer | None = None
    error: str | None = None


@dataclass
class Load:
    """A few threads requesting the probes round-robin until stopped (or a bound is reached)."""

    url: str
    observations: list[Observation] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)
    deadline: float = 0.0

    def start(self) -> None:
        self.deadline = time.monotonic() + MAX_SECONDS
        for index in range(LOAD_THREADS):
            thread = threading.Thread(target=self._run, args=(index,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _run(self, index: int) -> None:
        names = sorted(PROBES)
        with requests.Session() as http:
            turn = index
            while not self.stop.is_set() and time.monotonic() < self.deadline:
                with self.lock:
                    if len(self.observations) >= MAX_REQUESTS:
                        return
                probe = names[turn % len(names)]
                turn += 1
                observation = fetch(http, self.url, probe)
                with self.lock:
                    self.observations.append(observation)

    def finish(self) -> list[Observation]:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in self.threads), "load threads did not stop"
        return self.observations


def fetch(http: requests.Session, url: str, probe: str) -> Observation:
    started = time.monotonic()
    try:
        response = http.get(url + PROBES[probe], timeout=30)
    except requests.RequestException as exc:
        return Observation(probe, started, time.monotonic(), error=repr(exc))
    ended = time.monotonic()
    answer = Answer(response.headers.get("ETag", ""), hashlib.sha256(response.content).hexdigest())
    error = None if response.status_code == 200 else response.text[:300]
    return Observation(probe, started, ended, response.status_code, answer, error)


def snapshot(url: str) -> dict[str, tuple[Answer, bytes]]:
    """Each probe's answer (twice, to be sure it is stable) and body."""
    out = {}
    with requests.Session() as http:
        for probe, path in PROBES.items():
            first, second = http.get(url + path, timeout=30), http.get(url + path, timeout=30)
            assert first.status_code == 200, (probe, first.status_code, first.text[:300])
            assert first.content == second.content and first.headers["ETag"] == second.headers["ETag"], probe
            out[probe] = (Answer(first.headers["ETag"], hashlib.sha256(first.content).hexdigest()), first.content)
    return out


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_input(tmp_path_factory.mktemp("input"), [EXEMPLAR])


# -- rebuild while serving ------------------------------------------------------------------------


def test_rebuild_while_serving(tmp_path: Path, records: Path, start_server: Callable[..., str]) -> None:
    data_dir = tmp_path / "data"
    first = build(Settings(data_dir=data_dir, modified=MODIFIED_A), records_dir=records, report=quiet)
    url = start_server(data_dir)
    before = snapshot(url)
    assert MODIFIED_A.encode() in before["query"][1]
    assert json.loads(before["dumps"][1])["release"] == first.release_id

    load = Load(url)
    load.start()
    wait_for(lambda: len(load.observations) >= ANSWERS_EACH_SIDE, "answers from the old release before the build")
    build_started = time.monotonic()
    second = build(Settings(data_dir=data_dir, modified=MODIFIED_B, licence=LICENCE_B), records_dir=records,
                   report=quiet)
    swapped = time.monotonic()
    wait_for(lambda: sum(o.started > swapped + 0.05 for o in list(load.observations)) >= ANSWERS_EACH_SIDE,
             "answers to requests made after the swap")
    observations = load.finish()
    after = snapshot(url)

    assert second.release_id != first.release_id
    assert os.readlink(data_dir / "current") == f"releases/{second.release_id}"
    assert MODIFIED_B.encode() in after["query"][1] and LICENCE_B.encode() in after["query"][1]
    assert json.loads(after["dumps"][1])["release"] == second.release_id
    for probe in PROBES:
        assert before[probe][0].etag != after[probe][0].etag, f"{probe}: the ETag did not change with the release"
        if probe != "resource":  # the plan's own description is the same in both releases
            assert before[probe][0].digest != after[probe][0].digest, probe

    failures = [o for o in observations if o.error or o.status != 200]
    assert not failures, failures[:5]
    old = {probe: before[probe][0] for probe in PROBES}
    new = {probe: after[probe][0] for probe in PROBES}
    mixed = [o for o in observations if o.answer not in (old[o.probe], new[o.probe])]
    assert not mixed, f"{len(mixed)} answers belong to neither release: {mixed[:3]}"
    # Requests made after the swap see only the new release.
    stale = [o for o in observations if o.started > swapped + 0.05 and o.answer == old[o.probe]]
    assert not stale, f"{len(stale)} requests after the swap got the old release: {stale[:3]}"
    counts = Counter("old" if o.answer == old[o.probe] else "new" for o in observations)
    during = sum(1 for o in observations if build_started <= o.started <= swapped)
    print(f"rebuild: {len(observations)} requests, {counts['old']} old release, {counts['new']} new release, "
          f"{during} during the build ({swapped - build_started:.1f} s), 0 failed")
    assert counts["old"] > 0 and counts["new"] > 0


# -- failed builds --------------------------------------------------------------------------------


def _corrupt_text(records: Path) -> None:
    path = records / EXEMPLAR
    text = path.read_text(encoding="utf-8")
    assert "194,207人" in text
    path.write_text(text.replace("194,207人", "194,208人"), encoding="utf-8")  # no longer what was printed


def _corrupt_yaml(records: Path) -> None:
    path = records / EXEMPLAR
    path.write_text(path.read_text(encoding="utf-8")[:500] + "\n  : [unclosed\n\t- {", encoding="utf-8")


def _second_record_broken(records: Path) -> None:
    (records / "999_broken.yaml").write_text("document: 42\n", encoding="utf-8")


BROKEN = {"text-not-in-document": _corrupt_text, "invalid-yaml": _corrupt_yaml,
          "extra-broken-record": _second_record_broken}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, records: Path,
           start_server: Callable[..., str]) -> tuple[Path, str]:
    data_dir = tmp_path_factory.mktemp("served")
    build(Settings(data_dir=data_dir, modified=MODIFIED_A), records_dir=records, report=quiet)
    return data_dir, start_server(data_dir)


def _assert_nothing_changes(data_dir: Path, url: str, failing_build: Callable[[], None]) -> None:
    link = os.readlink(data_dir / "current")
    releases = sorted(p.name for p in (data_dir / "releases").iterdir())
    before = snapshot(url)
    load = Load(url)
    load.start()
    try:
        failing_build()
    finally:
        observations = load.finish()
    assert os.readlink(data_dir / "current") == link
    assert sorted(p.name for p in (data_dir / "releases").iterdir()) == releases, "a failed build left files"
    after = snapshot(url)
    for probe in PROBES:
        assert after[probe] == before[probe], f"{probe} changed after a failed build"
    failures = [o for o in observations if o.error or o.status != 200]
    assert not failures, failures[:5]
    changed = [o for o in observations if o.answer != before[o.probe][0]]
    assert not changed, changed[:3]
    print(f"failed build: {len(observations)} requests during it, all answered from the served release")


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_build_with_a_broken_record_changes_nothing(tmp_path: Path, records: Path, served: tuple[Path, str],
                                                   case: str) -> None:
    data_dir, url = served
    shutil.copytree(records.parent, tmp_path / "input")
    broken = tmp_path / "input" / "records"
    BROKEN[case](broken)

    def failing_build() -> None:
        with pytest.raises((BuildError, RecordErrors)):
            build(Settings(data_dir=data_dir, modified=MODIFIED_FAILED), records_dir=broken, report=quiet)

    _assert_nothing_changes(data_dir, url, failing_build)


def test_build_failing_validation_changes_nothing(tmp_path: Path, records: Path, served: tuple[Path, str]) -> None:
    data_dir, url = served
    shapes = tmp_path / "shapes"
    shapes.mkdir()
    (shapes / "strict.ttl").write_text("""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:test:EveryMascotHasThreeRoles> a sh:NodeShape ; sh:targetClass <https://w3id.org/kusei/def/Mascot> ;
          sh:property [ sh:path <https://w3id.org/kusei/def/role> ; sh:minCount 3 ] .
        """, encoding="utf-8")

    def failing_build() -> None:
        with pytest.raises(BuildError) as info:
            build(Settings(data_dir=data_dir, modified=MODIFIED_FAILED), records_dir=records, shapes_dir=shapes,
                  report=quiet)
        assert "SHACL" in info.value.report()

    _assert_nothing_changes(data_dir, url, failing_build)


# -- starting without a usable release ------------------------------------------------------------


def test_create_app_without_a_release(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError) as info:
        create_app(Settings(data_dir=tmp_path))
    message = str(info.value)
    assert "current" in message and "kusei build" in message


def _garbage_store(release: Path) -> None:
    for path in (release / "store").iterdir():
        path.write_bytes(b"\x00garbage, not RocksDB\n" * 64)


def _empty_store(release: Path) -> None:
    shutil.rmtree(release / "store")
    (release / "store").mkdir()


def _garbage_manifest(release: Path) -> None:
    (release / "release.json").write_text("{ not json", encoding="utf-8")


def _empty_manifest(release: Path) -> None:
    (release / "release.json").write_text("{}", encoding="utf-8")


def _no_manifest(release: Path) -> None:
    (release / "release.json").unlink()


CORRUPTIONS = [
    pytest.param(_garbage_store, id="garbage-store"),
    pytest.param(_empty_store, id="empty-store"),
    pytest.param(_garbage_manifest, id="garbage-manifest"),
    pytest.param(_empty_manifest, id="manifest-without-id"),
    pytest.param(_no_manifest, id="no-manifest"),
]


def _corrupt_copy(source: Path, target: Path, corrupt: Callable[[Path], None]) -> Path:
    """A data directory whose current release is a copy of ``source``'s, then corrupted; returns the release."""
    release = target / "releases" / "r1"
    shutil.copytree((source / "current").resolve(), release)
    (target / "current").symlink_to(Path("releases") / "r1")
    corrupt(release)
    return release.resolve()


@pytest.mark.parametrize("corrupt", CORRUPTIONS)
def test_create_app_on_a_corrupt_release(data_dir: Path, tmp_path: Path, corrupt: Callable[[Path], None]) -> None:
    release = _corrupt_copy(data_dir, tmp_path / "data", corrupt)
    with pytest.raises(ReleaseError) as info:
        create_app(Settings(data_dir=tmp_path / "data"))
    assert str(release) in str(info.value)  # says which release is unusable


def _kusei() -> list[str]:
    script = Path(sys.executable).with_name("kusei")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "kusei.cli"]


@pytest.mark.parametrize("corrupt", CORRUPTIONS)
def test_kusei_serve_refuses_a_corrupt_release(data_dir: Path, tmp_path: Path,
                                               corrupt: Callable[[Path], None]) -> None:
    release = _corrupt_copy(data_dir, tmp_path / "data", corrupt)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # A free loopback port: should the check wrongly pass, the server it starts binds nothing else.
    command = [*_kusei(), "serve", "--data-dir", str(tmp_path / "data"), "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parents[2], start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=10)
        pytest.fail("kusei serve started on a corrupt release instead of refusing it")
    assert process.returncode != 0
    assert "cannot serve" in stderr, stderr[-2000:]
    assert "Traceback" not in stderr, stderr[-2000:]
    assert str(release) in stderr, stderr[-2000:]
