"""One JSON line per request (the request log), and the request counts of :mod:`.metrics`.

The line is written when the server has taken the response's last byte, so ``duration`` covers
sending the body too. Fields:

``time`` (arrival, UTC, ISO 8601), ``client`` (the client's address; behind a trusted proxy the one
it forwarded, see :mod:`.proxies`), ``peer`` (the TCP peer, only when it differs), ``method``,
``path`` (without the query string, which holds queries and search words), ``route`` (the URL rule
that answered), ``status``, ``bytes`` (body bytes sent), ``duration`` (seconds), ``error`` (the
error code of a refusal, as in its JSON body), ``query`` (for requests carrying a SPARQL query: the
first 12 hex digits of the SHA-256 of its text, the same for the same text, so a slow or refused
query can be followed across lines without logging what users ask), ``release`` (the release the
answer is from) and ``cache`` (``hit``/``miss`` of the result cache).

``access_log`` says where the lines go: ``-`` (stderr, the default), a file (appended to; each line
is one ``write`` to a file opened for appending, so the web workers' lines never interleave), or
``off``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES

from kusei.endpoint.query.errors import KuseiError, RequestTooLarge
from kusei.endpoint.web import current, metrics
from kusei.endpoint.web.proxies import PEER_KEY
from kusei.release import ReleaseError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

NOTE_KEY = "kusei.log"  # what the app tells the log about a request, in its environ
QUERY_VIEWS = {"sparql.sparql", "pages.query_page"}
DIRECT = "application/sparql-query"


def query_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


# Made once: json.dumps with options builds an encoder on every call (a tenth of a lean request).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class Sink:
    """Where lines go: a file descriptor written whole, one line per ``write``."""

    def __init__(self, target: str) -> None:
        self.fd: int | None
        if target == "off":
            self.fd = None
        elif target in ("-", ""):
            self.fd = sys.stderr.fileno()
        else:
            self.fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)

    def write(self, record: dict[str, Any]) -> None:
        if self.fd is None:
            return
        line = _ENCODER.encode(record) + "\n"
        try:
            os.write(self.fd, line.encode("utf-8", "replace"))
        except OSError:
            pass  # a full disk or a closed stderr must not fail the request


def _error_code(exc: BaseException) -> str:
    if isinstance(exc, KuseiError):
        return exc.code
    if isinstance(exc, RequestEntityTooLarge):
        return RequestTooLarge.code  # answered as such by kusei.endpoint.web.http
    if isinstance(exc, HTTPException) and exc.code:
        return HTTP_STATUS_CODES.get(exc.code, "error").lower().replace(" ", "-").replace("'", "")
    return "internal-server-error"


def _note(response: Response) -> Response:
    """After each request: what only the app knows (route, error, query, release), for the log."""
    note: dict[str, Any] = {"route": request.url_rule.rule if request.url_rule else "unmatched"}
    exc = g.get("kusei_error")
    if exc is not None and response.status_code >= 400:
        note["error"] = _error_code(exc)
    if request.endpoint in QUERY_VIEWS:
        text = _query_text()
        if text:
            note["query"] = query_id(text)
    release = g.get("kusei_release")
    if release is None:
        try:
            release = current.release()
        except ReleaseError:
            pass
    if release is not None:
        note["release"] = release.id
        # Names the release the answer is from, on every response: a cache in front stores only
        # answers of the release it keys by (endpoint/deploy/nginx.conf.template).
        response.headers["Kusei-Release"] = release.id
    cache_status = response.headers.get("Cache-Status", "")
    if cache_status:
        note["cache"] = "hit" if "; hit" in cache_status else "miss"
    request.environ[NOTE_KEY] = note
    return response


def _query_text() -> str | None:
    text = request.args.get("query")
    if text is not None or request.method != "POST":
        return text
    if not isinstance(request.environ.get("wsgi.input"), io.BytesIO):
        return None  # the body was never read (too large, too slow): it is not waited for here
    try:
        # The body is in memory (kusei.endpoint.web.app reads it first); badly encoded is no id.
        return request.get_data(as_text=True) if request.mimetype == DIRECT else request.form.get("query")
    except (HTTPException, UnicodeDecodeError):
        return None


class RequestLog:
    """WSGI middleware: times each request to its last byte (a body held whole in memory: to its
    hand-over to the server), then writes its line and counts it."""

    def __init__(self, app: WSGIApplication, sink: Sink) -> None:
        self.app = app
        self.sink = sink

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.monotonic()
        arrived = time.time()
        seen: dict[str, Any] = {}

        def starting(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:  # noqa: ANN401
            seen["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        body = self.app(environ, starting)
        if type(body) is list:
            # A body already whole in memory (the lean path's answers) goes back as the list it is:
            # granian writes a list in one call, but pulls any other iterable chunk by chunk across
            # its threads (~0.03 ms more per request, one client here). Its line is written at the hand-over.
            self._done(environ, seen.get("status", 0), sum(map(len, body)), started, arrived)
            return body
        return _Counted(body, lambda sent: self._done(environ, seen.get("status", 0), sent, started, arrived))

    def _done(self, environ: WSGIEnvironment, status: int, sent: int, started: float, arrived: float) -> None:
        duration = time.monotonic() - started
        note: dict[str, Any] = environ.get(NOTE_KEY) or {"route": "unmatched"}
        route = note["route"]
        method = environ.get("REQUEST_METHOD", "")
        metrics.count(route, method, status, duration, sent, note.get("error"), note.get("cache"))
        client = environ.get("REMOTE_ADDR", "")
        record: dict[str, Any] = {
            "time": datetime.fromtimestamp(arrived, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "client": client,
        }
        peer = environ.get(PEER_KEY, client)
        if peer != client:
            record["peer"] = peer
        record.update({"method": method, "path": environ.get("PATH_INFO", ""), "route": route,
                       "status": status, "bytes": sent, "duration": round(duration, 4)})
        for field in ("error", "query", "release", "cache"):
            if field in note:
                record[field] = note[field]
        self.sink.write(record)


class _Counted:
    """The response body, counted as the server takes it; ``done(bytes)`` once, when it closes."""

    def __init__(self, body: Iterable[bytes], done: Any) -> None:  # noqa: ANN401 - Callable[[int], None]
        self.body = body
        self.done = done
        self.sent = 0
        self.finished = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            self.sent += len(chunk)
            yield chunk
        # granian does not always call close() after the last chunk: the line is written here
        # then, and by close() for a body the server stopped taking (the client went away).
        self._finish()

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self._finish()

    def _finish(self) -> None:
        if not self.finished:
            self.finished = True
            self.done(self.sent)


def init_app(app: Flask) -> None:
    """Log and count every request of ``app`` (call last: it notes what the other hooks decided)."""
    settings = app.config["KUSEI"]
    handle = app.handle_user_exception

    def noting(exc: Exception) -> Any:  # noqa: ANN401 - what Flask's handler returns
        g.kusei_error = exc
        return handle(exc)

    # Every exception a view or hook raises passes here on its way to the error handlers, so the
    # log learns the refusal's code without the handlers knowing about the log.
    app.handle_user_exception = noting  # type: ignore[method-assign,assignment]
    app.after_request(_note)
    app.wsgi_app = RequestLog(app.wsgi_app, Sink(settings.access_log))  # type: ignore[method-assign]
