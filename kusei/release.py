"""The published release the server answers from, and the atomic switch to a newer one.

A build writes ``<data_dir>/releases/<id>/`` and then points the ``<data_dir>/current`` symlink
at it with a rename, so the server sees either the old release or the new one, never a mix.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox


class ReleaseError(RuntimeError):
    """No usable release: missing, incomplete or corrupt."""


@dataclass(frozen=True)
class Release:
    id: str
    path: Path
    manifest: dict
    store: ox.Store

    @property
    def dumps_dir(self) -> Path:
        return self.path / "dumps"

    @property
    def sources_dir(self) -> Path:
        return self.path / "sources"

    @property
    def base(self) -> str:
        return self.manifest["base"]


def open_release(path: Path) -> Release:
    manifest_path = path / "release.json"
    if not manifest_path.is_file():
        raise ReleaseError(f"no release manifest at {manifest_path}; run `kusei build` first")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        store = ox.Store.read_only(str(path / "store"))
        release_id = manifest["id"]
        manifest["base"]  # noqa: B018 - a manifest without these is not a release
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
        # RocksDB reports corruption as RuntimeError; a manifest without its keys as KeyError.
        raise ReleaseError(f"release at {path} is unreadable: {exc!r}") from exc
    return Release(id=release_id, path=path, manifest=manifest, store=store)


class CurrentRelease:
    """Follows ``<data_dir>/current``; a request holds one Release object for its whole life."""

    def __init__(self, data_dir: Path) -> None:
        self.link = data_dir / "current"
        self._lock = threading.Lock()
        self._target: str | None = None
        self._release: Release | None = None
        self.get()  # fail at start-up, not on the first request

    def get(self) -> Release:
        try:
            target = os.readlink(self.link)
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
