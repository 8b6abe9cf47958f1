"""One JSON line per request (the request log), and the request counts of :mod:`.metrics`.

A request is timed to the server's taking its response's last byte (a body held whole in memory:
to its hand-over), so ``duration`` covers sending the body too. Its line is then made, counted and
written by a thread of the process, in a batch with the other requests answered within
:data:`FLUSH_SECONDS`: the request thread only queues what the line will say. Fields:

``time`` (arrival, UTC, ISO 8601), ``client`` (the client's address; behind a trusted proxy the one
it forwarded, see :mod:`.proxies`), ``peer`` (the TCP peer, only when it differs), ``method``,
``path`` (without the query string, which holds queries and search words), ``route`` (the URL rule
that answered), ``status``, ``bytes`` (body bytes sent), ``duration`` (seconds), ``error`` (the
error code of a refusal, as in its JSON body), ``query`` (for requests carrying a SPARQL query: the
first 12 hex digits of the SHA-256 of its text, the same for the same text, so a slow or refused
query can be followed across lines without logging what users ask), ``release`` (the release the
answer is from) and ``cache`` (``hit``/``miss`` of the result cache).

``access_log`` says where the lines go: ``-`` (stderr, the default), a file (appended to), or
``off``. A batch is written in ``write`` calls of whole lines of at most :data:`PIPE_BUF` bytes
together, to a file opened for appending: the web workers' lines never interleave, in a file or in
a pipe. The lines of a process are written in the order its requests ended; a process killed (not
stopped) loses those of its last :data:`FLUSH_SECONDS`.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import json
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES

from kusei.endpoint.query.errors import KuseiError, RequestTooLarge
from kusei.endpoint.web import current, metrics
from kusei.endpoint.web.proxies import PEER_KEY
from kusei.release import ReleaseError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

logger = logging.getLogger(__name__)
# What the app tells the log about a request, in its environ: route, error, query (the text), release, cache.
NOTE_KEY = "kusei.log"
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

    def write(self, lines: list[str]) -> None:
        """Write ``lines`` (each ending with a newline) in as few writes of whole lines as
        :data:`PIPE_BUF` allows."""
        if self.fd is None:
            return
        chunk: list[bytes] = []
        size = 0
        for line in lines:
            data = line.encode("utf-8", "replace")
            if chunk and size + len(data) > PIPE_BUF:
                self._write(b"".join(chunk))
                chunk, size = [], 0
            chunk.append(data)
            size += len(data)
        if chunk:
            self._write(b"".join(chunk))

    def _write(self, data: bytes) -> None:
        assert self.fd is not None
        try:
            os.write(self.fd, data)
        except OSError:
            pass  # a full disk or a closed stderr loses lines, never a request


# How long after the first request of a batch its lines are written. A request then costs its thread
# one append to a queue: making, counting and writing its line cost a lookup's request thread ~20 µs
# of its ~0.5 ms, and as much again in the engine's time after it, whose data the log's code had
# pushed out of the CPU's caches (bench/README.md, fifth pass). In batches the code stays warm and a
# batch takes one write.
FLUSH_SECONDS = 0.02
# The size a write to a pipe is atomic up to (POSIX: at least 512; 4096 on Linux).
PIPE_BUF = 4096

class Ended(NamedTuple):
    """What a request's line will say, and where it goes."""

    sink: Sink
    method: str
    client: str
    peer: str | None  # None if it is the client
    path: str
    note: dict[str, Any]  # what the app noted (NOTE_KEY)
    status: int
    sent: int
    duration: float
    arrived: float


class _Pending:
    """The requests this process answered whose lines are not yet counted and written, and the
    thread that writes them."""

    def __init__(self) -> None:
        self.ended: deque[Ended] = deque()
        self.scheduled = False  # a batch is due: the thread has been woken for it
        self.wake = threading.Event()
        self.writing = threading.Lock()  # one batch at a time, so lines keep their order
        self.started = threading.Lock()
        self.thread: threading.Thread | None = None

    def add(self, ended: Ended) -> None:
        self.ended.append(ended)
        if not self.scheduled:
            self.scheduled = True
            if self.thread is None:
                self._start()
            self.wake.set()

    def _start(self) -> None:
        with self.started:
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="kusei-request-log", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while True:
            self.wake.wait()
            time.sleep(FLUSH_SECONDS)
            # Cleared before the batch is declared taken: a request that finds none due after this
            # wakes the thread again, and its line is written by this batch or the next.
            self.wake.clear()
            self.scheduled = False
            self.flush()

    def flush(self) -> None:
        """Count and write every ended request now."""
        with self.writing:
            lines: dict[Sink, list[str]] = {}
            while self.ended:
                ended = self.ended.popleft()
                try:
                    line = _line(ended)
                except Exception:  # one bad line must not stop the thread that writes them all
                    logger.exception("could not write the request log line of %s %s", ended.method, ended.path)
                    continue
                if ended.sink.fd is not None:
                    lines.setdefault(ended.sink, []).append(line)
            for sink, batch in lines.items():
                sink.write(batch)


_pending = _Pending()


def flush() -> None:
    """Count and write the lines of every request this process has answered (a scrape of /metrics
    and the tests read them at once; the process's exit writes them too)."""
    _pending.flush()


def _forget_after_fork() -> None:
    # A forked child has no writing thread, and its copy of the queue is its parent's to write.
    global _pending
    _pending = _Pending()


os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(flush)
metrics.before_scrape.append(flush)


def _line(ended: Ended) -> str:
    """The request's line (counted in metrics as it is made)."""
    note = ended.note
    route = note["route"]
    metrics.count(route, ended.method, ended.status, ended.duration, ended.sent, note.get("error"), note.get("cache"))
    record: dict[str, Any] = {
        "time": datetime.fromtimestamp(ended.arrived, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "client": ended.client,
    }
    if ended.peer is not None and ended.peer != ended.client:
        record["peer"] = ended.peer
    record.update({"method": ended.method, "path": ended.path, "route": route, "status": ended.status,
                   "bytes": ended.sent, "duration": round(ended.duration, 4)})
    if "error" in note:
        record["error"] = note["error"]
    if "query" in note:
        record["query"] = query_id(note["query"])
    for field in ("release", "cache"):
        if field in note:
            record[field] = note[field]
    return _ENCODER.encode(record) + "\n"


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
            note["query"] = text  # its id is computed with the line, off the request thread
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
    hand-over to the server), then queues its line and count (:class:`_Pending`)."""

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
            # its threads (~0.03 ms more per request, one client here). Its line is queued at the hand-over.
            self._done(environ, seen.get("status", 0), sum(map(len, body)), started, arrived)
            return body
        return _Counted(body, lambda sent: self._done(environ, seen.get("status", 0), sent, started, arrived))

    def _done(self, environ: WSGIEnvironment, status: int, sent: int, started: float, arrived: float) -> None:
        duration = time.monotonic() - started
        _pending.add(Ended(self.sink, environ.get("REQUEST_METHOD", ""), environ.get("REMOTE_ADDR", ""),
                           environ.get(PEER_KEY), environ.get("PATH_INFO", ""),
                           environ.get(NOTE_KEY) or {"route": "unmatched"}, status, sent, duration, arrived))


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
