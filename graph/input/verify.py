"""Checking records against their documents and the reference tables, before anything is mapped.

``python -m kusei.graph.input.verify`` checks every record in ``graph/records/`` against
``graph/sources/``; ``python -m kusei.graph.input.verify RECORD.yaml …`` checks some of them, and
``--input DIR`` a copy of the graph input (``DIR/records``, ``DIR/sources``, ``DIR/reference``).
The build runs the same checks (:func:`check_input`), so what passes here passes the build's first
step. Every error is ``file:line: field: reason`` and says what to do; the exit status is 1 if
there is one. Lines of a document that no record text covers are listed as notes, not errors.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from kusei.graph.input.record import Corrected, Project, Record, RecordError, RecordErrors, load_record
from kusei.graph.input.reference import REFERENCE_DIR, Reference
from kusei.graph.input.textmatch import SourceText, Span, squash
from kusei.namespaces import measure_key

# String fields that hold Kusei's own words or codes, not printed text. (Numbers and dates are
# never texts; listing them here would also hide models that share their name.)
EDITORIAL_FIELDS = frozenset(
    {"origin", "licence", "reason", "note", "key", "ref", "section", "service", "measure",
     "number", "marker", "file", "ward", "kind", "theme", "policy_areas", "bureaus", "supersedes"}
)

GRAPH_DIR = Path(__file__).resolve().parent.parent
SOURCES_DIR = GRAPH_DIR / "sources"
RECORDS_DIR = GRAPH_DIR / "records"
SOURCE_SUFFIX = ".txt"

# Japanese era years as printed in a fiscal year (令和6年度, 平成26年度, 令和元年度).
_ERAS = {"令和": 2018, "平成": 1988}
_ERA_YEAR = re.compile(r"(令和|平成)\s*(元|[0-9０-９]{1,2})\s*年度")
# A printed line that opens with an enumerator or a bracket: I, Ⅱ, 1, １, (1), ①, 【, ★, ■ …
_ENUMERATOR = re.compile(r"^(?:[IVXⅠ-Ⅻ]+|[0-9０-９]+|[(（][0-9０-９]+[)）]|[①-⑳])[\s.．、]*"
                         r"|^[【〔［《<＜★☆■□◆◇●○※]")
# Headings and labels are short and are not sentences (see :func:`uncovered_lines`).
HEADING_CHARS = 20
PARTIAL_RUN = 4  # uncovered characters in a row, within a covered line, worth a note


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


def field_name(path: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else ("." if i else "") + str(p) for i, p in enumerate(path))


def _char(c: str) -> str:
    return f"{c!r} (U+{ord(c):04X})"


def _common(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def nearest(source: SourceText, text: str, near: int | None) -> str:
    """Where the printed text nearest to ``text`` is, and the first character that differs."""
    joined = source.joined

    def longest(candidates: Iterator[str]) -> str:
        best = ""
        for candidate in candidates:
            if candidate in joined:
                best = candidate
            else:
                break
        return best

    # Every prefix of a printed prefix is printed too: halve towards the longest one.
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if text[:middle] in joined:
            low = middle
        else:
            high = middle - 1
    prefix = text[:low]
    if low == 0:
        suffix = longest(text[-k:] for k in range(1, len(text) + 1))
        if not suffix:
            return "no part of it is printed in the document; check document.file"
        spans = source.find_all(suffix)
        span = min(spans, key=lambda s: abs(s.first_line - near)) if near else spans[0]
        return (f"its end {suffix[:40]!r} is printed at line {span.first_line}, but not what comes before; "
                f"the print has {joined[max(0, span.start - 20):span.start]!r} before it")
    spans = source.find_all(prefix)
    rest = text[low:]

    def agreement(span: Span) -> int:
        # How far the record goes on agreeing past the first difference (one character changed,
        # added or left out): the occurrence that agrees longest is the one meant.
        after = joined[span.end:span.end + len(rest) + 1]
        return max(_common(rest[1:], after[1:]), _common(rest[1:], after), _common(rest, after[1:]))

    span = max(spans[:200], key=lambda s: (agreement(s), -abs(s.first_line - near) if near else 0))
    at = span.end
    printed_from = joined[span.start:min(len(joined), at + 20)]
    if at >= len(joined):
        return f"the document ends after {prefix[-30:]!r} (line {span.last_line})"
    line = source.line_of(at)
    return (f"nearest printed text, line {line}: {printed_from!r}; first difference at character {low + 1}: "
            f"the record has {_char(text[low])}, the print {_char(joined[at])}")


def locate_all(
    record: Record, lines: dict[tuple, int], source: SourceText, file: str
) -> tuple[dict[tuple, Span], list[RecordError]]:
    """The span of every printed text, and an error for each text not found in the document."""
    spans: dict[tuple, Span] = {}
    problems: list[RecordError] = []
    for item in printed_texts(record):
        span = source.locate(item.text, near=item.hint)
        if span is None:
            problems.append(RecordError(
                file, lines.get(item.path), field_name(item.path),
                f"text not found in {source.path.name}: {item.text[:60]!r}; {nearest(source, item.text, item.hint)}. "
                "Copy the text as printed (only line breaks may be left out); if the print has a slip, "
                "write {printed: <as printed>, corrected: <fixed>, note: <why>}"))
        else:
            spans[item.path] = span
    return spans, problems


def check_numbers(record: Record, file: str, lines: dict[tuple, int]) -> list[RecordError]:
    """Measure numbers are unique within a plan (the IRIs depend on it)."""
    seen: dict[str, int] = {}
    problems = []
    for index, measure in enumerate(record.plan.measures):
        if measure.number is None:
            continue
        key = measure_key(measure.number)
        where = lines.get(("plan", "measures", index, "number"))
        if not key.isascii() or not key.isalnum():
            problems.append(RecordError(file, where, f"plan.measures[{index}].number",
                                        f"{measure.number!r} is not a number; "
                                        "write the number printed before the title"))
        if key in seen:
            problems.append(RecordError(file, where, f"plan.measures[{index}].number",
                                        f"duplicate measure number {measure.number!r} (also measures[{seen[key]}]); "
                                        "each measure needs its own number, or none if it is unnumbered"))
        seen[key] = index
    return problems


def _valid(keys: list[str]) -> str:
    return ", ".join(sorted(keys))


def check_keys(record: Record, file: str, lines: dict[tuple, int], reference: Reference) -> list[RecordError]:
    """Every reference key names an entry of its table; the error lists the valid ones."""
    problems: list[RecordError] = []

    def check(path: tuple, key: str | None, valid: list[str], table: str) -> None:
        if key is not None and key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(RecordError(file, lines.get(path) or lines.get(path[:-1]), field_name(path),
                                        f"unknown key {key!r}{hint}; valid keys ({table}): {_valid(valid)}. "
                                        f"Use one of them, or add the entry to graph/reference/{table}"))

    areas = [a["key"] for a in reference.policy_areas]
    perspectives = [p["key"] for p in reference.mtp["perspectives"]]
    sections = sorted(reference.section_keys)
    bureaus = sorted(reference.bureau_keys)
    plan = record.plan
    for i, measure in enumerate(plan.measures):
        for j, key in enumerate(measure.policy_areas):
            check(("plan", "measures", i, "policy_areas", j), key, areas, "policy_areas.yaml")
        for j, citation in enumerate(measure.mtp_basic_strategy):
            check(("plan", "measures", i, "mtp_basic_strategy", j, "ref"), citation.ref, perspectives, "mtp.yaml")
    for i, banner in enumerate(plan.banners):
        for j, key in enumerate(banner.policy_areas):
            check(("plan", "banners", i, "policy_areas", j), key, areas, "policy_areas.yaml")
    for i, section in enumerate(record.sections):
        check(("sections", i, "key"), section.key, sections, "section_types.yaml")
    for i, contact in enumerate(record.contacts):
        check(("contacts", i, "section"), contact.section, sections, "section_types.yaml")
    for i, bureau_project in enumerate(record.bureau_projects):
        for j, key in enumerate(bureau_project.bureaus):
            check(("bureau_projects", i, "bureaus", j), key, bureaus, "bureaus.yaml")
    # A Medium-Term Plan reference's numbers are the ones its printed form gives.
    for path, project in _projects(record):
        if project.mtp is None:
            continue
        digits = {int(n) for n in re.findall(r"[0-9]+", unicodedata.normalize("NFKC", _printed(project.mtp.printed)))}
        numbers = [int(project.mtp.theme)] if project.mtp.theme else []
        numbers += [project.mtp.strategy] if project.mtp.strategy else []
        for number in [*numbers, *project.mtp.policies]:
            if number not in digits:
                problems.append(RecordError(
                    file, lines.get((*path, "mtp")), field_name((*path, "mtp")),
                    f"{number} is not in the printed reference {_printed(project.mtp.printed)!r}; "
                    "theme, strategy and policies are the numbers it prints"))
    return problems


def _printed(text: str | Corrected) -> str:
    return text.printed if isinstance(text, Corrected) else text


def _projects(record: Record) -> Iterator[tuple[tuple, Project]]:
    for i, measure in enumerate(record.plan.measures):
        for j, project in enumerate(measure.projects):
            yield ("plan", "measures", i, "projects", j), project
    for i, banner in enumerate(record.plan.banners):
        for j, project in enumerate(banner.projects):
            yield ("plan", "banners", i, "projects", j), project


def ward_names(text: str, reference: Reference) -> dict[str, int]:
    """How often the document names each ward (longest names first: 港南区 is not also 南区)."""
    counts: dict[str, int] = {}
    for code, ward in sorted(reference.wards.items(), key=lambda item: -len(item[1]["name"])):
        name = ward["name"]
        counts[code] = text.count(name)
        text = text.replace(name, "\0")
    return counts


def check_ward(record: Record, file: str, lines: dict[tuple, int], source: SourceText,
               reference: Reference) -> list[RecordError]:
    code = record.document.ward
    where = lines.get(("document", "ward"))
    ward = reference.ward(code)
    if ward is None:
        valid = ", ".join(f"{c} {w['name']}" for c, w in sorted(reference.wards.items()))
        return [RecordError(file, where, "document.ward",
                            f"{code} is not a Yokohama ward code; valid codes (wards.yaml): {valid}")]
    counts = ward_names(source.joined, reference)
    most = max(counts.values())
    if counts[code] == most:  # a text that names no ward has nothing to contradict the code
        return []
    by_count = sorted(counts.items(), key=lambda item: -item[1])
    named = ", ".join(f"{reference.wards[c]['name']} {c} ×{n}" for c, n in by_count if n)
    return [RecordError(file, where, "document.ward",
                        f"{code} is {ward['name']}, but the document names {named}; "
                        "write the code of the ward whose plan this is")]


def era_year(printed: str) -> int | None:
    match = _ERA_YEAR.search(unicodedata.normalize("NFKC", printed))
    if match is None:
        return None
    number = 1 if match.group(2) == "元" else int(unicodedata.normalize("NFKC", match.group(2)))
    return _ERAS[match.group(1)] + number


def check_year(record: Record, file: str, lines: dict[tuple, int]) -> list[RecordError]:
    fiscal = record.plan.fiscal_year
    path = ("plan", "fiscal_year")
    where = lines.get((*path, "printed")) or lines.get(path)
    if fiscal.printed is None:
        if not fiscal.inferred or not fiscal.reason:
            return [RecordError(file, where, "plan.fiscal_year",
                                "no printed year: write printed: <the year as printed>, or, if the document "
                                "prints none, inferred: true and the reason")]
        return []
    year = era_year(_printed(fiscal.printed))
    if year is None:
        return [RecordError(file, where, "plan.fiscal_year.printed",
                            f"{_printed(fiscal.printed)!r} is not a fiscal year in the 令和N年度/平成N年度 form")]
    if year != fiscal.year:
        return [RecordError(file, lines.get((*path, "year")) or where, "plan.fiscal_year.year",
                            f"{fiscal.year} does not match the printed {_printed(fiscal.printed)!r} (FY{year}); "
                            "write the year the print gives")]
    return []


def uncovered_lines(source: SourceText, spans: list[Span]) -> list[tuple[int, str]]:
    """Printed lines (or long stretches of lines) that no record text covers, headings and repeats aside.

    A *heading* is a line of at most HEADING_CHARS characters without a full stop (。) that opens
    with an enumerator or bracket (I, Ⅱ, 1, (1), ①, 【, ★ …) or is printed more than once (a running
    label such as 主な取組). A *repeat* is a line each of whose space-separated pieces, enumerator
    aside, is part of a text the record already holds (a measure's title and tagline printed again
    above its projects).
    """
    covered = bytearray(len(source.joined))
    for span in spans:
        covered[span.start:span.end] = b"\1" * (span.end - span.start)
    recorded = "\0".join(squash(source.joined[s.start:s.end]) for s in spans)
    found: list[tuple[int, str]] = []
    for number, (start, end) in enumerate(source.line_offsets, start=1):
        text = source.joined[start:end]
        if not text:
            continue
        if not any(covered[start:end]):
            short = len(squash(text)) <= HEADING_CHARS and "。" not in text
            if short and (_ENUMERATOR.match(text) or len(source.find_all(text)) > 1):
                continue
            pieces = [squash(piece) for piece in _ENUMERATOR.sub("", text).split()]
            if pieces and all(piece in recorded for piece in pieces):
                continue
            found.append((number, text))
            continue
        run = ""
        for offset in range(start, end + 1):
            if offset < end and not covered[offset]:
                run += source.joined[offset]
                continue
            if len(squash(run)) >= PARTIAL_RUN:
                found.append((number, f"… {run.strip()} …"))
            run = ""
    return found


@dataclass
class Checked:
    """A record that passed every check, with what the mapping needs."""

    path: Path
    record: Record
    lines: dict[tuple, int]
    source: SourceText
    spans: dict[tuple, Span]


@dataclass
class Outcome:
    checked: list[Checked] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # lines no record text covers
    # Placeholders a draft left (``TODO: …`` values): a draft passes verify as written, but the
    # build refuses to publish a record until a person has replaced them.
    todos: list[RecordError] = field(default_factory=list)


def check_record(path: Path, sources_dir: Path, reference: Reference, outcome: Outcome) -> None:
    try:
        record, lines = load_record(path)
    except RecordErrors as exc:
        outcome.errors.extend(exc.errors)
        return
    file = path.name
    source_path = sources_dir / record.document.file
    if not record.document.file.endswith(SOURCE_SUFFIX) or "/" in record.document.file:
        outcome.errors.append(RecordError(
            file, lines.get(("document", "file")), "document.file",
            f"{record.document.file!r}: a source is a text file in {sources_dir.name}/, "
            f"named <nnn>_<id>{SOURCE_SUFFIX}"))
        return
    if not source_path.is_file():
        outcome.errors.append(RecordError(
            file, lines.get(("document", "file")), "document.file",
            f"no source document {record.document.file} in {sources_dir.name}/; add the document's text "
            "there under that name, or correct the name"))
        return
    source = SourceText(source_path)
    spans, problems = locate_all(record, lines, source, file)
    problems += check_numbers(record, file, lines)
    problems += check_keys(record, file, lines, reference)
    problems += check_ward(record, file, lines, source, reference)
    problems += check_year(record, file, lines)
    outcome.errors.extend(problems)
    outcome.todos.extend(placeholders(record, file, lines))
    outcome.notes.extend(f"{source.path.name}:{number}: (coverage): no record text covers {text[:80]!r}"
                         for number, text in uncovered_lines(source, list(spans.values())))
    if not problems:
        outcome.checked.append(Checked(path, record, lines, source, spans))


TODO_MARK = "TODO"


def placeholders(node: object, file: str, lines: dict[tuple, int], path: tuple = ()) -> Iterator[RecordError]:
    """Every string value of a record that is still a draft's ``TODO: …`` placeholder."""
    if isinstance(node, str):
        if node.lstrip().startswith(TODO_MARK):
            where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")
            yield RecordError(file, lines.get(path), where,
                              f"still a placeholder ({node[:60]!r}); replace it with what you found out")
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from placeholders(getattr(node, name), file, lines, (*path, name))
    elif isinstance(node, list | tuple):
        for index, item in enumerate(node):
            yield from placeholders(item, file, lines, (*path, index))
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from placeholders(item, file, lines, (*path, key))


def plan_key(record: Record) -> str:
    return f"{record.document.ward}/{record.plan.fiscal_year.year}"


def doc_id_of(file_name: str) -> str:
    """``000_a9155f3b6863ac96.txt`` → ``a9155f3b6863ac96``: the stable part of the file name."""
    return file_name.rsplit(".", 1)[0].split("_", 1)[-1]


def check_input(paths: list[Path], sources_dir: Path, reference: Reference, *, whole: bool = True,
                published: dict[str, str] | None = None) -> Outcome:
    """Check the records ``paths`` against ``sources_dir`` and ``reference``.

    ``whole``: the records are all the input, so every source must have a record. ``published``:
    the plans of the release now published (``ward/year`` → document id): a record for one of them
    from another document must say ``supersedes:`` that document.
    """
    outcome = Outcome()
    for path in paths:
        check_record(path, sources_dir, reference, outcome)
    plans: dict[str, str] = {}
    for checked in outcome.checked:
        record, lines, file = checked.record, checked.lines, checked.path.name
        key = plan_key(record)
        where = lines.get(("plan", "fiscal_year", "year")) or lines.get(("plan", "fiscal_year"))
        if key in plans:
            outcome.errors.append(RecordError(
                file, where, "plan.fiscal_year",
                f"plan {key} is also described by {plans[key]}; one record per ward and year: if this "
                f"document replaces that one, remove the older record and its source and write "
                f"document.supersedes: {doc_id_of(_record_source(outcome, plans[key]))}"))
        plans[key] = file
        doc_id = doc_id_of(record.document.file)
        before = (published or {}).get(key)
        if before is not None and before != doc_id and record.document.supersedes != before:
            outcome.errors.append(RecordError(
                file, lines.get(("document", "supersedes")) or lines.get(("document", "ward")), "document.supersedes",
                f"plan {key} is already published from document {before}; if this document replaces it, "
                f"write document.supersedes: {before}; if not, check document.ward and plan.fiscal_year"))
    if whole:
        named = {c.record.document.file for c in outcome.checked}
        named |= {_source_named(p) for p in paths}
        for source in sorted(sources_dir.glob(f"*{SOURCE_SUFFIX}")):
            if source.name not in named:
                outcome.errors.append(RecordError(
                    f"{sources_dir.name}/{source.name}", None, "(file)",
                    "no record names this source document, so it would be published without a plan; "
                    f"write graph/records/{source.stem}.yaml (document.file: {source.name}) or remove it"))
    return outcome


def _record_source(outcome: Outcome, record_file: str) -> str:
    return next(c.record.document.file for c in outcome.checked if c.path.name == record_file)


def _source_named(path: Path) -> str:
    # A record that failed to load still names its source (when its `file:` line is readable), so
    # a typo elsewhere in it is not also reported as a source without a record.
    try:
        with path.open("rb") as handle:
            text = handle.read(4096).decode("utf-8", errors="replace")
    except OSError:
        return ""
    match = re.search(r"^\s+file:\s*['\"]?([^'\"\s#]+)", text, re.MULTILINE)
    return match.group(1) if match else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kusei.graph.input.verify",
        description="Check source records against their documents and the reference tables: every printed "
                    "text found as printed, reference keys, ward, fiscal year, one record per source. "
                    "Errors are file:line: field: reason; lines no record covers are listed as notes.")
    parser.add_argument("records", nargs="*", type=Path,
                        help="record files to check (default: every record of the input, and every source "
                             "must then have a record)")
    parser.add_argument("--input", type=Path, default=None,
                        help="a graph input directory holding records/, sources/ and reference/ "
                             "(default: the repository's graph/)")
    parser.add_argument("-q", "--quiet", action="store_true", help="errors only, no coverage notes")
    args = parser.parse_args(argv)
    base = args.input
    records_dir = base / "records" if base else RECORDS_DIR
    sources_dir = base / "sources" if base else SOURCES_DIR
    reference_dir = base / "reference" if base and (base / "reference").is_dir() else REFERENCE_DIR
    paths = list(args.records) or sorted(records_dir.glob("*.yaml"))
    if not paths:
        print(f"no records in {records_dir}", file=sys.stderr)
        return 1
    missing = [p for p in paths if not p.is_file()]
    if missing:
        print("\n".join(f"{p}: no such record file" for p in missing), file=sys.stderr)
        return 1
    try:
        reference = Reference(reference_dir)
    except RecordErrors as exc:
        print(exc)
        return 1
    outcome = check_input(paths, sources_dir, reference, whole=not args.records)
    if not args.quiet:
        for note in outcome.notes:
            print(note)
    for todo in outcome.todos:
        print(f"{todo} (to fill before the build publishes it)")
    for error in outcome.errors:
        print(error)
    print(f"{len(paths)} record(s): {len(outcome.checked)} passed, {len(outcome.errors)} error(s), "
          f"{len(outcome.todos)} placeholder(s) to fill, {len(outcome.notes)} line(s) not covered (notes)")
    return 1 if outcome.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
