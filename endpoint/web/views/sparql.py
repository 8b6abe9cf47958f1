"""``/sparql``: the SPARQL 1.1 Protocol (queries only), its service description, and ``/.well-known/void``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, redirect, request
from werkzeug.datastructures import MultiDict

from kusei.endpoint.query import analysis, formats, service
from kusei.endpoint.query import cache as result_cache
from kusei.endpoint.query.describe import triple_sort_key
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
from kusei.namespaces import DCTERMS, RDFS, SD, TYPE, VOID, XSD
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


def _not_acceptable(offered: tuple[formats.ResultFormat, ...] | tuple[formats.GraphFormat, ...]) -> NotAcceptable:
    media_types = formats.offered_media_types(offered)
    return NotAcceptable(
        "None of the formats this endpoint offers here is acceptable. Offered: " + ", ".join(media_types)
        + " (or format=" + "|".join(fmt.name for fmt in offered) + ").", offered=media_types)


def _negotiate(kind: str) -> formats.ResultFormat | formats.GraphFormat | None:
    accept, format_param = request.headers.get("Accept"), request.values.get("format")
    if kind == "graph":
        return negotiation.negotiate_graph(accept, format_param)
    return negotiation.negotiate_results(accept, format_param)


def _offered(kind: str) -> tuple[formats.ResultFormat, ...] | tuple[formats.GraphFormat, ...]:
    return formats.GRAPH_FORMATS if kind == "graph" else formats.RESULT_FORMATS


def _kind_of_form(form: str | None) -> str | None:
    if form in ("CONSTRUCT", "DESCRIBE"):
        return "graph"
    if form in ("SELECT", "ASK"):
        return "results"
    return None


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
    kind = _kind_of_form(analysed.form)
    fmt = _negotiate(kind) if kind else None
    if kind and fmt is None:
        raise _not_acceptable(_offered(kind))
    etag = None
    cacheable = request.method != "POST"  # GET or HEAD
    if cacheable and fmt is not None:
        etag = web.release_etag(request.full_path, fmt.name)
        cached = web.not_modified(etag, vary="Accept")
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
                              named_graph_uris=parsed.named_graph_uris,
                              write_as=fmt.name if fmt is not None else None, analysed=analysed)
    if isinstance(outcome, service.Written):
        assert fmt is not None and fmt.name == outcome.format
        return _result_response(outcome.body, fmt, etag, settings, key)
    if kind is None:
        kind = "graph" if outcome.kind == "graph" else "results"
        fmt = _negotiate(kind)
        if fmt is None:
            raise _not_acceptable(_offered(kind))
        if cacheable:
            etag = web.release_etag(request.full_path, fmt.name)
    assert fmt is not None
    try:
        if outcome.kind == "graph":
            body = formats.serialize_graph(outcome.triples or [], fmt, release.base)
        else:
            body = formats.serialize_solutions(outcome, fmt)
    except (ValueError, TypeError) as exc:
        # e.g. triple terms, which JSON-LD and RDF/XML cannot carry
        raise NotAcceptable(f"The result cannot be written as {fmt.media_type}: {exc}") from exc
    return _result_response(body, fmt, etag, settings, key)


def _cache() -> result_cache.ResultCache:
    return current_app.extensions["kusei_result_cache"]


def _result_response(body: bytes, fmt: formats.ResultFormat | formats.GraphFormat, etag: str | None,
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
    accept, format_param = request.headers.get("Accept"), request.args.get("format")
    graph_types = formats.offered_media_types(formats.GRAPH_FORMATS)
    if html_redirect and not format_param and negotiation.prefers(accept, "text/html", over=graph_types):
        # Relative: the request's Host header is the client's to choose, never a redirect target.
        response: Response = redirect(request.script_root + html_redirect, 303)  # type: ignore[assignment]
        response.autocorrect_location_header = False
        response.vary.add("Accept")
        return response
    fmt = negotiation.negotiate_graph(accept, format_param)
    if fmt is None:
        raise _not_acceptable(formats.GRAPH_FORMATS)
    # The served release's problem, if any, is stated in the description: it is part of the validator.
    etag = web.release_etag(request.full_path, fmt.name, current.release_problem() or "")
    cached = web.not_modified(etag, vary="Accept")
    if cached is not None:
        return cached
    release = current.release()
    response = Response(formats.serialize_graph(triples_of(release), fmt, release.base),
                        content_type=fmt.content_type)
    response.set_etag(etag)
    response.vary.add("Accept")
    return response


def _service_description() -> Response:
    return _rdf_response(service_description, html_redirect="/query")


@bp.get("/.well-known/void")
def well_known_void() -> Response:
    return _rdf_response(dataset_description)


def dataset_description(release: Release) -> list[ox.Triple]:
    """The VoID/DCAT description of the release: the ``/graph/dataset`` named graph."""
    graph = ox.NamedNode(f"{release.base}/graph/dataset")
    triples = service.construct(release, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}",
                                settings=current.settings())
    return sorted(triples, key=triple_sort_key)  # the same bytes from every server process


def _limits(service: ox.NamedNode, add: Callable[..., None]) -> None:
    """The published limits: what a client may send and get back before a 4xx/503 says no."""
    settings = current.settings()
    kusei = f"{current.release().base}/def/"
    limits: dict[str, tuple[object, str]] = {
        "queryTimeLimit": (settings.query_timeout, "decimal"),
        "maxQueryLength": (settings.max_query_length, "integer"),
        "maxRequestBodyBytes": (settings.max_body_bytes, "integer"),
        "maxResultRows": (settings.max_result_rows, "integer"),
        "maxResultBytes": (settings.max_result_bytes, "integer"),
        "maxConcurrentQueries": (settings.max_concurrent_queries, "integer"),
        "headerTimeLimit": (settings.header_timeout, "decimal"),
        "bodyTimeLimit": (settings.body_timeout, "decimal"),
    }
    # 0 turns a memory bound off: then there is none to state.
    memory = (("maxQueryMemory", settings.query_memory_bound), ("maxServerMemory", settings.max_server_memory))
    for name, bound in memory:
        if bound:
            limits[name] = (bound, "integer")
    if settings.rate_limit:  # optional throttling (endpoint/throttle.py): stated only when on
        limits["rateLimit"] = (settings.rate_limit, "string")
    if settings.client_max_queries:  # fair shares (endpoint/query/shares.py); 0 = off
        limits["maxConcurrentQueriesPerClient"] = (settings.client_max_queries, "integer")
    if settings.client_query_seconds:
        limits["queryTimePerClientPerMinute"] = (settings.client_query_seconds, "decimal")
    for name, (value, datatype) in limits.items():
        add(service, kusei + name, ox.Literal(str(value), datatype=ox.NamedNode(XSD + datatype)))
    add(service, RDFS + "comment", ox.Literal(
        f"Read-only. Queries stop after {settings.query_timeout:g} s (503; timeout= may only lower it); "
        f"at most {settings.max_query_length} characters (413) and a {settings.max_body_bytes}-byte body (413); "
        f"results over {settings.max_result_rows} rows or {settings.max_result_bytes} bytes are a 422, never "
        f"truncated; {settings.max_concurrent_queries} queries run at once, more wait briefly, then 503. "
        + (f"A query's process may use {settings.query_memory_bound} bytes (422 past it); "
           if settings.query_memory_bound else "")
        + (f"the server's processes together {settings.max_server_memory} bytes (the largest query is stopped: 503). "
           if settings.max_server_memory else "")
        + f"Request heads must arrive within {settings.header_timeout:g} s, "
        f"bodies within {settings.body_timeout:g} s (408). "
        "SERVICE, LOAD and updates are refused (400/403): this endpoint makes no outbound requests."
        + (f" Each client address may send {settings.rate_limit} queries (counted by each server process); "
           "more get 429 with Retry-After." if settings.rate_limit else "")
        + (f" Each client address may run {settings.client_max_queries} queries at once"
           if settings.client_max_queries else "")
        + ((" and" if settings.client_max_queries else " Each client address may") +
           f" use {settings.client_query_seconds:g} s of query time in any minute"
           if settings.client_query_seconds else "")
        + ("; past that it gets 429 with Retry-After, and other clients are not affected."
           if settings.client_max_queries or settings.client_query_seconds else ""),
        language="en"))


def served_at() -> str:
    """Where this server answers: the public URL given to ``kusei serve`` (``--public-url``,
    KUSEI_PUBLIC_URL), else the root of the URL the client asked for."""
    public = current.settings().public_url
    return public.rstrip("/") if public else request.url_root.rstrip("/")


def service_description(release: Release) -> list[ox.Triple]:
    """An ``sd:Service`` for this endpoint: language, result formats, features and dataset.

    The service is named by the URL that answers, and is its own ``sd:endpoint``: a client that
    fetched that URL (Comunica, for one) recognises the description as the endpoint's own, where a
    dataset IRI under an unregistered base would name nothing it can reach. The public URL the
    server was started with wins over the URL of the request.
    """
    published = served_at()
    dataset = ox.NamedNode(f"{release.base}/id/dataset/kusei")
    service = ox.NamedNode(f"{published}/sparql")
    out: list[ox.Triple] = []

    def add(s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
        out.append(ox.Triple(s, ox.NamedNode(p), o))

    add(service, TYPE.value, ox.NamedNode(SD + "Service"))
    add(service, DCTERMS + "title", ox.Literal("Kusei SPARQL endpoint", language="en"))
    add(service, SD + "endpoint", ox.NamedNode(f"{published}/sparql"))
    add(service, SD + "supportedLanguage", ox.NamedNode(SD + "SPARQL11Query"))
    for fmt in (*formats.RESULT_FORMATS, *formats.GRAPH_FORMATS):
        add(service, SD + "resultFormat", ox.NamedNode(fmt.iri))
    # The default graph is the union of the named graphs. No sd:BasicFederatedQuery: SERVICE is
    # refused, and stating so by omission is what the vocabulary allows.
    add(service, SD + "feature", ox.NamedNode(SD + "UnionDefaultGraph"))
    add(service, SD + "defaultEntailmentRegime", ox.NamedNode("http://www.w3.org/ns/entailment/Simple"))
    add(service, RDFS + "seeAlso", ox.NamedNode(f"{published}/.well-known/void"))
    _limits(service, add)
    problem = current.release_problem()
    if problem:
        add(service, RDFS + "comment", ox.Literal(problem, language="en"))
    add(service, SD + "defaultDataset", dataset)
    add(dataset, TYPE.value, ox.NamedNode(SD + "Dataset"))
    add(dataset, TYPE.value, ox.NamedNode(VOID + "Dataset"))
    add(dataset, VOID + "sparqlEndpoint", ox.NamedNode(f"{published}/sparql"))
    default_graph = ox.BlankNode("defaultGraph")
    add(dataset, SD + "defaultGraph", default_graph)
    add(default_graph, TYPE.value, ox.NamedNode(SD + "Graph"))
    add(default_graph, RDFS + "comment", ox.Literal("The union of all named graphs.", language="en"))
    for index, (graph_iri, triples) in enumerate(sorted(release.manifest.graphs.items())):
        named = ox.NamedNode(graph_iri)
        graph = ox.BlankNode(f"graph{index}")
        add(dataset, SD + "namedGraph", named)
        add(named, TYPE.value, ox.NamedNode(SD + "NamedGraph"))
        add(named, SD + "name", named)
        add(named, SD + "graph", graph)
        add(graph, TYPE.value, ox.NamedNode(SD + "Graph"))
        add(graph, VOID + "triples", ox.Literal(str(triples), datatype=ox.NamedNode(
            "http://www.w3.org/2001/XMLSchema#integer")))
    return out
