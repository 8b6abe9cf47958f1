"""Drafts vs finished records: precision and recall per document and per kind of entity.

    python bench/draft_eval.py              # the committed documents (graph/sources vs graph/records)
    python bench/draft_eval.py --misses     # also list what each draft got wrong
    python bench/draft_eval.py --layouts    # the test plan in other layouts (text, HTML, PDF)

Each committed document's text is drafted as `kusei draft` would draft it and compared with its
committed record (kusei.graph.draft.score). With --layouts, the plan written for the tests
(tests/unit/draft_plans.py) is printed in each layout, drafted through `kusei draft`'s own code
(extraction included) into a temporary directory, and compared with its expected record;
tests/unit/test_draft.py asserts the targets on the same drafts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from ruamel.yaml import YAML

from kusei.graph.draft.draft import draft_text
from kusei.graph.draft.score import KINDS, compare, misses
from kusei.graph.input.textmatch import SourceText
from kusei.graph.input.verify import RECORDS_DIR, SOURCES_DIR


def table(rows: list[tuple[str, dict]]) -> str:
    head = "| document | " + " | ".join(kind.replace("_", " ") for kind in KINDS) + " |"
    lines = [head, "|---" * (len(KINDS) + 1) + "|"]
    for name, scores in rows:
        cells = []
        for kind in KINDS:
            s = scores[kind]
            if s.expected == 0 and s.drafted == 0:
                cells.append("–")
            else:
                cells.append(f"P {s.precision:.2f} R {s.recall:.2f} ({s.matched}/{s.drafted}/{s.expected})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def layouts() -> list[tuple[str, dict]]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "unit"))
    import draft_plans

    from kusei.graph.draft.command import draft_document

    yaml = YAML(typ="safe", pure=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        documents: list[tuple[str, Path, dict]] = []
        for layout in draft_plans.TEXT_LAYOUTS:
            path = work / f"{layout.name}.txt"
            path.write_text("\n".join(draft_plans.text_lines(layout)) + "\n", encoding="utf-8")
            documents.append((f"text {layout.name}", path,
                              draft_plans.expected(layout.numbering, projects_as_list=layout.bullet == "・")))
        path = work / "plan.html"
        path.write_text(draft_plans.html_page(), encoding="utf-8")
        documents.append(("HTML page", path, draft_plans.expected("dot")))
        for columns in (1, 2):
            path = work / f"plan-{columns}.pdf"
            draft_plans.write_pdf(path, columns=columns)
            documents.append((f"PDF, {columns} column{'s' if columns > 1 else ''}", path,
                              draft_plans.expected("fullwidth", with_bureaus=False)))
        # Two documents written by hand after the rules were settled, each with its expected record.
        here = Path(__file__).resolve().parent.parent / "tests" / "unit" / "draft_docs"
        for path in sorted(here.glob("*.expected.yaml")):
            document = next(p for p in here.glob(path.name.replace(".expected.yaml", ".*")) if p != path)
            documents.append((f"by hand: {document.name}", document, yaml.load(path.read_text(encoding="utf-8"))))
        for index, (name, path, expected) in enumerate(documents):
            ward = expected["document"]["ward"]
            result = draft_document(path, ward, sources=work / f"s{index}", records=work / f"r{index}")
            draft = yaml.load(result.record.read_text(encoding="utf-8"))
            rows.append((f"{name} ({result.not_found} not found)", compare(draft, expected, SourceText(result.source))))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true")
    parser.add_argument("--layouts", action="store_true")
    args = parser.parse_args()
    if args.layouts:
        print("(matched/drafted/expected)")
        print(table(layouts()))
        return 0
    yaml = YAML(typ="safe", pure=True)
    rows = []
    areas = [0, 0, 0]
    for record_path in sorted(RECORDS_DIR.glob("*.yaml")):
        expected = yaml.load(record_path.read_text(encoding="utf-8"))
        source = SOURCES_DIR / expected["document"]["file"]
        draft = draft_text(source.read_text(encoding="utf-8"), expected["document"]["ward"]).record
        text = SourceText(source)
        scores = compare(draft, expected, text)
        rows.append((record_path.stem, scores))
        chosen = {(str(m.get("number")), str(m["title"])): set(m["policy_areas"]) for m in expected["plan"]["measures"]}
        for measure in draft["plan"]["measures"]:
            want = chosen.get((str(measure.get("number")), str(measure["title"])))
            if want is not None:
                got = set(measure["policy_areas"])
                areas[0] += len(got & want)
                areas[1] += len(got)
                areas[2] += len(want)
        if args.misses:
            print(f"## {record_path.stem}")
            for kind in KINDS:
                extra, missing = misses(draft, expected, kind, text)
                for entry in extra:
                    print(f"  {kind} drafted, not expected: {entry}")
                for entry in missing:
                    print(f"  {kind} expected, not drafted: {entry}")
    print("(matched/drafted/expected)")
    print(table(rows))
    matched, suggested, chosen = areas
    print(f"policy areas suggested (TODO) vs chosen in the records, over the measures found: "
          f"P {matched / suggested:.2f} R {matched / chosen:.2f} ({matched}/{suggested}/{chosen})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
