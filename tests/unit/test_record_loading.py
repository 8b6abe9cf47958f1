"""Reading a record: the line of each field, every problem of a record at once with its line and a
suggestion, and the ward code's check digit. No build: the record loader and the reference on
their own (moved from the build's tests, which now run as system tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kusei.graph.input.record import RecordErrors, load_record
from kusei.graph.input.reference import check_digit_ok
from kusei.graph.input.verify import RECORDS_DIR, SOURCES_DIR

EXEMPLAR = "000_a9155f3b6863ac96.yaml"


@pytest.mark.parametrize("code, ok", [("141003", True), ("141089", True), ("141160", True),
                                      ("141097", True), ("141088", False), ("14116", False)])
def test_local_government_code_check_digit(code: str, ok: bool) -> None:
    assert check_digit_ok(code) is ok


def test_record_loader_reports_line_of_the_field() -> None:
    record, lines = load_record(RECORDS_DIR / EXEMPLAR)
    assert record.document.ward == "141089"
    line = lines[("population", "population")]
    text = (RECORDS_DIR / EXEMPLAR).read_text(encoding="utf-8").splitlines()[line - 1]
    assert "194207" in text
    assert (SOURCES_DIR / record.document.file).is_file()


def _record_problems(path: Path) -> list[str]:
    with pytest.raises(RecordErrors) as info:
        load_record(path)
    return [str(error) for error in info.value.errors]


def test_a_misspelt_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    # Regression: "titel" was reported as "missing required field: title" at the list item.
    original = (RECORDS_DIR / EXEMPLAR).read_text(encoding="utf-8")
    lines = original.splitlines()
    index = next((i for i, line in enumerate(lines) if line.strip().startswith("title:") and i > 20), None)
    assert index is not None, f"{EXEMPLAR}: no `title:` line after line 21 to misspell; pick another record"
    lines[index] = lines[index].replace("title:", "titel:", 1)
    path = tmp_path / EXEMPLAR
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = _record_problems(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{EXEMPLAR}:{index + 1}: ")
    assert problems[0].endswith("unknown key titel (did you mean title?)")


def test_every_problem_of_a_record_is_listed(tmp_path: Path) -> None:
    text = (RECORDS_DIR / EXEMPLAR).read_text(encoding="utf-8")
    text = text.replace("\ndocument:\n", "\ndocument:\n  colour: blue\n", 1).replace("kind: ", "kind: nonsense-", 1)
    path = tmp_path / EXEMPLAR
    path.write_text(text, encoding="utf-8")
    problems = _record_problems(path)
    assert any("unknown key colour" in p for p in problems)
    assert any("document.kind" in p for p in problems)


def test_an_unclosed_bracket_is_reported_where_it_opens(tmp_path: Path) -> None:
    # Regression: reported lines later as "expected ',' or ']', but got ..." at the next key.
    lines = (RECORDS_DIR / EXEMPLAR).read_text(encoding="utf-8").splitlines()
    index = next((i for i, line in enumerate(lines) if "policy_areas: [" in line), None)
    assert index is not None, f"{EXEMPLAR}: no `policy_areas: [` line to break; pick another record"
    lines[index] = lines[index].replace("]", "", 1)
    path = tmp_path / EXEMPLAR
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (problem,) = _record_problems(path)
    assert problem.startswith(f"{EXEMPLAR}:{index + 1}: (yaml): the [ opened here is not closed")
