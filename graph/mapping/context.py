"""What every mapping function needs: the record, its IRIs and the emitter."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from kusei.graph.input.record import Record, RecordError
from kusei.graph.mapping.emitter import Emitter
from kusei.namespaces import Terms


@dataclass
class Context:
    record: Record
    record_file: str
    lines: dict[tuple, int]  # record field path -> YAML line, for errors
    terms: Terms
    emit: Emitter
    doc_id: str
    ward_name: str
    ward_en: str
    city_code: str
    source_line_count: int
    section_types: frozenset[str]
    bureau_keys: frozenset[str]

    @property
    def prints_issuer(self) -> bool:
        """Whether the document prints who issues it (a cover letter's issuer)."""
        return self.record.letter is not None and self.record.letter.issuer is not None

    @property
    def ward(self) -> str:
        return self.record.document.ward

    @property
    def ward_area(self) -> ox.NamedNode:
        return self.terms.area(self.ward)

    @property
    def office(self) -> ox.NamedNode:
        return self.terms.organization(self.ward)

    @property
    def document(self) -> ox.NamedNode:
        return self.terms.document(self.doc_id)

    @property
    def plan(self) -> ox.NamedNode:
        return self.terms.plan(self.ward, self.record.plan.fiscal_year.year)

    def fail(self, path: tuple, reason: str) -> None:
        field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")
        raise RecordError(self.record_file, self.lines.get(path), field, reason)
