"""Finding a printed text in a source document, and the lines it stands on.

The documents are text extracted from PDFs: sentences are broken across lines, list markers
and markdown/HTML markup were added by the extraction. A literal matches the document when it
equals a stretch of the document once white space and that markup are removed from both; the
literal itself keeps the printed characters (no width folding, no spelling changes).
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
    """The comparison form of a text: markup and all white space removed."""
    return _SPACE.sub("", _INLINE_MARKUP.sub("", _AUTOLINK.sub(r"\1", text)))


@dataclass(frozen=True)
class Span:
    first_line: int
    last_line: int
    start: int  # offset of the first character in the squashed document
    end: int


class SourceText:
    """A document's text, searchable in comparison form, with a map back to line numbers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.raw = path.read_text(encoding="utf-8")
        chars: list[str] = []
        line_of: list[int] = []
        for number, line in enumerate(self.raw.splitlines(), start=1):
            line = _LINE_MARKUP.sub("", line)
            for char in squash(line):
                chars.append(char)
                line_of.append(number)
        self.squashed = "".join(chars)
        self._line_of = line_of

    def find_all(self, text: str) -> list[Span]:
        needle = squash(text)
        if not needle:
            return []
        spans = []
        start = self.squashed.find(needle)
        while start != -1:
            end = start + len(needle)
            spans.append(Span(self._line_of[start], self._line_of[end - 1], start, end))
            start = self.squashed.find(needle, start + 1)
        return spans

    def locate(self, text: str, near: int | None = None) -> Span | None:
        """The occurrence of ``text`` nearest to line ``near`` (the first one without a hint)."""
        spans = self.find_all(text)
        if not spans:
            return None
        if near is None:
            return spans[0]
        return min(spans, key=lambda span: (abs(span.first_line - near), span.first_line))
