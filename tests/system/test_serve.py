"""`kusei serve` as a whole: what stopping it leaves behind, and overload refused rather than queued.

Each test runs a server of its own (the command users run, see conftest.serve_command).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from conftest import PROJECT_ROOT, UNSHARED, free_port, serve_command, wait_until_ready
from waiting import wait_for

from kusei.endpoint.query import slots

pytestmark = pytest.mark.system

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
QUERY_PROCESS = b"kusei.endpoint.query.executor"


def _descendants(root: int) -> dict[int, bytes]:
    """Every process under ``root``, with its command line."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: dict[int, bytes] = {}
    pending = list(children.get(root, ()))
    while pending:
        pid = pending.pop()
        try:
            found[pid] = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        pending.extend(children.get(pid, ()))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state != b"Z"


def _slot_directories(master: int) -> list[Path]:
    try:
        return [entry for entry in slots.slots_root().iterdir() if entry.name.startswith(f"{master}-")]
    except OSError:
        return []


@contextmanager
def serving(data_dir: Path, workers: int = 2, **env: str) -> Iterator[tuple[subprocess.Popen, str]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(serve_command(data_dir, port, workers), cwd=PROJECT_ROOT,
                               env={**os.environ, **UNSHARED, **env}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until_ready(process, url)
        yield process, url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def test_stopping_the_server_ends_every_process_and_removes_its_slot_directory(data_dir: Path) -> None:
    with serving(data_dir) as (process, url):
        # Both workers' query processes start with their first query; several connections reach both.
        for index in range(8):
            assert requests.get(f"{url}/sparql", params={"query": f"ASK {{}} # {index}"}, timeout=60).ok
        tree = _descendants(process.pid)
        query_processes = [pid for pid, command in tree.items() if QUERY_PROCESS in command]
        assert query_processes, tree
        assert _slot_directories(process.pid)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        wait_for(lambda: not any(_alive(pid) for pid in tree), "every process of the server to end",
                 seen=lambda: [command for pid, command in tree.items() if _alive(pid)])
        assert _slot_directories(process.pid) == []


def test_a_killed_web_worker_takes_its_query_processes_with_it_and_is_replaced(data_dir: Path) -> None:
    with serving(data_dir, workers=1) as (process, url):
        assert requests.get(f"{url}/sparql", params={"query": "ASK {}"}, timeout=60).ok
        tree = _descendants(process.pid)
        worker = next(pid for pid, command in tree.items() if b"worker" in command and QUERY_PROCESS not in command)
        own = list(_descendants(worker))
        assert own
        os.kill(worker, signal.SIGKILL)
        wait_for(lambda: not any(_alive(pid) for pid in own), "the killed worker's query processes to end")
        # A new worker serves in its place.
        wait_for(lambda: _answers(url), "an answer from a new web worker", timeout=120)


def _web_workers(master: int) -> set[int]:
    return {pid for pid, command in _descendants(master).items()
            if b"worker" in command and QUERY_PROCESS not in command and _alive(pid)}


def test_a_web_worker_over_its_memory_bound_is_replaced(data_dir: Path) -> None:
    # A bound below any Python process's size (1 byte, i.e. 1 MiB for granian): the worker is
    # replaced at the first sample, its query processes end with it, and the server keeps serving.
    with serving(data_dir, workers=1, KUSEI_MAX_WEB_WORKER_MEMORY="1") as (process, url):
        first = _web_workers(process.pid)
        assert len(first) == 1
        worker = next(iter(first))
        own = list(_descendants(worker))
        assert own  # the query processes of its first query
        wait_for(lambda: not _alive(worker), "the bloated web worker to end", timeout=120)
        wait_for(lambda: not any(_alive(pid) for pid in own), "its query processes to end")
        wait_for(lambda: bool(_web_workers(process.pid) - first) and _answers(url), "a new web worker answering",
                 timeout=120)


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/sparql", params={"query": "ASK {}"}, timeout=10).ok
    except requests.RequestException:
        return False


@pytest.mark.slow
def test_runaway_queries_past_the_slots_are_refused_while_pages_and_dumps_are_served(data_dir: Path) -> None:
    # One web worker, 4 slots, 6 runaway clients: 4 queries run (to the 90 s limit) and 2 are told
    # 503 "busy" after at most the slot wait; pages, dumps and the service description are served
    # while the 4 run. Under gunicorn (one worker × 4 threads) the 4 running queries held every
    # request thread, and the pages waited for them to end.
    with serving(data_dir, workers=1, KUSEI_MAX_CONCURRENT_QUERIES="4", KUSEI_QUERY_TIMEOUT="90") as (_, url):
        finished: list[tuple[float, int, str]] = []
        lock = threading.Lock()

        def runaway(index: int) -> None:
            response = requests.get(f"{url}/sparql", params={"query": f"{RUNAWAY} # {index}"}, timeout=300)
            with lock:
                finished.append((time.monotonic(), response.status_code, response.text[:200]))

        threads = [threading.Thread(target=runaway, args=(index,)) for index in range(6)]
        for thread in threads:
            thread.start()
        wait_for(lambda: len(finished) >= 2, "two runaway queries refused", timeout=120, seen=lambda: finished)
        pages = {path: requests.get(f"{url}{path}", timeout=300).status_code
                 for path in ("/", "/dumps/", "/sparql", "/.well-known/void", "/id/")}
        with lock:
            ended = list(finished)
        assert pages == dict.fromkeys(pages, 200), pages
        # Served while the four were still running: only the two refusals had ended.
        assert len(ended) == 2 and all(status == 503 and "busy" in text for _, status, text in ended), ended
        for thread in threads:
            thread.join(300)
        assert len(finished) == 6
        assert sorted("busy" in text for _, _, text in finished) == [False] * 4 + [True] * 2, finished
