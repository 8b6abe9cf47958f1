"""Linked-Data pages: every IRI under the base resolves here, as HTML or as RDF by negotiation.

The request path is appended to the release's base, so a server on localhost answers for the
public IRIs. RDF comes by ``Accept`` (bare ``*/*`` gets Turtle, so curl gets data), by ``format=``
or by a suffix URL (``/id/plan/141089/2024.ttl``); browsers, which ask for text/html, get a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request
from markupsafe import Markup

from kusei import formats as registry
from kusei.endpoint.query import formats, service
from kusei.endpoint.web import current, negotiation
from kusei.endpoint.web import http as web
from kusei.endpoint.web.pages.home import build_home
from kusei.endpoint.web.pages.query import ROWS_SHOWN, load_examples, run_query
from kusei.endpoint.web.pages.resource import ResourceBuilder
from kusei.endpoint.web.pages.terms import PATH_SAFE, Namer
from kusei.endpoint.web.pages.vocabulary import build_vocabulary

bp = Blueprint("pages", __name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
# Suffix URLs, as Japan Search offers them: one per graph format a person is likely to want.
SUFFIXES = {fmt.suffix: fmt for fmt in registry.GRAPH_FORMATS if fmt.page_suffix}


@dataclass(frozen=True)
class Alternate:
    name: str
    media_type: str
    href: str


def _namer() -> Namer:
    release = current.release()
    return Namer(release.base, formats.prefixes(release.base))


def _alternates(path: str) -> list[Alternate]:
    # A path ending in "/" (the vocabulary) has no file name to put a suffix on; use format=.
    alternates = []
    for suffix, fmt in SUFFIXES.items():
        href = f"{path}?{urlencode({'format': fmt.name})}" if path.endswith("/") else path + suffix
        alternates.append(Alternate(fmt.title, fmt.media_type, href))
    return alternates


def _link_header(path: str) -> str:
    links = [f'<{path}>; rel="alternate"; type="text/html"']
    links += [f'<{alt.href}>; rel="alternate"; type="{alt.media_type}"' for alt in _alternates(path)]
    return ", ".join(links)


def _wants(accept: str | None, format_param: str | None) -> formats.GraphFormat | str | None:
    """"html", a graph format, or None when nothing acceptable is offered (406)."""
    if format_param:
        if format_param.lower() in ("html", "text/html"):
            return "html"
        return negotiation.negotiate_graph(accept, format_param)
    if not accept or not accept.strip():
        return registry.by_name("ttl")
    offered = {fmt.media_type for fmt in formats.GRAPH_FORMATS}
    parsed = negotiation.parse_accept(accept)
    html_q = max((q for mime, q in parsed if mime in HTML_TYPES), default=0)
    rdf_q = max((q for mime, q in parsed if mime in offered), default=0)
    # HTML only when asked for by name and liked at least as much as any RDF type named; a
    # bare */* is a script or curl, and gets data.
    if html_q > 0 and html_q >= rdf_q:
        return "html"
    return negotiation.negotiate_graph(accept, None)


def _json_ld_script(triples: list[ox.Triple], base: str) -> Markup:
    body = formats.serialize_graph(triples, registry.by_name("jsonld"), base).decode("utf-8")
    # Inside <script>, "</script>" or "<!--" in a literal would end or confuse the block; the
    # \u escapes are the same JSON, and <, >, & occur only inside JSON strings.
    body = body.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(body)


def _finish(response: Response, *, negotiated: bool) -> Response:
    # ETag, Cache-Control, compression and CSP are added app-wide by endpoint.web.
    if negotiated:
        response.vary.add("Accept")
    return response


def _unchanged(mimetype: str, *, negotiated: bool) -> Response | None:
    """A 304 before any work, when the client holds this release's rendering of this URL.

    The ETag is the one kusei.endpoint.web.http sets on the full response (URL, media type, release).
    """
    response = web.not_modified(web.release_etag(request.full_path, mimetype, ""))
    return _finish(response, negotiated=negotiated) if response is not None else None


def _render(template: str, status: int = 200, **context: object) -> Response:
    html = render_template(template, release_id=current.release().id, **context)
    return Response(html, status, content_type="text/html; charset=utf-8")


def _rdf(triples: list[ox.Triple], fmt: formats.GraphFormat, path: str, *, negotiated: bool) -> Response:
    base = current.release().base
    response = Response(formats.serialize_graph(triples, fmt, base), content_type=fmt.content_type)
    response.headers["Link"] = _link_header(path)
    return _finish(response, negotiated=negotiated)


def _not_acceptable() -> Response:
    offered = ["text/html", *(fmt.media_type for fmt in formats.GRAPH_FORMATS)]
    response = web.error_response(406, "None of the formats in Accept is offered here.", offered=", ".join(offered))
    response.vary.add("Accept")
    return response


def _not_found(iri: str, wanted: formats.GraphFormat | str | None) -> Response:
    if wanted == "html":
        response = _render("not_found.html", 404, iri=iri)
    else:
        response = web.error_response(404, f"The data says nothing about <{iri}>.", code="unknown-iri")
    response.vary.add("Accept")
    return response


def _valid_iri(iri: str) -> bool:
    # A path with a space or "<" is no IRI, so nothing in the data can be about it.
    try:
        ox.NamedNode(iri)
    except ValueError:
        return False
    return True


def _known(iri: str) -> bool:
    return _valid_iri(iri) and service.is_known(current.release(), iri, settings=current.settings())


def _describe(iri: str) -> list[ox.Triple]:
    return service.describe(current.release(), [iri], settings=current.settings())


def _split_suffix(path: str, base: str) -> tuple[str, registry.Format | None]:
    """``/x.ttl`` → (``/x``, "text/turtle") when ``/x`` is a resource and ``/x.ttl`` is not."""
    for suffix, fmt in SUFFIXES.items():
        if path.endswith(suffix) and len(path) > len(suffix) and _valid_iri(base + path):
            stripped = path[: -len(suffix)]
            if not _known(base + path) and _known(base + stripped):
                return stripped, fmt
    return path, None


# -- routes -------------------------------------------------------------------------------------


@bp.get("/")
def home() -> Response:
    home = build_home(current.release(), _namer(), current.settings())
    return _finish(
        _render("home.html", home=home, sparql_url=request.url_root + "sparql"),
        negotiated=False,
    )


@bp.get("/id/<path:rest>")
@bp.get("/graph/<path:rest>")
@bp.get("/def/<path:rest>")
def resource(rest: str) -> Response:
    release = current.release()
    path, suffix_format = _split_suffix(request.path, release.base)
    iri = release.base + path
    path = quote(path, safe=PATH_SAFE)  # as it goes into Link headers and hrefs
    if suffix_format is not None:
        wanted: formats.GraphFormat | str | None = suffix_format
    else:
        wanted = _wants(request.headers.get("Accept"), request.args.get("format"))
    if not _known(iri):
        return _not_found(iri, wanted)
    if wanted is None:
        return _not_acceptable()
    mimetype = "text/html" if wanted == "html" else wanted.media_type
    unchanged = _unchanged(mimetype, negotiated=suffix_format is None)
    if unchanged is not None:
        return unchanged
    if wanted != "html":
        triples = _describe(iri)
        return _rdf(triples, wanted, path, negotiated=suffix_format is None)

    namer = _namer()
    view = ResourceBuilder(release, namer, current.settings()).build(iri)
    vocabulary = build_vocabulary(release, namer, current.settings())
    graph_query = f"SELECT ?s ?p ?o WHERE {{\n  GRAPH <{iri}> {{ ?s ?p ?o }}\n}}\nORDER BY ?s ?p\nLIMIT 500"
    response = _render(
        "resource.html",
        view=view,
        short=namer.short(iri),
        alternates=_alternates(path),
        jsonld=_json_ld_script(view.triples, release.base),
        vocabulary_title=vocabulary.title_ja or vocabulary.title_en or "Kusei vocabulary",
        graph_query_href="/query?" + urlencode({"query": graph_query}),
    )
    response.headers["Link"] = _link_header(path)
    return _finish(response, negotiated=True)


@bp.get("/def/")
def vocabulary() -> Response:
    release = current.release()
    path = request.path
    wanted = _wants(request.headers.get("Accept"), request.args.get("format"))
    if wanted is None:
        return _not_acceptable()
    unchanged = _unchanged("text/html" if wanted == "html" else wanted.media_type, negotiated=True)
    if unchanged is not None:
        return unchanged
    namer = _namer()
    vocab = build_vocabulary(release, namer, current.settings())
    if wanted != "html":
        # The ontology IRI stands for the whole vocabulary, so its RDF is the ontology graph.
        return _rdf(vocab.triples, wanted, path, negotiated=True)
    response = _render(
        "vocabulary.html",
        vocab=vocab,
        alternates=_alternates(path),
        jsonld=_json_ld_script(_describe(vocab.iri), release.base),
    )
    response.headers["Link"] = _link_header(path)
    return _finish(response, negotiated=True)


@bp.get("/query")
def query_page() -> Response:
    release = current.release()
    namer = _namer()
    query = request.args.get("query", "")
    examples = load_examples()
    context: dict[str, object] = {}
    if query.strip():
        outcome = run_query(query, namer, release, current.settings())
        context["result" if hasattr(outcome, "rows") else "error"] = outcome
    elif examples:
        query = examples[0].query

    current_example = next((ex for ex in examples if ex.query == query), None)

    def download(fmt: str) -> str:
        return "/sparql?" + urlencode({"query": query, "format": fmt})

    return _render(
        "query.html",
        query=query,
        examples=examples,
        current_example=current_example,
        prefixes=formats.prefixes(release.base),
        permalink="/query?" + urlencode({"query": query}),
        downloads={"csv": download("csv"), "tsv": download("tsv"), "json": download("json")},
        sparql_path="/sparql",
        base=release.base,
        rows_shown=ROWS_SHOWN,
        **context,
    )
