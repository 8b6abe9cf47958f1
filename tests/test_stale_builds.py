"""A killed build's work directory is removed by a later build's prune (issue 12.6)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from kusei.graph.build import STALE_BUILD_SECONDS, _prune


def test_prune_removes_stale_build_directories_only(tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    keep = releases / "r1"
    keep.mkdir(parents=True)
    stale = releases / ".build-killed"
    running = releases / ".build-running"  # a build under way right now: not touched
    for directory in (stale, running):
        (directory / "store").mkdir(parents=True)
    old = time.time() - STALE_BUILD_SECONDS - 60
    os.utime(stale, (old, old))
    _prune(tmp_path, keep)
    assert not stale.exists()
    assert running.exists() and keep.exists()
