"""Hostile records: each is one `file:line: reason` error, in bounded memory, through verify and the
build, and the published release stays as it was.

The commands run in child processes under an address-space limit, so a regression (an alias bomb
expanded) ends that child, not the machine; the child's peak memory is read from ``wait4``.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from graph_input import copy_input

from kusei.graph.build import build
from kusei.graph.input.yamlsafe import MAX_BYTES
from kusei.settings import Settings

pytestmark = [pytest.mark.system, pytest.mark.records]  # builds through the SHACL gate

EXEMPLAR = "000_a9155f3b6863ac96.yaml"
# The child may use this much address space; the alias bomb below expands to gigabytes.
ADDRESS_LIMIT = 3 << 30
# Peak resident memory of a child that read a hostile record: a Python with the build imported
# (~150 MB) and the record, not the record expanded.
PEAK_LIMIT = 400 << 20


def alias_bomb() -> str:
    """340 bytes: nine levels of nine aliases each, 9**9 strings once expanded."""
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n"


HOSTILE = {
    "alias bomb": (alias_bomb(), r":2: \(yaml\): YAML alias \*a is not allowed"),
    "python tag": ("document: !!python/object/apply:os.system ['echo owned']\nplan: {}\n",
                   r":1: \(yaml\): YAML tag !!python/object/apply:os.system is not allowed"),
    "oversized": ("document:\n  origin: " + "x" * (MAX_BYTES + 10) + "\n", r": \(yaml\): file larger than"),
    "deep nesting": ("plan: " + "[" * 5000 + "]" * 5000 + "\n", r":1: \(yaml\): lists and mappings nested more than"),
    "two documents": ("document: {}\n---\nplan: {}\n", r":2: \(yaml\): a second YAML document"),
    "not utf-8": ("document:\n  origin: caf\udce9\n", r":2: \(yaml\): not UTF-8"),
}


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_LIMIT, ADDRESS_LIMIT))


def run_limited(args: list[str]) -> tuple[int, str, int]:
    """Run ``python args…`` under the address-space limit: (exit status, output, peak RSS bytes)."""
    process = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               preexec_fn=_limited)
    assert process.stdout is not None
    output = process.stdout.read().decode("utf-8", errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, output, usage.ru_maxrss * 1024


def write(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_verify_reports_a_hostile_record_as_one_line(case: str, tmp_path: Path) -> None:
    text, expected = HOSTILE[case]
    record = tmp_path / "hostile.yaml"
    write(record, text)
    status, output, peak = run_limited(["-m", "kusei.graph.input.verify", str(record)])
    assert status == 1, output
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("hostile.yaml")]
    assert len(errors) == 1, output
    assert re.search("^hostile.yaml" + expected, errors[0]), errors[0]
    assert peak < PEAK_LIMIT, f"peak {peak >> 20} MiB"


BUILD = """
import sys
from pathlib import Path
from kusei.graph.build import BuildError, build
from kusei.settings import Settings
try:
    build(Settings(data_dir=Path(sys.argv[1])), records_dir=Path(sys.argv[2]), report=lambda _: None)
except BuildError as exc:
    print(exc.report())
    sys.exit(1)
"""


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("safety")
    records = copy_input(base / "input", [EXEMPLAR])
    data_dir = base / "data"
    build(Settings(data_dir=data_dir), records_dir=records, report=lambda _: None)
    return data_dir, records


@pytest.mark.parametrize("case", ["alias bomb", "python tag", "oversized"])
def test_a_hostile_record_stops_the_build_and_the_release_stays(case: str, published: tuple[Path, Path]) -> None:
    data_dir, records = published
    before = os.readlink(data_dir / "current")
    releases = sorted(p.name for p in (data_dir / "releases").iterdir())
    text, expected = HOSTILE[case]
    hostile = records / "999_hostile.yaml"
    write(hostile, text)
    try:
        status, output, peak = run_limited(["-c", BUILD, str(data_dir), str(records)])
    finally:
        hostile.unlink()
    assert status == 1, output
    assert "Traceback" not in output, output
    assert output.startswith("build failed while reading records:"), output
    assert re.search(r"^  999_hostile.yaml" + expected, output, re.MULTILINE), output
    assert "the previous release is still served" in output
    assert peak < PEAK_LIMIT, f"peak {peak >> 20} MiB"
    assert os.readlink(data_dir / "current") == before
    assert sorted(p.name for p in (data_dir / "releases").iterdir()) == releases
