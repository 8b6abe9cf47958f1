"""Collects the quads of one document graph, with the provenance every entity carries.

Provenance is qualified, in the style of PROV: an entity printed by a document links to that
document (``kusei:sourceDocument``) and to one ``kusei:Printing`` node, ``<entity>#in-<docid>``,
which holds the document again and the lines. An entity printed by two documents thus has two
printings in the merged default graph, each pairing one document with its own lines, where line
numbers hung on the entity itself could no longer say which document they count in.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

import pyoxigraph as ox

from kusei.graph.input.record import Corrected, Text
from kusei.graph.input.textmatch import Span
from kusei.namespaces import DCTERMS, PROV, RDFS, SCHEMA, TYPE, Terms, lit, typed

Path = tuple
Subject = ox.NamedNode | ox.BlankNode
Object = ox.NamedNode | ox.BlankNode | ox.Literal


class Emitter:
    """Writes triples into one named graph and remembers which lines each entity came from.

    Every printed text goes through :meth:`text`, which looks up where the build found it; at
    :meth:`finish` each entity gets its source document and first/last line from those spans.
    """

    def __init__(self, terms: Terms, graph: ox.NamedNode, document: ox.NamedNode,
                 spans: dict[Path, Span]) -> None:
        self.t = terms
        self.graph = graph
        self.document = document
        self.spans = spans
        self.quads: list[ox.Quad] = []
        self.interpretation: list[ox.Triple] = []
        # Kusei's own statements about this document's entities, which the document does not print
        # (notes, inferred years, publishers, corrections, types): the editorial graph.
        self.editorial: list[ox.Triple] = []
        self._lines: dict[ox.NamedNode, list[Span]] = defaultdict(list)
        self._typed: set[ox.NamedNode] = set()

    def add(self, s: Subject, p: ox.NamedNode, o: Object) -> None:
        self.quads.append(ox.Quad(s, p, o, self.graph))

    def kusei(self, s: Subject, local: str, o: Object) -> None:
        self.add(s, self.t.kusei(local), o)

    def typed_entity(self, s: ox.NamedNode, *classes: ox.NamedNode) -> None:
        for cls in classes:
            self.add(s, TYPE, cls)
        self._lines.setdefault(s, [])
        self._typed.add(s)

    def span_of(self, path: Path) -> Span | None:
        return self.spans.get(path)

    def text(self, s: ox.NamedNode, prop: ox.NamedNode, value: Text | None, path: Path,
             *, own_lines: bool = True) -> None:
        """A printed text as a ja literal; a recorded correction goes beside it.

        ``own_lines=False`` for a heading shared by several entities (a group heading), which
        would otherwise stretch each entity's line range up to the heading.
        """
        if value is None:
            return
        printed = value.printed if isinstance(value, Corrected) else value
        self.add(s, prop, lit(printed, "ja"))
        if own_lines:
            self._note_span(s, path)
        if isinstance(value, Corrected):
            self._correction(s, prop, value)

    def paragraphs(self, s: ox.NamedNode, prop: ox.NamedNode, values: list[Text], path: Path) -> None:
        """Several printed paragraphs as one literal, paragraphs separated by a line feed."""
        if not values:
            return
        joined = "\n".join(v.printed if isinstance(v, Corrected) else v for v in values)
        self.add(s, prop, lit(joined, "ja"))
        for index, value in enumerate(values):
            self._note_span(s, (*path, index))
            if isinstance(value, Corrected):
                self._correction(s, prop, value)

    def label(self, s: ox.NamedNode, text: str, lang: str = "ja") -> None:
        self.add(s, ox.NamedNode(RDFS + "label"), lit(text, lang))

    def position(self, s: ox.NamedNode, order: int) -> None:
        self.add(s, ox.NamedNode(SCHEMA + "position"), typed(order, "integer"))

    def part_of(self, child: ox.NamedNode, parent: ox.NamedNode) -> None:
        self.add(child, ox.NamedNode(DCTERMS + "isPartOf"), parent)
        self.add(parent, ox.NamedNode(DCTERMS + "hasPart"), child)

    def interpret(self, s: ox.NamedNode, local: str, o: Object) -> None:
        self.interpretation.append(ox.Triple(s, self.t.kusei(local), o))

    def editorial_add(self, s: Subject, p: ox.NamedNode, o: Object) -> None:
        self.editorial.append(ox.Triple(s, p, o))

    def editorial_kusei(self, s: Subject, local: str, o: Object) -> None:
        self.editorial_add(s, self.t.kusei(local), o)

    def _note_span(self, s: ox.NamedNode, path: Path) -> None:
        span = self.spans.get(path)
        if span is not None:
            self._lines[s].append(span)

    def _correction(self, s: ox.NamedNode, prop: ox.NamedNode, value: Corrected) -> None:
        # Blank-node ids derived from the content keep dumps byte-identical across builds.
        digest = hashlib.sha256(f"{s.value}|{prop.value}|{value.printed}".encode()).hexdigest()[:16]
        node = ox.BlankNode(f"c{digest}")
        # The printed text stays in the document graph; the correction is Kusei's reading of it.
        self.editorial_kusei(s, "correction", node)
        self.editorial_add(node, TYPE, self.t.kusei("TextCorrection"))
        self.editorial_kusei(node, "correctedProperty", prop)
        self.editorial_kusei(node, "printedText", lit(value.printed, "ja"))
        self.editorial_kusei(node, "correctedText", lit(value.corrected, "ja"))
        self.editorial_add(node, ox.NamedNode(RDFS + "comment"), lit(value.note, "en"))

    def set_lines(self, s: ox.NamedNode, first: int, last: int) -> None:
        self._lines[s] = [Span(first, last, 0, 0)]

    def printing_of(self, entity: ox.NamedNode) -> ox.NamedNode:
        return printing_iri(entity, self.document)

    def finish(self) -> None:
        for entity, spans in self._lines.items():
            if entity not in self._typed:
                continue  # a fact about a reference entity (the ward's flower): the graph is its provenance
            printing = self.printing_of(entity)
            self.kusei(entity, "sourceDocument", self.document)
            self.kusei(entity, "printing", printing)
            self.add(printing, TYPE, self.t.kusei("Printing"))
            self.add(printing, ox.NamedNode(PROV + "entity"), self.document)
            if spans:
                # xsd:integer, not xsd:positiveInteger: Oxigraph stores derived integer types as
                # xsd:integer, and the endpoint must serve the very terms of the dumps.
                self.kusei(printing, "firstLine", typed(min(s.first_line for s in spans), "integer"))
                self.kusei(printing, "lastLine", typed(max(s.last_line for s in spans), "integer"))


def printing_iri(entity: ox.NamedNode, document: ox.NamedNode) -> ox.NamedNode:
    """``<entity>#in-<docid>``: a fragment of the entity, so its page and DESCRIBE carry it."""
    return ox.NamedNode(f"{entity.value}#in-{document.value.rsplit('/', 1)[-1]}")
