"""How close a draft comes to a finished record: precision and recall per kind of entity.

Entities are compared by their printed text with white space aside (the same comparison form the
checker uses), projects together with their parent, items with the title of their parent; a line
hint counts as right when the draft's entity resolves to the same printed line as the finished
one. Used by bench/draft_eval.py and the tests.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from kusei.graph.input.textmatch import SourceText
from kusei.namespaces import measure_key

KINDS = ("measures", "projects", "items", "captions", "sections", "bureau_rows", "line_hints")


def _s(text: Any) -> str:
    if isinstance(text, dict):
        if "printed" in text:
            return _s(text["printed"])
        return _s(text.get("title")) + "～" + _s(text.get("description"))
    return re.sub(r"\s+", "", str(text or ""))


def _num(number: Any) -> str | None:
    return measure_key(str(number)) if number is not None else None


@dataclass(frozen=True)
class Score:
    matched: int
    drafted: int
    expected: int

    @property
    def precision(self) -> float:
        return self.matched / self.drafted if self.drafted else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.expected if self.expected else 1.0


def _groups(record: dict) -> list[tuple[tuple, dict]]:
    plan = record.get("plan", {})
    out: list[tuple[tuple, dict]] = []
    for measure in plan.get("measures", []):
        number = _num(measure.get("number"))
        out.append((("measure", number if number else _s(measure["title"])), measure))
    for banner in plan.get("banners", []):
        out.append((("banner", _s(banner["title"])), banner))
    return out


def entities(record: dict, source: SourceText | None = None) -> dict[str, Counter]:
    found: dict[str, Counter] = {kind: Counter() for kind in KINDS}

    def line(entity: dict) -> int | None:
        if source is None:
            return entity.get("line")
        title = entity["title"]
        span = source.locate(title["printed"] if isinstance(title, dict) else title, near=entity.get("line"))
        return span.first_line if span else None

    for parent, group in _groups(record):
        if parent[0] == "measure":
            found["measures"][(_num(group.get("number")), _s(group["title"]))] += 1
        found["line_hints"][("group", _s(group["title"]), line(group))] += 1
        for item in group.get("items", []):
            found["items"][(_s(group["title"]), _s(item))] += 1
        for caption in group.get("captions", []):
            found["captions"][_s(caption)] += 1
        for project in group.get("projects", []):
            found["projects"][(parent, _s(project["title"]))] += 1
            found["line_hints"][("project", _s(project["title"]), line(project))] += 1
            for item in project.get("items", []):
                found["items"][(_s(project["title"]), _s(item))] += 1
            for caption in project.get("captions", []):
                found["captions"][_s(caption)] += 1
    for column in record.get("plan", {}).get("columns", []):
        for caption in column.get("captions", []):
            found["captions"][_s(caption)] += 1
    goal = record.get("plan", {}).get("basic_goal", {})
    for caption in goal.get("captions", []):
        found["captions"][_s(caption)] += 1
    for section in record.get("sections", []):
        found["sections"][(section.get("key"), _s(section.get("name")))] += 1
    for row in record.get("bureau_projects", []):
        found["bureau_rows"][(_s(row.get("title")), tuple(row.get("bureaus", [])))] += 1
    return found


def compare(draft: dict, expected: dict, source: SourceText | None = None) -> dict[str, Score]:
    """Scores per kind; with the document's text, line hints are judged by the line each entity
    resolves to (a finished record may leave out a hint where the text is printed once)."""
    got, want = entities(draft, source), entities(expected, source)
    scores = {}
    for kind in KINDS:
        if kind == "line_hints":
            # Only the entities the draft found are judged on their line.
            titles = {key[:2] for key in want[kind]}
            drafted = Counter({k: v for k, v in got[kind].items() if k[:2] in titles})
            expected_hints = Counter({k: v for k, v in want[kind].items()
                                      if k[:2] in {key[:2] for key in got[kind]}})
            matched = sum((drafted & expected_hints).values())
            scores[kind] = Score(matched, sum(drafted.values()), sum(expected_hints.values()))
            continue
        matched = sum((got[kind] & want[kind]).values())
        scores[kind] = Score(matched, sum(got[kind].values()), sum(want[kind].values()))
    return scores


def misses(draft: dict, expected: dict, kind: str, source: SourceText | None = None) -> tuple[list, list]:
    """What the draft got wrong of one kind: (drafted but not expected, expected but not drafted)."""
    got, want = entities(draft, source)[kind], entities(expected, source)[kind]
    return sorted((got - want).elements(), key=str), sorted((want - got).elements(), key=str)
