"""Conventions every response follows: compression, CORS, release-tied ETags, security headers, errors.

``init_app(app)`` wires them in; views only call :func:`release_etag`, :func:`not_modified` and
:func:`error_response`.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import re
import tempfile
from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, request
from flask_compress import Compress
from flask_cors import CORS
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import wrap_file

from kusei import __version__
from kusei.endpoint.query import formats
from kusei.endpoint.query.errors import KuseiError, RequestTooLarge
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

# Text formats worth compressing; application/gzip dumps are already compressed.
COMPRESSED_TYPES = sorted({
    "text/html", "text/css", "text/plain", "text/javascript", "application/javascript", "image/svg+xml",
    "application/json", "application/xml", "text/xml",
    *(fmt.media_type for fmt in formats.RESULT_FORMATS), *(fmt.media_type for fmt in formats.GRAPH_FORMATS),
})

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
    # Registered by hand below, so that files served with Range support are never re-encoded.
    app.config["COMPRESS_REGISTER"] = False
    compress = Compress(app)
    app.extensions["kusei_compress"] = compress
    # Public, read-only data: any origin, never credentials; flask-cors answers preflights.
    CORS(app, resources={r"/*": {}}, origins="*", send_wildcard=True, supports_credentials=False,
         methods=["GET", "HEAD", "POST", "OPTIONS"], expose_headers=EXPOSED_HEADERS, max_age=86400)
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
    if request.accept_encodings.best_match(["gzip"]) == "gzip":
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


def release_etag(*parts: str) -> str:
    """A strong ETag (unquoted) for a representation determined by the release and ``parts``.

    ``parts`` must name everything else the bytes depend on: the URL with its query string and the
    negotiated format. The release id comes first so it is readable in logs.
    """
    return etag_of(current.release().id, *parts)


def etag_of(release_id: str, *parts: str) -> str:
    """:func:`release_etag` for the release ``release_id`` (outside a Flask request too)."""
    digest = hashlib.sha256("\x00".join([VERSION, release_id, *parts]).encode("utf-8")).hexdigest()
    return f"{release_id}-{digest[:20]}"


def not_modified(etag: str, *, vary: str | None = None) -> Response | None:
    """A 304 before any work if the client already holds ``etag`` (plain or as gzipped by
    flask-compress); ``vary`` names the request header the representation was chosen by."""
    if request.method not in ("GET", "HEAD") or not request.if_none_match:
        return None
    for candidate in (etag, f"{etag}:gzip"):
        if request.if_none_match.contains(candidate):
            response = Response(status=304)
            response.set_etag(candidate)
            if vary:
                response.vary.add(vary)
            return response
    return None


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
    # make_conditional only ever changes the answer for these; skipping it otherwise saves a
    # third of _finish on the cheapest requests (bench/layers.py).
    return any(header in req.environ for header in _CONDITIONAL_HEADERS)


_CONDITIONAL_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH",
                        "HTTP_IF_UNMODIFIED_SINCE", "HTTP_RANGE")


def _finish(response: Response) -> Response:
    _relative_redirect(response)
    cacheable = (request.method in ("GET", "HEAD") and response.status_code == 200
                 and not response.direct_passthrough and not response.is_streamed)
    if cacheable and "ETag" not in response.headers:
        try:
            response.set_etag(release_etag(request.full_path, response.mimetype or "",
                                           response.headers.get("Content-Language", "")))
        except ReleaseError:
            pass
    if "ETag" in response.headers and "Cache-Control" not in response.headers:
        # Stored, but revalidated every time: a release can be swapped at any moment, and a
        # revalidation costs a 304.
        # Written as a string: werkzeug's cache_control object costs more than the rest of _finish.
        response.headers["Cache-Control"] = "public, no-cache"
    if response.status_code == 200 and not response.direct_passthrough:
        response = current_app.extensions["kusei_compress"].after_request(response)
    if (cacheable and "Content-Encoding" not in response.headers and "ETag" in response.headers
            and _conditional(request)):
        response.make_conditional(request)  # flask-compress does this itself when it compresses
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response


# -- errors ---------------------------------------------------------------------------------------


def _slug(status: int) -> str:
    return HTTP_STATUS_CODES.get(status, "error").lower().replace(" ", "-").replace("'", "")


def error_response(status: int, message: str, *, code: str | None = None, **details: object) -> Response:
    """An error as JSON if the client prefers JSON, a small HTML page for browsers, else plain text.

    ``details`` (``line``, ``column``, ``offered`` …) are added to the JSON object and, one per
    line, to the plain text; None values are left out.
    """
    code = code or _slug(status)
    extra = {key: value for key, value in details.items() if value is not None}
    best = negotiation.parse_accept(request.headers.get("Accept")).best_match(
        ["text/plain", "application/json", "text/html"])
    if best == "application/json":
        body = json.dumps({"error": code, "message": message, **extra}, ensure_ascii=False, indent=1)
        return Response(body + "\n", status, content_type="application/json")
    if best == "text/html":
        # The pages blueprint renders errors in the site layout; this bare page is the fallback.
        page = current_app.extensions.get("kusei_html_error")
        if page is not None:
            return page(status, message, {key: _plain(value) for key, value in extra.items()})
        items = "".join(f"<li>{html.escape(k)}: {html.escape(_plain(v))}</li>" for k, v in extra.items())
        title = html.escape(f"{status} {HTTP_STATUS_CODES.get(status, 'Error')}")
        body = (f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{title}</title>'
                f"<h1>{title}</h1><pre>{html.escape(message)}</pre>"
                + (f"<ul>{items}</ul>" if items else "") + '<p><a href="/">Kusei</a></p></html>\n')
        return Response(body, status, content_type="text/html; charset=utf-8")
    lines = [message, *(f"{key}: {_plain(value)}" for key, value in extra.items())]
    return Response("\n".join(lines) + "\n", status, content_type="text/plain; charset=utf-8")


def _plain(value: object) -> str:
    # A list of media types reads as a list, not as Python's repr of one.
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def render_error(exc: KuseiError) -> Response:
    """The response for an error of the family: its own status, code, words and details."""
    response = error_response(exc.status, exc.message, code=exc.code, **exc.details)
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
    response = error_response(503, "No data release is published yet; try again later.", code="no-release")
    response.headers["Retry-After"] = "60"
    return response


def _unexpected_error(exc: Exception) -> Response | HTTPException:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    # The traceback goes to the log only; the client learns that it was our fault, not its own.
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "Internal server error; the problem was logged.")
