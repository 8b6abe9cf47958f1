"""The process-based query executor: timeouts stop work, limits never truncate, answers match."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from waiting import wait_for

from kusei.endpoint.query.errors import (
    Busy,
    QuerySyntaxError,
    QueryTimeout,
    ResultTooLarge,
    StoreFailure,
    WorkerCrashed,
)
from kusei.endpoint.query.executor import QueryExecutor
from kusei.endpoint.query.executor.answer import _RowCounter

EX = "http://example.org/"
PREFIXES = {"ex": EX}
RESULTS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
# Some thousand triples: a triple cross product of them is ~10^10 steps, i.e. never ends.
PATHOLOGICAL = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
NORMAL = "SELECT ?s ?label WHERE { ?s a ex:Item ; ex:label ?label } ORDER BY ?s LIMIT 5"


def _build_store(path: Path, items: int, label_suffix: str = "") -> None:
    store = ox.Store(str(path))
    quads = []
    for i in range(items):
        s = ox.NamedNode(f"{EX}item/{i}")
        g = ox.NamedNode(f"{EX}graph/{i % 3}")
        quads += [
            ox.Quad(s, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                    ox.NamedNode(f"{EX}Item"), g),
            ox.Quad(s, ox.NamedNode(f"{EX}label"), ox.Literal(f"項目 {i}{label_suffix}", language="ja"), g),
            ox.Quad(s, ox.NamedNode(f"{EX}n"), ox.Literal(str(i), datatype=ox.NamedNode(
                "http://www.w3.org/2001/XMLSchema#integer")), g),
        ]
        if i % 10 == 0:  # values that stress the row counters: quotes, breaks, braces, commas
            quads.append(ox.Quad(s, ox.NamedNode(f"{EX}note"),
                                 ox.Literal(f'a "quoted"\n{{}},{{"x":[{{}}]}}\t\\ <result> {i}'), g))
        if i % 50 == 0:
            quads.append(ox.Quad(s, ox.NamedNode(f"{EX}node"), ox.BlankNode(f"b{i}"), g))
    store.extend(quads)
    store.flush()
    del store  # closes it: children open it read-only, which needs no writer around


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exec") / "store"
    _build_store(path, 1000)
    return path


@pytest.fixture(scope="module")
def direct(store_path: Path) -> ox.Store:
    return ox.Store.read_only(str(store_path))


@pytest.fixture(scope="module")
def executor(store_path: Path) -> Iterator[QueryExecutor]:
    with QueryExecutor(store_path, workers=2, max_rows=2000, max_bytes=2_000_000, prefixes=PREFIXES) as ex:
        yield ex


def _direct(store: ox.Store, query: str, fmt: str) -> bytes:
    result = store.query(query, prefixes=PREFIXES, use_default_graph_as_union=True)
    if isinstance(result, ox.QueryTriples):
        return result.serialize(format=ox.RdfFormat.N_TRIPLES)
    return result.serialize(format=RESULTS[fmt])


def _alive(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}") if sys.platform.startswith("linux") else _signal_zero(pid)


def _signal_zero(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("fmt", sorted(RESULTS))
@pytest.mark.parametrize(
    "query",
    [
        NORMAL,
        "SELECT * WHERE { ?s ex:note ?note OPTIONAL { ?s ex:node ?b } } ORDER BY ?s",
        "SELECT ?s ?missing WHERE { ?s ex:n ?n FILTER(?n < 20) } ORDER BY ?s",
        "SELECT (COUNT(*) AS ?c) (SUM(?n) AS ?sum) WHERE { ?s ex:n ?n }",
        "SELECT * WHERE { ?s ex:n 99999 }",
        "ASK { ?s ex:n 3 }",
        "CONSTRUCT { ?s ex:twice ?n } WHERE { ?s ex:n ?n FILTER(?n < 30) }",
    ],
)
def test_results_equal_direct_query(executor: QueryExecutor, direct: ox.Store, query: str, fmt: str) -> None:
    result = executor.run(query, timeout=20, result_format=fmt)
    assert result.body == _direct(direct, query, fmt)
    if result.kind == "solutions":
        expected = direct.query(query, prefixes=PREFIXES, use_default_graph_as_union=True)
        assert result.rows == len(list(expected))
    if result.kind == "graph":
        assert result.media_type == "application/n-triples"
        assert result.rows == result.body.count(b"\n")


def test_dataset_parameters_override_the_union(executor: QueryExecutor) -> None:
    query = "SELECT (COUNT(*) AS ?c) WHERE { ?s a ex:Item }"
    union = executor.run(query, timeout=20, result_format="csv").body
    one = executor.run(query, default_graph_uris=[f"{EX}graph/0"], timeout=20, result_format="csv").body
    assert union.split(b"\r\n")[1] == b"1000"
    assert one.split(b"\r\n")[1] == b"334"


def test_from_clauses_define_the_dataset(executor: QueryExecutor) -> None:
    """pyoxigraph's union option would override FROM; the executor only asks for it without FROM."""
    def count(query: str) -> bytes:
        return executor.run(query, timeout=20, result_format="csv").body.split(b"\r\n")[1]

    assert count(f"SELECT (COUNT(*) AS ?c) FROM <{EX}graph/1> WHERE {{ ?s a ex:Item }}") == b"333"
    assert count(f"SELECT (COUNT(*) AS ?c) FROM NAMED <{EX}graph/1> WHERE {{ ?s a ex:Item }}") == b"0"
    assert count('SELECT (COUNT(*) AS ?c) WHERE { ?s a ex:Item FILTER("from" != "FROM") }') == b"1000"


def test_syntax_error_carries_pyoxigraph_message(executor: QueryExecutor, direct: ox.Store) -> None:
    query = "SELECT ?s WHERE { ?s ex:n }"
    with pytest.raises(SyntaxError) as expected:
        direct.query(query, prefixes=PREFIXES)
    with pytest.raises(QuerySyntaxError) as got:
        executor.run(query, timeout=20)
    assert got.value.message == str(expected.value)
    assert "error at 1:" in got.value.message


@pytest.mark.parametrize("fmt", [*sorted(RESULTS), "graph"])
def test_row_limit_is_exact_and_never_truncates(store_path: Path, fmt: str) -> None:
    limit = 25
    with QueryExecutor(store_path, workers=1, max_rows=limit, max_bytes=10_000_000, prefixes=PREFIXES) as ex:
        def query(n: int) -> str:
            # ex:note values hold quotes, line breaks, braces and "<result>" to trip the counters.
            if fmt == "graph":
                return f"CONSTRUCT {{ ?s ex:n ?n }} WHERE {{ ?s ex:n ?n FILTER(?n < {n}) }}"
            return f"SELECT ?s ?note WHERE {{ ?s ex:n ?n OPTIONAL {{ ?s ex:note ?note }} FILTER(?n < {n}) }}"

        result_format = "json" if fmt == "graph" else fmt
        assert ex.run(query(limit), timeout=20, result_format=result_format).rows == limit
        with pytest.raises(ResultTooLarge, match="more than 25 rows"):
            ex.run(query(limit + 1), timeout=20, result_format=result_format)


def test_byte_limit(store_path: Path) -> None:
    with QueryExecutor(store_path, workers=1, max_rows=100_000, max_bytes=5_000, prefixes=PREFIXES) as ex:
        small = ex.run("SELECT ?s WHERE { ?s ex:n ?n FILTER(?n < 3) }", timeout=20)
        assert len(small.body) < 5_000
        with pytest.raises(ResultTooLarge, match="larger than 5000 bytes"):
            ex.run("SELECT ?s ?label WHERE { ?s ex:label ?label }", timeout=20)
        # A single literal bigger than the limit, built by the query itself.
        with pytest.raises(ResultTooLarge):
            ex.run("SELECT (GROUP_CONCAT(?label) AS ?all) WHERE { ?s ex:label ?label }", timeout=20)


def test_an_answer_of_many_megabytes_arrives_whole(store_path: Path, direct: ox.Store) -> None:
    # Far larger than a socket buffer: the frame is read across many reads, and the next one is
    # still found where it starts.
    query = ("SELECT (GROUP_CONCAT(CONCAT(?l, ?l, ?l, ?l, ?l, ?l, ?l, ?l); separator='|') AS ?all) "
             "WHERE { ?s ex:label ?l . ?t ex:n ?n FILTER(?n < 40) }")
    with QueryExecutor(store_path, workers=1, max_rows=10, max_bytes=50_000_000, prefixes=PREFIXES) as ex:
        big = ex.run(query, timeout=60, result_format="tsv")
        assert len(big.body) > 2_000_000
        assert big.body == _direct(direct, query, "tsv")
        assert ex.run(NORMAL, timeout=20).body == _direct(direct, NORMAL, "json")


def test_timeout_kills_the_worker_and_others_keep_answering(store_path: Path) -> None:
    with QueryExecutor(store_path, workers=2, max_rows=1000, max_bytes=1_000_000, prefixes=PREFIXES) as ex:
        ex.run(NORMAL, timeout=20)  # both workers up
        wait_for(lambda: len(ex.worker_pids()) == 2, "both query processes up", timeout=20, seen=ex.worker_pids)
        before = set(ex.worker_pids())
        done = threading.Event()
        answered: list[bytes] = []
        failures: list[BaseException] = []

        def steady() -> None:
            while not done.is_set():
                try:
                    answered.append(ex.run(NORMAL, timeout=20).body)
                except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                    failures.append(exc)
                done.wait(0.02)  # a steady client's pace, not a wait for anything

        thread = threading.Thread(target=steady)
        thread.start()
        try:
            with pytest.raises(QueryTimeout):
                ex.run(PATHOLOGICAL, timeout=1.0)
            at_kill = len(answered) + len(failures)
            # Normal queries go on after the kill too.
            wait_for(lambda: len(answered) + len(failures) >= at_kill + 3, "three queries answered after the kill")
        finally:
            done.set()
            thread.join()
        gone = before - set(ex.worker_pids())
        assert len(gone) == 1
        assert not any(_alive(pid) for pid in gone)
        assert not failures, failures
        assert len(answered) >= 3 and len(set(answered)) == 1
        stats = ex.stats()
        assert stats["timeouts"] == 1 and stats["killed"] == 1
        # The replacement comes up and answers.
        assert ex.run(NORMAL, timeout=20).body == answered[0]


def test_busy_when_every_worker_is_occupied(store_path: Path) -> None:
    with QueryExecutor(store_path, workers=1, max_rows=1000, max_bytes=1_000_000, prefixes=PREFIXES,
                       busy_wait=0.2) as ex:
        # A worker still starting is not busy; on a loaded machine a start can take over 0.2 s.
        assert ex.wait_ready(30)
        ex.run(NORMAL, timeout=20)
        outcome: list[BaseException] = []

        def block() -> None:
            try:
                ex.run(PATHOLOGICAL, timeout=1.5)
            except QueryTimeout as exc:
                outcome.append(exc)

        blocker = threading.Thread(target=block)
        blocker.start()
        wait_for(lambda: ex.stats()["queries"] == 2 and ex.stats()["idle"] == 0,
                 "the pathological query to hold the only query process", seen=ex.stats)
        try:
            with pytest.raises(Busy):
                ex.run(NORMAL, timeout=20)
        finally:
            blocker.join()
        assert ex.stats()["busy"] == 1
        assert len(outcome) == 1


def test_reopen_serves_the_new_store(tmp_path: Path, store_path: Path) -> None:
    other = tmp_path / "store2"
    _build_store(other, 10, label_suffix=" new")
    query = 'SELECT (COUNT(*) AS ?c) WHERE { ?s ex:label ?l FILTER(CONTAINS(?l, "new")) }'
    with QueryExecutor(store_path, workers=1, max_rows=1000, max_bytes=1_000_000, prefixes=PREFIXES) as ex:
        assert ex.run(query, timeout=20, result_format="csv").body.split(b"\r\n")[1] == b"0"
        old_pids = set(ex.worker_pids())
        ex.reopen(other)
        ex.reopen(other)  # the same store again: nothing to do
        assert ex.run(query, timeout=20, result_format="csv").body.split(b"\r\n")[1] == b"10"
        # The same process opened the new store: a switch restarts nothing (issue 17.6).
        assert set(ex.worker_pids()) == old_pids
        assert ex.stats()["started"] == 1


def test_reopen_never_goes_back_to_an_older_release(tmp_path: Path) -> None:
    old, new = tmp_path / "releases" / "a" / "store", tmp_path / "releases" / "b" / "store"
    for path, suffix in ((old, ""), (new, " new")):
        path.parent.mkdir(parents=True)
        _build_store(path, 10, label_suffix=suffix)
    query = 'SELECT (COUNT(*) AS ?c) WHERE { ?s ex:label ?l FILTER(CONTAINS(?l, "new")) }'
    (tmp_path / "current").symlink_to("releases/a")
    with QueryExecutor(old, workers=1, max_rows=1000, max_bytes=1_000_000, prefixes=PREFIXES) as ex:
        (tmp_path / "current").unlink()
        (tmp_path / "current").symlink_to("releases/b")  # b is published
        ex.reopen(new)
        # A request that still holds the old release (as under fast switches) must not flip the
        # pool back, and is answered from its own release, not the new store.
        ex.reopen(old)
        assert ex.store_path == new
        assert ex.run(query, timeout=20, result_format="csv", store_path=old).body.split(b"\r\n")[1] == b"0"
        answer = ex.run(query, timeout=20, result_format="csv", store_path=new)
        assert answer.body.split(b"\r\n")[1] == b"10"
        assert ex.run(query, timeout=20, result_format="csv").body.split(b"\r\n")[1] == b"10"


def test_a_release_gone_from_disk_is_release_changed(tmp_path: Path, store_path: Path) -> None:
    from kusei.endpoint.query.errors import ReleaseChanged

    with QueryExecutor(store_path, workers=1, max_rows=1000, max_bytes=1_000_000, prefixes=PREFIXES) as ex:
        with pytest.raises(ReleaseChanged):
            ex.run("ASK {}", timeout=20, store_path=tmp_path / "pruned" / "store")
        assert ex.run("ASK {}", timeout=20).kind == "boolean"  # the process serves on
        assert ex.stats()["started"] == 1


def test_workers_die_with_their_parent(store_path: Path) -> None:
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from kusei.endpoint.query.executor import QueryExecutor
        ex = QueryExecutor(Path({str(store_path)!r}), workers=2, max_rows=10, max_bytes=10**6, prefixes={{}})
        ex.run("ASK {{ ?s ?p ?o }}", timeout=20)
        assert ex.wait_ready(60)
        print(" ".join(map(str, ex.worker_pids())), flush=True)
        time.sleep(60)  # held until the test kills this parent: its death is what is under test
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pids = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    finally:
        parent.kill()
        parent.wait()
    wait_for(lambda: not any(_alive(pid) for pid in pids), "the query processes to die with their parent",
             timeout=10, seen=lambda: [pid for pid in pids if _alive(pid)])


def test_workers_cannot_reach_the_network(executor: QueryExecutor) -> None:
    """Even without the guard, a SERVICE from an isolated worker connects nowhere."""
    if not executor.network_isolated:
        pytest.skip("this kernel does not let the workers create a network namespace")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        query = f"SELECT * WHERE {{ ?s ex:n 1 SERVICE <http://127.0.0.1:{port}/sparql> {{ ?a ?b ?c }} }}"
        with pytest.raises(Exception, match="(?i)unreachable|refused|error"):
            executor.run(query, timeout=20)
        with pytest.raises(TimeoutError):
            listener.accept()


# -- row counting, independently of processes ------------------------------------------------------

_VALUE = st.one_of(
    st.none(),
    st.text(alphabet='ab"\\{}[],:\n\r\t<>result\u3042 ', max_size=12).map(ox.Literal),
    st.sampled_from([ox.NamedNode("http://x/a,b'c"), ox.BlankNode("b1"), ox.Literal("1", language="ja")]),
)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(_VALUE, min_size=2, max_size=2), max_size=40),
    fmt=st.sampled_from(sorted(RESULTS)),
    seed=st.integers(0, 2**32 - 1),
)
def test_row_counter_matches_any_chunking(rows: list[list[ox.Literal | None]], fmt: str, seed: int) -> None:
    values = " ".join(
        "(" + " ".join("UNDEF" if v is None else _sparql_term(v) for v in row) + ")" for row in rows
    )
    query = f"SELECT ?x ?y WHERE {{ VALUES (?x ?y) {{ {values} }} }}"
    # A blank node in VALUES is not allowed; BIND it instead.
    query = query.replace("_:b1", '"_:b1"')
    data = ox.Store().query(query).serialize(format=RESULTS[fmt])
    rng = random.Random(seed)
    counter = _RowCounter(fmt)
    pos = 0
    while pos < len(data):
        step = rng.choice([1, 2, 3, 7, 64, 8192])
        counter.feed(data[pos : pos + step])
        pos += step
    assert counter.count == len(rows)


# Row openings a JSON counter could mistake: keys named like the format's own (type, value,
# subject, head …), triple terms (objects inside binding values), rows that bind nothing, and
# literals that end in `,{` or hold `,{}` with escaped quotes and backslashes around them.
_JSON_LOOK_ALIKES = [
    'SELECT ?type ?subject ?value WHERE { VALUES (?type ?subject ?value) { (<http://x/a> "b" UNDEF) '
    '(UNDEF UNDEF UNDEF) ("x" UNDEF "y") } }',
    'SELECT ?t ?subject WHERE { BIND(TRIPLE(<http://x/s>, <http://x/p>, TRIPLE(<http://x/a>, <http://x/b>, "c")) '
    "AS ?t) VALUES ?subject { <http://x/q> UNDEF } }",
    "SELECT * WHERE { }",
    "SELECT ?x WHERE { VALUES ?x { } }",
    "SELECT ?x WHERE { VALUES ?x { UNDEF UNDEF UNDEF } }",
    'SELECT ?head ?vars ?bindings WHERE { VALUES (?head ?vars ?bindings) { (1 2 3) (UNDEF 2 UNDEF) } }',
    r'SELECT ?x ?y WHERE { VALUES (?x ?y) { ("a,{" ",{}") (UNDEF "\\\",{}\\") ("[{}]" UNDEF) '
    r'(",{\"x\":" "}},{") (UNDEF UNDEF) ("\\" ",{},") } }',
]


@pytest.mark.parametrize("query", _JSON_LOOK_ALIKES)
def test_json_row_counter_is_not_fooled_by_look_alikes(query: str) -> None:
    expected = len(list(ox.Store().query(query)))
    data = ox.Store().query(query).serialize(format=ox.QueryResultsFormat.JSON)
    for step in (1, 2, 3, 5, 8192):
        counter = _RowCounter("json")
        for pos in range(0, len(data), step):
            counter.feed(data[pos : pos + step])
        assert counter.count == expected, (step, data)


def _sparql_term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
    return str(term)


def test_missing_store_fails_fast_and_recovers(tmp_path: Path, store_path: Path) -> None:
    with QueryExecutor(tmp_path / "nowhere", workers=1, max_rows=10, max_bytes=10_000, prefixes={},
                       busy_wait=5) as ex:
        with pytest.raises(StoreFailure, match="could not open the store"):
            ex.run("ASK {}", timeout=20)
        # Failed at once, not at the end of busy_wait (which counts a busy refusal).
        assert ex.stats()["busy"] == 0
        ex.reopen(store_path)
        assert ex.run("ASK { ?s ?p ?o }", timeout=20).kind == "boolean"
        assert ex.stats()["started"] == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_bloated_worker_is_replaced(store_path: Path) -> None:
    with QueryExecutor(store_path, workers=1, max_rows=10, max_bytes=10_000, prefixes={},
                       max_worker_rss=1) as ex:  # every worker is "too big" after its first query
        ex.run("ASK {}", timeout=20)
        ex.run("ASK {}", timeout=20)
        assert ex.stats()["recycled"] == 2


def test_worker_killed_from_outside_is_reported_and_replaced(store_path: Path) -> None:
    with QueryExecutor(store_path, workers=1, max_rows=10, max_bytes=10_000, prefixes={}) as ex:
        ex.run("ASK {}", timeout=20)
        (pid,) = ex.worker_pids()
        threading.Timer(0.3, os.kill, (pid, 9)).start()  # as the OOM killer would
        with pytest.raises(WorkerCrashed) as lost:
            ex.run(PATHOLOGICAL, timeout=20)
        # Not the query's doing: the client is told to retry, by a code of its own (it shared
        # "query-crashed" with the 422 for an engine crash, which says "do not retry this query").
        assert type(lost.value) is WorkerCrashed
        assert (lost.value.status, lost.value.code) == (503, "query-process-lost")
        assert ex.run("ASK { ?s ?p ?o }", timeout=20).body.endswith(b"true}")
        assert pid not in ex.worker_pids()


def test_the_server_root_is_the_parent_that_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    # The memory bound of the server covers the tree of the process that forked this worker, named
    # by it in KUSEI_SERVER_PID; an inherited or stale value (not the parent) names no server.
    from kusei.endpoint.query.executor.memory import SERVER_PID, server_root

    monkeypatch.setenv(SERVER_PID, str(os.getppid()))
    assert server_root() == os.getppid()
    monkeypatch.setenv(SERVER_PID, str(os.getpid()))
    assert server_root() is None
    monkeypatch.setenv(SERVER_PID, "not a pid")
    assert server_root() is None
    monkeypatch.delenv(SERVER_PID)
    assert server_root() is None
