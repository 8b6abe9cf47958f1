"""Copies of the graph input (``records/`` and ``sources/`` side by side, as in ``graph/``) for
tests that build from some of the records or add their own: every source needs its record and
every record its source, so a record is always copied with its source."""

from __future__ import annotations

import shutil
from pathlib import Path

from kusei.graph.input.record import load_record
from kusei.graph.input.verify import RECORDS_DIR, SOURCES_DIR


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
