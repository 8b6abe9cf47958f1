"""The pages that list and compare: home, search, wards, years, the comparison and the browse lists.

Each view builds its page's data (a ``Page``): HTML, JSON and, where it is a table, CSV; ``respond``
chooses one by suffix, ``format=`` or ``Accept`` and writes it.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Response, abort, request
from markupsafe import escape

from kusei.endpoint.web import current
from kusei.endpoint.web.pages import chart as charts
from kusei.endpoint.web.pages import compare as cmp
from kusei.endpoint.web.pages import compare_export as export
from kusei.endpoint.web.pages.data import run
from kusei.endpoint.web.pages.home import build_home
from kusei.endpoint.web.pages.search import search as run_search
from kusei.endpoint.web.pages.vocabulary import vocabulary_labels
from kusei.endpoint.web.views.page_common import Page, bp, page_namer, respond, with_suffix
from kusei.namespaces import terms


@bp.get("/")
@bp.get("/index.<any(json, csv):suffix>")
def home(suffix: str | None = None) -> Response:
    home = build_home(current.release(), page_namer())
    return respond(Page("home.html", lambda: {"home": home, "sparql_url": request.url_root + "sparql"},
                        data=home.as_json, table=lambda: export.wards_csv(home.wards), table_name="wards"),
                   suffix)


@bp.get("/search")
@bp.get("/search.<any(json):suffix>")
def search_page(suffix: str | None = None) -> Response:
    release = current.release()
    namer = page_namer()
    term_labels, _ = vocabulary_labels(release, current.settings())
    query = request.args.get("q", "").strip()[:200]
    filters = {name: request.args.get(name, "")[:200] for name in ("type", "ward", "year", "area")}
    cat = cmp.catalogue(release, namer)
    facet_labels = {
        "ward": {w.code: w.label_ja for w in cat.wards},
        "year": {str(p.year): f"FY{p.year}" for p in cat.plans if p.year},
        "area": {a.iri: a.label_ja for a in cat.areas},
    }
    results = run_search(release, namer, term_labels, query, filters=filters, facet_labels=facet_labels)

    def facet_href(name: str, value: str | None) -> str:
        args = {"q": query, **{k: v for k, v in results.filters.items() if k != name}}
        if value is not None:
            args[name] = value
        return "/search?" + urlencode(args)

    def data() -> dict[str, object]:
        return {
            "query": results.query,
            "terms": results.terms,
            "total": results.total,
            "filters": results.filters,
            "facets": {f.name: [{"value": v.key, "label": v.label, "count": v.count} for v in f.values]
                       for f in results.facets},
            "suggestion": ({"query": results.suggestion.query, "count": results.suggestion.count}
                           if results.suggestion else None),
            "results": [hit.as_json() for hit in results.hits],
        }

    return respond(Page("search.html", lambda: {"results": results, "search_query": query, "facet_href": facet_href,
                                                "json_href": with_suffix("/search", ".json")},
                        data=data), suffix)


def _ward_or_404(code: str) -> cmp.WardSummary:
    ward = cmp.catalogue(current.release(), page_namer()).ward(code)
    if ward is None:
        abort(404, description=f"No ward has the code {code}.")
    return ward


@bp.get("/ward/<code>")
@bp.get("/ward/<code>.<any(json, csv):suffix>")
def ward_page(code: str, suffix: str | None = None) -> Response:
    ward = _ward_or_404(code)
    return respond(Page("ward.html", lambda: {"ward": ward, "json_href": f"/ward/{code}.json",
                                              "csv_href": f"/ward/{code}.csv", "years_href": f"/ward/{code}/years"},
                        data=lambda: export.ward_json(ward),
                        table=lambda: export.wards_csv([ward]), table_name=f"ward-{code}"), suffix)


@bp.get("/ward/<code>/years")
@bp.get("/ward/<code>/years.<any(json, csv):suffix>")
def years_page(code: str, suffix: str | None = None) -> Response:
    ward = _ward_or_404(code)
    steps = cmp.year_over_year(current.release(), page_namer(), ward)

    def context() -> dict[str, object]:
        base = f"/ward/{code}/years"
        term_labels, _ = vocabulary_labels(current.release(), current.settings())
        kusei = terms(current.release().base).vocab
        kinds = {kind: (term_labels.get(kusei + kind, "ja") or kind, term_labels.get(kusei + kind, "en") or kind)
                 for kind in cmp.STEP_TYPES}
        return {"ward": ward, "steps": steps, "kinds": kinds, "json_href": base + ".json", "csv_href": base + ".csv"}

    return respond(Page("years.html", context, data=lambda: export.years_json(ward, steps),
                        table=lambda: export.years_csv(steps), table_name=f"ward-{code}-years"), suffix)


@bp.get("/compare")
@bp.get("/compare.<any(json, csv):suffix>")
def compare_page(suffix: str | None = None) -> Response:
    cat = cmp.catalogue(current.release(), page_namer())
    comparison = cmp.compare(cat, request.args.getlist("plan"))
    return respond(Page("compare.html",
                        lambda: {"comparison": comparison, "all_plans": cat.plans, "chart": charts.chart(comparison),
                                 "json_href": with_suffix("/compare", ".json"),
                                 "csv_href": with_suffix("/compare", ".csv")},
                        data=lambda: export.comparison_json(comparison),
                        table=lambda: export.comparison_csv(comparison), table_name="compare"), suffix)


@bp.get("/id/")
@bp.get("/id/index.json", defaults={"suffix": "json"})
def browse_all(suffix: str | None = None) -> Response:
    release = current.release()
    namer = page_namer()
    cat = cmp.catalogue(release, namer)
    term_labels, _ = vocabulary_labels(release, current.settings())
    counts = run(release, "class-counts")
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
    return respond(Page("browse.html", lambda: {
        "title_ja": "一覧", "title_en": "Browse the data", "sections": sections, "crumbs": [],
        "note_ja": "このデータの運営方針、区、政策分野、種類ごとの件数です。",
        "note_en": "The plans, wards, policy areas and kinds of things in the data.",
        "json_href": "/id/index.json", "csv_href": None,
    }, data=lambda: {"sections": sections}), suffix)


@bp.get("/id/plan/")
@bp.get("/id/plan/index.<any(json, csv):suffix>")
def browse_plans(suffix: str | None = None) -> Response:
    cat = cmp.catalogue(current.release(), page_namer())
    with_plans = [w for w in cat.wards if w.plans]

    def context() -> dict[str, object]:
        sections = [
            {"title_ja": w.label_ja, "title_en": w.label_en or "", "count": len(w.plans),
             "entries": [{"href": p.href, "text": f"FY{p.year} {p.label}" if p.year else p.label,
                          "note": f"{p.goal_title or ''} · 施策 {len(p.measures)} · 事業 {p.project_count}"}
                         for p in w.plans]}
            for w in with_plans
        ]
        return {"title_ja": "運営方針の一覧", "title_en": "All plans", "sections": sections,
                "crumbs": [{"href": "/id/", "text": "一覧"}],
                "note_ja": "区ごと、年度順です。", "note_en": "By ward, in fiscal-year order.",
                "json_href": "/id/plan/index.json", "csv_href": "/id/plan/index.csv"}

    return respond(Page("browse.html", context, data=lambda: {"wards": [export.ward_json(w) for w in with_plans]},
                        table=lambda: export.wards_csv(with_plans), table_name="plans"), suffix)


# -- for crawlers ---------------------------------------------------------------------------------

# Query results, their sorted and paged variants, downloads and searches are endless variations
# of pages that exist anyway; crawlers get the resource pages (the sitemap) and the query page itself.
ROBOTS = """User-agent: *
Disallow: /query?
Disallow: /query/download
Disallow: /sparql
Disallow: /search
Allow: /

Sitemap: {root}sitemap.xml
"""


@bp.get("/robots.txt")
def robots() -> Response:
    return Response(ROBOTS.format(root=request.url_root), content_type="text/plain; charset=utf-8")


def _sitemap_paths() -> list[str]:
    release = current.release()

    def compute() -> list[str]:
        namer = page_namer()
        cat = cmp.catalogue(release, namer)
        paths = ["/", "/compare", "/id/", "/id/plan/", "/def/", "/dumps/", "/query"]
        for ward in cat.wards:
            paths.append(ward.page_href)
            if len([p for p in ward.plans if p.year is not None]) > 1:
                paths.append(ward.page_href + "/years")
        rows = run(release, "resources", ids=ox.Literal(terms(release.base).ids))
        found = sorted({href for r in rows if (href := namer.href(r["s"].value)) and href.startswith("/id/")})
        return paths + [p for p in found if p not in paths]

    return release.memo("sitemap", compute)


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    root = request.url_root.rstrip("/")
    body = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    body += [f"<url><loc>{escape(root + path)}</loc></url>" for path in _sitemap_paths()]
    body.append("</urlset>\n")
    return Response("\n".join(body), content_type="application/xml; charset=utf-8")
