"""What an idle pool keeps: query processes forked from the loaded fork server, spare ones retired
after a quiet spell, grown ones replaced (issue 20.5)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import pyoxigraph as ox
import pytest
from waiting import wait_for

from kusei.endpoint.query.errors import QueryCrashed, WorkerCrashed
from kusei.endpoint.query.executor import QueryExecutor, forks

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; forks need pidfds")

EX = "http://example.org/"
# A fraction of a second of work (a count over a cross product of the data), so that queries sent
# together overlap; three-way, it runs for minutes.
OVERLAP = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y }"
LONG = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z }"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("idle") / "store"
    store = ox.Store(str(path))
    graph = ox.NamedNode(f"{EX}graph")
    store.extend(ox.Quad(ox.NamedNode(f"{EX}item/{i}"), ox.NamedNode(f"{EX}label"), ox.Literal(f"項目 {i}"), graph)
                 for i in range(400))
    store.flush()
    del store
    return path


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as stat:
        return int(stat.read().rsplit(b")", 1)[1].split()[1])


def _cmdline(pid: int) -> bytes:
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        return cmdline.read()


def _busy_all(ex: QueryExecutor, count: int) -> None:
    """Run ``count`` queries at once, so the pool grows to ``count`` processes."""
    barrier = threading.Barrier(count)

    def one() -> None:
        barrier.wait()
        ex.run(OVERLAP, timeout=60)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.skipif(not forks.available(), reason="no pidfds here: processes are started on their own")
def test_query_processes_are_forked_from_one_loaded_fork_server(store_path: Path) -> None:
    with QueryExecutor(store_path, workers=2, max_rows=10, max_bytes=10**6, prefixes={}) as ex, \
            QueryExecutor(store_path, workers=1, max_rows=10, max_bytes=10**6, prefixes={}) as other:
        assert ex.wait_ready(60) and other.wait_ready(60)
        parents = {_parent(pid) for pid in ex.worker_pids() + other.worker_pids()}
        # One fork server for every pool of this process, not a child of ours started from scratch.
        assert len(parents) == 1 and os.getpid() not in parents
        (server,) = parents
        assert _parent(server) == os.getpid()
        assert b"--fork-server" in _cmdline(server)
        assert ex.run("ASK { ?s ?p ?o }", timeout=20).body.endswith(b"true}")
    with QueryExecutor(store_path, workers=1, max_rows=10, max_bytes=10**6, prefixes={}, fork=False) as plain:
        assert plain.wait_ready(60)
        assert [_parent(pid) for pid in plain.worker_pids()] == [os.getpid()]


@pytest.mark.skipif(not forks.available(), reason="no pidfds here: processes are started on their own")
def test_how_a_forked_process_died_is_known(store_path: Path) -> None:
    """Its exit status comes from the fork server: a crash signal is the engine's crash (422), a
    kill from outside a lost process (503)."""
    with QueryExecutor(store_path, workers=1, max_rows=10, max_bytes=10**6, prefixes={}) as ex:
        ex.run("ASK {}", timeout=20)
        (pid,) = ex.worker_pids()
        threading.Timer(0.3, os.kill, (pid, signal.SIGSEGV)).start()
        with pytest.raises(QueryCrashed):
            ex.run(LONG, timeout=60)
        ex.run("ASK {}", timeout=20)
        (pid,) = ex.worker_pids()
        threading.Timer(0.3, os.kill, (pid, signal.SIGKILL)).start()
        with pytest.raises(WorkerCrashed) as lost:
            ex.run(LONG, timeout=60)
        assert type(lost.value) is WorkerCrashed
        assert ex.run("ASK { ?s ?p ?o }", timeout=20).body.endswith(b"true}")


def test_spare_processes_are_retired_after_a_quiet_spell(store_path: Path) -> None:
    with QueryExecutor(store_path, workers=3, max_rows=10, max_bytes=10**6, prefixes={}, prestart=True,
                       keep_warm=1, idle_seconds=0.5, busy_wait=60) as ex:
        assert ex.wait_ready(60)
        _busy_all(ex, 3)
        wait_for(lambda: ex.stats()["alive"] == 1, "the pool to retire its spare processes", timeout=30,
                 seen=ex.stats)
        assert ex.stats()["retired"] == 2
        assert len(ex.worker_pids()) == 1
        # Still answers, and grows again to its size when asked to.
        assert ex.run("ASK { ?s ?p ?o }", timeout=20).body.endswith(b"true}")
        assert ex.wait_ready(60)
        assert len(ex.worker_pids()) == 3


def test_nothing_is_retired_below_the_warm_minimum_or_by_default(store_path: Path) -> None:
    with QueryExecutor(store_path, workers=2, max_rows=10, max_bytes=10**6, prefixes={}, busy_wait=60,
                       keep_warm=2, idle_seconds=0.2, recycle_growth=1 << 30) as ex:
        assert ex.wait_ready(60)
        _busy_all(ex, 2)
        wait_for(lambda: ex.stats()["ticks"] >= 3, "the pool to look at its idle processes", timeout=30,
                 seen=ex.stats)
        assert ex.stats()["alive"] == 2 and ex.stats()["retired"] == 0
    with QueryExecutor(store_path, workers=2, max_rows=10, max_bytes=10**6, prefixes={}, prestart=True,
                       keep_warm=0, idle_seconds=0.2, busy_wait=60) as ex:
        assert ex.wait_ready(60)
        _busy_all(ex, 2)
        wait_for(lambda: ex.stats()["alive"] == 0, "every process retired", timeout=30, seen=ex.stats)
        # The first query after a quiet spell forks a process again.
        assert ex.run("ASK { ?s ?p ?o }", timeout=20).body.endswith(b"true}")


def test_an_idle_process_that_kept_what_its_query_took_is_replaced(store_path: Path) -> None:
    with QueryExecutor(store_path, workers=1, max_rows=10, max_bytes=10**6, prefixes={}, max_worker_rss=None,
                       max_query_memory=None, recycle_growth=1, idle_seconds=0.4, busy_wait=60) as ex:
        ex.run(OVERLAP, timeout=60)  # any query leaves a process more than one byte larger than at start
        (pid,) = ex.worker_pids()
        wait_for(lambda: pid not in ex.worker_pids() and ex.stats()["alive"] == 1,
                 "the grown process to be replaced", timeout=30, seen=ex.stats)
        assert ex.stats()["recycled"] >= 1
        assert ex.run("ASK { ?s ?p ?o }", timeout=20).body.endswith(b"true}")
    with QueryExecutor(store_path, workers=1, max_rows=10, max_bytes=10**6, prefixes={}, max_worker_rss=None,
                       max_query_memory=None, recycle_growth=1 << 30, idle_seconds=0.2, busy_wait=60) as ex:
        ex.run(OVERLAP, timeout=60)
        (pid,) = ex.worker_pids()
        # Under the bound nothing is replaced: the tender has looked (a retirement pass) and kept it.
        wait_for(lambda: ex.stats()["ticks"] >= 3, "the pool to look at its idle process", timeout=30,
                 seen=ex.stats)
        assert ex.worker_pids() == [pid] and ex.stats()["recycled"] == 0
