"""Shared fixtures: a built data directory, the Flask app on it, and real servers run as `kusei serve` runs.

``data_dir`` and ``server_url`` are session-wide (one build, one server for the whole run);
``start_server`` starts further servers on other data directories. Every server binds 127.0.0.1
on a free port, is stopped at the end of the session, and dies with the test process if pytest
itself is killed.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from waiting import NeverHappened, wait_for

from kusei.endpoint.web.app import create_app
from kusei.graph.build import build
from kusei.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 120.0
SYSTEM = PROJECT_ROOT / "tests" / "system"


SERVER_FIXTURES = {"server_url", "start_server"}
# The fixtures of this file that only system tests may use: servers, and the build of every record
# through the SHACL gate (tests/unit/conftest.py gives the unit set a small release instead).
SYSTEM_FIXTURES = SERVER_FIXTURES | {"data_dir"}


def _fixtures_of_this_file(item: pytest.Item) -> set[str]:
    """The SYSTEM_FIXTURES ``item`` would get from this file rather than from a closer conftest."""
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    found = set()
    for name in SYSTEM_FIXTURES & set(getattr(item, "fixturenames", ())):
        closest = definitions.get(name, ())[-1:]
        if not closest or Path(closest[0].func.__code__.co_filename).resolve() == Path(__file__).resolve():
            found.add(name)
    return found


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each module says what it is (``pytestmark``): every module under tests/system carries the
    ``system`` marker, and only those do; only those start servers or use the session build, so
    the unit set needs neither."""
    unmarked, serving = set(), set()
    for item in items:
        path = Path(str(item.fspath)).resolve()
        system = SYSTEM in path.parents
        if system != (item.get_closest_marker("system") is not None):
            unmarked.add(str(path.relative_to(PROJECT_ROOT)))
        if not system and _fixtures_of_this_file(item):
            serving.add(f"{item.nodeid} ({', '.join(sorted(_fixtures_of_this_file(item)))})")
    problems = []
    if unmarked:
        problems.append("a module under tests/system must declare `pytestmark = pytest.mark.system` (with "
                        "`pytest.mark.slow` if it is slow), and no other module may: " + ", ".join(sorted(unmarked)))
    if serving:
        problems.append("only tests under tests/system start servers or use the build of every record "
                        "(data_dir; tests/unit/conftest.py has a small one): " + ", ".join(sorted(serving)))
    if problems:
        raise pytest.UsageError("\n".join(problems))


def _quiet(_: str) -> None:
    pass


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with one release built from the repository's records.

    KUSEI_TEST_DATA_DIR names an already built data directory to use instead (read only), to
    skip the build while iterating on the server.
    """
    prebuilt = os.environ.get("KUSEI_TEST_DATA_DIR")
    if prebuilt:
        return Path(prebuilt).resolve()
    directory = tmp_path_factory.mktemp("data")
    build(Settings(data_dir=directory), report=_quiet)
    return directory


@pytest.fixture
def app(data_dir: Path) -> Flask:
    app = create_app(Settings(data_dir=data_dir))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


UNSHARED = {"KUSEI_CLIENT_MAX_QUERIES": "0", "KUSEI_CLIENT_QUERY_SECONDS": "0"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    # Linux: SIGTERM the server when the process that started it goes away, so a killed test
    # run leaves no server behind. Elsewhere the fixture's teardown is all there is.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve_command(directory: Path, port: int, workers: int = 1) -> list[str]:
    """The command that serves ``directory`` on 127.0.0.1:``port``: `kusei serve` itself, so tests
    exercise the server, flags and shutdown that users get."""
    return [sys.executable, "-m", "kusei.cli", "serve", "--data-dir", str(directory), "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers)]


def wait_until_ready(process: subprocess.Popen, url: str, timeout: float = READY_TIMEOUT) -> None:
    """Return once the server at ``url`` answers a query; RuntimeError if it exits or never does.

    Any failure of one attempt (refused, reset, a first query slower than the attempt's read
    timeout while a query process starts on a loaded machine) only means "not yet".
    """

    def answers() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode} before serving {url}")
        try:
            # A query over the data, which a query process answers (`ASK {}` is answered in the web
            # worker): ready means the query processes start too.
            return requests.get(f"{url}/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=10).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_for(answers, f"the server to answer on {url}", timeout=timeout, every=0.1)
    except NeverHappened as exc:
        raise RuntimeError(str(exc)) from exc


@pytest.fixture(scope="session")
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., str]]:
    """A function ``start(data_dir, workers=1, **env) -> base URL`` that runs `kusei serve` (see
    :func:`serve_command`) with ``env`` (``KUSEI_*`` settings) added to the environment.

    ``start.pids[url]`` is the server's main process, e.g. to sample its process tree."""
    processes: list[subprocess.Popen] = []
    pids: dict[str, int] = {}
    logs = tmp_path_factory.mktemp("serve")

    def start(directory: Path, workers: int = 1, **env: str) -> str:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = serve_command(directory, port, workers)
        # Test clients all connect from 127.0.0.1, so each client's fair share (by address) would
        # bound the whole suite's concurrency: off unless a test sets it (tests/system/test_fair_shares.py).
        environment = {**os.environ, "KUSEI_DATA_DIR": str(directory), **UNSHARED, **env}
        log = logs / f"{port}.log"  # a file, not a pipe: nobody reads it while tests run
        with log.open("wb") as sink:
            process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=sink, stderr=sink,
                                       preexec_fn=_die_with_parent)
        processes.append(process)
        try:
            wait_until_ready(process, url)
        except RuntimeError as exc:
            process.kill()
            process.wait(timeout=10)
            raise RuntimeError(f"{exc}\n{log.read_text(errors='replace')[-4000:]}") from exc
        pids[url] = process.pid
        return url

    start.pids = pids  # type: ignore[attr-defined]
    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def server_url(data_dir: Path, start_server: Callable[..., str]) -> str:
    """Base URL (no trailing slash) of a `kusei serve` server on ``data_dir``."""
    return start_server(data_dir)
