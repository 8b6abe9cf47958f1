"""Queries bounded by their form answered in the web worker (endpoint/query/inline.py): the same
bytes and errors as a query process gives, the budget that hands an answer over to a query
process, and the store that follows release switches. Real pyoxigraph stores, real query processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from graph_input import NO_SHAPES, copy_input, point_current

from kusei.endpoint.query import inline, service, shares
from kusei.endpoint.query.analysis import analyse
from kusei.endpoint.query.errors import QueryRefused, ResultTooLarge, TooManyQueries
from kusei.graph.build import build
from kusei.release import CurrentRelease, Release
from kusei.settings import Settings

PLAN = "<https://w3id.org/kusei/id/plan/141089/2014>"
DATASET = "<https://w3id.org/kusei/id/dataset/kusei>"
P = "PREFIX dcterms: <http://purl.org/dc/terms/>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
BOUNDED = {
    "ask": f"ASK {{ {PLAN} a kusei:Plan }}",
    "measures": P + f"SELECT ?m ?t WHERE {{ ?m kusei:plan {PLAN} ; a kusei:Measure ; dcterms:title ?t }} ORDER BY ?m",
    "labels": P + f'SELECT ?l WHERE {{ {PLAN} rdfs:label ?l FILTER(lang(?l) = "ja") }}',
    "construct": P + f"CONSTRUCT {{ ?m dcterms:title ?t }} WHERE {{ VALUES ?plan {{ {PLAN} }} "
                     "?m kusei:plan ?plan ; dcterms:title ?t }",
    "everything about the plan": f"SELECT ?p ?o WHERE {{ {PLAN} ?p ?o }} ORDER BY ?p ?o",
}


@pytest.fixture(autouse=True)
def patient_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    # On a loaded machine an answer may take longer than the time budget and go to a query
    # process, which these tests would read as the wrong path; the budget has a test of its own.
    monkeypatch.setattr(inline, "SECONDS", 60.0)


@pytest.fixture
def release(data_dir: Path) -> Release:
    return CurrentRelease(data_dir).latest()


def _answers(release: Release, data_dir: Path, query: str, fmt: str, **overrides: object) -> tuple[bytes, bytes]:
    inline_settings = Settings(data_dir=data_dir, **overrides)  # type: ignore[arg-type]
    process_settings = Settings(data_dir=data_dir, inline_queries=False, **overrides)  # type: ignore[arg-type]
    answered = inline.counts["answered"]
    here = service.execute(release, query, settings=inline_settings, write_as=fmt)
    assert inline.counts["answered"] == answered + 1, "not answered in the web worker"
    queries = service.pool_stats().get("queries", 0)
    there = service.execute(release, query, settings=process_settings, write_as=fmt)
    assert service.pool_stats()["queries"] == queries + 1, "not answered by a query process"
    assert isinstance(here, service.Written) and isinstance(there, service.Written)
    return here.body, there.body


@pytest.mark.parametrize("name", list(BOUNDED))
def test_the_same_bytes_as_a_query_process(name: str, release: Release, data_dir: Path) -> None:
    query = BOUNDED[name]
    formats = ["nt"] if name == "construct" else ["json", "xml", "csv", "tsv"]
    for fmt in formats:
        here, there = _answers(release, data_dir, query, fmt)
        assert here == there
        found = {"json": (b'"bindings":[{', b'"boolean":true'), "xml": (b"<result>", b"<boolean>true"),
                 "csv": (b"\r\n", b"true"), "tsv": (b"\n", b"true"), "nt": (b" .\n",)}[fmt]
        assert any(marker in here.rstrip() for marker in found), f"the query found nothing: {here[:200]!r}"


def test_too_large_is_the_error_a_query_process_gives(release: Release, data_dir: Path) -> None:
    query = BOUNDED["everything about the plan"]
    messages = []
    for inline_queries in (True, False):
        settings = Settings(data_dir=data_dir, max_result_rows=2, inline_queries=inline_queries)
        with pytest.raises(ResultTooLarge) as caught:
            service.execute(release, query, settings=settings, write_as="json")
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_the_guard_still_refuses_first(release: Release, data_dir: Path) -> None:
    with pytest.raises(QueryRefused):
        service.execute(release, f"ASK {{ {PLAN} ?p ?o }} ; DROP ALL", settings=Settings(data_dir=data_dir))


def test_an_answer_over_the_row_budget_goes_to_a_query_process(
        release: Release, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    query = BOUNDED["everything about the plan"]
    settings = Settings(data_dir=data_dir)
    whole = service.execute(release, query, settings=Settings(data_dir=data_dir, inline_queries=False),
                            write_as="csv")
    monkeypatch.setattr(inline, "ROWS", 3)
    abandoned, queries = inline.counts["abandoned"], service.pool_stats().get("queries", 0)
    answer = service.execute(release, query, settings=settings, write_as="csv")
    assert inline.counts["abandoned"] == abandoned + 1
    assert service.pool_stats()["queries"] == queries + 1
    assert isinstance(answer, service.Written) and isinstance(whole, service.Written)
    assert answer.body == whole.body and len(answer.body.splitlines()) > 4


def test_an_answer_over_the_time_budget_goes_to_a_query_process(
        release: Release, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inline, "SECONDS", 0.0)  # past its deadline at the first chunk written
    abandoned = inline.counts["abandoned"]
    answer = service.execute(release, BOUNDED["measures"], settings=Settings(data_dir=data_dir), write_as="json")
    assert inline.counts["abandoned"] == abandoned + 1
    assert isinstance(answer, service.Written) and b'"bindings":[{' in answer.body


def test_queries_not_bounded_by_their_form_go_to_a_query_process(release: Release, data_dir: Path) -> None:
    answered, queries = inline.counts["answered"], service.pool_stats().get("queries", 0)
    service.execute(release, "SELECT * WHERE { ?a a kusei:Measure . ?b a kusei:Plan } LIMIT 1",
                    settings=Settings(data_dir=data_dir), write_as="json")
    assert inline.counts["answered"] == answered
    assert service.pool_stats()["queries"] == queries + 1


def test_the_store_follows_a_release_switch(tmp_path: Path) -> None:
    records = copy_input(tmp_path / "input", ["000_a9155f3b6863ac96.yaml"])
    data_dir = tmp_path / "data"
    quiet = lambda _: None  # noqa: E731
    shapes = tmp_path / "no-shapes"  # what is tested is the switch, not the shapes: a unit test's gate
    shapes.mkdir()
    (shapes / "none.ttl").write_text(NO_SHAPES, encoding="utf-8")
    old = build(Settings(data_dir=data_dir, modified="2026-11-23"), records_dir=records, shapes_dir=shapes,
                report=quiet).release_id
    new = build(Settings(data_dir=data_dir, modified="2027-02-01"), records_dir=records, shapes_dir=shapes,
                report=quiet).release_id
    query = f"SELECT ?m WHERE {{ {DATASET} <http://purl.org/dc/terms/modified> ?m }}"
    settings = Settings(data_dir=data_dir)
    current = CurrentRelease(data_dir)
    seen = []
    for target in (old, new, old):
        point_current(data_dir, target)
        answered = inline.counts["answered"]
        answer = service.execute(current.latest(), query, settings=settings, write_as="csv")
        assert inline.counts["answered"] == answered + 1
        assert isinstance(answer, service.Written)
        seen.append(answer.body.split(b"\r\n")[1])
    assert seen == [b"2026-11-23", b"2027-02-01", b"2026-11-23"]


LINEAR = P + ('SELECT DISTINCT ?m ?t ?l WHERE { ?m a kusei:Measure ; dcterms:title ?t '
              'OPTIONAL { ?m rdfs:label ?l FILTER(lang(?l) = "ja") } } ORDER BY ?m')


def test_a_query_linear_in_the_data_is_answered_here_on_a_small_release(
        release: Release, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here, there = _answers(release, data_dir, LINEAR, "json")
    assert here == there and b'"bindings":[{' in here
    # On a release over the size, the query processes answer it.
    monkeypatch.setattr(inline, "SMALL_RELEASE", 10)
    answered, queries = inline.counts["answered"], service.pool_stats().get("queries", 0)
    again = service.execute(release, LINEAR, settings=Settings(data_dir=data_dir), write_as="json")
    assert inline.counts["answered"] == answered and service.pool_stats()["queries"] == queries + 1
    assert isinstance(again, service.Written) and again.body == there


EXAMPLES = Path(__file__).resolve().parents[2] / "endpoint" / "queries"
# The published examples that aggregates and BIND made linear in the data (bounded.py); and the
# aggregates no example uses, with a GRAPH group.
NEWLY_LINEAR = {path.stem: path.read_text(encoding="utf-8") for path in sorted(EXAMPLES.glob("*.rq"))
                if path.stem[:2] in ("01", "07", "16")}
NEWLY_LINEAR["titles per plan"] = P + (
    'SELECT ?p (GROUP_CONCAT(DISTINCT ?t; separator=" / ") AS ?ts) (COUNT(?m) AS ?n) (SAMPLE(?t) AS ?one) '
    "(MIN(?t) AS ?first) (MAX(?t) AS ?last) WHERE { ?m a kusei:Measure ; kusei:plan ?p ; dcterms:title ?t } "
    "GROUP BY ?p ORDER BY ?p")
NEWLY_LINEAR["numbers per graph"] = (
    "SELECT ?g (SUM(?k) AS ?sum) (AVG(?k) AS ?avg) (COUNT(DISTINCT ?m) AS ?n) WHERE { GRAPH ?g { ?m "
    "<https://w3id.org/kusei/def/number> ?k BIND(?k * 2 - 1 AS ?odd) FILTER(?odd > 0) } } GROUP BY ?g ORDER BY ?g")


@pytest.mark.parametrize("name", list(NEWLY_LINEAR))
def test_newly_linear_queries_give_the_same_bytes_as_a_query_process(
        name: str, release: Release, data_dir: Path) -> None:
    query = NEWLY_LINEAR[name]
    assert analyse(query).linear and not analyse(query).bounded
    for fmt in ("json", "xml", "csv", "tsv"):
        here, there = _answers(release, data_dir, query, fmt)
        assert here == there
        rows = {"json": lambda body: len(json.loads(body)["results"]["bindings"]),
                "xml": lambda body: body.count(b"<result>"),
                "csv": lambda body: len(body.rstrip().split(b"\r\n")) - 1,
                "tsv": lambda body: len(body.rstrip().split(b"\n")) - 1}[fmt](here)
        assert rows >= 1, f"the query found nothing: {here[:300]!r}"
        if fmt == "json":
            # Every aggregate and BIND gave a value somewhere: the answer shows them computed.
            answer = json.loads(here)
            assert {name for row in answer["results"]["bindings"] for name in row} == set(answer["head"]["vars"])


def test_an_aggregate_goes_to_a_query_process_on_a_large_release(
        release: Release, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Aggregates, BIND and GRAPH are linear only: never bounded by their form, so a release over
    # the small size sends them to the query processes, as any query linear in the data.
    query = NEWLY_LINEAR["16-measures-per-ward-year"]
    whole = service.execute(release, query, settings=Settings(data_dir=data_dir, inline_queries=False),
                            write_as="csv")
    monkeypatch.setattr(inline, "SMALL_RELEASE", 10)
    answered, queries = inline.counts["answered"], service.pool_stats().get("queries", 0)
    answer = service.execute(release, query, settings=Settings(data_dir=data_dir), write_as="csv")
    assert inline.counts["answered"] == answered and service.pool_stats()["queries"] == queries + 1
    assert isinstance(answer, service.Written) and isinstance(whole, service.Written) and answer.body == whole.body


def test_an_answer_here_holds_no_share_is_not_charged_but_is_refused_once_the_minute_is_spent(
        release: Release, data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, client_max_queries=1, client_query_seconds=1)
    client = "192.0.2.77"
    token = shares.CLIENT.set(client)
    budget = service._shares(settings)
    ledger = budget._ledger(shares._bucket(client))
    try:
        with budget.hold(client, wait=0):  # the client's one share is held (a query in a query process)
            answered = inline.counts["answered"]
            service.execute(release, BOUNDED["ask"], settings=settings, write_as="json")
            assert inline.counts["answered"] == answered + 1
        assert budget._ledger(shares._bucket(client)) == ledger, "an answer here was charged"
        with budget.hold(client, wait=0) as charge:
            charge(1.5)  # its minute's query time spent
        with pytest.raises(TooManyQueries, match="query time"):
            service.execute(release, BOUNDED["ask"], settings=settings, write_as="json")
    finally:
        shares.CLIENT.reset(token)


def test_on_a_large_release_a_text_the_screen_refuses_goes_to_a_query_process_unread(
        release: Release, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inline, "SMALL_RELEASE", 10)
    query = P + f"SELECT ?m ?t WHERE {{ ?m kusei:plan {PLAN} OPTIONAL {{ ?m dcterms:title ?t }} }}"
    analysed = analyse(query)
    assert not inline.admits(release, analysed)
    assert "tokens" not in analysed.__dict__  # neither tokenised nor judged by the rules
    assert inline.admits(release, analyse(BOUNDED["measures"]))  # a lookup still is, as before
