"""Drafts vs finished records: precision and recall per document and per kind of entity.

    python bench/draft_eval.py              # the committed documents (graph/sources vs graph/records)
    python bench/draft_eval.py --misses     # also list what each draft got wrong

Each committed document's text is drafted as `kusei draft` would draft it and compared with its
committed record (kusei.graph.draft.score). The generated test documents of other layouts are
measured by tests/unit/test_draft_layouts.py with the same comparison.
"""

from __future__ import annotations

import argparse

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    yaml = YAML(typ="safe", pure=True)
    rows = []
    for record_path in sorted(RECORDS_DIR.glob("*.yaml")):
        expected = yaml.load(record_path.read_text(encoding="utf-8"))
        source = SOURCES_DIR / expected["document"]["file"]
        draft = draft_text(source.read_text(encoding="utf-8"), expected["document"]["ward"]).record
        text = SourceText(source)
        scores = compare(draft, expected, text)
        rows.append((record_path.stem, scores))
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
