"""The release's search index file, and the folding both the build and the server match with.

The build writes ``search.json`` (kusei.graph.publish.search); the server reads it
(kusei.endpoint.web.pages.search). They meet only in the release, so what both must agree on —
the file's name and version and how text is folded — lives here. Folding is what makes Japanese
search forgiving: users type full-width or half-width letters, hiragana or katakana, with or
without long-vowel marks, small kana or spaces, for the same word.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

INDEX_FILE = "search.json"
INDEX_VERSION = 2  # 2: readings (read_titles, read_texts), ward, year, areas, fold_printed

_SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
# Voiced-sound marks: half-width ones follow their kana, and NFKC joins the pair only if it
# sees both, so a character and its marks are folded together.
_MARKS = {"\uff9e", "\uff9f", "\u3099", "\u309a"}
_DROPPED = {"ー", "－", "‐", "-", "・", "･"}


def _fold_unit(unit: str) -> str:
    folded = []
    for char in unicodedata.normalize("NFKC", unit).lower():
        code = ord(char)
        if 0x3041 <= code <= 0x3096:  # hiragana → katakana
            char = chr(code + 0x60)
        char = char.translate(_SMALL_KANA)
        if char.isspace() or char in _DROPPED:
            continue
        folded.append(char)
    return "".join(folded)


def _units(text: str) -> Iterable[tuple[int, int]]:
    """Spans of ``text`` that fold as one: a character with the voiced-sound marks after it."""
    start = 0
    while start < len(text):
        end = start + 1
        while end < len(text) and text[end] in _MARKS:
            end += 1
        yield start, end
        start = end


def fold(text: str) -> str:
    """The matching form of a text: NFKC, lower case, katakana, no long-vowel marks, small kana or spaces."""
    return "".join(_fold_unit(text[start:end]) for start, end in _units(text))


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """``fold(text)`` and, for each of its characters, the index in ``text`` it came from."""
    folded: list[str] = []
    origins: list[int] = []
    for start, end in _units(text):
        piece = _fold_unit(text[start:end])
        folded.append(piece)
        origins.extend([start] * len(piece))
    return "".join(folded), origins
