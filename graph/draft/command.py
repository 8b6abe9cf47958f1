"""``kusei draft SOURCE --ward CODE [--year N]``: the document's text to graph/sources, a draft
record to graph/records, and a summary of what is drafted and what is left to a person."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from kusei.graph.draft import suggest
from kusei.graph.draft.draft import draft_text
from kusei.graph.draft.extract import ExtractError, extract
from kusei.graph.draft.naming import document_stem
from kusei.graph.draft.write import render
from kusei.graph.input.record import RecordErrors, load_record
from kusei.graph.input.textmatch import SourceText
from kusei.graph.input.verify import RECORDS_DIR, SOURCES_DIR, locate_all


class DraftError(Exception):
    """The draft cannot be written (unknown ward, unreadable document, a file already there)."""


@dataclass(frozen=True)
class DraftResult:
    source: Path
    record: Path
    texts: int  # printed texts drafted (each checked against the document)
    not_found: int  # must be 0: a drafted text the document does not print
    todos: int
    counts: dict[str, int]
    uncovered: list[tuple[int, str]]  # printed lines no drafted text covers
    seconds: dict[str, float]


def draft_document(document: Path, ward: str, year: int | None = None, *, sources: Path = SOURCES_DIR,
                   records: Path = RECORDS_DIR) -> DraftResult:
    if suggest.ward_name(ward) is None:
        raise DraftError(f"unknown ward code {ward!r} (see graph/reference/wards.yaml)")
    if not document.is_file():
        raise DraftError(f"{document}: no such file")
    started = time.perf_counter()
    try:
        text = extract(document)
    except ExtractError as exc:
        raise DraftError(str(exc)) from exc
    extracted = time.perf_counter()
    stem = document_stem(text, sources, records)
    source_path, record_path = sources / f"{stem}.txt", records / f"{stem}.yaml"
    for path in (source_path, record_path):
        if path.exists():
            raise DraftError(f"{path} already exists: not overwritten (remove it, or edit the record there)")
    draft = draft_text(text, ward, year)
    named = suggest.ward_named(text)
    if named is not None and named != ward:
        draft.todos[("document", "ward")] = (f"the text names {suggest.ward_name(named)} ({named}) most often, "
                                            f"not {suggest.ward_name(ward)}: check the ward code")
    yaml_text = render(draft, source_path.name)
    drafted = time.perf_counter()
    sources.mkdir(parents=True, exist_ok=True)
    records.mkdir(parents=True, exist_ok=True)
    source_path.write_text(text, encoding="utf-8")
    record_path.write_text(yaml_text, encoding="utf-8")
    try:
        record, lines = load_record(record_path)
    except RecordErrors as exc:
        # A draft that does not load is a bug of the drafter: say so, keep the files to look at.
        raise DraftError(f"the draft does not load (a drafter bug; please report it):\n{exc}") from exc
    source = SourceText(source_path)
    spans, problems = locate_all(record, lines, source, record_path.name)
    covered: set[int] = set()
    for span in spans.values():
        covered.update(range(span.first_line, span.last_line + 1))
    uncovered = [(no, line.strip()) for no, line in enumerate(source.raw.splitlines(), start=1)
                 if line.strip() and no not in covered]
    plan = draft.record["plan"]
    measures = plan.get("measures", [])
    groups = measures + plan.get("banners", [])
    counts = {
        "measures": len(measures),
        "banners": len(plan.get("banners", [])),
        "projects": sum(len(g.get("projects", [])) for g in groups),
        "items": sum(len(g.get("items", [])) + sum(len(p.get("items", [])) for p in g.get("projects", []))
                     for g in groups),
        "captions": sum(len(g.get("captions", [])) + sum(len(p.get("captions", [])) for p in g.get("projects", []))
                        for g in groups),
        "operation items": len(plan.get("operation", [])),
        "columns": len(plan.get("columns", [])),
        "sections": len(draft.record.get("sections", [])),
        "mascots": len(draft.record.get("mascots", [])),
        "contact points": len(draft.record.get("contacts", [])),
        "bureau projects": len(draft.record.get("bureau_projects", [])),
    }
    checked = time.perf_counter()
    return DraftResult(source_path, record_path, len(spans), len(problems), yaml_text.count("# TODO"),
                       counts, uncovered,
                       {"extract": extracted - started, "draft": drafted - extracted, "check": checked - drafted})


def _shown(path: Path) -> str:
    """A path as a contributor typed it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def summary(result: DraftResult, show_uncovered: int = 15) -> str:
    record = _shown(result.record)
    lines = [
        f"wrote {_shown(result.source)}",
        f"wrote {record}",
        "drafted: " + ", ".join(f"{n} {name}" for name, n in result.counts.items() if n),
        f"printed texts: {result.texts} drafted, {result.not_found} not found in the document",
        f"TODOs left: {result.todos} (grep -n TODO {record})",
        f"printed lines not covered by any drafted text: {len(result.uncovered)}",
    ]
    for no, text in result.uncovered[:show_uncovered]:
        lines.append(f"  {result.source.name}:{no}: {text[:60]}")
    if len(result.uncovered) > show_uncovered:
        lines.append(f"  … {len(result.uncovered) - show_uncovered} more")
    lines.append(f"next: fill the TODOs, then python -m kusei.graph.input.verify {record}")
    return "\n".join(lines)
