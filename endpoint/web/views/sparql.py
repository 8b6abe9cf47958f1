"""``/sparql``: the SPARQL 1.1 Protocol (queries only), its service description, and ``/.well-known/void``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, redirect, request
from werkzeug.datastructures import MultiDict

from kusei import formats
from kusei.endpoint.query import analysis, service
from kusei.endpoint.query import cache as result_cache
from kusei.endpoint.query.errors import (
    RESULT_TOO_LARGE_HINT,
    BadRequest,
    NotAcceptable,
    ResultTooLarge,
    UnsupportedMediaType,
    UpdateRefused,
)
from kusei.endpoint.web import current, negotiation
from kusei.endpoint.web import http as web
from kusei.endpoint.web.pages.service_description import dataset_description, service_description
from kusei.release import Release
from kusei.settings import Settings

bp = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"

UPDATE_PARAMS = ("update", "using-graph-uri", "using-named-graph-uri")
READ_ONLY = ("This endpoint is read-only: SPARQL Update is not accepted. "
             "The data are published as dumps (/dumps/) you can load into a store of your own.")


@dataclass(frozen=True)
class QueryRequest:
    query: str | None
    default_graph_uris: list[str]
    named_graph_uris: list[str]
    timeout: float | None  # what the client asked for; the service keeps it under the server's limit


def _params() -> tuple[MultiDict, str | None]:
    """All protocol parameters (URL and form body) and, for a direct POST, the body as the query."""
    params: MultiDict = MultiDict(request.args)
    if request.method != "POST":  # GET or HEAD
        return params, None
    mimetype = request.mimetype
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if mimetype == UPDATE:
        raise UpdateRefused(READ_ONLY)
    if mimetype not in (FORM, DIRECT):
        given = f"Content-Type {mimetype!r}" if mimetype else "no Content-Type"
        raise UnsupportedMediaType(f"A POST to /sparql needs Content-Type {FORM} or {DIRECT}; got {given}.")
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"Queries must be sent as UTF-8, not {charset}.")
    if mimetype == FORM:
        params.update(request.form)
        return params, None
    try:
        return params, request.get_data().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"The request body is not valid UTF-8 ({exc}).") from exc


def read_request() -> QueryRequest:
    """The query and dataset of a protocol request; raises the error family for a malformed one."""
    params, body = _params()
    if any(name in params for name in UPDATE_PARAMS):
        raise UpdateRefused(READ_ONLY)
    queries = params.getlist("query") + ([body] if body is not None else [])
    if len(queries) > 1:
        raise BadRequest("More than one query was given; send exactly one.")
    if not queries and request.method == "POST":
        raise BadRequest(f"No query: send it as the query parameter or as an {DIRECT} body.")
    timeout = None
    if "timeout" in params:
        try:
            # A client may ask for less time than the server allows, never more (the service's min()).
            timeout = float(params["timeout"])
        except ValueError as exc:
            raise BadRequest("timeout= must be a number of seconds.") from exc
        # Checked here: NaN compares false with everything, so min() would hide it.
        if not timeout > 0:
            raise BadRequest("timeout= must be a positive number of seconds.")
    return QueryRequest(queries[0] if queries else None, default_graph_uris=params.getlist("default-graph-uri"),
                        named_graph_uris=params.getlist("named-graph-uri"), timeout=timeout)


def _not_acceptable(offered: tuple[formats.Format, ...]) -> NotAcceptable:
    media_types = formats.media_types(offered)
    return NotAcceptable(
        "None of the formats this endpoint offers here is acceptable. Offered: " + ", ".join(media_types)
        + " (or format=" + "|".join(fmt.name for fmt in offered) + ").", offered=media_types)


def _negotiate(kind: str) -> formats.Format:
    """The format of the answer, decided once: the rest of the request only follows it."""
    fmt = negotiation.negotiate(kind, request.headers.get("Accept"), request.values.get("format"))
    if fmt is None:
        raise _not_acceptable(formats.of_kind("graph" if kind == "graph" else "results"))
    return fmt


@bp.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    parsed = read_request()
    if parsed.query is None:
        return _service_description()
    return _answer(parsed, current.settings())


def _answer(parsed: QueryRequest, settings: Settings) -> Response:
    assert parsed.query is not None
    release = current.release()
    # Negotiate before running when the query form is plain to see, so a 406 costs nothing.
    # The query is read once (analysis.py): its form here, the guard and the cost rules in execute.
    analysed = analysis.analyse(parsed.query)
    kind = negotiation.kind_of_form(analysed.form)
    fmt = _negotiate(kind) if kind else None
    cacheable = request.method != "POST"  # GET or HEAD
    etag = web.release_etag(request.full_path, fmt.name) if cacheable and fmt is not None else None
    cached = web.not_modified(etag, vary="Accept") if etag else None
    if cached is not None:
        return cached
    if fmt is not None:
        key = cache_key(release, parsed.query, parsed.default_graph_uris, parsed.named_graph_uris, fmt)
        body = _cache().get(key)
        if body is not None:
            response = _result_response(body, fmt, etag, settings)
            response.headers["Cache-Status"] = result_cache.status(hit=True)
            return response
        handed = request.environ.pop(HANDED_KEY, None)
        if handed is not None and handed.key == key:
            if isinstance(handed.result, Exception):
                raise handed.result
            body = handed.result
        else:
            body = answer_body(release, parsed.query, fmt, analysed, settings, timeout=parsed.timeout,
                               default_graph_uris=parsed.default_graph_uris,
                               named_graph_uris=parsed.named_graph_uris)
        return _result_response(body, fmt, etag, settings, key)
    outcome = service.execute(release, parsed.query, settings=settings, timeout=parsed.timeout,
                              default_graph_uris=parsed.default_graph_uris,
                              named_graph_uris=parsed.named_graph_uris, write_as=None, analysed=analysed)
    # The form was not plain to see (the service found it): decided now, once.
    fmt = _negotiate("graph" if outcome.kind == "graph" else "results")
    if cacheable:
        etag = web.release_etag(request.full_path, fmt.name)
    return _result_response(written(outcome, fmt, release), fmt, etag, settings)


# -- the steps of an answer that the lean path (endpoint/web/lean.py) takes too -------------------

# Where the lean path leaves, in the request's environ, the answer (or refusal) it got for a query
# whose response it does not write itself (an error, a large answer, another content coding): the
# view then sends that rather than asking the query service a second time.
HANDED_KEY = "kusei.sparql.handed"


@dataclass(frozen=True)
class Handed:
    key: result_cache.Key  # what was asked: release, query, dataset and the decided format
    result: bytes | Exception


def cache_key(release: Release, query: str, default_graph_uris: Sequence[str], named_graph_uris: Sequence[str],
              fmt: formats.Format) -> result_cache.Key:
    """What the answer is kept under in the result cache: everything its bytes depend on."""
    return result_cache.Key(release.id, query, tuple(default_graph_uris), tuple(named_graph_uris), fmt.name)


def answer_body(release: Release, query: str, fmt: formats.Format, analysed: analysis.Analysis, settings: Settings,
                *, timeout: float | None = None, default_graph_uris: Sequence[str] = (),
                named_graph_uris: Sequence[str] = ()) -> bytes:
    """The answer to ``query`` written as ``fmt`` (decided before it ran); raises the error family.

    The query service applies the guard, the client's share and the limits, and answers in this
    process what its form bounds (``inline.py``)."""
    outcome = service.execute(release, query, settings=settings, timeout=timeout,
                              default_graph_uris=list(default_graph_uris), named_graph_uris=list(named_graph_uris),
                              write_as=fmt, analysed=analysed)
    return written(outcome, fmt, release)


def written(outcome: service.Outcome | service.Written, fmt: formats.Format, release: Release) -> bytes:
    """The bytes of ``outcome`` in ``fmt``: as the query process wrote them, or written here."""
    if isinstance(outcome, service.Written):
        return outcome.body
    try:
        return fmt.write(outcome.triples or [] if outcome.kind == "graph" else outcome, release.base)
    except (ValueError, TypeError) as exc:
        # e.g. triple terms, which JSON-LD and RDF/XML cannot carry
        raise NotAcceptable(f"The result cannot be written as {fmt.media_type}: {exc}") from exc


def check_size(body: bytes, settings: Settings) -> None:
    """Refuse an answer over the server's byte limit (never sent truncated)."""
    if len(body) > settings.max_result_bytes:
        raise ResultTooLarge(f"The result is larger than {settings.max_result_bytes} bytes; {RESULT_TOO_LARGE_HINT}")


def keep(cache: result_cache.ResultCache, key: result_cache.Key, body: bytes) -> str | None:
    """Keep a fresh answer in the result cache; its ``Cache-Status`` (None while the cache is off)."""
    if not cache.enabled:
        return None
    return result_cache.status(hit=False, stored=cache.put(key, body))


def _cache() -> result_cache.ResultCache:
    return current_app.extensions["kusei_result_cache"]


def _result_response(body: bytes, fmt: formats.Format, etag: str | None,
                     settings: Settings, key: result_cache.Key | None = None) -> Response:
    """The answer as sent; kept under ``key`` in the result cache if that is given."""
    check_size(body, settings)
    response = Response(body, content_type=fmt.content_type)
    response.vary.add("Accept")
    if etag:
        response.set_etag(etag)
    cache_status = keep(_cache(), key, body) if key is not None else None
    if cache_status is not None:
        response.headers["Cache-Status"] = cache_status
    if len(body) > web.SPOOL_ABOVE:
        web.spool(response, body)
    return response


# -- service description and VoID -------------------------------------------------------------------


def _rdf_response(triples_of: Callable[[Release], list[ox.Triple]], *,
                  html_redirect: str | None = None) -> Response:
    """``triples_of(release)`` in the negotiated RDF format, with a release-tied ETag."""
    fmt = negotiation.rdf_or_page(request.headers.get("Accept"), request.args.get("format"))
    if html_redirect and fmt is negotiation.HTML:
        # Relative: the request's Host header is the client's to choose, never a redirect target.
        response: Response = redirect(request.script_root + html_redirect, 303)  # type: ignore[assignment]
        response.autocorrect_location_header = False
        response.vary.add("Accept")
        return response
    if fmt is negotiation.HTML:  # no page to send them to: RDF, as if HTML were not named
        fmt = negotiation.negotiate("graph", request.headers.get("Accept"), None)
    if fmt is None:
        raise _not_acceptable(formats.GRAPH_FORMATS)
    # The served release's problem, if any, is stated in the description: it is part of the validator.
    etag = web.release_etag(request.full_path, fmt.name, current.release_problem() or "")
    cached = web.not_modified(etag, vary="Accept")
    if cached is not None:
        return cached
    release = current.release()
    response = Response(fmt.write(triples_of(release), release.base), content_type=fmt.content_type)
    response.set_etag(etag)
    response.vary.add("Accept")
    return response


def _service_description() -> Response:
    return _rdf_response(lambda release: service_description(
        release, current.settings(), served_at(), current.release_problem()), html_redirect="/query")


@bp.get("/.well-known/void")
def well_known_void() -> Response:
    return _rdf_response(lambda release: dataset_description(release, current.settings()))


def served_at() -> str:
    """Where this server answers: the public URL given to ``kusei serve`` (``--public-url``,
    KUSEI_PUBLIC_URL), else the root of the URL the client asked for."""
    public = current.settings().public_url
    return public.rstrip("/") if public else request.url_root.rstrip("/")
