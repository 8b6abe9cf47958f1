"""What every page view shares: the blueprint, rendering in the site layout, and the JSON and CSV
variants of a page (Datasette-style: a ``.json``/``.csv`` URL, ``format=`` or ``Accept``, as
``negotiation.page`` decides).
"""

from __future__ import annotations

import html
import json
import re

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup

from kusei import formats
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


# -- data variants -------------------------------------------------------------------------------


def variant(suffix: str | None) -> formats.Format:
    """HTML, JSON or CSV: what this request asks of a page (``negotiation.page``)."""
    chosen = negotiation.page(suffix, request.headers.get("Accept"), request.args.get("format"))
    return chosen or negotiation.HTML


def wants_json(suffix: str | None) -> bool:
    """JSON for a ``.json`` URL, ``format=json`` or an Accept preferring it to HTML."""
    return variant(suffix) is negotiation.JSON


def json_response(data: object) -> Response:
    response = Response(json.dumps(data, ensure_ascii=False, indent=1) + "\n", content_type=negotiation.JSON.media_type)
    response.vary.add("Accept")
    return response


def csv_response(text: str, name: str) -> Response:
    response = Response(text, content_type=negotiation.CSV.content_type)
    response.headers["Content-Disposition"] = f'inline; filename="{name}.csv"'
    return response


def wants_csv(suffix: str | None) -> bool:
    """CSV for a ``.csv`` URL or ``format=csv`` (never by Accept)."""
    return variant(suffix) is negotiation.CSV


def with_suffix(path: str, suffix: str) -> str:
    query = request.query_string.decode("latin-1")
    return path + suffix + (("?" + query) if query else "")
