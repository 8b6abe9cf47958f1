"""The bounded description (endpoint/query/describe.py), as pages and SPARQL DESCRIBE get it from a
query process: its content checked against the store, its order against ``triple_sort_key``."""

from __future__ import annotations

import gc
import os

import pyoxigraph as ox
import pytest

from kusei.endpoint.query import service
from kusei.endpoint.query.describe import CONSTANT_TEMPLATES, LABEL_PROPERTIES, order_lines, triple_sort_key
from kusei.endpoint.query.errors import ResultTooLarge
from kusei.release import Manifest, Release, open_release
from kusei.settings import Settings

BASE = "https://example.org/k"
R = f"{BASE}/id/r"
RDFS_LABEL = ox.NamedNode(LABEL_PROPERTIES[0][1:-1])
SKOS_LABEL = ox.NamedNode(LABEL_PROPERTIES[1][1:-1])

# Every part of a description, and what must stay out: blank nodes three levels down (only the
# engine's own DESCRIBE follows them), links from blank nodes, labels of what is not linked.
TRIG = f"""
@prefix k: <{BASE}/def/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<{BASE}/graph/document/d> {{
  <{R}> rdfs:label "r"@ja ; k:link <{BASE}/id/other> , <{R}> ; k:count 3 ; k:note "z" , "a\\"b" ;
    k:claims <<( <{BASE}/id/a> k:says "x" )>> , "<<( looks like a triple term"
    ; k:printing <{R}#in-d> ; k:fix [ k:why "typo" ; k:seeAlso <{BASE}/id/via-blank> ;
                                      k:was [ k:text "old" ; k:deeper [ k:gone "deep" ] ] ] .
  <{R}#in-d> k:firstLine 1 ; k:lastLine 2 .
  <{BASE}/id/other> rdfs:label "other"@ja , "other"@en ; skos:prefLabel "Other"@en ; k:unrelated "no" .
  <{BASE}/id/via-blank> rdfs:label "via"@ja .
  <{BASE}/id/in1> k:link <{R}> ; k:partOf <{R}> ; skos:prefLabel "in one"@ja .
  <{BASE}/id/in2> k:link <{R}> .
  <{BASE}/id/lonely> rdfs:label "not linked"@ja .
  [ k:link <{R}> ] .
}}"""


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    data_dir = tmp_path_factory.mktemp("describe")
    path = data_dir / "releases" / "t1"
    path.mkdir(parents=True)
    store = ox.Store(str(path / "store"))
    store.load(TRIG.encode("utf-8"), format=ox.RdfFormat.TRIG)
    store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")  # as `kusei build` does
    store.flush()
    del store
    gc.collect()  # closed before the query processes open it read-only
    Manifest(id="t1", base=BASE, published_at=BASE, modified="2026-01-01", graphs={}, files=[],
             documents={}).write(path)
    os.symlink("releases/t1", data_dir / "current")
    return open_release(path)


@pytest.fixture(scope="module")
def settings(release: Release) -> Settings:
    return Settings(data_dir=release.path.parent.parent, base=BASE)


def _expected(release: Release, *iris: str) -> list[ox.Triple]:
    """The description of ``iris`` read off the store pattern by pattern, in its documented order."""
    store = ox.Store.read_only(str(release.path / "store"))

    def out(subject: ox.NamedNode | ox.BlankNode) -> list[ox.Triple]:
        return [q.triple for q in store.quads_for_pattern(subject, None, None, ox.DefaultGraph())]

    def labels(subject: ox.NamedNode) -> list[ox.Triple]:
        return [q.triple for p in (RDFS_LABEL, SKOS_LABEL)
                for q in store.quads_for_pattern(subject, p, None, ox.DefaultGraph())]

    found: list[ox.Triple] = []
    for iri in iris:
        node = ox.NamedNode(iri)
        own = out(node)
        first = [t for t in own if isinstance(t.object, ox.BlankNode)]
        level1 = [t2 for t in first for t2 in out(t.object)]  # type: ignore[arg-type]
        level2 = [t3 for t2 in level1 if isinstance(t2.object, ox.BlankNode) for t3 in out(t2.object)]
        fragments = [t2 for t in own if isinstance(t.object, ox.NamedNode) and t.object.value.startswith(iri + "#")
                     for t2 in out(t.object)]
        incoming = [q.triple for q in store.quads_for_pattern(None, None, node, ox.DefaultGraph())
                    if isinstance(q.subject, ox.NamedNode) and q.subject != node]
        linked = {t.object for t in own + level1 if isinstance(t.object, ox.NamedNode) and t.object != node}
        linked |= {t.subject for t in incoming}
        found += own + level1 + level2 + fragments + incoming
        found += [t for other in linked for t in labels(other)]  # type: ignore[arg-type]
    described = {ox.NamedNode(iri) for iri in iris}
    parts: list[set[ox.Triple]] = [set(), set(), set(), set()]
    for t in found:
        index = (0 if t.subject in described else 1 if isinstance(t.subject, ox.BlankNode)
                 else 2 if t.object in described else 3)
        parts[index].add(t)
    return [t for part in parts for t in sorted(part, key=triple_sort_key)]


def _triples(items: list) -> list[ox.Triple]:
    return [item.triple if isinstance(item, ox.Quad) else item for item in items]


def test_the_description_holds_every_part_in_order(release: Release, settings: Settings) -> None:
    got = _triples(service.describe(release, [R], settings=settings))
    expected = _expected(release, R)
    assert got == expected
    objects = {t.object for t in got}
    assert ox.Literal("deep") not in objects  # three levels down
    assert ox.Literal("not linked", language="ja") not in objects
    assert ox.Literal("via", language="ja") in objects  # linked from a blank node the resource reaches
    assert ox.Literal("in one", language="ja") in objects  # the label of a resource linking to it
    assert not [t for t in got if isinstance(t.subject, ox.BlankNode) and t.object == ox.NamedNode(R)]


def test_describe_adds_what_the_engines_describe_reaches_past_two_levels(release: Release,
                                                                        settings: Settings) -> None:
    outcome = service.execute(release, f"DESCRIBE <{R}>", settings=settings)
    assert isinstance(outcome, service.Outcome)
    triples = _triples(outcome.triples or [])
    expected = _expected(release, R)
    assert triples[: len(expected)] == expected
    assert [t.object for t in triples[len(expected) :]] == [ox.Literal("deep")]


def test_describe_as_n_triples_is_written_by_the_query_process(release: Release, settings: Settings) -> None:
    written = service.execute(release, f"DESCRIBE <{R}>", settings=settings, write_as="nt")
    assert isinstance(written, service.Written)  # no parsing and writing again in the server process
    outcome = service.execute(release, f"DESCRIBE <{R}>", settings=settings)
    assert isinstance(outcome, service.Outcome)
    assert written.body == ox.serialize(outcome.triples or [], format=ox.RdfFormat.N_TRIPLES)


def test_describe_of_what_has_no_triples_of_its_own_is_empty(release: Release, settings: Settings) -> None:
    # <lonely> is a subject; <in2> only links; nothing at all is known of <nothing>.
    outcome = service.execute(release, f"DESCRIBE <{BASE}/id/in2> <{BASE}/id/nothing>", settings=settings)
    assert isinstance(outcome, service.Outcome)
    assert _triples(outcome.triples or []) == _expected(release, f"{BASE}/id/in2")


def test_describe_never_truncates(release: Release, settings: Settings) -> None:
    size = len(_expected(release, R)) + 1  # with the triple three levels down
    outcome = service.execute(release, f"DESCRIBE <{R}>", settings=settings, max_rows=size)
    assert isinstance(outcome, service.Outcome) and len(outcome.triples or []) == size
    with pytest.raises(ResultTooLarge):
        service.execute(release, f"DESCRIBE <{R}>", settings=settings, max_rows=size - 1)


def test_a_description_of_many_resources_is_one_of_them_all(release: Release, settings: Settings) -> None:
    # More than CONSTANT_TEMPLATES, so some resources are bound to ?r rather than written in.
    iris = [f"{BASE}/id/{name}" for name in ("nothing", "other", "via-blank", "in1", "in2", "lonely", "r#in-d",
                                            "a", "missing", "r", "more")]
    assert len(iris) > CONSTANT_TEMPLATES
    got = _triples(service.describe(release, iris, settings=settings))
    assert got == _expected(release, *iris)
    assert {t for t in got if t.subject == ox.NamedNode(R)} == {t for t in _expected(release, R)
                                                                   if t.subject == ox.NamedNode(R)}


def test_line_order_is_the_triple_order(release: Release) -> None:
    store = ox.Store.read_only(str(release.path / "store"))
    triples = [q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())]
    resources = [R, f"{BASE}/id/other"]
    lines = ox.serialize(triples + triples[:5], format=ox.RdfFormat.N_TRIPLES).splitlines()
    ordered = order_lines(lines, resources)
    by_terms = _triples(list(ox.parse(b"\n".join(ordered) + b"\n", format=ox.RdfFormat.N_TRIPLES)))
    assert len(by_terms) == len(set(triples))
    described = {ox.NamedNode(iri) for iri in resources}

    def part(t: ox.Triple) -> int:
        return (0 if t.subject in described else 1 if isinstance(t.subject, ox.BlankNode)
                else 2 if t.object in described else 3)

    assert by_terms == sorted(set(triples), key=lambda t: (part(t), triple_sort_key(t)))
