"""What every page view shares: the blueprint, rendering in the site layout, the JSON and CSV
variants of a page (Datasette-style: a ``.json``/``.csv`` URL, ``format=`` or ``Accept``), and the
error pages browsers get.
"""

from __future__ import annotations

import html
import json
import re

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup

from kusei.endpoint.query import formats
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


def unchanged(mimetype: str, *, negotiated: bool) -> Response | None:
    """A 304 before any work, when the client holds this release's rendering of this URL.

    The ETag is the one kusei.endpoint.web.http sets on the full response (URL, media type, release).
    """
    response = web.not_modified(web.release_etag(request.full_path, mimetype, ""))
    return finish(response, negotiated=negotiated) if response is not None else None


def render(template: str, status: int = 200, **context: object) -> Response:
    html = render_template(template, release_id=current.release().id, **context)
    return Response(html, status, content_type="text/html; charset=utf-8")


# -- error pages, data variants ------------------------------------------------------------------

ERROR_TITLES = {
    400: ("リクエストが正しくありません", "Bad request", "送られた内容を読み取れませんでした。"),
    404: ("見つかりません", "Not found", "このアドレスのページはありません。"),
    405: ("この方法では使えません", "Method not allowed", "このアドレスはこの HTTP メソッドを受け付けません。"),
    406: ("この形式では返せません", "Not acceptable", "求められた形式ではこの内容を返せません。"),
    413: ("大きすぎます", "Payload too large", "送られた内容が大きすぎます。"),
    429: ("リクエストが多すぎます", "Too many requests", "しばらく待ってからもう一度お試しください。"),
    500: ("サーバーの問題です", "Internal server error", "サーバー側で問題が起きました。記録されています。"),
    503: ("一時的に使えません", "Service unavailable", "しばらく待ってからもう一度お試しください。"),
}


def render_error_page(status: int, message: str, details: dict[str, object]) -> Response:
    """An HTTP error for a browser, in the site layout and both languages."""
    title_ja, title_en, explain_ja = ERROR_TITLES.get(status, ("エラー", "Error", None))
    try:
        release_id = current.release().id
    except Exception:  # noqa: BLE001 - the error page must render even without a release
        release_id = None
    html_text = render_template(
        "error.html", status=status, title_ja=title_ja, title_en=title_en, explain_ja=explain_ja,
        message=message, details=sorted((k, v) for k, v in details.items()), release_id=release_id,
    )
    return Response(html_text, status, content_type="text/html; charset=utf-8")


@bp.record_once
def _install_error_page(state: object) -> None:
    state.app.extensions["kusei_html_error"] = render_error_page  # type: ignore[attr-defined]


def wants_json(suffix: str | None) -> bool:
    """JSON for a ``.json`` URL, ``format=json`` or an Accept preferring it to HTML."""
    if suffix == "json":
        return True
    wanted = request.args.get("format", "").lower()
    if wanted:
        return wanted in ("json", "application/json")
    return negotiation.prefers(request.headers.get("Accept"), "application/json", over=["text/html"])


def json_response(data: object) -> Response:
    response = Response(json.dumps(data, ensure_ascii=False, indent=1) + "\n", content_type="application/json")
    response.vary.add("Accept")
    return response


def csv_response(text: str, name: str) -> Response:
    response = Response(text, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'inline; filename="{name}.csv"'
    return response


def wants_csv(suffix: str | None) -> bool:
    return suffix == "csv" or request.args.get("format", "").lower() in ("csv", "text/csv")


def with_suffix(path: str, suffix: str) -> str:
    query = request.query_string.decode("latin-1")
    return path + suffix + (("?" + query) if query else "")
