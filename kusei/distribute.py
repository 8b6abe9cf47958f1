"""Publishing a built release to other data directories (replicas), verified, switching together.

``kusei publish --from SRC --to DIR [--to DIR …]`` copies the release that ``SRC`` (a data
directory, or one release directory) holds to every ``DIR`` in two phases:

1. *copy and verify*, per target: into a work directory beside the target's releases (``releases/
   .build-<pid>-…``, as a build writes, so a killed copy is cleaned up as a killed build is), each
   file's SHA-256 computed while it is read from the source and again from what was written, the
   manifest's files (dumps, search index) also checked against the SHA-256 that ``release.json``
   states, and the copied release opened as a server opens it (manifest and store);
2. *switch*, only once every target holds a verified copy: each target's ``current`` link moves to
   it with one rename (the build's own switch, ``kusei.graph.release_dir.publish``).

A refusal in phase 1 discards every work directory and switches nothing: each target keeps
serving its current release. The targets' switches follow each other within milliseconds, so
replicas behind one proxy change release together; see README "Running in public" for the order
with the proxy's cache.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kusei.graph import release_dir
from kusei.release import MANIFEST_NAME, Manifest, ReleaseError, current_link, open_release

CHUNK = 1 << 20
Copy = Callable[[Path, Path], str]


class PublishError(RuntimeError):
    """The release could not be copied or verified; no target was switched."""


@dataclass(frozen=True)
class Published:
    release_id: str
    targets: list[Path]
    files: int  # files copied and verified per target
    bytes: int  # bytes per target


def source_release(source: Path) -> Path:
    """The release directory ``source`` names: itself if it holds a manifest, else its ``current``."""
    if (source / MANIFEST_NAME).is_file():
        return source.resolve()
    current = current_link(source)
    if current.is_symlink() or current.exists():
        return current.resolve()
    raise PublishError(f"{source} is neither a release nor a data directory with a current release")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_file(source: Path, target: Path) -> str:
    """Copy ``source`` to ``target`` (written to disk) and return the SHA-256 of what was read."""
    digest = hashlib.sha256()
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    shutil.copystat(source, target)
    return digest.hexdigest()


def copy_release(source: Path, work: Path, copy: Copy = copy_file) -> tuple[int, int]:
    """Copy every file of the release at ``source`` into ``work`` and verify it; returns (files,
    bytes). Raises :class:`PublishError` naming the first file that does not verify."""
    try:
        manifest = Manifest.model_validate_json((source / MANIFEST_NAME).read_bytes())
    except (OSError, ValueError) as exc:
        raise PublishError(f"{source}: unreadable release manifest: {exc}") from exc
    stated = {path: described.sha256 for path, described in manifest.held().items()}
    files = total = 0
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        target = work / relative
        if path.is_symlink():
            raise PublishError(f"{relative}: a release holds no links")
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        read = copy(path, target)
        written = _sha256(target)
        name = relative.as_posix()
        if written != read:
            raise PublishError(f"{name}: the copy does not match the source (SHA-256 {written} != {read})")
        if name in stated and stated[name] != read:
            raise PublishError(f"{name}: SHA-256 {read} is not the {stated[name]} that {MANIFEST_NAME} states")
        stated.pop(name, None)
        files += 1
        total += target.stat().st_size
    if stated:
        raise PublishError(f"files named in {MANIFEST_NAME} are missing: {', '.join(sorted(stated))}")
    try:
        opened = open_release(work)  # the manifest parses and the store opens, as a server needs
    except ReleaseError as exc:
        raise PublishError(f"the copy is not a usable release: {exc}") from exc
    if opened.id != manifest.id:
        raise PublishError(f"the copy names release {opened.id}, not {manifest.id}")
    return files, total


def publish(source: Path, targets: list[Path], *, copy: Copy = copy_file,
            report: Callable[[str], None] = print, keep: int = release_dir.KEEP_RELEASES) -> Published:
    """Copy the release ``source`` names to every data directory in ``targets`` and switch them
    all to it, or none (see the module docstring). Each target then keeps its ``keep`` newest
    releases (``keep_releases``), as a build does."""
    if not targets:
        raise PublishError("no target data directory given")
    release = source_release(source)
    release_id = Manifest.model_validate_json((release / MANIFEST_NAME).read_bytes()).id
    works: dict[Path, Path] = {}
    try:
        for target in targets:
            work = release_dir.new_work_directory(target)
            works[target] = work
            files, size = copy_release(release, work, copy)
            report(f"{target}: release {release_id} copied and verified ({files} files, {size} bytes)")
    except (PublishError, OSError) as exc:
        for work in works.values():
            release_dir.discard(work)
        if isinstance(exc, OSError):
            raise PublishError(f"copy failed: {release_dir.disk_problem(exc)}") from exc
        raise
    for target, work in works.items():
        release_dir.publish(work, target, release_id, keep=keep)
        report(f"{target}: current -> releases/{release_id}")
    return Published(release_id, list(targets), files, size)
