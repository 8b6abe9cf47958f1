"""Finding a printed text in a source document, and the lines it stands on.

The documents are text extracted from PDFs: sentences are broken across lines, list markers
and markdown/HTML markup were added by the extraction. A literal matches the document when it
equals a stretch of the document's lines joined with nothing between them, once that markup and
the white space at the ends of each line are removed: white space inside a line is compared as
printed, and the literal keeps the printed characters (no width folding, no spelling changes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# Markup the extraction added around the printed text, not part of it.
_LINE_MARKUP = re.compile(r"^\s*(?:#{1,6}\s+|-\s+|<p>)")
_INLINE_MARKUP = re.compile(r"\*\*|</?p>")
_AUTOLINK = re.compile(r"<(https?://[^\s<>]+)>")
_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    """The loose form of a text: markup and all white space removed (used to suggest, never to match)."""
    return _SPACE.sub("", _INLINE_MARKUP.sub("", _AUTOLINK.sub(r"\1", text)))


def unmarked(line: str) -> str:
    """A printed line as compared: the extraction's markup and the white space at both ends removed,
    white space inside the line kept as printed."""
    return _INLINE_MARKUP.sub("", _AUTOLINK.sub(r"\1", _LINE_MARKUP.sub("", line))).strip()


@dataclass(frozen=True)
class Span:
    first_line: int
    last_line: int
    start: int  # offset of the first character in the joined document
    end: int


class SourceText:
    """A document's text, its lines joined in comparison form, with a map back to line numbers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.raw = path.read_text(encoding="utf-8")
        parts: list[str] = []
        line_of: list[int] = []
        self.line_offsets: list[tuple[int, int]] = []  # per line: its stretch of ``joined``
        offset = 0
        for number, line in enumerate(self.raw.splitlines(), start=1):
            # Lines are joined with nothing between them: a line break is the only thing a record
            # may leave out (the print breaks sentences, and words, across lines).
            text = unmarked(line)
            parts.append(text)
            line_of.extend([number] * len(text))
            self.line_offsets.append((offset, offset + len(text)))
            offset += len(text)
        self.joined = "".join(parts)
        self._line_of = line_of

    def line_of(self, offset: int) -> int:
        return self._line_of[min(offset, len(self._line_of) - 1)]

    def find_all(self, text: str) -> list[Span]:
        if not text.strip():
            return []
        spans = []
        start = self.joined.find(text)
        while start != -1:
            end = start + len(text)
            spans.append(Span(self._line_of[start], self._line_of[end - 1], start, end))
            start = self.joined.find(text, start + 1)
        return spans

    def locate(self, text: str, near: int | None = None) -> Span | None:
        """The occurrence of ``text`` nearest to line ``near`` (the first one without a hint)."""
        spans = self.find_all(text)
        if not spans:
            return None
        if near is None:
            return spans[0]
        return min(spans, key=lambda span: (abs(span.first_line - near), span.first_line))
