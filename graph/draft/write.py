"""A draft → the YAML text of a record, with a ``# TODO`` comment beside every field a person decides.

Written with ruamel.yaml's round-trip dumper, the same library that reads records back
(kusei.graph.input.record), so the comments stay where an editor expects them and the line
numbers the checker reports are the lines of this file.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from kusei.graph.draft.draft import Draft

HEADER = """\
Draft record of {file}, written by `kusei draft`. Every text below was copied from the
document as printed (lines joined with nothing between them, inner spaces kept); check it
against the document, fill every TODO, then run
  python -m kusei.graph.input.verify graph/records/{stem}.yaml
See graph/ADDING_A_PLAN.md.
"""


def _commented(node: Any) -> Any:
    if isinstance(node, dict):
        out = CommentedMap()
        for key, value in node.items():
            out[key] = _commented(value)
        return out
    if isinstance(node, list):
        seq = CommentedSeq(_commented(v) for v in node)
        # Short lists of scalars stay on one line, as the committed records write them.
        if node and all(isinstance(v, (int, str)) and len(str(v)) <= 24 for v in node) and len(node) <= 6:
            seq.fa.set_flow_style()
        return seq
    return node


def _container(root: Any, path: tuple) -> tuple[Any, Any] | None:
    """The parent node and the key or index the TODO belongs beside."""
    node = root
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node, path[-1]


def render(draft: Draft, file: str) -> str:
    record = dict(draft.record)
    record["document"] = {**record["document"], "file": file}
    root = _commented(record)
    for path, message in draft.todos.items():
        found = _container(root, path)
        if found is None:
            continue
        parent, key = found
        try:
            if isinstance(parent, CommentedMap) and key in parent:
                parent.yaml_add_eol_comment(f"TODO: {message}", key)
            elif isinstance(parent, CommentedSeq) and isinstance(key, int) and key < len(parent):
                item = parent[key]
                if isinstance(item, CommentedMap) and item:
                    first = next(iter(item))
                    item.yaml_add_eol_comment(f"TODO: {message}", first)
        except (TypeError, AttributeError):
            continue
    stem = file.rsplit(".", 1)[0]
    root.yaml_set_start_comment(HEADER.format(file=file, stem=stem))
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.allow_unicode = True
    buffer = io.StringIO()
    yaml.dump(root, buffer)
    return buffer.getvalue()


def todo_count(text: str) -> int:
    return sum(line.count("TODO") for line in text.splitlines() if "#" in line or "TODO:" in line)
