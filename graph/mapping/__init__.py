"""Record → RDF: one named graph per document, plus Kusei's interpretations of it."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

import pyoxigraph as ox

from kusei.graph.input.record import Record
from kusei.graph.input.reference import Reference
from kusei.graph.input.textmatch import SourceText, Span
from kusei.graph.input.verify import doc_id_of
from kusei.graph.mapping import organisation, plan, ward_news
from kusei.graph.mapping.context import Context
from kusei.graph.mapping.emitter import Emitter
from kusei.graph.mapping.entailment import entailed
from kusei.namespaces import TYPE, Terms


@dataclass(frozen=True)
class MappedDocument:
    doc_id: str
    record_file: str
    graph: ox.NamedNode
    quads: list[ox.Quad]
    interpretation: list[ox.Triple]
    editorial: list[ox.Triple]

    def classes(self, vocab: str) -> dict[str, int]:
        """Entities per class of the vocabulary ``vocab`` (local names, sorted), for the build's summary."""
        types = Counter(q.object.value.rsplit("/", 1)[-1] for q in self.quads
                        if q.predicate == TYPE and isinstance(q.object, ox.NamedNode)
                        and q.object.value.startswith(vocab))
        return dict(sorted(types.items()))


def map_record(record: Record, record_file: str, lines: dict[tuple, int], spans: dict[tuple, Span],
               source: SourceText, terms: Terms, reference: Reference) -> MappedDocument:
    doc_id = doc_id_of(record.document.file)
    graph = terms.graph(f"document/{doc_id}")
    ward = reference.ward(record.document.ward)
    if ward is None:
        raise reference.unknown_ward(record_file, lines.get(("document", "ward")), record.document.ward)
    cx = Context(
        record=record, record_file=record_file, lines=lines, terms=terms,
        emit=Emitter(terms, graph, terms.document(doc_id), spans), doc_id=doc_id,
        ward_name=ward["name"], ward_en=ward["en"], city_code=reference.city["code"],
        source_line_count=len(source.raw.splitlines()),
        section_types=reference.section_keys, bureau_keys=reference.bureau_keys,
    )
    organisation.map_document(cx, hashlib.sha256(source.raw.encode("utf-8")).hexdigest())
    organisation.map_letter(cx)
    plan.map_plan(cx)
    organisation.map_mascots(cx)
    organisation.map_sections(cx)
    organisation.map_contacts(cx)
    organisation.map_accounts(cx)
    ward_news.map_population(cx)
    ward_news.map_ward_symbols(cx)
    ward_news.map_bureau_projects(cx)
    ward_news.map_facility_projects(cx)
    ward_news.map_campaigns(cx)
    ward_news.map_notices(cx)
    cx.emit.finish()
    quads = cx.emit.quads + entailed(cx.emit.quads, terms)
    return MappedDocument(doc_id, record_file, graph, quads, cx.emit.interpretation, cx.emit.editorial)
