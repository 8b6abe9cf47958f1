"""Every page type in headless Chromium at desktop and phone widths: no sideways scrolling, no
serious or critical axe-core violations, a screenshot each; then a search from the header box, a
comparison, and paging and sorting through a large query result.

The browser, its pages, axe-core and screenshots are tests/system/conftest.py's fixtures; axe is
injected in a context that bypasses the pages' CSP, which would refuse an injected script, so the
pages themselves are unchanged. Nothing here waits on a fixed timeout beyond Playwright's own
(generous) defaults.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

pytestmark = [pytest.mark.system, pytest.mark.slow]

expect = pytest.importorskip("playwright.sync_api").expect

WIDTHS = ("desktop", "phone")  # of the ``viewports`` fixture
BAD_IMPACTS = {"serious", "critical"}

BAD_QUERY = "SELECT * WHERE {\n  ?s ?p\n}"
# name → path; one of each page type the site has.
PAGE_TYPES = {
    "home": "/",
    "query": "/query",
    "query-result": "/query?query=" + quote("SELECT ?plan ?year WHERE { ?plan a kusei:Plan ; kusei:year ?year }"),
    "query-error": "/query?query=" + quote(BAD_QUERY),
    "ward": "/ward/141089",
    "years": "/ward/141089/years",
    "plan": "/id/plan/141089/2024",
    "measure": "/id/plan/141089/2024/measure/1",
    "project": "/id/plan/141089/2024/measure/1/project/1",
    "mascot": "/id/mascot/141089/botan-chan",
    "section": "/id/organization/141089/section/koseki",
    "document": "/id/document/a9155f3b6863ac96",
    "dataset": "/id/dataset/kusei",
    "vocabulary": "/def/",
    "term": "/def/Measure",
    "dumps": "/dumps/",
    "search": "/search?q=" + quote("ぼたん"),
    "compare": "/compare",
    "browse": "/id/",
    "plans": "/id/plan/",
    "not-found-id": "/id/no/such/thing",
    "not-found": "/no-such-page",
}


@pytest.fixture(scope="module")
def axe_report(artifacts: Path) -> Iterator[dict]:
    report: dict = {}
    yield report
    if report:
        (artifacts / "axe-report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_type_fits_and_passes_axe(open_page: Callable[..., object], viewports: dict, axe: Callable,
                                             screenshot: Callable, server_url: str, width: str,
                                             axe_report: dict) -> None:
    page = open_page(viewport=viewports[width], bypass_csp=True)
    problems = []
    for name, path in PAGE_TYPES.items():
        response = page.goto(server_url + path)
        expected = 404 if name.startswith("not-found") else 200
        assert response.status == expected, (path, response.status)
        # Every page shares the layout: landmarks, skip link, search box, both languages.
        assert page.locator("main#main").count() == 1, path
        assert page.locator("a.skip-link").count() == 1, path
        assert page.locator("header.site input[type=search]").count() == 1, path
        assert page.locator("[lang=en]").count() > 0, path
        assert page.locator("meta[name=viewport]").count() == 1, path
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 1:
            problems.append(f"{path}: {overflow} px wider than the {width} viewport")
        violations = axe(page)
        axe_report[f"{name} {width}"] = {
            v["id"]: {"impact": v["impact"], "nodes": len(v["nodes"])} for v in violations}
        for v in violations:
            if v["impact"] in BAD_IMPACTS:
                problems.append(f"{path} ({width}): {v['id']} {v['impact']} on {len(v['nodes'])} nodes, "
                                f"e.g. {v['nodes'][0]['target']}")
        screenshot(page, f"page-{name}-{width}")
    assert not problems, "\n".join(problems)


def test_search_from_the_header_box(page: object, server_url: str) -> None:
    page.goto(server_url + "/id/plan/141089/2024")
    # Typed in katakana; the mascot's name is printed in hiragana.
    page.locator("header.site input[type=search]").fill("ボタン")
    page.locator("header.site input[type=search]").press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    first = page.locator("ol.search-results > li").first
    expect(first.locator(".hit-title a")).to_contain_text("ぼたんちゃん")
    expect(first.locator("mark").first).to_have_text("ぼたん")
    first.locator(".hit-title a").click()
    page.wait_for_url(re.compile(r"/id/mascot/"))
    expect(page.locator("h1")).to_contain_text("ぼたんちゃん")
    assert not page.page_errors, page.page_errors


def test_comparison_page(page: object, server_url: str, screenshot: Callable) -> None:
    page.goto(server_url + "/compare")
    table = page.locator("table.compare-table")
    plans = table.locator("thead th").count() - 1
    assert plans >= 2
    assert table.locator("tbody tr").count() >= 2
    # Narrow to two plans with the form; the table follows.
    boxes = page.locator(".compare-form input[type=checkbox]")
    for index in range(boxes.count()):
        boxes.nth(index).set_checked(index < 2)
    page.locator(".compare-form button").click()
    page.wait_for_url(re.compile(r"plan="))
    expect(page.locator("table.compare-table thead th")).to_have_count(3)
    chart = page.locator("figure.chart svg")
    expect(chart).to_be_visible()
    rows = page.locator("table.compare-table tbody tr").count()
    assert chart.locator("rect").count() == 2 * 2 * rows  # measures and projects, per plan, per area
    screenshot(page, "compare-two-plans")
    assert not page.page_errors, page.page_errors


def test_paging_and_sorting_a_large_result(page: object, server_url: str, screenshot: Callable) -> None:
    page.goto(server_url + "/query")
    page.locator("#query").fill("SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 1000")
    page.locator("#run").click()
    status = page.locator("#status")
    expect(status).to_contain_text("1,000 行 rows")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(100)
    expect(status).to_contain_text("1–100")
    first_before = rows.first.inner_text()
    page.locator("#pager .page-next").click()
    expect(status).to_contain_text("101–200")
    expect(page.locator("#pager .page-where")).to_contain_text("2 / 10")
    assert rows.first.inner_text() != first_before
    expect(rows).to_have_count(100)
    # Sorting by ?p goes back to the first page, sorted.
    page.locator("#results th button.sort", has_text="?p").click()
    expect(page.locator("#results th[aria-sort=ascending]")).to_have_count(1)
    expect(status).to_contain_text("1–100")
    shown = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(5)]
    assert shown == sorted(shown) or len(set(shown)) == 1
    page.locator("#results th button.sort", has_text="?p").click()
    expect(page.locator("#results th[aria-sort=descending]")).to_have_count(1)
    screenshot(page, "query-paged")
    assert not page.page_errors, page.page_errors


def test_construct_offers_graph_downloads_and_errors_explain(page: object, server_url: str) -> None:
    page.goto(server_url + "/query")
    page.locator("#query").fill("CONSTRUCT WHERE { ?s a kusei:Mascot }")
    page.locator("#run").click()
    expect(page.locator("#status")).to_contain_text("rows")
    expect(page.locator("#dl-graph")).to_be_visible()
    expect(page.locator("#dl-table")).to_be_hidden()
    assert [a.inner_text() for a in page.locator("#dl-graph a").all()] == ["Turtle", "N-Triples", "JSON-LD"]
    page.locator("#query").fill(BAD_QUERY)
    page.locator("#run").click()
    error = page.locator("#error")
    expect(error).to_be_visible()
    expect(error.locator("p.explain").first).to_contain_text("構文エラー")
    expect(error.locator("p.explain[lang=en]")).to_contain_text("syntax error")
    expect(error.locator("mark.at")).to_have_count(1)
    expect(page.locator("#downloads")).to_be_hidden()
    assert not page.page_errors, page.page_errors
