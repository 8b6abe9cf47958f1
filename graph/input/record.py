"""The source-record format: one human-editable YAML file per document, read into the models of
``kusei.graph.input.schema`` (re-exported here, where the rest of the build imports them from).

The build checks every printed text against the document (see ``kusei.graph.input.textmatch``).
Loading reports problems as ``file:line: field: reason`` so an editor can go straight to them, every
problem of a file in one run, with a suggestion for a misspelt key.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from kusei.graph.input import yamlsafe

# The models the mapping imports from here, as it did when they lived in this module.
from kusei.graph.input.schema import (
    Banner,
    Column,
    Corrected,
    Item,
    Measure,
    OperationItem,
    Project,
    Record,
    Text,
    TitledItem,
    printed,
)

__all__ = [
    "Banner", "Column", "Corrected", "Item", "Measure", "OperationItem", "Project", "Record", "Text", "TitledItem",
    "printed",
    "FIELD_NAMES", "RecordError", "RecordErrors", "load_record",
]


@dataclass(frozen=True)
class RecordError(Exception):
    """A problem in a source record, located by file, line and field."""

    file: str
    line: int | None
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.reason}"


class RecordErrors(Exception):
    """Every problem found in one record file, each located by file, line and field."""

    def __init__(self, errors: list[RecordError]) -> None:
        super().__init__("\n".join(map(str, errors)))
        self.errors = errors


def _field_names() -> frozenset[str]:
    names: set[str] = set()
    todo: list[type[BaseModel]] = [Record]
    while todo:
        model = todo.pop()
        for name, info in model.model_fields.items():
            names.add(name)
            for arg in _annotation_models(info.annotation):
                if arg.__name__ not in {m.__name__ for m in todo}:
                    todo.append(arg)
    return frozenset(names)


def _annotation_models(annotation: Any) -> list[type[BaseModel]]:
    found = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_annotation_models(arg))
    return found


FIELD_NAMES = _field_names()


def _plain(node: Any, path: tuple, lines: dict[tuple, int]) -> Any:
    """Convert ruamel's round-trip nodes to plain data, remembering the line of every field."""
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            line = node.lc.key(key)[0] + 1
            lines[(*path, key)] = line
            out[key] = _plain(value, (*path, key), lines)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for index, value in enumerate(node):
            lines[(*path, index)] = node.lc.item(index)[0] + 1
            out_list.append(_plain(value, (*path, index), lines))
        return out_list
    if isinstance(node, str):
        return str(node)
    return node


def _line_for(loc: tuple, lines: dict[tuple, int]) -> int | None:
    # pydantic adds union-member names ("str", "Corrected") to locations: walk back to a known path.
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _field_name(loc: tuple) -> str:
    parts = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part in ("str", "Corrected", "constrained-str") or "[" in str(part):
            continue
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "(top)"


def _yaml_error(name: str, exc: MarkedYAMLError) -> RecordError:
    problem, context = exc.problem or "", exc.context or ""
    if exc.context_mark is not None and "flow" in context:
        # An unclosed [ or {: the parser notices only where something else begins, often lines
        # later; the place to fix is where the bracket was opened.
        opened = exc.context_mark.line + 1
        seen = exc.problem_mark.line + 1 if exc.problem_mark else opened
        return RecordError(name, opened, "(yaml)",
                           f"the {'[' if 'sequence' in context else '{'} opened here is not closed "
                           f"({problem}, line {seen})")
    mark = exc.problem_mark or exc.context_mark
    return RecordError(name, mark.line + 1 if mark else None, "(yaml)", problem or context)


def _validation_errors(name: str, exc: ValidationError, lines: dict[tuple, int]) -> list[RecordError]:
    errors = exc.errors()
    # A misspelt key is reported as the key it should be, once, and its "missing" twin is dropped.
    missing = {(tuple(e["loc"][:-1]), e["loc"][-1]) for e in errors if e["type"] == "missing"}
    explained: set[tuple] = set()
    found = []
    for error in errors:
        loc = tuple(error["loc"])
        reason = error["msg"]
        if error["type"] == "extra_forbidden":
            key = str(loc[-1])
            twins = [str(field) for parent, field in missing if parent == loc[:-1]]
            close = difflib.get_close_matches(key, twins or sorted(FIELD_NAMES), n=1, cutoff=0.6)
            reason = f"unknown key {key}" + (f" (did you mean {close[0]}?)" if close else "")
            if close and close[0] in twins:
                explained.add((*loc[:-1], close[0]))
        elif error["type"] == "missing":
            if loc in explained:
                continue
            reason = "missing required field"
        found.append((loc, RecordError(name, _line_for(loc, lines), _field_name(loc), reason)))
    return [error for loc, error in found if loc not in explained]


def load_record(path: Path) -> tuple[Record, dict[tuple, int]]:
    """Load and validate one record file; :class:`RecordErrors` lists every problem found in it."""
    try:
        data = yamlsafe.load(path)
    except MarkedYAMLError as exc:
        raise RecordErrors([_yaml_error(path.name, exc)]) from exc
    except yamlsafe.UnsafeYAML as exc:
        raise RecordErrors([RecordError(path.name, exc.line, "(yaml)", exc.reason)]) from exc
    except OSError as exc:
        raise RecordErrors([RecordError(path.name, None, "(file)", f"cannot be read: {exc.strerror}")]) from exc
    if not isinstance(data, CommentedMap):
        raise RecordErrors([RecordError(path.name, 1, "(top)", "a record must be a YAML mapping")])
    lines: dict[tuple, int] = {}
    plain = _plain(data, (), lines)
    try:
        record = Record.model_validate(plain)
    except ValidationError as exc:
        raise RecordErrors(_validation_errors(path.name, exc, lines)) from exc
    return record, lines
