"""Copies of the graph input (``records/`` and ``sources/`` side by side, as in ``graph/``) for
tests that build from some of the records or add their own: every source needs its record and
every record its source, so a record is always copied with its source."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

from kusei.graph.build import BuildResult, build
from kusei.graph.input.record import load_record
from kusei.graph.input.verify import RECORDS_DIR, SOURCES_DIR
from kusei.settings import Settings

# A shapes graph that names the shapes' ontology and holds no shape: the SHACL gate of a build
# given it judges nothing, and every other step runs as in a real build.
NO_SHAPES = "<https://w3id.org/kusei/def/shapes/> a <http://www.w3.org/2002/07/owl#Ontology> .\n"


def copy_input(directory: Path, records: list[str] | None = None) -> Path:
    """Copy the named records (default: all) and their sources to ``directory``; the records'
    directory, which ``build(records_dir=…)`` and ``verify --input directory`` take as it is."""
    records_dir, sources_dir = directory / "records", directory / "sources"
    records_dir.mkdir(parents=True)
    sources_dir.mkdir()
    for path in sorted(RECORDS_DIR.glob("*.yaml")):
        if records is None or path.name in records:
            shutil.copy(path, records_dir / path.name)
            source = load_record(path)[0].document.file
            shutil.copy(SOURCES_DIR / source, sources_dir / source)
    return records_dir


def point_current(data_dir: Path, release: str) -> None:
    """Point ``data_dir/current`` at ``releases/<release>`` in one atomic rename, as a build does
    (a link name of this process and thread's own, so concurrent switches never collide)."""
    temp = data_dir / f".current-{os.getpid()}-{threading.get_ident()}"
    temp.symlink_to(f"releases/{release}")
    os.replace(temp, data_dir / "current")


def edit(path: Path, old: str, new: str, count: int = 1) -> int:
    """Replace ``old`` by ``new`` in the file; the line (1-based) of the first change."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer holds {old!r}: pick another text for this test"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1 + old[: len(old) - len(old.lstrip("\n"))].count("\n")


def build_without_shapes(directory: Path, records: list[str], settings: Settings | None = None) -> BuildResult:
    """A release of the named records (copied with their sources under ``directory``) in
    ``settings.data_dir`` (default ``directory/data``), built as `kusei build` builds, but through
    a gate with no shapes: for tests of what is built from a few records, not of the shapes."""
    input_records = copy_input(directory / "input", records)
    shapes = directory / "no-shapes"
    shapes.mkdir()
    (shapes / "none.ttl").write_text(NO_SHAPES, encoding="utf-8")
    return build(settings or Settings(data_dir=directory / "data"), records_dir=input_records, shapes_dir=shapes,
                 report=lambda _: None)
