"""A document as a contributor finds it → its text, one printed line per line.

PDF: pdfminer.six (chosen by measurement on Japanese two-column pages, bench/draft.md): its
layout analysis groups characters into text boxes, so the lines of two columns printed side by
side come out column by column instead of interleaved. HTML: the standard library's
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
    from pdfminer.high_level import extract_text
    from pdfminer.layout import LAParams
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        # boxes_flow=None orders text boxes top-down then left-right within each column band;
        # line_margin keeps a paragraph's lines in one box.
        text = extract_text(str(path), laparams=LAParams(line_margin=0.5, boxes_flow=0.5))
    except (PDFSyntaxError, ValueError, KeyError) as exc:
        raise ExtractError(f"{path.name}: not a readable PDF ({exc})") from exc
    # pdfminer ends each page with a form feed.
    return text.replace("\f", "\n\n")


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
