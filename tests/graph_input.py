"""Copies of the graph input (``records/`` and ``sources/`` side by side, as in ``graph/``) for
tests that build from some of the records or add their own: every source needs its record and
every record its source, so a record is always copied with its source."""

from __future__ import annotations

import os
import shutil
import threading
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


def point_current(data_dir: Path, release: str) -> None:
    """Point ``data_dir/current`` at ``releases/<release>`` in one atomic rename, as a build does
    (a link name of this process and thread's own, so concurrent switches never collide)."""
    temp = data_dir / f".current-{os.getpid()}-{threading.get_ident()}"
    temp.symlink_to(f"releases/{release}")
    os.replace(temp, data_dir / "current")
