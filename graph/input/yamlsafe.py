"""Reading a YAML file that anyone may have written, within bounds.

A record or reference table is input from contributors, so it is read as hostile until checked:
its size is bounded before it is parsed, and the parser's event stream (linear in the file's size,
nothing built yet) is checked before anything is constructed. Aliases are refused outright (a
340-byte file of nested aliases expands to gigabytes once walked; no record needs one: write the
text out), and so are tags other than YAML's plain types (``!!python/object`` and friends), nesting
deeper than any record needs (the composer recurses) and more than one document per file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    NodeEvent,
)

# 50 times the largest record of the five (24 KB); a plan record is tens of kilobytes.
MAX_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_EVENTS = 200_000
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
)


class UnsafeYAML(Exception):
    """The file is not read: ``line`` (1-based, or None for the whole file) and ``reason`` say why."""

    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _check_events(yaml: YAML, text: str) -> None:
    depth = documents = 0
    for count, event in enumerate(yaml.parse(text), start=1):
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if count > MAX_EVENTS:
            raise UnsafeYAML(line, f"more than {MAX_EVENTS} YAML nodes; split the file")
        if isinstance(event, AliasEvent):
            raise UnsafeYAML(line, f"YAML alias *{event.anchor} is not allowed here; write the value out "
                                   "in full instead of referring to an anchor")
        explicit = getattr(event, "tag", None)  # set on scalars and collections only
        if isinstance(event, NodeEvent) and explicit is not None and str(explicit) not in _PLAIN_TAGS:
            tag = str(explicit).replace("tag:yaml.org,2002:", "!!")
            raise UnsafeYAML(line, f"YAML tag {tag} is not allowed; only plain strings, numbers, "
                                   "dates, lists and mappings are read (remove the tag)")
        if isinstance(event, DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise UnsafeYAML(line, "a second YAML document (---) in one file; one file holds one document")
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise UnsafeYAML(line, f"lists and mappings nested more than {MAX_DEPTH} deep")
        elif isinstance(event, CollectionEndEvent):
            depth -= 1


def read_text(path: Path, max_bytes: int = MAX_BYTES) -> str:
    """The file's text, refused (:class:`UnsafeYAML`) if it is larger than ``max_bytes`` or not UTF-8."""
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnsafeYAML(None, f"file larger than {max_bytes:,} bytes; a record is tens of kilobytes "
                               "(is this the right file?)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UnsafeYAML(line, f"not UTF-8 (byte {exc.start}: {exc.reason}); save the file as UTF-8") from exc


def load(path: Path, typ: str = "rt", max_bytes: int = MAX_BYTES) -> Any:
    """Parse ``path`` within the bounds above. Raises :class:`UnsafeYAML` for what is refused and
    ruamel's :class:`MarkedYAMLError` for a syntax error (its mark says where)."""
    text = read_text(path, max_bytes)
    yaml = YAML(typ=typ, pure=True)
    try:
        _check_events(yaml, text)
        return yaml.load(text)
    except MarkedYAMLError:
        raise
    except YAMLError as exc:  # e.g. a control character the reader refuses, with no mark
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise UnsafeYAML(line, f"not readable as YAML: {exc}") from exc
