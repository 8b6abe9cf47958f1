"""A document as a contributor finds it → its text, one printed line per line.

PDF: pdfminer.six for the characters and their positions, with our own reading order for
columns (chosen by measurement on Japanese two-column pages, bench/draft.md). HTML: the standard library's
html.parser, enough for headings, paragraphs, lists and tables and no new dependency;
headings are written as ``# …`` and list items as ``- …`` (markup the record checker removes),
table rows as their cells separated by tabs. Text files are read as they are.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

PDF_SUFFIXES = {".pdf"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
TEXT_SUFFIXES = {".txt", ".text", ".md"}


class ExtractError(Exception):
    """The document cannot be read (unknown kind, not UTF-8, a broken PDF)."""


def extract(path: Path) -> str:
    """The text of the document at ``path``, lines as printed, ending with a line feed."""
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        text = pdf_text(path)
    elif suffix in HTML_SUFFIXES:
        text = html_text(_read_text(path))
    elif suffix in TEXT_SUFFIXES:
        text = _read_text(path)
    else:
        raise ExtractError(f"{path.name}: unknown kind of document {suffix!r} (expected .pdf, .html or .txt)")
    text = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    text = re.sub(r"\n{4,}", "\n\n\n", text).strip("\n")
    if not text.strip():
        raise ExtractError(f"{path.name}: no text found (a scanned PDF needs OCR first)")
    return text + "\n"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractError(f"{path.name}: not UTF-8 ({exc})") from exc


def pdf_text(path: Path) -> str:
    """The lines of a PDF in reading order, columns one after the other.

    pdfminer.six finds the text lines and their boxes; the order is ours: a page is cut into
    bands at the lines that run across the gutter, and within a band the left column is read
    before the right one (bench/draft.md: the libraries' own orders interleave two columns drawn
    line by line across the page). A gap wider than a line's height is a blank line.
    """
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextContainer, LTTextLine
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException

    pages: list[str] = []
    try:
        for page in extract_pages(str(path), laparams=LAParams(line_margin=0.3)):
            lines = []
            for box in page:
                if isinstance(box, LTTextContainer):
                    for line in box:
                        if isinstance(line, LTTextLine) and line.get_text().strip():
                            lines.append(_PdfLine(line.x0, line.x1, line.y0, line.y1, line.get_text().strip("\n")))
            pages.append("\n".join(_reading_order(lines, page.width)))
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError) as exc:
        raise ExtractError(f"{path.name}: not a readable PDF ({exc})") from exc
    return "\n\n".join(pages)


class _PdfLine:
    __slots__ = ("x0", "x1", "y0", "y1", "text")

    def __init__(self, x0: float, x1: float, y0: float, y1: float, text: str) -> None:
        self.x0, self.x1, self.y0, self.y1, self.text = x0, x1, y0, y1, text


def _gutter(lines: list[_PdfLine], width: float) -> float | None:
    """The x of an empty vertical band near the middle with text on both sides, if any."""
    best = None
    for step in range(30, 71):
        x = width * step / 100
        left = sum(1 for line in lines if line.x1 <= x)
        right = sum(1 for line in lines if line.x0 >= x)
        across = sum(1 for line in lines if line.x0 < x < line.x1)
        if left >= 3 and right >= 3 and across <= max(2, len(lines) // 10):
            score = (across, abs(step - 50))
            if best is None or score < best[0]:
                best = (score, x)
    return best[1] if best else None


def _reading_order(lines: list[_PdfLine], width: float) -> list[str]:
    lines = sorted(lines, key=lambda line: (-line.y1, line.x0))
    gutter = _gutter(lines, width)
    ordered: list[list[_PdfLine]] = []
    if gutter is None:
        ordered = [lines]
    else:
        band_left: list[_PdfLine] = []
        band_right: list[_PdfLine] = []
        for line in lines:
            if line.x0 < gutter < line.x1:
                ordered += [band_left, band_right, [line]]
                band_left, band_right = [], []
            elif line.x1 <= gutter:
                band_left.append(line)
            else:
                band_right.append(line)
        ordered += [band_left, band_right]
    out: list[str] = []
    for run in ordered:
        if not run:
            continue
        heights = sorted(line.y1 - line.y0 for line in run)
        height = heights[len(heights) // 2]
        if out:
            out.append("")
        previous = None
        for line in run:
            if previous is not None and previous.y0 - line.y1 > 0.6 * height:
                out.append("")
            out.append(line.text)
            previous = line
    return out


_BLOCK = {"p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "figure",
          "figcaption", "blockquote", "dl", "dt", "dd", "ul", "ol", "table", "caption", "tr", "br", "hr",
          "h1", "h2", "h3", "h4", "h5", "h6", "li", "title", "body", "html"}
_SKIP = {"script", "style", "noscript", "template", "head"}


class _HTMLLines(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.prefix = ""
        self.skip = 0
        self.cells: list[str] | None = None
        self.cell: list[str] | None = None

    def _flush(self) -> None:
        text = re.sub(r"[ \t\n]+", " ", "".join(self.current)).strip()
        if text:
            self.lines.append(self.prefix + text)
            self.lines.append("")
        self.current = []
        self.prefix = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
            return
        if tag == "tr":
            self._flush()
            self.cells = []
        elif tag in ("td", "th") and self.cells is not None:
            self.cell = []
        elif tag in _BLOCK and self.cell is None:
            self._flush()
            if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                self.prefix = "#" * int(tag[1]) + " "
            elif tag == "li":
                self.prefix = "- "

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if tag in ("td", "th") and self.cells is not None and self.cell is not None:
            self.cells.append(re.sub(r"\s+", " ", "".join(self.cell)).strip())
            self.cell = None
        elif tag == "tr" and self.cells is not None:
            if any(self.cells):
                self.lines.append("\t".join(self.cells))
            self.cells = None
        elif tag in _BLOCK and self.cell is None:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.cell is not None:
            self.cell.append(data)
        else:
            self.current.append(data)


def html_text(html: str) -> str:
    parser = _HTMLLines()
    parser.feed(html)
    parser.close()
    parser._flush()
    return "\n".join(parser.lines)
