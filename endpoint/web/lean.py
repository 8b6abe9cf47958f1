"""A lean path for the answers of ``/sparql``: result-cache hits, 304s, and misses, whether the
query service answers them in the web worker or in a query process.

A cache hit through Flask cost ~200 µs in-process (``bench/layers.py``), nine tenths of it Flask's
request context, response object, hooks and extensions around a dictionary lookup; a lookup the
query service answers in the web worker (``endpoint/query/inline.py``) costs less than that in
pyoxigraph. This WSGI layer sits inside the request log (so the log line and the metrics are
written as for any request) and answers, without Flask, only the requests whose answer it can
write exactly as the app would:

- ``GET /sparql`` with a ``query`` (and optionally ``format``, ``default-graph-uri``,
  ``named-graph-uri`` or other parameters the endpoint ignores) and no body, or ``POST /sparql``
  with a form or a direct query of a stated length (read as the app reads it: within the body
  deadline, one of ``BODY_READERS``); a valid ``Host``, no ``Range`` and no conditional header but
  ``If-None-Match``;
- whose query form and format are plain (a SELECT/ASK/CONSTRUCT/DESCRIBE keyword and a format the
  Accept header or ``format=`` chooses);
- that either revalidate an ETag the app would give (304, GET only), or are in the result cache
  (200, gzipped when the app would gzip), or are not: then the query service answers them, in this
  process if their form bounds them (``service.tries_inline``), else in a query process, where
  Flask's ~0.25 ms would be a fifth to a half of a cheap query's whole answer. A miss is
  answered by the view's own steps (``views/sparql.py``: ``cache_key``, ``answer_body`` — the
  service's guard, the client's share, the inline budget and its fallback to a query process —
  ``check_size`` and ``keep``).

Everything else — errors, HEAD, throttled servers, large answers, chunked bodies, If-None-Match
that does not match, the service description, a ``timeout=`` parameter — goes to Flask; a body read here is
handed on in memory, and a body refused here (busy, late) is refused by the app in the same words
without waiting again. What a miss got here but this layer does not write (a refusal, an answer to
spool or to code other than gzip) is handed to the view in the environ (``sparql.Handed``), which
sends it rather than asking the query service again: errors are rendered in one place. The headers
are those the app's hooks write, in their order (``tests/unit/test_lean.py`` compares both paths
byte for byte): the view's, the request log's ``Kusei-Release``, ``http._finish``'s,
flask-compress's, then CORS. What it decides, it asks the app's own functions: the format
(``negotiation.negotiate``), the ETag (``http.etag_of``), the 304 (``http.fresh``), the content
coding (``http.coding_for``); the headers it writes are the app's constants
(``http.SECURITY_HEADERS``, ``http.CACHE_CONTROL``, ``http.EXPOSED_HEADERS``).
"""

from __future__ import annotations

import codecs
import functools
import gzip
import io
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from flask import Flask
from werkzeug.exceptions import RequestTimeout
from werkzeug.http import HTTP_STATUS_CODES, parse_options_header

from kusei.endpoint.query import analysis, shares
from kusei.endpoint.query import cache as result_cache
from kusei.endpoint.query.errors import Busy
from kusei.endpoint.web import http as web
from kusei.endpoint.web import negotiation
from kusei.endpoint.web.requestlog import NOTE_KEY, query_id
from kusei.endpoint.web.views import sparql
from kusei.formats import Format
from kusei.release import Release, ReleaseError
from kusei.settings import Settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PATH = "/sparql"
ROUTE = "/sparql"  # the URL rule, as the request log names it
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
BODY_KEY = "kusei.body"  # app.BODY_KEY: what became of the body once read_body has run
# Parameters whose handling (refusal, validation) is the view's: their requests go to Flask.
_TO_FLASK = frozenset({"update", "using-graph-uri", "using-named-graph-uri", "timeout"})
# Conditional headers other than If-None-Match, and Range: Flask answers such requests (http.fresh, send_file).
# So do bodies (a GET may carry one; the app reads it within its deadline).
_TO_FLASK_HEADERS = frozenset({"HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_RANGE",
                          "HTTP_TRANSFER_ENCODING"})
STATUS_200 = f"200 {HTTP_STATUS_CODES[200].upper()}"
STATUS_304 = f"304 {HTTP_STATUS_CODES[304].upper()}"
HIT = result_cache.status(hit=True)
OTHER_CODING = "other"  # a content coding flask-compress writes and this layer does not (br, deflate, zstd)


class LeanSparql:
    """WSGI middleware: answers cache hits, 304s and inline misses of ``/sparql`` itself, the rest via ``app``."""

    def __init__(self, wsgi_app: WSGIApplication, app: Flask, *, max_target: int,
                 read_body: Callable[[dict, Settings, threading.BoundedSemaphore], None]) -> None:
        self.wsgi_app = wsgi_app
        self.max_target = max_target
        self.read_body = read_body
        self.readers = app.extensions["kusei_body_readers"]
        settings = app.config["KUSEI"]
        self.settings = settings
        self.releases = app.extensions["kusei_release"]
        self.cache: result_cache.ResultCache = app.extensions["kusei_result_cache"]
        compress = app.extensions["kusei_compress"]
        self.algorithms: tuple[str, ...] = compress.enabled_algorithms
        self.compressed_types = compress.compress_mimetypes_set
        self.min_compressed = int(app.config["COMPRESS_MIN_SIZE"])
        self.gzip_level = int(app.config["COMPRESS_LEVEL"])
        # Throttling counts every /sparql request in flask-limiter: then Flask answers them all.
        self.enabled = not settings.rate_limit.strip()
        # Written by http._finish after the view's headers, then by flask-cors: the same every time.
        self.security = list(web.SECURITY_HEADERS)
        self.cors = [("Access-Control-Allow-Origin", "*"),
                     ("Access-Control-Expose-Headers", ", ".join(sorted(web.EXPOSED_HEADERS)))]

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.enabled and environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") in ("GET", "POST"):
            try:
                answered = self._answer(environ, start_response)
            except (ReleaseError, ValueError):
                answered = None  # Flask says what is wrong
            if answered is not None:
                return answered
        return self.wsgi_app(environ, start_response)

    def _answer(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes] | None:
        """The answer's body if this layer gave it (``start_response`` called), else None."""
        if environ.get("SCRIPT_NAME") or not environ.keys().isdisjoint(_TO_FLASK_HEADERS):
            return None
        host = environ.get("HTTP_HOST")
        if not host or not web._HOST.fullmatch(host):
            return None
        raw_query = environ.get("QUERY_STRING", "")
        if len(PATH) + len(raw_query) > self.max_target:  # Flask answers 414
            return None
        post = environ["REQUEST_METHOD"] == "POST"
        if post:
            parsed = self._post(environ, raw_query)
        elif environ.get("CONTENT_LENGTH") not in (None, "", "0"):
            return None  # a GET with a body: the app reads it within its deadline
        else:
            parsed = _parse(raw_query)
        if parsed is None:
            return None
        fmt = negotiation.negotiate(parsed.kind, environ.get("HTTP_ACCEPT"), parsed.format_param)
        if fmt is None:
            return None  # 406
        release = self.releases.latest()
        etag = None if post else web.etag_of(release.id, parsed.full_path, fmt.name)
        note: dict[str, Any] = {"route": ROUTE, "query": parsed.query_id, "release": release.id}
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match and etag is not None:
            held = web.fresh(if_none_match, etag)
            if held is None:
                return None  # a 200: Flask's
            environ[NOTE_KEY] = note
            start_response(STATUS_304, [
                ("ETag", f'"{held}"'), ("Vary", "Accept"), ("Kusei-Release", release.id),
                ("Cache-Control", web.CACHE_CONTROL), *self.security, *self.cors])
            return []
        key = sparql.cache_key(release, parsed.query, parsed.default_graphs, parsed.named_graphs, fmt)
        body = self.cache.get(key)
        if body is None:
            return self._miss(environ, start_response, parsed, fmt, release, etag, key, note)
        if len(body) > self.settings.max_result_bytes or len(body) > web.SPOOL_ABOVE:
            return None
        coding = self._coding(environ, fmt, body)
        if coding == OTHER_CODING:
            return None
        return self._send(start_response, environ, body, fmt, coding, etag, HIT, release, note)

    def _miss(self, environ: WSGIEnvironment, start_response: StartResponse, parsed: Parsed, fmt: Format,
              release: Release, etag: str | None, key: result_cache.Key, note: dict[str, Any]) -> list[bytes] | None:
        """A query not in the result cache, answered by the view's own steps (``views/sparql.py``:
        ``answer_body``, ``check_size``, ``keep``): in this process if its form bounds it
        (``service.tries_inline``), else by a query process, as the view would. What this layer does
        not write (an error, a large answer, another content coding) is handed to the view with the
        answer got here."""
        analysed = analysis.analyse(parsed.query)
        # The client's fair share, named as throttle._name_client names it for Flask's requests.
        shares.CLIENT.set(environ.get("REMOTE_ADDR"))
        try:
            body = sparql.answer_body(release, parsed.query, fmt, analysed, self.settings,
                                      default_graph_uris=parsed.default_graphs, named_graph_uris=parsed.named_graphs)
            sparql.check_size(body, self.settings)
        except Exception as exc:  # noqa: BLE001 - every refusal is the view's to answer, in its words
            environ[sparql.HANDED_KEY] = sparql.Handed(key, exc)
            return None
        coding = self._coding(environ, fmt, body)
        if len(body) > web.SPOOL_ABOVE or coding == OTHER_CODING:
            environ[sparql.HANDED_KEY] = sparql.Handed(key, body)  # spooled, or coded by flask-compress
            return None
        cache_status = sparql.keep(self.cache, key, body)
        return self._send(start_response, environ, body, fmt, coding, etag, cache_status, release, note)

    def _coding(self, environ: WSGIEnvironment, fmt: Format, body: bytes) -> str | None:
        """The content coding flask-compress gives this answer: None, "gzip", or OTHER_CODING
        (one this layer leaves to flask-compress)."""
        if fmt.media_type not in self.compressed_types or len(body) < self.min_compressed:
            return None
        coding = web.coding_for(self.algorithms, environ.get("HTTP_ACCEPT_ENCODING", ""))
        if coding is None or coding == "gzip":
            return coding
        return OTHER_CODING

    def _send(self, start_response: StartResponse, environ: WSGIEnvironment, body: bytes, fmt: Format,
              coding: str | None, etag: str | None, cache_status: str | None, release: Release,
              note: dict[str, Any]) -> list[bytes]:
        """A 200 with ``body`` (gzipped if ``coding`` says so) and the headers the app writes, in
        its order."""
        vary = "Accept, Accept-Encoding" if fmt.media_type in self.compressed_types else "Accept"
        if coding == "gzip":
            body = gzip.compress(body, compresslevel=self.gzip_level)  # as flask-compress writes gzip
        headers = [("Content-Type", fmt.content_type), ("Content-Length", str(len(body))), ("Vary", vary)]
        if etag is not None:  # GET: the view's ETag (flask-compress names the compressed bytes' apart)
            headers.append(("ETag", f'"{etag}:{coding}"' if coding else f'"{etag}"'))
        if cache_status is not None:
            headers.append(("Cache-Status", cache_status))
            note["cache"] = "hit" if cache_status == HIT else "miss"
        headers.append(("Kusei-Release", release.id))
        if etag is not None:
            headers.append(("Cache-Control", web.CACHE_CONTROL))
        if coding:
            headers.append(("Content-Encoding", coding))
        environ[NOTE_KEY] = note
        start_response(STATUS_200, [*headers, *self.security, *self.cors])
        return [body]

    def _post(self, environ: WSGIEnvironment, raw_query: str) -> Parsed | None:
        """What a POST /sparql asks, its body read as the app reads it; None if Flask is to answer."""
        mimetype, charset = _content_type(environ.get("CONTENT_TYPE", ""))
        if mimetype not in (FORM, DIRECT) or charset not in ("utf-8", "utf8"):
            return None  # 415, or an update: the view's
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if length <= 0 or length > self.settings.max_body_bytes:
            return None  # no query (400) or too large (413)
        try:
            self.read_body(environ, self.settings, self.readers)
        except (Busy, RequestTimeout):
            return None  # noted in the environ: the app answers 503 or 408 without waiting again
        stream = environ["wsgi.input"]
        if environ.get(BODY_KEY) != "read" or not isinstance(stream, io.BytesIO):
            return None
        body = stream.getvalue()
        if len(body) <= _REMEMBERED_BODY:
            return _parse_post(mimetype, raw_query, body)
        return _parse_post.__wrapped__(mimetype, raw_query, body)


# Clients repeat the same POSTed queries too: bodies up to the size of a request target are
# remembered as query strings are (256 entries of at most 8 KiB).
_REMEMBERED_BODY = 8192


@functools.lru_cache(maxsize=256)
def _parse_post(mimetype: str, raw_query: str, body: bytes) -> Parsed | None:
    """What a POST /sparql with this URL query string and body asks, or None if Flask is to answer it."""
    try:
        data = body.decode()  # strict, as werkzeug decodes forms and the view bodies
        args = raw_query.encode("latin1").decode()
    except UnicodeError:
        return None
    params = parse_qsl(args)
    if mimetype == FORM:
        params += parse_qsl(data)
        return _interpret(params, None, "")
    return _interpret(params, data, "")


class Parsed(NamedTuple):
    query: str
    format_param: str | None
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    kind: str  # of the answer: "results" or "graph" (negotiation.kind_of_form)
    query_id: str
    full_path: str


# Clients repeat the same few query strings (the cache hits this layer is for): parsing one costs
# more than the rest of the answer, so what it yields is remembered. Bounded in entries, and an
# entry by the request-target limit (8 KiB).
@functools.lru_cache(maxsize=256)
def _parse(raw_query: str) -> Parsed | None:
    """What a GET /sparql query string asks, or None if Flask is to answer it."""
    try:
        query_string = raw_query.encode("latin1").decode()  # as werkzeug decodes it
    except UnicodeError:
        return None
    return _interpret(parse_qsl(query_string), None, f"{PATH}?{query_string}")


def _interpret(params: list[tuple[str, str]], body: str | None, full_path: str) -> Parsed | None:
    """The protocol request in ``params`` (URL, then form) and a direct POST ``body``, read as the
    view reads it; None where the view would refuse it or answer something else."""
    query = body
    format_param = None
    default_graphs: list[str] = []
    named_graphs: list[str] = []
    for name, value in params:
        if name == "query":
            if query is not None:
                return None  # the view's 400
            query = value
        elif name == "format":
            if format_param is None:
                format_param = value
        elif name == "default-graph-uri":
            default_graphs.append(value)
        elif name == "named-graph-uri":
            named_graphs.append(value)
        elif name in _TO_FLASK:
            return None
    if query is None:
        return None  # the service description
    kind = negotiation.kind_of_form(analysis.analyse(query).form)  # the analysis the miss reads again
    if kind is None:
        return None
    return Parsed(query, format_param, tuple(default_graphs), tuple(named_graphs), kind, query_id(query),
                  full_path)


def parse_qsl(text: str) -> list[tuple[str, str]]:
    """The fields of a query string or form body, as werkzeug parses ``request.args`` and
    ``request.form``: ``urllib.parse.parse_qsl(text, keep_blank_values=True,
    errors="werkzeug.url_quote")``.

    urllib decodes escapes one at a time in Python: 39 µs for a published example whose comments
    are in Japanese (most of its characters are escapes), a tenth of the web worker's time for a
    miss. Text of ASCII characters whose every `%` starts an escape (what clients send) is decoded
    here by the C codec of Python's own string escapes, `%XX` read as `\\xXX` (9 µs for the same
    example); anything else by urllib. A `%` that starts no escape (`%zz`, a `%` at the end) is
    found by that codec, which refuses the `\\x` it became: no scan of the text beforehand.
    ``tests/unit/test_lean.py`` checks the two agree."""
    if text.isascii():
        fields = []
        try:
            for field in text.split("&"):
                if field:
                    name, _, value = field.partition("=")
                    fields.append((_unquote_plus(name), _unquote_plus(value)))
        except ValueError:  # a `%` that starts no escape
            pass
        else:
            return fields
    return urllib.parse.parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")


def _unquote_plus(text: str) -> str:
    """``urllib.parse.unquote_plus`` of ASCII ``text``; ValueError if a `%` starts no escape."""
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    # A backslash of the text is doubled first, so the only escapes the codec reads are these.
    escaped = text.encode("ascii").replace(b"\\", b"\\\\").replace(b"%", b"\\x")
    return codecs.escape_decode(escaped)[0].decode("utf-8", "werkzeug.url_quote")


@functools.lru_cache(maxsize=64)
def _content_type(header: str) -> tuple[str, str]:
    """The media type (lower case, as werkzeug's ``request.mimetype``) and charset of a Content-Type."""
    mimetype, options = parse_options_header(header)
    return mimetype.lower(), options.get("charset", "utf-8").lower()
