"""The release directory: where a build writes its release, and the switch that publishes it.

A build writes into a work directory ``releases/.build-<pid>-…``; :func:`publish` renames it to
``releases/<id>`` and only then moves the ``current`` symlink to it (a rename, atomic on POSIX),
so a server sees the old release or the new one, never a mix. A failed build only discards its
work directory; a killed one leaves it behind for the next build to remove, as it does a killed
switch's ``.current-<pid>`` link. Every file and directory of a release is synced to disk before
the switch, and the switch itself after it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kusei.release import (
    SWITCH_PREFIX,
    WORK_PREFIX,
    ReleaseError,
    current_link,
    kept_releases,
    open_release,
    release_dir,
    releases_dir,
)
from kusei.settings import Settings

# The current one and two before it, for a quick switch back; the setting's default is the one source.
KEEP_RELEASES: int = Settings.model_fields["keep_releases"].default


def disk_problem(exc: OSError) -> str:
    """One line naming the path a full or read-only disk refused, for the build's report."""
    where = exc.filename or "the data directory"
    if exc.filename2:  # a rename: the target is often the path that is in the way
        where = f"{where} -> {exc.filename2}"
    return f"{where}: {exc.strerror or exc}"


LOCK_NAME = ".build.lock"


@contextmanager
def build_lock(data_dir: Path, report: Callable[[str], None]) -> Iterator[None]:
    """Hold the data directory's build lock for the block: one build at a time, so a build that
    read its records later also publishes later, and the newest input wins.

    A second build waits here (saying so) until the first ends. The lock is an ``flock`` on a file
    in the data directory: the kernel drops it when its process dies, so a killed build never
    leaves it held. The file holds the holder's pid, for the message only.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            report(f"another build (pid {holder}) is running on {data_dir}; waiting for it to finish …")
            fcntl.flock(fd, fcntl.LOCK_EX)
            report("  the other build finished; this one goes on")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: leave its work alone
    return True


def _remove_stale_work(releases: Path) -> None:
    """Work directories of builds that were killed (``.build-<pid>-…``) and whose process is gone."""
    for work in releases.glob(f"{WORK_PREFIX}*"):
        owner = work.name.split("-")[1] if work.name.count("-") >= 2 else ""
        if work.is_dir() and (not owner.isdecimal() or not _pid_alive(int(owner))):
            shutil.rmtree(work, ignore_errors=True)


def new_work_directory(data_dir: Path) -> Path:
    """An empty directory under ``releases/`` for a build to write into (OSError if the disk refuses)."""
    releases = releases_dir(data_dir)
    releases.mkdir(parents=True, exist_ok=True)
    _remove_stale_work(releases)
    # The pid in the name tells a later build whether this work directory's build is still running.
    return Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-", dir=releases))


def discard(work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | (os.O_DIRECTORY if path.is_dir() else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_tree(root: Path) -> None:
    """fsync every file and directory under ``root`` and ``root`` itself, children first, so that
    once the switch is on disk so is everything the release it names holds."""
    for directory, _, files in os.walk(root, topdown=False):
        for name in files:
            _fsync(Path(directory) / name)
        _fsync(Path(directory))


def _remove_switch_leftovers(data_dir: Path) -> None:
    """``.current-<pid>`` links of switches whose process died between making and renaming them.
    Builds run one at a time (build_lock), so only a dead process's link is removed; others
    (a test pointing ``current`` by hand) are left alone."""
    for leftover in data_dir.glob(f"{SWITCH_PREFIX}*"):
        owner = leftover.name.split("-")[1]
        if owner.isdecimal() and int(owner) != os.getpid() and not _pid_alive(int(owner)):
            leftover.unlink(missing_ok=True)


def _swap_current(data_dir: Path, release: Path) -> None:
    link = current_link(data_dir)
    _remove_switch_leftovers(data_dir)
    temp = data_dir / f"{SWITCH_PREFIX}{os.getpid()}"
    if temp.is_symlink() or temp.exists():
        temp.unlink()
    temp.symlink_to(release_dir(Path(), release.name))  # relative: the data directory may move
    os.replace(temp, link)
    _fsync(data_dir)  # the switch itself is durable only once the directory holding it is


def _whole(release: Path) -> bool:
    try:
        open_release(release)
    except ReleaseError:
        return False
    return True


def _prune(data_dir: Path, keep: Path, count: int = KEEP_RELEASES) -> None:
    for old in kept_releases(data_dir)[max(1, count):]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


def publish(work: Path, data_dir: Path, release_id: str, keep: int = KEEP_RELEASES) -> tuple[Path, bool]:
    """Make the finished ``work`` directory the current release ``release_id``.

    Returns the release's directory and whether it was already there (same inputs, same id: the
    one already published is kept and ``work`` dropped). Older releases beyond the newest ``keep``
    (KUSEI_KEEP_RELEASES) are removed; links pinned to them then say so.
    """
    target = release_dir(data_dir, release_id)
    reused = target.exists() and _whole(target)
    if reused:
        shutil.rmtree(work)
    else:
        if target.exists():  # the same release, damaged since: this build's copy replaces it
            shutil.rmtree(target)
        sync_tree(work)
        os.rename(work, target)
        _fsync(target.parent)
    _swap_current(data_dir, target)
    os.utime(target)  # the newest by mtime, so pruning keeps it
    _prune(data_dir, target, keep)
    return target, reused
