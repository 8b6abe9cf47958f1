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
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox
from pydantic import BaseModel, ConfigDict, ValidationError

MANIFEST_NAME = "release.json"
T = TypeVar("T")


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
    held = {f"dumps/{f.name}": f for f in files}
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


def open_store(path: Path) -> ox.Store:
    """The release's store, read-only. Only query processes (and the bench) open it."""
    return ox.Store.read_only(str(path / "store"))


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
        return self.path / "store"

    @property
    def dumps_dir(self) -> Path:
        return self.path / "dumps"

    @property
    def sources_dir(self) -> Path:
        return self.path / "sources"

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per release and process; later calls get the same value."""
        with self._memo_lock:
            if key in self._memo:
                return self._memo[key]  # type: ignore[no-any-return]
        value = compute()  # outside the lock: a slow computation must not block other requests
        with self._memo_lock:
            return self._memo.setdefault(key, value)  # type: ignore[no-any-return]


def open_release(path: Path) -> Release:
    """The release at ``path``; :class:`ReleaseError` if its manifest or store is unusable."""
    manifest_path = path / MANIFEST_NAME
    if not manifest_path.is_file():
        raise ReleaseError(f"no release manifest at {manifest_path}; run `kusei build` first")
    try:
        manifest = Manifest.model_validate_json(manifest_path.read_bytes())
    except (OSError, ValueError, ValidationError) as exc:
        raise ReleaseError(f"release at {path} has an unreadable manifest: {exc}") from exc
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
    """Follows ``<data_dir>/current``; a request holds the Release it got for its whole life."""

    def __init__(self, data_dir: Path) -> None:
        self.link = data_dir / "current"
        self._lock = threading.Lock()
        self._target: str | None = None
        self._release: Release | None = None
        self.latest()  # fail at start-up, not on the first request

    def latest(self) -> Release:
        """The release ``current`` points at now (opened on the first call after a switch)."""
        try:
            target = str(Path(self.link).readlink())
        except OSError as exc:
            if self._release is not None:
                return self._release  # keep serving what we have
            raise ReleaseError(f"no published release at {self.link}; run `kusei build` first") from exc
        if target != self._target:
            with self._lock:
                if target != self._target:
                    self._release = open_release((self.link.parent / target).resolve())
                    self._target = target
        assert self._release is not None
        return self._release
