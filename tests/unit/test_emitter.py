"""The emitter on its own: printed texts, corrections, and the printing node each entity gets at
``finish`` from the lines its texts were found on. Spans are given by hand, as the input stage
would have found them."""

from __future__ import annotations

import pyoxigraph as ox

from kusei.graph.input.record import Corrected
from kusei.graph.input.textmatch import Span
from kusei.graph.mapping.emitter import Emitter, printing_iri
from kusei.namespaces import PROV, RDFS, TYPE, XSD, Terms

T = Terms("http://example.test/kusei")
GRAPH = T.graph("document/d1")
DOCUMENT = T.document("d1")
ENTITY = T.id("plan/141089/2024/measure/1")
OTHER = T.id("plan/141089/2024/measure/2")
TITLE = ox.NamedNode("http://purl.org/dc/terms/title")
DESCRIPTION = ox.NamedNode("http://purl.org/dc/terms/description")
SPANS = {
    ("title",): Span(6, 6, 0, 10),
    ("group",): Span(2, 2, 0, 5),
    ("description", 0): Span(7, 8, 0, 10),
    ("description", 1): Span(12, 13, 0, 10),
}


def _emitter() -> Emitter:
    return Emitter(T, GRAPH, DOCUMENT, SPANS)


def _objects(triples: list[ox.Quad] | list[ox.Triple], s: ox.NamedNode | ox.BlankNode, p: ox.NamedNode) -> list:
    return [t.object for t in triples if t.subject == s and t.predicate == p]


def _lines(e: Emitter, entity: ox.NamedNode) -> tuple[int, int] | None:
    printing = printing_iri(entity, DOCUMENT)
    first, last = _objects(e.quads, printing, T.kusei("firstLine")), _objects(e.quads, printing, T.kusei("lastLine"))
    if not first and not last:
        return None
    assert all(o.datatype == ox.NamedNode(XSD + "integer") for o in first + last)
    return int(first[0].value), int(last[0].value)


def test_a_printed_text_is_a_ja_literal_in_the_document_graph() -> None:
    e = _emitter()
    e.text(ENTITY, TITLE, "安全なまち", ("title",))
    e.text(ENTITY, DESCRIPTION, None, ("nothing",))  # not printed: no triple at all
    assert e.quads == [ox.Quad(ENTITY, TITLE, ox.Literal("安全なまち", language="ja"), GRAPH)]
    assert e.editorial == [] and e.interpretation == []


def test_finish_gives_a_typed_entity_its_document_and_the_range_of_its_own_lines() -> None:
    e = _emitter()
    e.typed_entity(ENTITY, T.kusei("Measure"))
    e.text(ENTITY, TITLE, "安全なまち", ("title",))
    e.paragraphs(ENTITY, DESCRIPTION, ["一段落目", "二段落目"], ("description",))
    e.text(ENTITY, T.kusei("group"), "施策の柱", ("group",), own_lines=False)  # line 2, shared heading
    e.finish()
    printing = printing_iri(ENTITY, DOCUMENT)
    assert printing == ox.NamedNode(f"{ENTITY.value}#in-d1")
    assert _objects(e.quads, ENTITY, T.kusei("sourceDocument")) == [DOCUMENT]
    assert _objects(e.quads, ENTITY, T.kusei("printing")) == [printing]
    assert _objects(e.quads, printing, TYPE) == [T.kusei("Printing")]
    assert _objects(e.quads, printing, ox.NamedNode(PROV + "entity")) == [DOCUMENT]
    # From the title (6) to the last paragraph's end (13); the shared heading on line 2 does not
    # stretch the range.
    assert _lines(e, ENTITY) == (6, 13)
    assert _objects(e.quads, ENTITY, DESCRIPTION) == [ox.Literal("一段落目\n二段落目", language="ja")]


def test_an_entity_without_found_lines_has_a_printing_without_lines() -> None:
    e = _emitter()
    e.typed_entity(ENTITY, T.kusei("Measure"))
    e.text(ENTITY, TITLE, "どこにもない", ("not located",))
    e.finish()
    assert _objects(e.quads, ENTITY, T.kusei("printing")) == [printing_iri(ENTITY, DOCUMENT)]
    assert _lines(e, ENTITY) is None


def test_set_lines_replaces_what_the_texts_said() -> None:
    e = _emitter()
    e.typed_entity(ENTITY, T.kusei("Plan"))
    e.text(ENTITY, TITLE, "安全なまち", ("title",))
    e.set_lines(ENTITY, 1, 40)
    e.finish()
    assert _lines(e, ENTITY) == (1, 40)


def test_an_untyped_subject_gets_no_printing() -> None:
    # A fact about a reference entity (a ward's flower): its graph is its provenance.
    e = _emitter()
    e.text(OTHER, TITLE, "安全なまち", ("title",))
    e.finish()
    assert _objects(e.quads, OTHER, T.kusei("printing")) == []
    assert _objects(e.quads, OTHER, T.kusei("sourceDocument")) == []
    assert len(e.quads) == 1


def test_a_correction_keeps_the_printed_text_and_goes_to_the_editorial_triples() -> None:
    e = _emitter()
    slip = Corrected(printed="支えあう", corrected="支え合う", note="usual spelling")
    e.text(ENTITY, TITLE, slip, ("title",))
    e.paragraphs(ENTITY, DESCRIPTION, ["一段落目", slip], ("description",))
    assert _objects(e.quads, ENTITY, TITLE) == [ox.Literal("支えあう", language="ja")]
    assert _objects(e.quads, ENTITY, DESCRIPTION) == [ox.Literal("一段落目\n支えあう", language="ja")]
    nodes = _objects(e.editorial, ENTITY, T.kusei("correction"))
    assert len(nodes) == 2 and len(set(nodes)) == 2  # one per corrected property
    by_property = {_objects(e.editorial, node, T.kusei("correctedProperty"))[0]: node for node in nodes}
    assert set(by_property) == {TITLE, DESCRIPTION}
    node = by_property[TITLE]
    assert _objects(e.editorial, node, TYPE) == [T.kusei("TextCorrection")]
    assert _objects(e.editorial, node, T.kusei("printedText")) == [ox.Literal("支えあう", language="ja")]
    assert _objects(e.editorial, node, T.kusei("correctedText")) == [ox.Literal("支え合う", language="ja")]
    assert _objects(e.editorial, node, ox.NamedNode(RDFS + "comment")) == [ox.Literal("usual spelling", language="en")]
    # The blank node's id comes from the content: the same correction, the same node, in any build.
    again = _emitter()
    again.text(ENTITY, TITLE, slip, ("title",))
    assert _objects(again.editorial, ENTITY, T.kusei("correction")) == [node]


def test_interpretations_stay_out_of_the_document_graph() -> None:
    e = _emitter()
    e.typed_entity(ENTITY, T.kusei("Measure"))
    e.interpret(ENTITY, "policyArea", T.id("policy-area/safety"))
    e.finish()
    assert e.interpretation == [ox.Triple(ENTITY, T.kusei("policyArea"), T.id("policy-area/safety"))]
    assert not any(q.predicate == T.kusei("policyArea") for q in e.quads)


def test_part_of_links_both_ways() -> None:
    e = _emitter()
    e.part_of(ENTITY, DOCUMENT)
    assert {(q.subject, q.predicate.value.rsplit("/", 1)[-1], q.object) for q in e.quads} == {
        (ENTITY, "isPartOf", DOCUMENT), (DOCUMENT, "hasPart", ENTITY)}
