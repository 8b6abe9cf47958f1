"""Conventions every response follows: compression, CORS, ETags and 304s, security headers, errors.

``init_app(app)`` wires them in. Views ask :func:`release_etag` for an ETag and :func:`not_modified`
for a 304 before doing any work; ``_finish`` gives every other cacheable answer (static files
included) its ETag, and the 304 if the client holds it, through the same functions (:func:`etag_of`,
:func:`fresh`), as do the dumps and the lean path (``lean.py``). Every error is rendered by
:func:`render_error`.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import html
import json
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, render_template, request
from flask_compress import Compress
from flask_compress.flask_compress import _choose_algorithm
from flask_cors import CORS
from werkzeug.datastructures import ETags
from werkzeug.exceptions import BadRequest, HTTPException, NotFound, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES, parse_date, parse_etags
from werkzeug.security import safe_join
from werkzeug.wsgi import wrap_file

from kusei import __version__, formats
from kusei.endpoint.query.errors import KuseiError, NoRelease, RequestTooLarge
from kusei.endpoint.web import current, negotiation
from kusei.release import ReleaseError

# The code version is part of every ETag: a deployment may change how the same release is
# rendered (prefixes, templates), and a strong validator must then change too.
VERSION = __version__

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'none'",
    "frame-ancestors 'none'", "form-action 'self'",
])

# Text formats worth compressing: every format of the registry (and the media types that select
# them) but gzip, whose dumps are already compressed.
COMPRESSED_TYPES = sorted({
    media_type for fmt in formats.every_format() for media_type in (fmt.media_type, *fmt.aliases)
    if media_type != "application/gzip"
})
# How flask-compress names the ETag of compressed bytes: the plain one with ``:gzip``.
COMPRESSED_ETAG_SUFFIXES = (":gzip",)

# Stored, but revalidated every time: a release can be swapped at any moment, and a revalidation
# costs a 304. Written as a string: werkzeug's cache_control object costs more than the rest of _finish.
CACHE_CONTROL = "public, no-cache"
# Written on every response by _finish (and, in this order, by the lean path).
SECURITY_HEADERS = (("Content-Security-Policy", CONTENT_SECURITY_POLICY), ("X-Content-Type-Options", "nosniff"),
                    ("Referrer-Policy", "strict-origin-when-cross-origin"))

# What a browser-side client (YASGUI, Comunica) may read from a cross-origin response.
EXPOSED_HEADERS = ["Content-Length", "Content-Range", "Accept-Ranges", "Content-Disposition", "ETag",
                   "Last-Modified", "Link", "Location", "Retry-After", "Vary", "Cache-Status", "Kusei-Release"]


def init_app(app: Flask) -> None:
    settings = app.config["KUSEI"]
    # Flask's default config already holds MAX_CONTENT_LENGTH = None, so setdefault would not apply.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", "gzip")
    app.config.setdefault("COMPRESS_STREAMS", False)
    # 304s are decided by fresh() alone, after compression (in _finish), not by flask-compress.
    app.config["COMPRESS_EVALUATE_CONDITIONAL_REQUEST"] = False
    # Static files are gzipped once per content (the editor bundle is ~380 kB); nothing else is kept.
    app.config["COMPRESS_CACHE_BACKEND"] = StaticCodings
    app.config["COMPRESS_CACHE_KEY"] = _static_coding_key
    # Registered by hand below, so that files served with Range support are never re-encoded.
    app.config["COMPRESS_REGISTER"] = False
    compress = Compress(app)
    app.extensions["kusei_compress"] = compress
    # Public, read-only data: any origin, never credentials; flask-cors answers preflights.
    CORS(app, resources={r"/*": {}}, origins="*", send_wildcard=True, supports_credentials=False,
         methods=["GET", "HEAD", "POST", "OPTIONS"], expose_headers=EXPOSED_HEADERS, max_age=86400)
    if "static" in app.view_functions:
        app.view_functions["static"] = static_file
    app.before_request(_check_host)
    app.after_request(_finish)
    app.register_error_handler(KuseiError, render_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ReleaseError, _release_error)
    app.register_error_handler(Exception, _unexpected_error)


# -- the Host header ------------------------------------------------------------------------------

# One host name, IPv4 or bracketed IPv6 address, with an optional port. granian joins repeated
# headers with commas and hands an absent Host on as an empty one.
_HOST = re.compile(r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")


def _check_host() -> None:
    """400 for an HTTP/1.1 request without exactly one well-formed Host (RFC 9112, 3.2).

    Werkzeug builds absolute URLs (routing redirects) from this header; a malformed or doubled one
    gave ``Location: http:///…``. The value is never echoed back."""
    host = request.environ.get("HTTP_HOST")
    if not host:
        if request.environ.get("SERVER_PROTOCOL") == "HTTP/1.1":
            raise BadRequest("An HTTP/1.1 request needs a Host header.")
        return
    if not _HOST.fullmatch(host):
        raise BadRequest("The Host header must be one host name or address, with an optional port.")


# -- compression ----------------------------------------------------------------------------------


def coding_for(algorithms: tuple[str, ...], accept_encoding: str) -> str | None:
    """The content coding flask-compress gives an answer for this ``Accept-Encoding`` (None: none).

    Asked by the answers flask-compress does not see (spooled ones, the lean path), so every
    answer is coded alike. flask-compress (1.25) offers this only as a private function, which is
    used here alone; it remembers its answers."""
    return _choose_algorithm(algorithms, accept_encoding)


# -- large answers --------------------------------------------------------------------------------

# Answers larger than this are sent from a temporary file, not from the web worker's memory.
SPOOL_ABOVE = 1 << 20


def spool(response: Response, body: bytes) -> None:
    """Send ``body`` (the response's own bytes) from an unlinked temporary file, gzipped first if
    the client accepts gzip.

    A slow reader of a large answer then holds a file descriptor and a few kilobytes of the web
    worker, not the answer itself (130 slow readers of an 18 MB answer held 4 GiB). The file goes
    when the response is closed. The ETag of the gzipped bytes is the plain one with ``:gzip``, as
    flask-compress names it, so revalidation (``not_modified``) works the same."""
    if response.status_code != 200:
        return
    algorithms = current_app.extensions["kusei_compress"].enabled_algorithms
    if coding_for(algorithms, request.headers.get("Accept-Encoding", "")) == "gzip":
        body = gzip.compress(body, compresslevel=5)
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        etag, weak = response.get_etag()
        if etag:
            response.set_etag(f"{etag}:gzip", weak=bool(weak))
    handle = tempfile.TemporaryFile()
    handle.write(body)
    handle.seek(0)
    response.response = wrap_file(request.environ, handle)
    response.direct_passthrough = True  # neither compressed again nor buffered by the after-request hooks
    response.content_length = len(body)


# -- validators -----------------------------------------------------------------------------------


def etag_of(release_id: str, *parts: str) -> str:
    """The strong ETag (unquoted) of a representation rendered from the release ``release_id``.

    ``parts`` must name everything else the bytes depend on: the URL with its query string and the
    chosen format. The release id comes first so it is readable in logs. Every rendered answer's
    ETag is made here (views, ``_finish``, the lean path); a file's is its content's SHA-256
    (:func:`file_etag`)."""
    return _etag(VERSION, release_id, *parts)


@functools.lru_cache(maxsize=1024)
def _etag(version: str, release_id: str, *parts: str) -> str:
    digest = hashlib.sha256("\x00".join([version, release_id, *parts]).encode("utf-8")).hexdigest()
    return f"{release_id}-{digest[:20]}"


def release_etag(*parts: str) -> str:
    """:func:`etag_of` for the release this request is answered from."""
    return etag_of(current.release().id, *parts)


def file_etag(sha256: str) -> str:
    """The ETag of a file: its content's SHA-256 (``sha256sum`` prints the same), whatever release holds it."""
    return sha256


@functools.lru_cache(maxsize=256)
def _parsed_etags(header: str) -> ETags:
    return parse_etags(header)


def fresh(if_none_match: str | None, etag: str | None, *, if_modified_since: str | None = None,
          last_modified: datetime | None = None) -> str | None:
    """The one 304 decision: the validator the client already holds, or None if it must get the
    representation.

    ``If-None-Match`` is compared with ``etag`` and with ``etag`` as flask-compress names the
    compressed bytes (``:gzip``), so a client that cached either revalidates; only without it does
    ``If-Modified-Since`` count (RFC 9110, 13.2.2), against ``last_modified``. The answer is the
    ETag to send with the 304 ("" when decided by date)."""
    if if_none_match:
        if etag is None:
            return None
        tags = _parsed_etags(if_none_match)
        for candidate in (etag, *(etag + suffix for suffix in COMPRESSED_ETAG_SUFFIXES)):
            # Weak comparison, as RFC 9110 (13.1.2) asks for If-None-Match: W/"x" matches "x".
            if tags.contains_weak(candidate):
                return candidate
        return None
    if if_modified_since and last_modified is not None:
        since = parse_date(if_modified_since)
        if since is not None and int(last_modified.timestamp()) <= int(since.timestamp()):
            return etag or ""
    return None


def not_modified(etag: str | None, *, vary: str | None = None,
                 last_modified: datetime | None = None) -> Response | None:
    """A 304 before any work if the client already holds ``etag`` (see :func:`fresh`); ``vary``
    names the request header the representation was chosen by."""
    if request.method not in ("GET", "HEAD"):
        return None
    held = fresh(request.environ.get("HTTP_IF_NONE_MATCH"), etag,
                 if_modified_since=request.environ.get("HTTP_IF_MODIFIED_SINCE"), last_modified=last_modified)
    if held is None:
        return None
    response = Response(status=304)
    if held:
        response.set_etag(held)
    if vary:
        response.vary.add(vary)
    return response


# -- static files ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    etag: str
    media_type: str


@functools.lru_cache(maxsize=64)
def _static_file(path: str, mtime_ns: int, size: int) -> StaticFile:
    body = Path(path).read_bytes()
    media_type = formats.media_type_of_file(Path(path).name)
    return StaticFile(body, file_etag(hashlib.sha256(body).hexdigest()), media_type)


class StaticCodings:
    """flask-compress's cache backend: the compressed bytes of static files, by coding and ETag.

    flask-compress asks it for every response it compresses; only the keys of static files
    (:func:`_static_coding_key`) are kept, so its size is bounded by the static folder's."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def set(self, key: str, value: bytes) -> None:
        if not key.endswith(";"):  # ";" alone: not a static file (flask-compress writes "coding;key")
            self.data[key] = value


def _static_coding_key(req: Request) -> str:
    # The content's ETag, which static_file notes: a rebuilt bundle gets a key of its own.
    return str(req.environ.get(STATIC_ETAG_KEY, ""))


STATIC_ETAG_KEY = "kusei.static_etag"


def static_file(filename: str) -> Response:
    """A file of the static folder, held in memory (they are small), so it is compressed, gets an
    ETag and a 304 as every other answer does (Werkzeug's ``send_file`` streams and validates on
    its own terms)."""
    folder = current_app.static_folder
    path = safe_join(folder, filename) if folder else None
    if path is None or not Path(path).is_file():
        raise NotFound()
    stat = Path(path).stat()
    found = _static_file(path, stat.st_mtime_ns, stat.st_size)
    # Every static type is compressible: the 304 says, as the 200 does, that the coding varies.
    modified = datetime.fromtimestamp(int(stat.st_mtime), UTC)
    cached = not_modified(found.etag, vary="Accept-Encoding", last_modified=modified)
    if cached is not None:
        return cached
    request.environ[STATIC_ETAG_KEY] = found.etag
    content_type = found.media_type + ("; charset=utf-8" if found.media_type.startswith("text/") else "")
    response = Response(found.body, content_type=content_type)
    response.set_etag(found.etag)
    response.last_modified = modified
    return response


def _relative_redirect(response: Response) -> None:
    # Werkzeug writes routing redirects (/dumps → /dumps/) as absolute URLs built from the request's
    # Host header, which is the client's to choose; a relative one sends it to the same place.
    # Its body (werkzeug's "Redirecting..." page) repeats the absolute URL, Host and all: replaced
    # by words that repeat nothing from the request.
    location = response.headers.get("Location")
    if location and 300 <= response.status_code < 400:
        target = urlsplit(location)
        if target.scheme and target.netloc in ("", request.host):
            response.headers["Location"] = (target.path or "/") + (f"?{target.query}" if target.query else "")
            response.autocorrect_location_header = False
        response.set_data(b"Redirected: the new address is in the Location header.\n")
        response.content_type = "text/plain; charset=utf-8"


def _conditional(req: Request) -> bool:
    # Only these can turn an answer into a 304; skipping the check otherwise saves a third of
    # _finish on the cheapest requests (bench/layers.py).
    return any(header in req.environ for header in _CONDITIONAL_HEADERS)


_CONDITIONAL_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")


def _finish(response: Response) -> Response:
    _relative_redirect(response)
    cacheable = (request.method in ("GET", "HEAD") and response.status_code == 200
                 and not response.direct_passthrough and not response.is_streamed)
    if cacheable and "ETag" not in response.headers:
        try:
            response.set_etag(release_etag(request.full_path, response.mimetype or ""))
        except ReleaseError:
            pass
    if "ETag" in response.headers and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = CACHE_CONTROL
    if response.status_code == 200 and not response.direct_passthrough:
        response = current_app.extensions["kusei_compress"].after_request(response)
    if cacheable and _conditional(request):
        # After compression, so the ETag compared is the one this response carries (":gzip" or not).
        etag = response.headers.get("ETag")
        held = fresh(request.environ.get("HTTP_IF_NONE_MATCH"), response.get_etag()[0] if etag else None,
                     if_modified_since=request.environ.get("HTTP_IF_MODIFIED_SINCE"),
                     last_modified=response.last_modified)
        if held is not None:
            response.status_code = 304
    for name, value in SECURITY_HEADERS:
        response.headers.setdefault(name, value)
    return response


# -- errors ---------------------------------------------------------------------------------------

# What a browser is told, in both languages, above the message.
ERROR_TITLES = {
    400: ("リクエストが正しくありません", "Bad request", "送られた内容を読み取れませんでした。"),
    404: ("見つかりません", "Not found", "このアドレスのページはありません。"),
    405: ("この方法では使えません", "Method not allowed", "このアドレスはこの HTTP メソッドを受け付けません。"),
    406: ("この形式では返せません", "Not acceptable", "求められた形式ではこの内容を返せません。"),
    413: ("大きすぎます", "Payload too large", "送られた内容が大きすぎます。"),
    429: ("リクエストが多すぎます", "Too many requests", "しばらく待ってからもう一度お試しください。"),
    500: ("サーバーの問題です", "Internal server error", "サーバー側で問題が起きました。記録されています。"),
    503: ("一時的に使えません", "Service unavailable", "しばらく待ってからもう一度お試しください。"),
}
# Codes whose page says more than error.html can (the IRI asked about, say).
ERROR_TEMPLATES = {"unknown-iri": "not_found.html"}


def _slug(status: int) -> str:
    return HTTP_STATUS_CODES.get(status, "error").lower().replace(" ", "-").replace("'", "")


def error_response(status: int, message: str, *, code: str | None = None, template: str | None = None,
                   context: dict[str, object] | None = None, **details: object) -> Response:
    """The one error renderer: JSON if the client prefers JSON, a page in the site layout for
    browsers, else plain text (``negotiation.for_error``).

    ``details`` (``line``, ``column``, ``offered`` …) are added to the JSON object and, one per
    line, to the plain text and the page; None values are left out. ``template`` (error.html by
    default) renders the page, with ``context``.
    """
    code = code or _slug(status)
    extra = {key: value for key, value in details.items() if value is not None}
    fmt = negotiation.for_error(request.headers.get("Accept"))
    if fmt is negotiation.JSON:
        body = json.dumps({"error": code, "message": message, **extra}, ensure_ascii=False, indent=1)
        return Response(body + "\n", status, content_type="application/json")
    if fmt is negotiation.HTML:
        plain = {key: _plain(value) for key, value in extra.items()}
        return Response(_error_page(status, message, plain, template or "error.html", context or {}), status,
                        content_type="text/html; charset=utf-8")
    lines = [message, *(f"{key}: {_plain(value)}" for key, value in extra.items())]
    return Response("\n".join(lines) + "\n", status, content_type="text/plain; charset=utf-8")


def _error_page(status: int, message: str, details: dict[str, str], template: str,
                context: dict[str, object]) -> str:
    title_ja, title_en, explain_ja = ERROR_TITLES.get(status, ("エラー", "Error", None))
    try:
        release_id: str | None = current.release().id
    except Exception:  # noqa: BLE001 - the error page must render even without a release
        release_id = None
    try:
        return render_template(template, status=status, title_ja=title_ja, title_en=title_en,
                               explain_ja=explain_ja, message=message, details=sorted(details.items()),
                               release_id=release_id, **context)
    except Exception:  # noqa: BLE001 - an app without the site's pages (a bench, a test) still gets a page
        current_app.logger.debug("error page template failed", exc_info=True)
    items = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in details.items())
    title = html.escape(f"{status} {HTTP_STATUS_CODES.get(status, 'Error')}")
    return (f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{title}</title>'
            f"<h1>{title}</h1><pre>{html.escape(message)}</pre>"
            + (f"<ul>{items}</ul>" if items else "") + '<p><a href="/">Kusei</a></p></html>\n')


def _plain(value: object) -> str:
    # A list of media types reads as a list, not as Python's repr of one.
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def render_error(exc: KuseiError) -> Response:
    """The response for an error of the family: its own status, code, words and details."""
    response = error_response(exc.status, exc.message, code=exc.code, template=ERROR_TEMPLATES.get(exc.code),
                              context=exc.page, **exc.details)
    if exc.vary:
        response.vary.add(exc.vary)
    if "retry_after" in exc.details:
        response.headers["Retry-After"] = str(exc.details["retry_after"])
    return response


def _http_error(exc: HTTPException) -> Response | HTTPException:
    if exc.code is None or exc.code < 400:
        return exc
    if isinstance(exc, RequestEntityTooLarge):
        # Werkzeug's own words do not say what the limit is.
        limit = current_app.config["KUSEI"].max_body_bytes
        return render_error(RequestTooLarge(
            f"The request body is larger than this endpoint accepts ({limit} bytes); "
            "send a shorter query, or GET it.", limit=limit))
    response = error_response(exc.code, exc.description or exc.name)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":  # keep Allow, Retry-After, Content-Range …
            response.headers[name] = value
    return response


def _release_error(exc: ReleaseError) -> Response:
    current_app.logger.error("no release: %s", exc)
    response = render_error(NoRelease("No data release is published yet; try again later."))
    response.headers["Retry-After"] = "60"
    return response


def _unexpected_error(exc: Exception) -> Response | HTTPException:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    # The traceback goes to the log only; the client learns that it was our fault, not its own.
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "Internal server error; the problem was logged.")
