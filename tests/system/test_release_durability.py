"""A release is on disk before it is current, and a killed build's leftovers go (issue 17.3)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from graph_input import copy_input

from kusei.graph import release_dir
from kusei.graph.build import build
from kusei.settings import Settings

pytestmark = pytest.mark.system  # builds through the SHACL gate

EXEMPLAR = "000_a9155f3b6863ac96.yaml"


def _records(tmp_path: Path) -> Path:
    return copy_input(tmp_path / "input", [EXEMPLAR])


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid  # gone, and not reused this soon


def test_every_file_and_directory_is_synced_before_the_switch(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:  # the real call, recorded with the path it synced
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        events.append(("replace", os.fspath(target)))
        real_replace(source, target)

    monkeypatch.setattr(release_dir.os, "fsync", fsync)
    monkeypatch.setattr(release_dir.os, "replace", replace)
    data_dir = tmp_path / "data"
    result = build(Settings(data_dir=data_dir), records_dir=_records(tmp_path), report=lambda _: None)

    switch = events.index(("replace", str(data_dir / "current")))
    synced_before = {path for kind, path in events[:switch] if kind == "fsync"}
    # Synced in the work directory, which is then renamed: compare paths below the release.
    work = {Path(p).parent for p in synced_before if Path(p).name == "release.json"}
    assert len(work) == 1
    synced = {Path(p).relative_to(next(iter(work))) for p in synced_before if Path(p).is_relative_to(next(iter(work)))}
    held = {p.relative_to(result.path) for p in result.path.rglob("*")} | {Path(".")}
    assert held <= synced, sorted(map(str, held - synced))[:5]
    assert str(data_dir / "releases") in synced_before  # the rename into releases/
    assert ("fsync", str(data_dir)) in events[switch:]  # the switch itself


def test_leftovers_of_killed_builds_are_removed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "releases").mkdir(parents=True)
    dead = _dead_pid()
    stale_work = data_dir / "releases" / f".build-{dead}-abc"
    (stale_work / "dumps").mkdir(parents=True)
    stale_switch = data_dir / f".current-{dead}"
    stale_switch.symlink_to("releases/gone")
    live_switch = data_dir / f".current-{os.getppid()}"  # a live process's: not ours to remove
    live_switch.symlink_to("releases/elsewhere")
    build(Settings(data_dir=data_dir), records_dir=_records(tmp_path), report=lambda _: None)
    assert not stale_work.exists()
    assert not stale_switch.is_symlink()
    assert live_switch.is_symlink()


def test_a_damaged_release_of_the_same_input_is_replaced(tmp_path: Path) -> None:
    data_dir, records = tmp_path / "data", _records(tmp_path)
    first = build(Settings(data_dir=data_dir), records_dir=records, report=lambda _: None)
    (first.path / "dumps" / "kusei.nt").unlink()
    again = build(Settings(data_dir=data_dir), records_dir=records, report=lambda _: None)
    assert again.release_id == first.release_id and not again.reused
    assert (again.path / "dumps" / "kusei.nt").is_file()
