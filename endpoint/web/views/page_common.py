"""What every page view shares: the blueprint, rendering in the site layout, and the one step from
a page's data to a response (Datasette-style): a view returns a :class:`Page`, :func:`respond`
negotiates its variant once (a ``.json``/``.csv`` URL, ``format=`` or ``Accept``; a ``.ttl`` URL
for a Linked-Data resource) and the writer of that format writes it.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request
from markupsafe import Markup

from kusei import formats
from kusei.endpoint.query.errors import NotAcceptable
from kusei.endpoint.web import current, negotiation
from kusei.endpoint.web import http as web
from kusei.endpoint.web.pages import corrections as fixes
from kusei.endpoint.web.pages.terms import Namer

bp = Blueprint("pages", __name__)

# Markup some extracted texts carry (one document came from HTML); an excerpt shows the words.
_MARKUP = re.compile(r"</?(?:p|br|div|span|strong|em|b|i|u|ul|ol|li|h[1-6]|table|tr|td|th)\b[^<>]*>", re.I)


@bp.app_template_filter("plain")
def plain_text(text: str) -> str:
    """The text of a source line without HTML tags; entities are turned back into characters."""
    return html.unescape(_MARKUP.sub("", text))


@bp.app_template_filter("fixed")
def fixed(text: str) -> Markup:
    """A printed text as it should read, the slip's printed form and note one tap away."""
    return fixes.marked(text, fixes.corrections(current.release()))


@bp.app_template_filter("fixed_plain")
def fixed_plain(text: str) -> str:
    """A printed text as it should read, unmarked: for link texts, titles and attributes."""
    return fixes.corrected_text(text, fixes.corrections(current.release()))


@bp.app_template_filter("fix_note")
def fix_note(text: str) -> Markup:
    """The folded printed form and note of a text shown as ``fixed_plain`` (e.g. inside a link)."""
    return fixes.note(text, fixes.corrections(current.release()))


def page_namer() -> Namer:
    release = current.release()
    return Namer(release.base, formats.prefixes(release.base))


def finish(response: Response, *, negotiated: bool) -> Response:
    # ETag, Cache-Control, compression and CSP are added app-wide by endpoint.web.
    if negotiated:
        response.vary.add("Accept")
    return response


def unchanged(fmt: formats.Format, *, negotiated: bool) -> Response | None:
    """A 304 before any work, when the client holds this release's rendering of this URL in ``fmt``.

    The ETag is the one kusei.endpoint.web.http sets on the full response (URL, media type, release).
    """
    response = web.not_modified(web.release_etag(request.full_path, fmt.media_type))
    return finish(response, negotiated=negotiated) if response is not None else None


def render(template: str, status: int = 200, **context: object) -> Response:
    html = render_template(template, release_id=current.release().id, **context)
    return Response(html, status, content_type="text/html; charset=utf-8")


# -- one step from page data to a response -------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """What a page view returns: the data of every variant the page offers, each made only when
    that variant is chosen (so a 304 or a CSV costs no HTML).

    ``template`` with ``context()`` is the HTML page; ``data()`` its JSON; ``table()`` its CSV text,
    named ``table_name``.csv; ``triples()`` make it a Linked-Data resource, offered in every graph
    format with ``link`` as its Link header. ``strict``: an unknown ``format=`` is a 406, not HTML.
    """

    template: str
    context: Callable[[], dict[str, object]]
    data: Callable[[], object] | None = None
    table: Callable[[], str] | None = None
    table_name: str = ""
    triples: Callable[[], list[ox.Triple]] | None = None
    link: str | None = None
    status: int = 200
    strict: bool = False

    @property
    def offered(self) -> tuple[formats.Format, ...]:
        if self.triples is not None:
            return (negotiation.HTML, *formats.GRAPH_FORMATS)
        made = ((negotiation.HTML, True), (negotiation.JSON, self.data), (negotiation.CSV, self.table))
        return tuple(fmt for fmt, offered in made if offered)


def respond(page: Page, suffix: str | None = None) -> Response:
    """The response for ``page``: its variant negotiated once, then written by that format's writer.

    A Linked-Data resource is negotiated as one (``negotiation.resource``: RDF by default, HTML when
    a browser asks; ``suffix`` is its ``.ttl``-style suffix) and gets its 304 before any work; the
    other pages take ``negotiation.page`` (``suffix`` is ``json`` or ``csv``), and their 304 comes
    from the full response (kusei.endpoint.web.http), which it then carries every header of.
    """
    accept, format_param = request.headers.get("Accept"), request.args.get("format")
    resource = page.triples is not None
    if resource:
        chosen = negotiation.resource(accept, format_param, suffix)
    else:
        chosen = negotiation.page(suffix, accept, format_param, offered=page.offered, strict=page.strict)
    if chosen is None:
        # A page is refused only for its format= (negotiation.page); a resource for Accept too.
        said = "None of the formats in Accept is offered here." if resource else "format= names no format of this page."
        raise NotAcceptable(said, offered=", ".join(formats.media_types(page.offered)))
    negotiated = not (resource and suffix is not None)
    if resource:
        cached = unchanged(chosen, negotiated=negotiated)
        if cached is not None:
            return cached
    return writer(chosen)(page, chosen, negotiated)


Writer = Callable[[Page, formats.Format, bool], Response]


def _write_html(page: Page, fmt: formats.Format, negotiated: bool) -> Response:
    response = render(page.template, page.status, **page.context())
    if page.link:
        response.headers["Link"] = page.link
    # Every page that has an HTML form has another, chosen by Accept.
    response.vary.add("Accept")
    return response


def _write_json(page: Page, fmt: formats.Format, negotiated: bool) -> Response:
    assert page.data is not None  # offered only then
    return json_response(page.data())


def _write_csv(page: Page, fmt: formats.Format, negotiated: bool) -> Response:
    # Never chosen by Accept (negotiation.page), so it does not vary by it.
    assert page.table is not None
    response = Response(page.table(), content_type=negotiation.CSV.content_type)
    response.headers["Content-Disposition"] = f'inline; filename="{page.table_name}.csv"'
    return response


def _write_rdf(page: Page, fmt: formats.Format, negotiated: bool) -> Response:
    assert page.triples is not None
    response = Response(fmt.write(page.triples(), current.release().base), content_type=fmt.content_type)
    if page.link:
        response.headers["Link"] = page.link
    return finish(response, negotiated=negotiated)


# The page formats by name, every graph format (kind) by the one RDF writer.
WRITERS: dict[str, Writer] = {"html": _write_html, "json": _write_json, "csv": _write_csv, "graph": _write_rdf}


def writer(fmt: formats.Format) -> Writer:
    """The writer of a page in ``fmt``."""
    return WRITERS[fmt.kind if fmt.kind == "graph" else fmt.name]


def json_response(data: object) -> Response:
    response = Response(json.dumps(data, ensure_ascii=False, indent=1) + "\n", content_type=negotiation.JSON.media_type)
    response.vary.add("Accept")
    return response


def with_suffix(path: str, suffix: str) -> str:
    query = request.query_string.decode("latin-1")
    return path + suffix + (("?" + query) if query else "")
