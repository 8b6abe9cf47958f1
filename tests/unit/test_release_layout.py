"""The release directory's layout as kusei.release gives it: the paths the build writes and the
switch that tells a query pool its store has been superseded."""

from __future__ import annotations

import os
from pathlib import Path

from kusei.release import current_link, is_superseded, kept_releases, release_dir, store_dir


def data_dir_with(tmp_path: Path, *ids: str, current: str) -> Path:
    for release_id in ids:
        store_dir(release_dir(tmp_path, release_id)).mkdir(parents=True)
    (tmp_path / "releases" / ".build-1-x").mkdir()  # a build's work directory is no release
    current_link(tmp_path).symlink_to(release_dir(Path(), current))
    return tmp_path


def test_only_the_current_release_store_is_not_superseded(tmp_path: Path) -> None:
    data_dir = data_dir_with(tmp_path, "aaaa", "bbbb", current="aaaa")
    assert not is_superseded(store_dir(release_dir(data_dir, "aaaa")))
    assert is_superseded(store_dir(release_dir(data_dir, "bbbb")))
    # The switch moves the link; the store that was current is superseded from then on.
    os.replace(_link_to(data_dir, "bbbb"), current_link(data_dir))
    assert is_superseded(store_dir(release_dir(data_dir, "aaaa")))
    assert not is_superseded(store_dir(release_dir(data_dir, "bbbb")))


def test_a_store_outside_a_data_directory_is_never_superseded(tmp_path: Path) -> None:
    store = tmp_path / "elsewhere" / "store"
    store.mkdir(parents=True)
    assert not is_superseded(store)


def test_kept_releases_are_release_directories_newest_first(tmp_path: Path) -> None:
    data_dir = data_dir_with(tmp_path, "aaaa", "bbbb", current="aaaa")
    os.utime(release_dir(data_dir, "aaaa"), (1, 1))
    assert [p.name for p in kept_releases(data_dir)] == ["bbbb", "aaaa"]


def _link_to(data_dir: Path, release_id: str) -> Path:
    temp = data_dir / "next"
    temp.symlink_to(release_dir(Path(), release_id))
    return temp
