"""`verify` and the build's first step: what each check catches, as `file:line: field: reason`.

Each case changes one record of a copy of the graph input the way a contributor's slip would and
expects verify to name the record line, the field and what to do; the build stops on the same
input before mapping anything.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from graph_input import copy_input, edit

from kusei.graph.build import BuildError, build, published_plans
from kusei.graph.input.reference import Reference
from kusei.graph.input.textmatch import SourceText
from kusei.graph.input.verify import RECORDS_DIR, SOURCES_DIR, check_input, main, uncovered_lines
from kusei.settings import Settings

pytestmark = pytest.mark.records

KANAZAWA = "000_a9155f3b6863ac96.yaml"  # 金沢区 FY2024
IZUMI = "002_bdb956e43d6dc4ce.yaml"  # 泉区 FY2024
ASAHI = "004_66cef17de3c9bd3d.yaml"  # 旭区 FY2022


def quiet(_: str) -> None:
    pass


def verify(records: Path, *args: str) -> tuple[int, list[str]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["--quiet", "--input", str(records.parent), *args])
    lines = out.getvalue().splitlines()
    return status, lines


# (record, old text, new text, expected error after "file:line: ")
SLIPS: dict[str, tuple[str, str, str, str]] = {
    "unknown policy area": (
        KANAZAWA, "policy_areas: [child-rearing, attractiveness]", "policy_areas: [child-rearing, atractiveness]",
        r"plan\.measures\[0\]\.policy_areas\[1\]: unknown key 'atractiveness' \(did you mean attractiveness\?\); "
        r"valid keys \(policy_areas\.yaml\): attractiveness, child-rearing, .*add the entry to "
        r"graph/reference/policy_areas\.yaml"),
    "unknown bureau": (
        ASAHI, "bureaus: [kenchiku]", "bureaus: [kenchikuu]",
        r"bureau_projects\[\d+\]\.bureaus\[0\]: unknown key 'kenchikuu' \(did you mean kenchiku\?\); "
        r"valid keys \(bureaus\.yaml\): "),
    "unknown section type": (
        IZUMI, "key: somu", "key: soumu",
        r"sections\[0\]\.key: unknown key 'soumu' \(did you mean somu\?\); valid keys \(section_types\.yaml\)"),
    "a space added inside a line": (
        KANAZAWA, "title: 子育て応援事業}", "title: 子育て 応援事業}",
        r"plan\.measures\[0\]\.projects\[1\]\.title: text not found in 000_a9155f3b6863ac96\.txt: "
        r"'子育て 応援事業'; nearest printed text, line \d+: '子育て応援事業.*first difference at "
        r"character 4: the record has ' ' \(U\+0020\), the print '応' \(U\+5FDC\)"),
    "a wrong character": (
        KANAZAWA, "title: 子育て応援事業}", "title: 子育て応授事業}",
        r"plan\.measures\[0\]\.projects\[1\]\.title: text not found .*first difference at character 5: "
        r"the record has '授' \(U\+6388\), "
        r"the print '援' \(U\+63F4\)\. Copy the text as printed .*write \{printed: <as printed>, "
        r"corrected: <fixed>, note: <why>\}"),
    "another ward's code": (
        IZUMI, 'ward: "141160"', 'ward: "141178"',
        r"document\.ward: 141178 is 青葉区, but the document names 泉区 141160 ×\d+; write the code of the "
        r"ward whose plan this is"),
    "not a ward code": (
        IZUMI, 'ward: "141160"', 'ward: "141003"',
        r"document\.ward: 141003 is not a Yokohama ward code; valid codes \(wards\.yaml\): 141011 鶴見区, "),
    "year not the printed one": (
        ASAHI, "fiscal_year: {printed: 令和4年度, year: 2022}", "fiscal_year: {printed: 令和4年度, year: 2023}",
        r"plan\.fiscal_year\.year: 2023 does not match the printed '令和4年度' \(FY2022\); write the year the "
        r"print gives"),
    "medium-term plan number not printed": (
        IZUMI, "theme: \"03\", strategy: 5, policies: [26]", "theme: \"03\", strategy: 5, policies: [27]",
        r"plan\.measures\[0\]\.projects\[0\]\.mtp: 27 is not in the printed reference "
        r"'中期計画:テーマ03 戦略5 政策26'"),
}


@pytest.mark.parametrize("case", sorted(SLIPS))
def test_verify_names_the_line_the_field_and_what_to_do(case: str, tmp_path: Path) -> None:
    record, old, new, expected = SLIPS[case]
    records = copy_input(tmp_path, [record])
    line = edit(records / record, old, new)
    status, output = verify(records)
    assert status == 1
    errors = [o for o in output if o.startswith(record)]
    assert len(errors) == 1, output
    assert re.match(rf"{re.escape(record)}:{line}: {expected}", errors[0]), errors[0]


def test_an_unknown_policy_area_stops_the_build_before_the_shapes(tmp_path: Path) -> None:
    # Regression: verify passed it and the build failed 14 s later with a SHACL message naming
    # neither the key nor the line.
    record, old, new, expected = SLIPS["unknown policy area"]
    records = copy_input(tmp_path / "input", [record])
    line = edit(records / record, old, new)
    with pytest.raises(BuildError) as info:
        build(Settings(data_dir=tmp_path / "data"), records_dir=records, report=quiet)
    assert info.value.step == "reading records"
    assert re.match(rf"{re.escape(record)}:{line}: {expected}", info.value.problems[0]), info.value.problems


def test_a_drafts_placeholder_passes_verify_but_stops_the_build(tmp_path: Path) -> None:
    # Regression: a draft's `licence: 'TODO: …'` passed every check and would have been published.
    records = copy_input(tmp_path / "input", [ASAHI])
    origin = edit(records / ASAHI, "licence: No licence is printed in the document.",
                  "licence: 'TODO: what is known of its licence'")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["--input", str(records.parent), str(records / ASAHI)])
    assert status == 0, out.getvalue()
    assert f"{ASAHI}:{origin}: document.licence: still a placeholder" in out.getvalue()
    with pytest.raises(BuildError) as info:
        build(Settings(data_dir=tmp_path / "data"), records_dir=records, report=quiet)
    assert info.value.problems == [
        f"{ASAHI}:{origin}: document.licence: still a placeholder ('TODO: what is known of its licence'); "
        "replace it with what you found out"]
    assert not (tmp_path / "data" / "current").exists()


def test_the_records_pass_and_every_source_has_one() -> None:
    records = sorted(RECORDS_DIR.glob("*.yaml"))
    outcome = check_input(records, SOURCES_DIR, Reference())
    assert [str(e) for e in outcome.errors] == []
    assert len(outcome.checked) == len(records)
    assert {c.record.document.file for c in outcome.checked} == {p.name for p in SOURCES_DIR.glob("*.txt")}


def test_a_source_without_a_record_is_an_error_and_is_not_published(tmp_path: Path) -> None:
    # Regression: a source with no record was copied into the release's sources/ without a word.
    records = copy_input(tmp_path / "input", [KANAZAWA])
    stray = records.parent / "sources" / "005_0123456789abcdef.txt"
    stray.write_text("令和7年度 何かの資料\n", encoding="utf-8")
    status, output = verify(records)
    assert status == 1
    assert ("sources/005_0123456789abcdef.txt: (file): no record names this source document, so it would be "
            "published without a plan; write graph/records/005_0123456789abcdef.yaml "
            "(document.file: 005_0123456789abcdef.txt) or remove it") in output
    with pytest.raises(BuildError) as info:
        build(Settings(data_dir=tmp_path / "data"), records_dir=records, report=quiet)
    assert any(p.startswith("sources/005_0123456789abcdef.txt: (file)") for p in info.value.problems)
    assert not (tmp_path / "data" / "current").exists()


def test_a_record_without_its_source_is_an_error(tmp_path: Path) -> None:
    records = copy_input(tmp_path)
    (records.parent / "sources" / "000_a9155f3b6863ac96.txt").unlink()
    status, output = verify(records)
    assert status == 1
    assert (f"{KANAZAWA}:5: document.file: no source document 000_a9155f3b6863ac96.txt in sources/; add the "
            "document's text there under that name, or correct the name") in output


def test_a_second_record_of_a_plan_is_an_error(tmp_path: Path) -> None:
    records = copy_input(tmp_path, [KANAZAWA])
    sources = records.parent / "sources"
    shutil.copy(sources / "000_a9155f3b6863ac96.txt", sources / "005_fedcba9876543210.txt")
    twin = records / "005_fedcba9876543210.yaml"
    shutil.copy(records / KANAZAWA, twin)
    edit(twin, "file: 000_a9155f3b6863ac96.txt", "file: 005_fedcba9876543210.txt")
    status, output = verify(records)
    assert status == 1
    assert any(re.match(r"005_fedcba9876543210\.yaml:\d+: plan\.fiscal_year: plan 141089/2024 is also described "
                        rf"by {KANAZAWA}; one record per ward and year: .*document\.supersedes: a9155f3b6863ac96",
                        line) for line in output), output


def test_lines_no_record_covers_are_listed_headings_and_repeats_aside(tmp_path: Path) -> None:
    records = copy_input(tmp_path, [IZUMI])
    source = SourceText(records.parent / "sources" / "002_bdb956e43d6dc4ce.txt")
    outcome = check_input([records / IZUMI], records.parent / "sources", Reference())
    before = {note.split(": (coverage)")[0] for note in outcome.notes}
    # Leave out one printed bullet: its line is reported, by number, with its text.
    bullet = "小中学生が地域活動のお手伝いに気軽に参加できるボランティア活動の仕組みを区内全域に展開します。"
    edit(records / IZUMI, f"            - {bullet}\n", "")
    outcome = check_input([records / IZUMI], records.parent / "sources", Reference())
    assert outcome.errors == []
    (line,) = [span.first_line for span in source.find_all(bullet)]
    start, end = source.line_offsets[line - 1]
    new = [note for note in outcome.notes if note.split(": (coverage)")[0] not in before]
    printed = source.joined[start:end]  # the bullet with its printed mark
    assert bullet in printed
    assert new == [f"002_bdb956e43d6dc4ce.txt:{line}: (coverage): no record text covers {printed[:80]!r}"]
    # Headings (I 基本目標) and repeats (a measure's title and tagline printed again above its
    # projects) are not listed.
    listed = {int(note.split(":")[1]) for note in outcome.notes}
    numbered = [n for n, (s, e) in enumerate(source.line_offsets, 1) if source.joined[s:e] == "I 基本目標"]
    assert numbered and not set(numbered) & listed
    repeat = [n for n, (s, e) in enumerate(source.line_offsets, 1)
              if source.joined[s:e].startswith("1 にぎわいの創出と発信による魅力づくり")]
    assert repeat and not set(repeat) & listed


def test_uncovered_lines_of_a_document_with_no_record_text_are_all_listed(tmp_path: Path) -> None:
    path = tmp_path / "doc.txt"
    path.write_text("【見出し】\n\nこれは記録されていない長い文です。\n本文の一部\n短い一行\n", encoding="utf-8")
    source = SourceText(path)
    spans = source.find_all("本文の一部")
    assert uncovered_lines(source, spans) == [(3, "これは記録されていない長い文です。"), (5, "短い一行")]


def test_verify_help_and_every_record_by_default() -> None:
    # Regression: --help ended in a FileNotFoundError traceback.
    help_run = subprocess.run([sys.executable, "-m", "kusei.graph.input.verify", "--help"],
                              capture_output=True, text=True, timeout=120)
    assert help_run.returncode == 0 and help_run.stdout.startswith("usage: python -m kusei.graph.input.verify")
    run = subprocess.run([sys.executable, "-m", "kusei.graph.input.verify"], capture_output=True, text=True,
                         timeout=300)
    count = len(list(RECORDS_DIR.glob("*.yaml")))
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{count} record(s): {count} passed, 0 error(s)" in run.stdout


def test_record_headers_name_a_command_that_runs() -> None:
    # Regression: every header said `python -m graph.verify`, which does not exist.
    for path in sorted(RECORDS_DIR.glob("*.yaml")):
        header = path.read_text(encoding="utf-8").split("\ndocument:")[0]
        commands = re.findall(r"`(python -m [^`]+)`", header)
        assert commands, f"{path.name}: the header names no verify command; add one"
        for command in commands:
            module = command.split()[2]
            assert module == "kusei.graph.input.verify", f"{path.name}: header names {command!r}"



def test_a_broken_published_release_is_reported_and_does_not_stop_the_check(tmp_path: Path) -> None:
    # The build that replaces a broken release must not be refused because of it.
    data_dir = tmp_path / "data"
    broken = data_dir / "releases" / "broken"
    broken.mkdir(parents=True)
    (broken / "release.json").write_text("", encoding="utf-8")
    (data_dir / "current").symlink_to("releases/broken")
    said: list[str] = []
    assert published_plans(data_dir, said.append) == {}
    assert any("cannot read the plans" in line for line in said), said
