"""Linked-Data pages: every IRI under the base resolves here, as HTML or as RDF by negotiation.

The request path is appended to the release's base, so a server on localhost answers for the
public IRIs. RDF comes by ``Accept`` (bare ``*/*`` gets Turtle, so curl gets data), by ``format=``
or by a suffix URL (``/id/plan/141089/2024.ttl``); browsers, which ask for text/html, get a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from flask import Response, request
from markupsafe import Markup

from kusei import formats
from kusei.endpoint.query import service
from kusei.endpoint.query.errors import UnknownIRI
from kusei.endpoint.web import current
from kusei.endpoint.web.pages import compare as cmp
from kusei.endpoint.web.pages.outline import build_outline, build_place
from kusei.endpoint.web.pages.resource import ResourceBuilder
from kusei.endpoint.web.pages.terms import PATH_SAFE
from kusei.endpoint.web.pages.vocabulary import Vocabulary, build_vocabulary, vocabulary_labels

# The page routes live in modules by family, all on the one blueprint: importing them here
# registers them, so the app registers ``pages.bp`` alone.
from kusei.endpoint.web.views import browse, query_page  # noqa: F401
from kusei.endpoint.web.views.page_common import Page, bp, page_namer, respond

__all__ = ["bp"]

# Suffix URLs, as Japan Search offers them: one per graph format a person is likely to want.
SUFFIXES = {fmt.suffix: fmt for fmt in formats.GRAPH_FORMATS if fmt.page_suffix}


@dataclass(frozen=True)
class Alternate:
    name: str
    media_type: str
    href: str


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


def _json_ld_script(triples: list[ox.Triple], base: str) -> Markup:
    body = formats.by_name("jsonld").write(triples, base).decode("utf-8")
    # Inside <script>, "</script>" or "<!--" in a literal would end or confuse the block; the
    # \u escapes are the same JSON, and <, >, & occur only inside JSON strings.
    body = body.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(body)


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


def _split_suffix(path: str, base: str) -> tuple[str, str | None]:
    """``/x.ttl`` → (``/x``, ".ttl") when ``/x`` is a resource and ``/x.ttl`` is not."""
    for suffix in SUFFIXES:
        if path.endswith(suffix) and len(path) > len(suffix) and _valid_iri(base + path):
            stripped = path[: -len(suffix)]
            if not _known(base + path) and _known(base + stripped):
                return stripped, suffix
    return path, None

def _marked_lines(value: str | None) -> tuple[int, int] | None:
    """``lines=12-15`` (or ``12``): the lines a link into a document's text asks to mark."""
    first, _, last = (value or "").partition("-")
    if not first.isdigit() or not (last or first).isdigit():
        return None
    return int(first), max(int(first), int(last or first))


# -- routes -------------------------------------------------------------------------------------


@bp.get("/id/<path:rest>")
@bp.get("/graph/<path:rest>")
@bp.get("/def/<path:rest>")
def resource(rest: str) -> Response:
    release = current.release()
    path, suffix = _split_suffix(request.path, release.base)
    iri = release.base + path
    path = quote(path, safe=PATH_SAFE)  # as it goes into Link headers and hrefs
    if not _known(iri):
        raise UnknownIRI(iri)
    return respond(Page("resource.html", lambda: _resource_context(iri, path), triples=lambda: _describe(iri),
                        link=_link_header(path)), suffix)


def _resource_context(iri: str, path: str) -> dict[str, object]:
    """What the HTML page of a resource shows: its outline (a plan) or place (a part), its triples
    as a table and as JSON-LD, and links to the query page and the other formats."""
    release = current.release()
    namer = page_namer()
    settings = current.settings()
    term_labels, _ = vocabulary_labels(release, settings)
    outline = build_outline(release, namer, iri, term_labels)
    # The outline lists the plan's parts; incoming links from them would list them again.
    shown = frozenset(outline.iris()) if outline else frozenset()
    view = ResourceBuilder(release, namer, settings).build(iri, shown=shown)
    place = None if outline else build_place(release, namer, iri, term_labels)
    ward = None
    if path.startswith("/id/area/"):
        ward = cmp.catalogue(release, namer).ward(path.rsplit("/", 1)[-1])
    vocabulary = build_vocabulary(release, namer, current.settings())
    graph_query = f"SELECT ?s ?p ?o WHERE {{\n  GRAPH <{iri}> {{ ?s ?p ?o }}\n}}\nORDER BY ?s ?p\nLIMIT 500"
    return {
        "view": view,
        "outline": outline,
        "place": place,
        "ward_page": ward.page_href if ward else None,
        "short": namer.short(iri),
        "alternates": _alternates(path),
        "jsonld": _json_ld_script(view.triples, release.base),
        "vocabulary_title": vocabulary.title_ja or vocabulary.title_en or "Kusei vocabulary",
        "graph_query_href": "/query?" + urlencode({"query": graph_query}),
        "marked": _marked_lines(request.args.get("lines")),
    }


@bp.get("/def/")
def vocabulary() -> Response:
    path = request.path

    def vocab() -> Vocabulary:
        return build_vocabulary(current.release(), page_namer(), current.settings())

    # The ontology IRI stands for the whole vocabulary, so its RDF is the ontology graph.
    return respond(Page("vocabulary.html", lambda: {
        "vocab": vocab(),
        "alternates": _alternates(path),
        "jsonld": _json_ld_script(_describe(vocab().iri), current.release().base),
    }, triples=lambda: vocab().triples, link=_link_header(path)))
