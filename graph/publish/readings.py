"""Readings for the search index: 防災 is found by ぼうさい or ボウサイ.

Computed once, at build time, with SudachiPy and its core dictionary (chosen by measurement over
pykakasi and fugashi with unidic-lite: same recall on this data's words, the fastest analysis, and
the only one that reads 釜利谷 and 称名寺 right; bench/README.md "Search readings"). Only words
with kanji are read: kana, Latin letters and symbols keep their own spelling (Sudachi reads
"（" as キゴウ).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from kusei.search_index import fold

_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ]")


@cache
def _tokenizer() -> Any:
    # Imported here: only the build reads; the server never loads the 190 MB dictionary.
    from sudachipy import Dictionary, SplitMode

    return Dictionary(dict="core").tokenizer(mode=SplitMode.C)


def reading(text: str) -> list | None:
    """``[folded reading, [[reading offset, text offset], …]]`` per word, or None without kanji.

    The offsets let a match in the reading be shown on the words of the text it came from.
    """
    if not _KANJI.search(text):
        return None
    folded: list[str] = []
    words: list[list[int]] = []
    size = 0
    for morpheme in _tokenizer().tokenize(text):
        surface = morpheme.surface()
        piece = fold(morpheme.reading_form() if _KANJI.search(surface) else surface)
        if not piece:
            continue
        words.append([size, morpheme.begin()])
        folded.append(piece)
        size += len(piece)
    return ["".join(folded), words]
