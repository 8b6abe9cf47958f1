"""Application factory: the SPARQL endpoint, Linked-Data pages and dumps of one data directory."""

from __future__ import annotations

import io
import threading
import time

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestTimeout, RequestURITooLarge

from kusei.endpoint.query.cache import ResultCache
from kusei.endpoint.query.errors import Busy
from kusei.release import CurrentRelease
from kusei.settings import BODY_READERS, Settings, networks

# The server (granian) hands a request to a thread before its body has arrived, and a read of
# n bytes returns only once n bytes are there: small reads let the deadline be checked each time a
# few bytes arrive, so a client dripping bytes loses its thread soon after the deadline. Reading a
# 100 kB body this way costs a few milliseconds.
BODY_CHUNK = 8
# The longest request target (path and query string) served; longer ones get 414, as the query
# page expects (it then POSTs). granian itself reads targets far longer than this.
MAX_TARGET_BYTES = 8190


# The release `kusei serve`'s main process validated before forking the web workers (hand_over).
_handed_over: CurrentRelease | None = None


def hand_over(current: CurrentRelease | None) -> None:
    """Give ``current``, validated by this process, to the web workers it is about to fork: the first
    app each of them makes for the same data directory takes it (fork copies it) instead of opening
    the manifest and the store again. A worker started later (a restart) gets it too, and follows
    ``current`` from there as any worker does (:meth:`CurrentRelease.latest`)."""
    global _handed_over
    _handed_over = current


def _validated(settings: Settings) -> CurrentRelease:
    global _handed_over
    current, _handed_over = _handed_over, None
    if current is not None and current.link.parent.resolve() == settings.data_dir.resolve():
        return current
    return CurrentRelease(settings.data_dir)


def preload() -> None:
    """Import what :func:`create_app` and its views load, without making an app: `kusei serve` calls
    this in its main process before forking the web workers, which then share these modules
    (memory, and the import time paid once rather than once per worker and restart)."""
    from kusei.endpoint.query import service  # noqa: F401
    from kusei.endpoint.web import http, lean, metrics, proxies, requestlog, throttle  # noqa: F401
    from kusei.endpoint.web.views import dumps, pages, sparql  # noqa: F401


def create_app(settings: Settings | None = None, *, start_fork_server: bool = False) -> Flask:
    """The app for ``settings`` (default: from the environment). ``start_fork_server``: make the
    server's query slots and start the process that query processes are forked from now (in the
    background), not on the first query that needs them (for a process that serves, not for one
    that only tests the app)."""
    settings = settings or Settings.load()
    app = Flask(__name__)
    app.config["KUSEI"] = settings
    app.extensions["kusei_release"] = _validated(settings)
    app.extensions["kusei_result_cache"] = ResultCache(settings.result_cache_bytes)
    app.extensions["kusei_body_readers"] = threading.BoundedSemaphore(BODY_READERS)
    # First of all hooks, before any of them touches the body.
    app.before_request(_bounded_request)

    from kusei.endpoint.web import http as web
    from kusei.endpoint.web import lean, metrics, proxies, requestlog, throttle
    from kusei.endpoint.web.views import dumps, pages, sparql

    app.register_blueprint(sparql.bp)
    app.register_blueprint(dumps.bp)
    app.register_blueprint(pages.bp)
    web.init_app(app)  # CORS, gzip, release ETags, security headers, error bodies
    throttle.init_app(app)  # KUSEI_RATE_LIMIT per client on /sparql, if set
    metrics.init_app(app)  # /metrics
    # Cache hits and 304s of GET /sparql without Flask, inside the request log (endpoint/web/lean.py).
    app.extensions["kusei_lean"] = lean.LeanSparql(app.wsgi_app, app, max_target=MAX_TARGET_BYTES,
                                                        read_body=read_body)
    app.wsgi_app = app.extensions["kusei_lean"]  # type: ignore[method-assign]
    requestlog.init_app(app)  # one JSON line per request; last, to see what the others decided
    # Outermost: every layer inside sees the client's address (KUSEI_TRUSTED_PROXIES).
    app.wsgi_app = proxies.TrustedProxies(app.wsgi_app, networks(settings.trusted_proxies))  # type: ignore[method-assign]
    if start_fork_server:
        from kusei.endpoint.query import service

        service.prepare(settings)
    return app


def _bounded_request() -> None:
    environ = request.environ
    if len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", "")) > MAX_TARGET_BYTES:
        raise RequestURITooLarge(f"The URL is longer than {MAX_TARGET_BYTES} bytes; POST the query instead.")
    _read_body_in_time()


def _read_body_in_time() -> None:
    read_body(request.environ, current_app.config["KUSEI"], current_app.extensions["kusei_body_readers"])


# What became of a request's body, in its environ, once read_body has run: "read" (in memory now),
# "busy" or "late" (refused). The lean path (endpoint/web/lean.py) may read a POST body before the
# app sees the request; the app then gives the same answer without reading again.
BODY_KEY = "kusei.body"


def read_body(environ: dict, settings: Settings, readers: threading.BoundedSemaphore) -> None:
    """Read the request body now, within ``body_timeout``, or answer 408 (connection closed).

    At most ``BODY_READERS`` requests of this process read a body at once; more get 503 before
    their body is read, so slow senders never hold more request threads than that. A body over
    ``max_body_bytes`` is left unread for the 413 that reading it raises."""
    state = environ.get(BODY_KEY)
    if state == "read":
        return
    if state == "busy":
        raise Busy("Too many requests are sending a body at once; retry in a moment.")
    if state == "late":
        raise RequestTimeout(f"The request body did not arrive within {settings.body_timeout:g} s.")
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return  # werkzeug treats it as no body
    if not chunked and (length <= 0 or length > settings.max_body_bytes):
        return
    wanted = settings.max_body_bytes + 1 if chunked else length
    if not readers.acquire(blocking=False):
        environ[BODY_KEY] = "busy"
        raise Busy("Too many requests are sending a body at once; retry in a moment.")
    try:
        body = _read(environ["wsgi.input"], wanted, time.monotonic() + settings.body_timeout)
    finally:
        readers.release()
    if body is None:
        environ[BODY_KEY] = "late"
        raise RequestTimeout(f"The request body did not arrive within {settings.body_timeout:g} s.")
    environ["wsgi.input"] = io.BytesIO(body)
    environ[BODY_KEY] = "read"
    if chunked:  # now a body of known length: MAX_CONTENT_LENGTH applies to it as to any other
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)


def _read(stream: io.RawIOBase, wanted: int, deadline: float) -> bytes | None:
    """Up to ``wanted`` bytes of ``stream`` (fewer if it ends); None once ``deadline`` passes."""
    parts: list[bytes] = []
    got = 0
    while got < wanted:
        if time.monotonic() > deadline:
            return None
        part = stream.read(min(BODY_CHUNK, wanted - got))
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)
