"""A release: what one build publishes, the manifest that describes it, and the switch to a newer one.

The build writes ``<data_dir>/releases/<id>/`` — the store, the dumps, the sources and
``release.json`` (the :class:`Manifest`) — and then points the ``<data_dir>/current`` symlink at it
with a rename, so a server sees either the old release or the new one, never a mix. The manifest
is the contract between the two sides: the build writes it with :meth:`Manifest.write`, the
endpoint reads it with :func:`open_release`; neither reads the other's raw keys.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox
from pydantic import BaseModel, ConfigDict, ValidationError

MANIFEST_NAME = "release.json"
# The layout of a data directory and of each release in it. Only this module names these paths;
# everything else asks the functions below.
CURRENT = "current"  # symlink to the served release, relative: releases/<id>
RELEASES = "releases"  # one directory per kept release, named by its id
STORE, DUMPS, SOURCES = "store", "dumps", "sources"  # in a release directory
WORK_PREFIX = ".build-"  # a build's work directory in releases/, renamed to <id> once whole
SWITCH_PREFIX = ".current-"  # a switch's new link, renamed over ``current``
T = TypeVar("T")
logger = logging.getLogger(__name__)
# How often a server looks again at a published release it found broken (it may be repaired in place).
RECHECK_SECONDS = 10.0


class ReleaseError(RuntimeError):
    """No usable release: missing, incomplete or corrupt."""


class ManifestFile(BaseModel):
    """One published file of the release (dumps, shapes, VoID …)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    bytes: int
    sha256: str
    media_type: str
    format: str  # the short name the dataset description and the listing use


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    base: str  # of every minted IRI
    published_at: str  # where dumps and the endpoint are published (the base unless set)
    modified: str  # the release date stated in the dataset description
    graphs: dict[str, int]  # named graph IRI → triples
    files: list[ManifestFile]  # the published files, in ``dumps/``
    documents: dict[str, str]  # document id → record file
    # search.json beside the store (kusei.search_index). Every build writes one; only releases
    # made by hand for tests of the query side have none.
    search_index: ManifestFile | None = None

    def write(self, directory: Path) -> None:
        (directory / MANIFEST_NAME).write_text(self.model_dump_json(indent=1) + "\n", encoding="utf-8")

    def file(self, name: str) -> ManifestFile | None:
        return next((f for f in self.files if f.name == name), None)

    def held(self) -> dict[str, ManifestFile]:
        """Every file the manifest describes, by its path in the release directory."""
        return _held(self.files, self.search_index)


def _held(files: Iterable[ManifestFile], search_index: ManifestFile | None) -> dict[str, ManifestFile]:
    held = {f"{DUMPS}/{f.name}": f for f in files}
    if search_index is not None:
        held[search_index.name] = search_index
    return held


def digest_id(files: Iterable[ManifestFile], search_index: ManifestFile | None) -> str:
    """The id of the release that holds these files: a digest of their paths and contents, so the
    same inputs give the same release and any changed file a new one."""
    digest = hashlib.sha256()
    for path, described in sorted(_held(files, search_index).items()):
        digest.update(f"{path} {described.sha256}\n".encode())
    return digest.hexdigest()[:16]


def current_link(data_dir: Path) -> Path:
    """The symlink naming the release ``data_dir`` serves (it may not exist yet)."""
    return data_dir / CURRENT


def releases_dir(data_dir: Path) -> Path:
    return data_dir / RELEASES


def release_dir(data_dir: Path, release_id: str) -> Path:
    return data_dir / RELEASES / release_id


def kept_releases(data_dir: Path) -> list[Path]:
    """The release directories in ``data_dir`` (not work directories), newest first; OSError if
    there is no ``releases/``."""
    candidates = [p for p in releases_dir(data_dir).iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(candidates, key=lambda p: p.stat().st_mtime, reverse=True)


def store_dir(release: Path) -> Path:
    return release / STORE


def dumps_dir(release: Path) -> Path:
    return release / DUMPS


def sources_dir(release: Path) -> Path:
    return release / SOURCES


def read_manifest(release: Path) -> Manifest | None:
    """The manifest of the release directory ``release``; None if it has none. OSError or
    ValueError if it cannot be read (:func:`open_release` checks the whole release)."""
    path = release / MANIFEST_NAME
    if not path.is_file():
        return None
    return Manifest.model_validate_json(path.read_bytes())


def is_superseded(store_path: Path) -> bool:
    """Whether ``store_path`` (``<data>/releases/<id>/store``) belongs to a release that is no
    longer the published one (``<data>/current``): a request that still holds it must not move a
    query pool back to it. A store outside that layout is never superseded."""
    release = store_path.parent
    link = current_link(release.parent.parent)
    try:
        published = (link.parent / os.readlink(link)).resolve()
    except OSError:
        return False
    return published != release.resolve()


def open_store(path: Path) -> ox.Store:
    """The release's store, read-only. Only query processes (and the bench) open it."""
    return ox.Store.read_only(str(store_dir(path)))


class Release:
    """One published release, as a server process sees it: its manifest, its files, and a memo for
    what is computed from it (a release never changes once published, so nothing expires)."""

    def __init__(self, path: Path, manifest: Manifest) -> None:
        self.path = path
        self.manifest = manifest
        self._memo: dict[str, Any] = {}
        self._memo_lock = threading.Lock()

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def base(self) -> str:
        return self.manifest.base

    @property
    def store_path(self) -> Path:
        return store_dir(self.path)

    @property
    def dumps_dir(self) -> Path:
        return dumps_dir(self.path)

    @property
    def sources_dir(self) -> Path:
        return sources_dir(self.path)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per release and process; later calls get the same value."""
        with self._memo_lock:
            if key in self._memo:
                return self._memo[key]  # type: ignore[no-any-return]
        value = compute()  # outside the lock: a slow computation must not block other requests
        with self._memo_lock:
            return self._memo.setdefault(key, value)  # type: ignore[no-any-return]


def open_release(path: Path) -> Release:
    """The release at ``path``, validated: :class:`ReleaseError` if its manifest is missing or
    unreadable, a file it lists is missing or of another size, or its store cannot be opened."""
    manifest_path = path / MANIFEST_NAME
    if not manifest_path.is_file():
        raise ReleaseError(f"no release manifest at {manifest_path}; run `kusei build` first")
    try:
        manifest = Manifest.model_validate_json(manifest_path.read_bytes())
    except (OSError, ValueError, ValidationError) as exc:
        raise ReleaseError(f"release at {path} has an unreadable manifest: {exc}") from exc
    for name, described in manifest.held().items():
        try:
            size = (path / name).stat().st_size
        except OSError:
            raise ReleaseError(f"release at {path} lacks {name}, which its manifest lists") from None
        if size != described.bytes:
            raise ReleaseError(f"release at {path} has {name} of {size} bytes; its manifest says {described.bytes}")
    try:
        # Opened once to fail at start-up rather than in the first query; the query processes open
        # their own, so this one is dropped again (RocksDB closes when the object goes).
        store = open_store(path)
        del store
        gc.collect()
    except (OSError, RuntimeError) as exc:  # RocksDB reports corruption as RuntimeError
        raise ReleaseError(f"release at {path} has an unreadable store: {exc!r}") from exc
    return Release(path, manifest)


class CurrentRelease:
    """Follows ``<data_dir>/current``; a request holds the Release it got for its whole life.

    A published release that fails validation (:func:`open_release`) is not served: the last good
    one goes on being served (at start, the newest good one in ``releases/``), :attr:`problem`
    says so in words fit for the public, and the log says why. The broken one is looked at again
    every :data:`RECHECK_SECONDS`, and a newer publication replaces it at once.
    """

    def __init__(self, data_dir: Path) -> None:
        self.link = current_link(data_dir)
        self._link_text = os.fspath(self.link)  # read on every request: converted once
        self._lock = threading.Lock()
        self._target: str | None = None
        self._release: Release | None = None
        self._checked_at = 0.0
        self.problem: str | None = None  # set while a broken release is passed over
        self.latest()  # fail at start-up, not on the first request

    def latest(self) -> Release:
        """The release ``current`` points at now (opened on the first call after a switch), or the
        last good one while that is broken."""
        try:
            target = os.readlink(self._link_text)
        except OSError as exc:
            if self._release is not None:
                return self._release  # keep serving what we have
            raise ReleaseError(f"no published release at {self.link}; run `kusei build` first") from exc
        if self._settled(target):
            assert self._release is not None
            return self._release
        with self._lock:
            if self._settled(target):
                assert self._release is not None
                return self._release
            return self._switch(target)

    def _settled(self, target: str) -> bool:
        return target == self._target and self._release is not None and (
            self.problem is None or time.monotonic() - self._checked_at < RECHECK_SECONDS)

    def _switch(self, target: str) -> Release:
        # Called under the lock. ``_target`` moves only once the release is opened: until then
        # other requests see an unsettled target and wait on the lock, rather than take the old
        # release as settled while the new one is still being validated.
        path = (self.link.parent / target).resolve()
        try:
            release = open_release(path)
        except ReleaseError as exc:
            fallback = self._release or last_good_release(self.link.parent, passing_over=path)
            if fallback is None:
                raise
            problem = (f"The newest published release ({path.name}) is broken and is not served; the last "
                       f"good release ({fallback.id}) is served until a good one is published.")
            if problem != self.problem:
                logger.error("%s Why: %s", problem, exc)
            self._release, self.problem = fallback, problem
            self._target, self._checked_at = target, time.monotonic()
            return fallback
        if self.problem is not None:
            logger.warning("release %s is whole and served; no broken release is passed over now", release.id)
        self._release, self.problem = release, None
        self._target, self._checked_at = target, time.monotonic()
        return release


def last_good_release(data_dir: Path, *, passing_over: Path | None = None) -> Release | None:
    """The newest release in ``<data_dir>/releases`` that passes validation, other than ``passing_over``."""
    try:
        candidates = kept_releases(data_dir)
    except OSError:
        return None
    for path in candidates:
        if passing_over is not None and path.resolve() == passing_over:
            continue
        try:
            return open_release(path)
        except ReleaseError:
            continue
    return None
