"""Links that stay true: a share link pins the release a result was computed on.

``/q/{release}/{query}``: the first characters of the release id and the query text itself,
deflated and base64url-encoded. Nothing is stored: the link holds all it needs, the same query on
the same release always gives the same link, and the server answers it from that release while
the release is kept (``KUSEI_KEEP_RELEASES``), saying when a newer one exists. A query whose link
would be longer than :data:`MAX_LINK` gets no link (some clients cut long URLs); the page says
so and offers the same page by POST.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import zlib
from pathlib import Path

from kusei.release import Release, ReleaseError, open_release

# Longest link produced: far under the server's request-target limit (8,190 bytes) and what
# browsers, chat clients and mail programs carry without cutting.
MAX_LINK = 2000
ID_CHARS = 10  # of the 16 hex characters of a release id: short, and unique among kept releases
_ID = re.compile(r"[0-9a-f]{6,16}")


class BadLink(ValueError):
    """Not a link this server made."""


def encode(query: str) -> str:
    return base64.urlsafe_b64encode(zlib.compress(query.encode("utf-8"), 9)).decode("ascii").rstrip("=")


def decode(payload: str, max_chars: int) -> str:
    """The query a link holds; :class:`BadLink` for anything else (or a text over ``max_chars``)."""
    try:
        packed = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        inflater = zlib.decompressobj()
        # Bounded: a small link must not inflate into gigabytes.
        raw = inflater.decompress(packed, max_chars * 4 + 1)
        if len(raw) > max_chars * 4 or not inflater.eof:
            raise BadLink("The link's query is longer than the server accepts.")
        text = raw.decode("utf-8")
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, BadLink):
            raise
        raise BadLink("This is not a link to a query of this server (it cannot be decoded).") from exc
    if len(text) > max_chars:
        raise BadLink("The link's query is longer than the server accepts.")
    return text


def link(release_id: str, query: str) -> str | None:
    """The pinned link of ``query`` on ``release_id``, or None when it would be too long."""
    href = f"/q/{release_id[:ID_CHARS]}/{encode(query)}"
    return href if len(href) <= MAX_LINK else None


@functools.lru_cache(maxsize=16)
def _opened(path: str) -> Release:
    # A release never changes once published: opened (and its store checked) once per process.
    return open_release(Path(path))


def find_release(data_dir: Path, short_id: str) -> Release | None:
    """The kept release whose id starts with ``short_id``; None if none is kept (or it is ambiguous)."""
    if not _ID.fullmatch(short_id):
        return None
    releases = data_dir / "releases"
    try:
        matches = [p for p in releases.iterdir() if p.name.startswith(short_id) and not p.name.startswith(".")]
    except OSError:
        return None
    if len(matches) != 1:
        return None
    try:
        return _opened(str(matches[0].resolve()))
    except ReleaseError:
        return None
