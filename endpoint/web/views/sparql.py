"""``/sparql``: the SPARQL 1.1 Protocol (queries only), its service description, and ``/.well-known/void``."""

from __future__ import annotations

from collections.abc import Callable
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
    key = None
    if fmt is not None:
        key = result_cache.Key(release.id, parsed.query, tuple(parsed.default_graph_uris),
                               tuple(parsed.named_graph_uris), fmt.name)
        body = _cache().get(key)
        if body is not None:
            response = _result_response(body, fmt, etag, settings)
            response.headers["Cache-Status"] = result_cache.status(hit=True)
            return response
    outcome = service.execute(release, parsed.query, settings=settings, timeout=parsed.timeout,
                              default_graph_uris=parsed.default_graph_uris,
                              named_graph_uris=parsed.named_graph_uris, write_as=fmt, analysed=analysed)
    if isinstance(outcome, service.Written):
        assert fmt is not None
        return _result_response(outcome.body, fmt, etag, settings, key)
    if fmt is None:
        # The form was not plain to see (the service found it): decided now, once.
        fmt = _negotiate("graph" if outcome.kind == "graph" else "results")
        if cacheable:
            etag = web.release_etag(request.full_path, fmt.name)
    try:
        body = fmt.write(outcome.triples or [] if outcome.kind == "graph" else outcome, release.base)
    except (ValueError, TypeError) as exc:
        # e.g. triple terms, which JSON-LD and RDF/XML cannot carry
        raise NotAcceptable(f"The result cannot be written as {fmt.media_type}: {exc}") from exc
    return _result_response(body, fmt, etag, settings, key)


def _cache() -> result_cache.ResultCache:
    return current_app.extensions["kusei_result_cache"]


def _result_response(body: bytes, fmt: formats.Format, etag: str | None,
                     settings: Settings, key: result_cache.Key | None = None) -> Response:
    """The answer as sent; kept under ``key`` in the result cache if that is given."""
    if len(body) > settings.max_result_bytes:
        raise ResultTooLarge(f"The result is larger than {settings.max_result_bytes} bytes; {RESULT_TOO_LARGE_HINT}")
    response = Response(body, content_type=fmt.content_type)
    response.vary.add("Accept")
    if etag:
        response.set_etag(etag)
    cache = _cache()
    if key is not None and cache.enabled:
        response.headers["Cache-Status"] = result_cache.status(hit=False, stored=cache.put(key, body))
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
