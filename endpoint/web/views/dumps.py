"""The release's files: a listing with sizes and checksums, and each file with Range and 304 support."""

from __future__ import annotations

import hashlib
import json
import mimetypes
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, Response, abort, render_template, request, send_file
from werkzeug.http import parse_range_header

from kusei.endpoint.web import current, negotiation
from kusei.endpoint.web import http as web
from kusei.release import Release

bp = Blueprint("dumps", __name__)

# Files the build writes but does not describe in the manifest.
EXTRA_TYPES = {"SHA256SUMS": "text/plain"}


@dataclass(frozen=True)
class DumpEntry:
    name: str
    path: Path
    bytes: int
    sha256: str
    media_type: str
    modified: datetime

    def listing(self) -> dict:
        return {"name": self.name, "url": f"/dumps/{self.name}", "bytes": self.bytes,
                "media_type": self.media_type, "sha256": self.sha256,
                "modified": self.modified.isoformat().replace("+00:00", "Z")}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _scan(release: Release) -> dict[str, DumpEntry]:
    """Every regular file of the dumps directory by name, then the source documents as ``sources/<name>``."""
    described = {f.name: f for f in release.manifest.files}
    found: dict[str, DumpEntry] = {}
    for directory, prefix in ((release.dumps_dir, ""), (release.sources_dir, "sources/")):
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            # Only plain files directly in the directory: no sub-directories, no symlinks out of it.
            if not path.is_file() or path.is_symlink() or path.name.startswith("."):
                continue
            stat = path.stat()
            info = described.get(path.name) if not prefix else None
            media_type = (info.media_type if info else None) or EXTRA_TYPES.get(path.name) \
                or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            found[prefix + path.name] = DumpEntry(
                name=prefix + path.name, path=path, bytes=stat.st_size,
                sha256=info.sha256 if info else _sha256(path), media_type=media_type,
                modified=datetime.fromtimestamp(int(stat.st_mtime), UTC))
    return found


def entries(release: Release) -> dict[str, DumpEntry]:
    # A release never changes once published, so its listing is computed once per process.
    return release.memo("dump-entries", lambda: _scan(release))


@bp.get("/dumps/")
def listing() -> Response:
    release = current.release()
    wanted = request.args.get("format", "").lower()
    accept = request.headers.get("Accept")
    as_json = wanted in ("json", "application/json") or (
        not wanted and negotiation.prefers(accept, "application/json", over=["text/html"]))
    if wanted and wanted not in ("json", "application/json", "html", "text/html"):
        return web.error_response(406, "format= must be json or html.", code="not-acceptable",
                                  offered="text/html, application/json")
    etag = web.release_etag(request.full_path, "json" if as_json else "html")
    cached = web.not_modified(etag, vary="Accept")
    if cached is not None:
        return cached
    files = list(entries(release).values())
    if as_json:
        body = json.dumps({"release": release.id, "modified": release.manifest.modified,
                           "files": [entry.listing() for entry in files]}, ensure_ascii=False, indent=1)
        response = Response(body + "\n", content_type="application/json")
    else:
        response = Response(_html(release, files), content_type="text/html; charset=utf-8")
    response.set_etag(etag)
    response.vary.add("Accept")
    return response


def _html(release: Release, files: list[DumpEntry]) -> str:
    # The site layout, so the listing has the header, search, viewport and both languages.
    return render_template("dumps.html", release_id=release.id, files=files)


@bp.get("/dumps/<name>")
@bp.get("/dumps/sources/<name>", defaults={"folder": "sources/"})
def dump_file(name: str, folder: str = "") -> Response:
    # The name is only ever looked up in the listing, never joined to a path, so "..", encoded
    # slashes or absolute paths cannot reach a file outside the release's directories.
    entry = entries(current.release()).get(folder + name)
    if entry is None:
        abort(404, description=f"No file {name!r} in this release; see /dumps/ for the list.")
    asked = parse_range_header(request.headers["Range"]) if "Range" in request.headers else None
    if "Range" in request.headers and (asked is None or asked.units != "bytes"):
        # A Range the server cannot read (bytes=abc, bytes=5-1, items=0-5) is ignored and the whole
        # file sent, as RFC 9110 (14.2) lets a server do; Werkzeug would answer 416.
        request.environ.pop("HTTP_RANGE", None)
    is_gzip = entry.name.endswith(".gz")
    response = send_file(
        entry.path, mimetype=entry.media_type, as_attachment=is_gzip, download_name=entry.name,
        conditional=True, etag=entry.sha256, last_modified=entry.modified, max_age=None)
    response.cache_control.public = True
    response.cache_control.no_cache = True
    return response
