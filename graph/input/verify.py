"""Checking a record against its document: every printed text must be found in it.

Run ``python -m kusei.graph.input.verify graph/records/<file>.yaml`` while editing a record: it lists every
text that is not found, with the record line and field, and exits non-zero.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from kusei.graph.input.record import Corrected, Record, RecordError, RecordErrors, load_record
from kusei.graph.input.textmatch import SourceText, Span

# String fields that hold Kusei's own words or codes, not printed text. (Numbers and dates are
# never texts; listing them here would also hide models that share their name.)
EDITORIAL_FIELDS = frozenset(
    {"origin", "licence", "reason", "note", "key", "ref", "section", "service", "measure",
     "number", "marker", "file", "ward", "kind", "theme", "policy_areas", "bureaus"}
)

GRAPH_DIR = Path(__file__).resolve().parent.parent
SOURCES_DIR = GRAPH_DIR / "sources"
RECORDS_DIR = GRAPH_DIR / "records"


@dataclass(frozen=True)
class PrintedText:
    path: tuple  # field path inside the record
    text: str
    hint: int | None  # the enclosing entity's line hint


def printed_texts(node: BaseModel, path: tuple = (), hint: int | None = None) -> Iterator[PrintedText]:
    """Every printed text in a record, in record order, with its field path."""
    hint = getattr(node, "line", None) or hint
    for name in type(node).model_fields:
        if name in EDITORIAL_FIELDS:
            continue
        value = getattr(node, name)
        yield from _texts_in(value, (*path, name), hint)


def _texts_in(value: object, path: tuple, hint: int | None) -> Iterator[PrintedText]:
    if isinstance(value, Corrected):
        yield PrintedText(path, value.printed, hint)
    elif isinstance(value, str):
        yield PrintedText(path, value, hint)
    elif isinstance(value, BaseModel):
        yield from printed_texts(value, path, hint)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts_in(item, (*path, index), hint)


def locate_all(
    record: Record, lines: dict[tuple, int], source: SourceText, file: str
) -> tuple[dict[tuple, Span], list[RecordError]]:
    """The span of every printed text, and an error for each text not found in the document."""
    spans: dict[tuple, Span] = {}
    problems: list[RecordError] = []
    for item in printed_texts(record):
        span = source.locate(item.text, near=item.hint)
        if span is None:
            field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in item.path)
            problems.append(
                RecordError(file, lines.get(item.path), field.replace(".[", "["),
                            f"text not found in {source.path.name}: {item.text[:60]!r}")
            )
        else:
            spans[item.path] = span
    return spans, problems


def main(argv: list[str] | None = None) -> int:
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])]
    if not paths:
        paths = sorted(RECORDS_DIR.glob("*.yaml"))
    failed = False
    for path in paths:
        try:
            record, lines = load_record(path)
        except RecordErrors as exc:
            print(exc)
            failed = True
            continue
        source = SourceText(SOURCES_DIR / record.document.file)
        spans, problems = locate_all(record, lines, source, path.name)
        for problem in problems:
            print(problem)
        failed = failed or bool(problems)
        print(f"{path.name}: {len(spans)} texts found, {len(problems)} not found")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
