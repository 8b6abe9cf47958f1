"""File names of new documents: ``NNN_<16 hex>.txt`` in graph/sources, ``NNN_<16 hex>.yaml`` in
graph/records.

NNN is the next free three-digit order (one more than the highest order in either directory);
the hex part is the first 16 hex digits of the SHA-256 of the extracted text as written (UTF-8),
so the same text always gets the same name, and the hex part becomes the document's public IRI
(``/id/document/{hex}``). The five names that came with the seed documents keep their hex part,
which cannot be recomputed from their text: they are already public.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

_NAME = re.compile(r"^(\d{3})_([0-9a-f]{16})\.(?:txt|yaml)$")


def text_hash(text: str) -> str:
    """The hex part of a new document's name: SHA-256 of its text (UTF-8), first 16 hex digits."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def next_order(*directories: Path) -> int:
    orders = [
        int(match.group(1))
        for directory in directories
        if directory.is_dir()
        for path in directory.iterdir()
        if (match := _NAME.match(path.name))
    ]
    return max(orders, default=-1) + 1


def document_stem(text: str, sources: Path, records: Path) -> str:
    """``NNN_<hex>`` for a new document; an existing document with the same text keeps its order."""
    digest = text_hash(text)
    for directory in (sources, records):
        if directory.is_dir():
            for path in directory.iterdir():
                match = _NAME.match(path.name)
                if match and match.group(2) == digest:
                    return f"{match.group(1)}_{digest}"
    return f"{next_order(sources, records):03d}_{digest}"
