"""The page queries (endpoint/queries/pages/*.rq) and their one door, pages/data.py: every file
parses, every name a page asks for exists, and a parameter reaches the query only as an IRI or
an escaped literal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask import Flask

from kusei.endpoint.web.pages import canned
from kusei.endpoint.web.pages import data as door
from kusei.namespaces import prefixes, terms
from kusei.release import open_store
from kusei.settings import DEFAULT_BASE

WEB = Path(door.__file__).resolve().parents[1]
PREFIXES = prefixes(DEFAULT_BASE)
SAMPLE = ox.NamedNode("https://example.org/sample")


def _asked_names() -> set[str]:
    """Every page query a module of the web layer names: ``run(release, "NAME", …)`` or ``triples(…)``, and the
    canned forms' option queries."""
    asked = set(canned.OPTION_QUERIES.values())
    for path in WEB.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        asked |= set(re.findall(r"\b(?:run|triples)\(\s*[\w.]+\s*,\s*\"([^\"]+)\"", text))
    return asked


def _parse(query: str) -> None:
    # pyoxigraph parses a query only to run it; an empty store runs any query at once. The
    # prefixes are those the query service declares.
    ox.Store().query(query, prefixes=PREFIXES)


@pytest.fixture()
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A page-query folder of the test's own, for queries that echo what they were given."""
    monkeypatch.setattr(door, "PAGE_QUERIES_DIR", tmp_path)
    door.load.cache_clear()
    yield tmp_path
    door.load.cache_clear()


def _echo(folder: Path, name: str = "echo") -> str:
    (folder / f"{name}.rq").write_text("SELECT ?v WHERE { BIND($value AS ?v) }\n", encoding="utf-8")
    return name


def _echoed(query: str) -> ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None:
    rows = list(ox.Store().query(query))  # type: ignore[union-attr]
    assert len(rows) == 1
    return rows[0]["v"]  # type: ignore[index]


# -- the files ------------------------------------------------------------------------------------


def test_there_are_page_queries_and_every_one_parses_with_its_parameters_bound() -> None:
    names = door.names()
    assert len(names) >= 20
    for name in names:
        _, params = door.load(name)
        query = door.bind(name, dict.fromkeys(params, SAMPLE))
        _parse(query)
        assert "$" not in query, name


def test_a_parameter_is_never_also_a_variable_of_its_query() -> None:
    # ?x and $x are one variable in SPARQL: a parameter spelt both ways would bind the variable too.
    for name in door.names():
        text, params = door.load(name)
        for param in params:
            assert f"?{param}" not in re.findall(r"\?\w+", text), (name, param)


def test_every_kusei_term_a_page_query_names_is_in_the_vocabulary() -> None:
    # A misspelt term parses and runs and matches nothing: the page would just come out empty.
    from kusei.settings import PROJECT_ROOT

    vocab = terms(DEFAULT_BASE).vocab
    defined = {t.subject.value.removeprefix(vocab)
               for t in ox.parse(path=str(PROJECT_ROOT / "ontology" / "kusei.ttl"), format=ox.RdfFormat.TURTLE)
               if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(vocab)}
    used = {(name, local) for name in door.names() for local in re.findall(r"\bkusei:(\w+)", door.load(name)[0])}
    assert len(used) > 30
    assert {(name, local) for name, local in used if local not in defined} == set()


def test_every_page_query_a_page_asks_for_exists_and_every_file_is_asked_for() -> None:
    asked, present = _asked_names(), set(door.names())
    assert asked - present == set()
    assert present - asked == set()


def test_the_ancestors_query_walks_the_links_the_crumbs_follow() -> None:
    from kusei.endpoint.web.pages.resource import parent_links

    text, _ = door.load("ancestors")
    kusei = terms(DEFAULT_BASE).vocab
    for link in parent_links(DEFAULT_BASE):
        curie = next(f"{p}:{link[len(ns):]}" for p, ns in PREFIXES.items() if link.startswith(ns) and
                     (p == "kusei" or not link.startswith(kusei)))
        assert text.count(curie) == 2, curie  # in the path and in the filter


# -- binding --------------------------------------------------------------------------------------


def test_an_iri_is_bound_as_an_iri() -> None:
    query = door.bind("plan-document", {"plan": "https://w3id.org/kusei/id/plan/141089/2024"})
    assert "<https://w3id.org/kusei/id/plan/141089/2024> kusei:sourceDocument ?d" in query


@pytest.mark.parametrize("hostile", [
    "https://example.org/a> } ; INSERT DATA { <urn:x> <urn:y> <urn:z> } #",
    "https://example.org/a b",
    "https://example.org/\"quoted\"",
    "https://example.org/{a}",
    "https://example.org/a\nb",
    "not an absolute IRI",
    "",
])
def test_a_string_that_is_not_an_iri_is_refused(hostile: str) -> None:
    with pytest.raises(door.BadParameter):
        door.bind("plan-document", {"plan": hostile})


@pytest.mark.parametrize("value", [3.5, None, True, {"https://example.org/a": 1}, b"https://example.org/a",
                                   [True], object()])
def test_a_value_that_is_no_term_is_refused(value: object) -> None:
    with pytest.raises(door.BadParameter):
        door.bind("plan-document", {"plan": value})  # type: ignore[dict-item]


@pytest.mark.parametrize("text", [
    'say "hello"', "two\nlines\r\nand a tab\t", "a backslash \\ and \\\" both", "\" } UNION { ?s ?p ?o } #",
    "区運営方針「２」", "",
])
def test_a_literal_is_escaped_and_arrives_as_it_was(scratch: Path, text: str) -> None:
    name = _echo(scratch)
    for literal in (ox.Literal(text), ox.Literal(text, language="ja")):
        query = door.bind(name, {"value": literal})
        assert query.count("\n") == 1  # the value's own line breaks are written escaped
        assert _echoed(query) == literal


def test_an_integer_is_an_xsd_integer(scratch: Path) -> None:
    query = door.bind(_echo(scratch), {"value": 2024})
    assert _echoed(query) == ox.Literal("2024", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))


def test_a_list_is_written_once_each_a_set_in_order_a_sequence_as_given() -> None:
    a, b = "https://example.org/a", "https://example.org/b"
    preds = ["https://example.org/q", "https://example.org/p", "https://example.org/q"]
    query = door.bind("objects-of", {"subjects": {b, a}, "predicates": preds})
    assert f"VALUES ?s {{ <{a}> <{b}> }}" in query
    assert "VALUES ?p { <https://example.org/q> <https://example.org/p> }" in query
    with pytest.raises(door.BadParameter):
        door.bind("objects-of", {"subjects": [a, "https://example.org/x y"], "predicates": preds})


def test_a_hostile_ids_prefix_literal_stays_a_literal() -> None:
    query = door.bind("resources", {"ids": ox.Literal('x") || true || STR("')})
    # Parsed as one string: the filter compares with it, so an empty store gives no rows and a
    # store with a triple gives none either (no IRI starts with that text).
    store = ox.Store()
    store.add(ox.Quad(SAMPLE, SAMPLE, SAMPLE))
    assert list(store.query(query, prefixes=PREFIXES)) == []  # type: ignore[arg-type]


# -- names and parameters -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["no-such-query", "../queries/01-plans", "Plans", "plans.rq", ""])
def test_an_unknown_query_is_an_error_that_names_it(name: str) -> None:
    with pytest.raises(door.QueryError, match="no page query"):
        door.bind(name, {})


def test_a_missing_parameter_is_an_error_that_names_it() -> None:
    with pytest.raises(door.QueryError, match=r"missing \['plan'\]"):
        door.bind("plan-document", {})


def test_an_unknown_parameter_is_an_error_that_names_it() -> None:
    with pytest.raises(door.QueryError, match=r"unknown \['ward'\]"):
        door.bind("plan-document", {"plan": SAMPLE, "ward": SAMPLE})
    with pytest.raises(door.QueryError, match=r"unknown \['plan'\]"):
        door.bind("wards", {"plan": SAMPLE})


# -- through the query service --------------------------------------------------------------------


def test_run_answers_through_the_query_service_as_the_store_does(app: Flask) -> None:
    release = app.extensions["kusei_release"].latest()
    plan = terms(release.base).kusei("Plan")
    with app.app_context():
        rows = door.run(release, "count-instances", cls=plan)
    store = open_store(release.path)
    expected = next(iter(store.query(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a {plan} }}")))  # type: ignore[call-overload]
    assert int(rows[0]["n"].value) == int(expected["n"].value) > 0


def test_triples_answers_a_construct_through_the_query_service(app: Flask) -> None:
    release = app.extensions["kusei_release"].latest()
    graph = terms(release.base).graph("ontology")
    with app.app_context():
        got = door.triples(release, "graph-triples", graph=graph)
    store = open_store(release.path)
    expected = {q.triple for q in store.quads_for_pattern(None, None, None, graph)}
    assert len(got) == len(expected) > 100

    def ground(triples: object) -> set[tuple[str, str, str]]:
        return {(str(t.subject), str(t.predicate), str(t.object)) for t in triples  # type: ignore[attr-defined]
                if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)}

    assert ground(got) == ground(expected)
