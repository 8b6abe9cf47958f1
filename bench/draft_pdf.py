"""Which library extracts a Japanese plan's PDF best: character accuracy and reading order.

    python bench/draft_pdf.py        (needs the bench extra: pypdf, pypdfium2, reportlab)

The PDFs are the test plan of tests/unit/draft_plans.py printed in one and two columns with a
Japanese CID font. For each extractor:
- characters: similarity of the extracted text to the printed text, white space aside
  (difflib ratio; 1.00 = every character right and in order);
- order: the share of printed lines found in the printed order (longest increasing run of
  their positions in the extracted text / printed lines); two columns read line by line across
  the page, interleaved, score low;
- wave dashes: ～ (U+FF5E) printed, 〜 (U+301C) extracted is the CID font's mapping, counted apart.
"""

from __future__ import annotations

import bisect
import difflib
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "unit"))

import draft_plans  # noqa: E402


def pdfminer_default(path: Path) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(str(path))


def pdfminer_flow(boxes_flow: float | None) -> Callable[[Path], str]:
    def run(path: Path) -> str:
        from pdfminer.high_level import extract_text
        from pdfminer.layout import LAParams

        return extract_text(str(path), laparams=LAParams(boxes_flow=boxes_flow))
    return run


def pypdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def pypdf_layout(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text(extraction_mode="layout") or "" for page in PdfReader(str(path)).pages)


def pypdfium2_text(path: Path) -> str:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))


def pdfminer_margin(path: Path) -> str:
    from pdfminer.high_level import extract_text
    from pdfminer.layout import LAParams

    return extract_text(str(path), laparams=LAParams(line_margin=1.2, boxes_flow=None))


def pdfplumber_text(path: Path) -> str:
    import pdfplumber

    with pdfplumber.open(str(path)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def kusei_pdf(path: Path) -> str:
    from kusei.graph.draft.extract import pdf_text

    return pdf_text(path)


EXTRACTORS: dict[str, Callable[[Path], str]] = {
    "kusei draft (pdfminer.six lines, column order of its own)": kusei_pdf,
    "pdfminer.six (default LAParams)": pdfminer_default,
    "pdfminer.six (boxes_flow=None)": pdfminer_flow(None),
    "pdfminer.six (boxes_flow=-0.5)": pdfminer_flow(-0.5),
    "pdfminer.six (line_margin=1.2, boxes_flow=None)": pdfminer_margin,
    "pdfplumber": pdfplumber_text,
    "pypdf": pypdf_text,
    "pypdf (layout mode)": pypdf_layout,
    "pypdfium2": pypdfium2_text,
}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("〜", "～")


def order_score(printed: list[str], extracted: str) -> float:
    flat = _squash(extracted)
    positions = []
    for line in printed:
        position = flat.find(_squash(line))
        if position >= 0:
            positions.append(position)
    run: list[int] = []
    for position in positions:
        index = bisect.bisect_left(run, position)
        if index == len(run):
            run.append(position)
        else:
            run[index] = position
    return len(run) / len(printed)


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for columns in (1, 2):
            pdf = Path(tmp) / f"plan-{columns}.pdf"
            draft_plans.write_pdf(pdf, columns=columns)
            size = pdf.stat().st_size
            width = int(((595.27 - 80 - 20 * (columns - 1)) / columns) // 9)
            printed = [line for line in draft_plans.text_lines(draft_plans.TEXT_LAYOUTS[0], width=width)
                       if len(line.strip()) >= 4 and "\t" not in line and not line.startswith("【参考】")]
            printed_text = _squash("".join(printed))
            for name, extractor in EXTRACTORS.items():
                try:
                    started = time.perf_counter()
                    text = extractor(pdf)
                    seconds = time.perf_counter() - started
                except Exception as exc:  # noqa: BLE001 - a library failing is a result here
                    rows.append((columns, name, f"failed: {exc}", "", "", ""))
                    continue
                got = _squash(text)
                ratio = difflib.SequenceMatcher(None, printed_text, got, autojunk=False).ratio()
                rows.append((columns, name, f"{ratio:.3f}", f"{order_score(printed, text):.3f}",
                             str(text.count("〜")), f"{seconds:.2f}"))
            print(f"({columns} column{'s' if columns > 1 else ''}: {size} bytes, {len(printed)} printed lines)")
    print("| columns | extractor | characters | order | 〜 for ～ | seconds |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
