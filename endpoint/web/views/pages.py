"""Linked-Data pages: every IRI under the base resolves here, as HTML or as RDF by negotiation.

The request path is appended to the release's base, so a server on localhost answers for the
public IRIs. RDF comes by ``Accept`` (bare ``*/*`` gets Turtle, so curl gets data), by ``format=``
or by a suffix URL (``/id/plan/141089/2024.ttl``); browsers, which ask for text/html, get a page.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, abort, render_template, request
from markupsafe import Markup

from kusei import formats as registry
from kusei.endpoint.query import formats, service
from kusei.endpoint.web import current, negotiation
from kusei.endpoint.web import http as web
from kusei.endpoint.web.pages import compare as cmp
from kusei.endpoint.web.pages.data import select
from kusei.endpoint.web.pages.home import build_home
from kusei.endpoint.web.pages.outline import build_outline, build_place
from kusei.endpoint.web.pages.query import (
    EXPLANATIONS,
    PAGE_SIZE,
    ResultTable,
    csv_with_bom,
    load_examples,
    run_query,
)
from kusei.endpoint.web.pages.resource import ResourceBuilder, vocabulary_labels
from kusei.endpoint.web.pages.search import search as run_search
from kusei.endpoint.web.pages.terms import PATH_SAFE, Namer
from kusei.endpoint.web.pages.vocabulary import build_vocabulary

bp = Blueprint("pages", __name__)

# Markup some extracted texts carry (one document came from HTML); an excerpt shows the words.
_MARKUP = re.compile(r"</?(?:p|br|div|span|strong|em|b|i|u|ul|ol|li|h[1-6]|table|tr|td|th)\b[^<>]*>", re.I)


@bp.app_template_filter("plain")
def plain_text(text: str) -> str:
    """The text of a source line without HTML tags; entities are turned back into characters."""
    return html.unescape(_MARKUP.sub("", text))


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


def _with_suffix(path: str, suffix: str) -> str:
    query = request.query_string.decode("latin-1")
    return path + suffix + (("?" + query) if query else "")


# -- routes -------------------------------------------------------------------------------------


@bp.get("/")
@bp.get("/index.<any(json, csv):suffix>")
def home(suffix: str | None = None) -> Response:
    home = build_home(current.release(), _namer())
    if wants_csv(suffix):
        return csv_response(cmp.wards_csv(home.wards), "wards")
    if wants_json(suffix):
        return json_response(home.as_json())
    response = _render("home.html", home=home, sparql_url=request.url_root + "sparql")
    response.vary.add("Accept")
    return response


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
    response = _render(
        "resource.html",
        view=view,
        outline=outline,
        place=place,
        ward_page=ward.page_href if ward else None,
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
    # Sorting and paging without the script: the column headers and the pager link back here.
    sort = request.args.get("sort") or None
    descending = request.args.get("order", "asc").lower() == "desc"
    if query.strip():
        page = request.args.get("page", "1")
        outcome = run_query(query, namer, release, current.settings(), int(page) if page.isdigit() else 1,
                            sort=sort, descending=descending)
        context["result" if hasattr(outcome, "rows") else "error"] = outcome
        if isinstance(outcome, ResultTable):
            sort = outcome.sort
    elif examples:
        query = examples[0].query

    current_example = next((ex for ex in examples if ex.query == query), None)

    def download(fmt: str) -> str:
        return "/sparql?" + urlencode({"query": query, "format": fmt})

    def page_href(number: int) -> str:
        sorting = {"sort": sort, "order": "desc" if descending else "asc"} if sort else {}
        return "/query?" + urlencode({"query": query, **sorting, "page": number})

    def sort_href(variable: str) -> str:
        # A second click on the sorted column turns the order round, as the script's buttons do.
        order = "desc" if variable == sort and not descending else "asc"
        return "/query?" + urlencode({"query": query, "sort": variable, "order": order})

    return _render(
        "query.html",
        query=query,
        examples=examples,
        current_example=current_example,
        prefixes=formats.prefixes(release.base),
        permalink="/query?" + urlencode({"query": query}),
        downloads={
            "table": [("CSV", download("csv")), ("CSV (Excel, BOM)", "/query/download?" + urlencode(
                {"query": query, "format": "csv-bom"})), ("TSV", download("tsv")), ("JSON", download("json"))],
            "graph": [("Turtle", download("ttl")), ("N-Triples", download("nt")), ("JSON-LD", download("jsonld"))],
        },
        page_href=page_href,
        sort_href=sort_href,
        sparql_path="/sparql",
        base=release.base,
        page_size=PAGE_SIZE,
        explanations=[{"pattern": p, "ja": ja, "en": en} for p, ja, en in EXPLANATIONS],
        **context,
    )


@bp.get("/query/download")
def query_download() -> Response:
    """CSV with a byte-order mark, so Excel opens the Japanese text as UTF-8 (works without JavaScript)."""
    query = request.args.get("query", "")
    if request.args.get("format") != "csv-bom" or not query.strip():
        abort(400, description="query= and format=csv-bom are required.")
    body = csv_with_bom(query, current.release(), current.settings())
    response = Response(body, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="kusei-query.csv"'
    return response


@bp.get("/search")
@bp.get("/search.<any(json):suffix>")
def search_page(suffix: str | None = None) -> Response:
    release = current.release()
    namer = _namer()
    term_labels, _ = vocabulary_labels(release, current.settings())
    query = request.args.get("q", "").strip()[:200]
    results = run_search(release, namer, term_labels, query)
    if wants_json(suffix):
        return json_response({
            "query": results.query,
            "terms": results.terms,
            "total": results.total,
            "results": [hit.as_json() for hit in results.hits],
        })
    response = _render("search.html", results=results, search_query=query, json_href=_with_suffix("/search", ".json"))
    response.vary.add("Accept")
    return response


def _ward_or_404(code: str) -> cmp.WardSummary:
    ward = cmp.catalogue(current.release(), _namer()).ward(code)
    if ward is None:
        abort(404, description=f"No ward has the code {code}.")
    return ward


@bp.get("/ward/<code>")
@bp.get("/ward/<code>.<any(json, csv):suffix>")
def ward_page(code: str, suffix: str | None = None) -> Response:
    ward = _ward_or_404(code)
    if wants_csv(suffix):
        return csv_response(cmp.wards_csv([ward]), f"ward-{code}")
    if wants_json(suffix):
        return json_response(cmp.ward_json(ward))
    response = _render("ward.html", ward=ward, json_href=f"/ward/{code}.json", csv_href=f"/ward/{code}.csv",
                       years_href=f"/ward/{code}/years")
    response.vary.add("Accept")
    return response


@bp.get("/ward/<code>/years")
@bp.get("/ward/<code>/years.<any(json, csv):suffix>")
def years_page(code: str, suffix: str | None = None) -> Response:
    ward = _ward_or_404(code)
    steps = cmp.year_over_year(ward, cmp.catalogue(current.release(), _namer()).continues)
    if wants_csv(suffix):
        return csv_response(cmp.years_csv(steps), f"ward-{code}-years")
    if wants_json(suffix):
        return json_response(cmp.years_json(ward, steps))
    base = f"/ward/{code}/years"
    response = _render("years.html", ward=ward, steps=steps, json_href=base + ".json", csv_href=base + ".csv")
    response.vary.add("Accept")
    return response


@bp.get("/compare")
@bp.get("/compare.<any(json, csv):suffix>")
def compare_page(suffix: str | None = None) -> Response:
    cat = cmp.catalogue(current.release(), _namer())
    comparison = cmp.compare(cat, request.args.getlist("plan"))
    if wants_csv(suffix):
        return csv_response(cmp.comparison_csv(comparison), "compare")
    if wants_json(suffix):
        return json_response(cmp.comparison_json(comparison))
    response = _render("compare.html", comparison=comparison, all_plans=cat.plans, chart=cmp.chart(comparison),
                       json_href=_with_suffix("/compare", ".json"), csv_href=_with_suffix("/compare", ".csv"))
    response.vary.add("Accept")
    return response


@bp.get("/id/")
@bp.get("/id/index.json", defaults={"suffix": "json"})
def browse_all(suffix: str | None = None) -> Response:
    release = current.release()
    namer = _namer()
    cat = cmp.catalogue(release, namer)
    term_labels, _ = vocabulary_labels(release, current.settings())
    kusei = release.base + "/def/"
    counts = select(release, f"""
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a ?class FILTER(STRSTARTS(STR(?class), "{kusei}")) }}
GROUP BY ?class ORDER BY DESC(?n)""")
    used: dict[str, int] = {}
    for plan in cat.plans:
        for measure in plan.measures:
            for area in measure.areas:
                used[area] = used.get(area, 0) + 1
    sections = [
        {"title_ja": "運営方針", "title_en": "Plans", "count": len(cat.plans),
         "entries": [{"href": "/id/plan/", "text": "運営方針の一覧 All plans", "note": None}]
         + [{"href": p.href, "text": p.label, "note": p.goal_title} for p in cat.plans]},
        {"title_ja": "区", "title_en": "Wards", "count": len(cat.wards),
         "entries": [{"href": w.page_href, "text": w.label_ja, "note": f"運営方針 {len(w.plans)}"} for w in cat.wards]},
        {"title_ja": "政策分野", "title_en": "Policy areas", "count": len(cat.areas),
         "entries": [{"href": a.href, "text": a.label_ja, "note": f"施策 {used.get(a.iri, 0)}"} for a in cat.areas]},
        {"title_ja": "種類", "title_en": "Kinds of things", "count": None,
         "entries": [{"href": namer.href(row["class"].value),
                      "text": term_labels.get(row["class"].value, "ja") or namer.short(row["class"].value),
                      "note": f"{int(row['n'].value)} 件"} for row in counts]},
    ]
    if wants_json(suffix):
        return json_response({"sections": sections})
    response = _render("browse.html", title_ja="一覧", title_en="Browse the data", sections=sections, crumbs=[],
                       note_ja="このデータの運営方針、区、政策分野、種類ごとの件数です。",
                       note_en="The plans, wards, policy areas and kinds of things in the data.",
                       json_href="/id/index.json", csv_href=None)
    response.vary.add("Accept")
    return response


@bp.get("/id/plan/")
@bp.get("/id/plan/index.<any(json, csv):suffix>")
def browse_plans(suffix: str | None = None) -> Response:
    cat = cmp.catalogue(current.release(), _namer())
    with_plans = [w for w in cat.wards if w.plans]
    if wants_csv(suffix):
        return csv_response(cmp.wards_csv(with_plans), "plans")
    if wants_json(suffix):
        return json_response({"wards": [cmp.ward_json(w) for w in with_plans]})
    sections = [
        {"title_ja": w.label_ja, "title_en": w.label_en or "", "count": len(w.plans),
         "entries": [{"href": p.href, "text": f"FY{p.year} {p.label}" if p.year else p.label,
                      "note": f"{p.goal_title or ''} · 施策 {len(p.measures)} · 事業 {p.project_count}"}
                     for p in w.plans]}
        for w in with_plans
    ]
    response = _render("browse.html", title_ja="運営方針の一覧", title_en="All plans", sections=sections,
                       crumbs=[{"href": "/id/", "text": "一覧"}],
                       note_ja="区ごと、年度順です。", note_en="By ward, in fiscal-year order.",
                       json_href="/id/plan/index.json", csv_href="/id/plan/index.csv")
    response.vary.add("Accept")
    return response
