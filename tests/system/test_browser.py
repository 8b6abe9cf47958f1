"""The pages in a real browser: the query page with and without JavaScript, and following a result.

Headless Chromium and its fixtures (``page``, ``open_page``, ``screenshot``) come from
tests/system/conftest.py; the tests are skipped where that browser is missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

pytestmark = [pytest.mark.system, pytest.mark.slow]

expect = pytest.importorskip("playwright.sync_api").expect
Shot = Callable[[object, str], None]


def result_rows(page: object) -> object:
    return page.locator("#results table.result-table tbody tr")


def test_query_page_runs_examples_and_links_to_resources(page: object, server_url: str, screenshot: Shot) -> None:
    page.goto(server_url + "/query")
    assert page.title().startswith("SPARQL")

    # Pick an example and run it with the button.
    page.locator("a.example", has_text="マスコット").click()
    assert "kusei:Mascot" in page.locator("#query").input_value()
    page.locator("#run").click()
    # Locator assertions, not string predicates: those are evaluated with eval(), which the page's
    # own CSP forbids whenever Playwright has to poll (a loaded machine). No short deadline either.
    expect(page.locator("#status")).to_contain_text("rows")
    assert result_rows(page).count() > 0
    assert re.search(r"\d+ 行 rows · \d+ ms", page.locator("#status").inner_text())
    assert "/query?query=" in page.url
    assert not page.locator("#downloads").is_hidden()
    # A SELECT offers table downloads only.
    assert page.locator("#dl-table").is_visible() and page.locator("#dl-graph").is_hidden()
    screenshot(page, "query-mascots")

    # The name in the first row is the label the mascot's own page shows.
    first = result_rows(page).first
    name = first.locator("td").nth(1).locator(".literal").inner_text()
    first.locator("td").first.locator("a").click()
    page.wait_for_load_state()
    assert "/id/mascot/" in page.url
    assert page.locator("h1").inner_text() == name
    assert page.locator("nav.crumbs a").count() >= 2
    screenshot(page, "resource-mascot")

    # Another example, run with Ctrl+Enter this time.
    page.go_back()
    page.locator("a.example", has_text="人口と世帯数").click()
    page.locator("#query").press("Control+Enter")
    expect(page.locator("#results th", has_text="?population")).to_have_count(1)
    assert result_rows(page).count() > 0
    assert not page.console_errors, page.console_errors


def test_query_error_shows_line_and_column(page: object, server_url: str, screenshot: Shot) -> None:
    page.goto(server_url + "/query")
    page.locator("#query").fill("SELECT * WHERE {\n  ?s ?p\n}")
    page.locator("#run").click()
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert re.search(r"line \d+, column \d+", error.inner_text())
    screenshot(page, "query-error")


def test_query_form_without_javascript(open_page: Callable[..., object], server_url: str, screenshot: Shot) -> None:
    page = open_page(java_script_enabled=False)
    page.goto(server_url + "/query")
    # An example link is a plain link: the server runs the query and renders the table.
    page.locator("a.example", has_text="区・年度ごとの運営方針").click()
    page.wait_for_load_state()
    assert result_rows(page).count() > 0
    # The form submits by GET and the server renders the table.
    page.locator("#query").fill("SELECT ?plan WHERE { ?plan a kusei:Plan } ORDER BY ?plan")
    page.locator("#run").click()
    page.wait_for_load_state()
    assert "query=" in page.url
    assert result_rows(page).count() > 0
    assert result_rows(page).first.locator("a").get_attribute("href").startswith("/id/plan/")
    screenshot(page, "query-no-js")


def test_pages_on_a_phone(open_page: Callable[..., object], viewports: dict, server_url: str,
                          screenshot: Shot) -> None:
    page = open_page(viewport=viewports["phone"], device_scale_factor=2, is_mobile=True, has_touch=True)
    for path, name in (("/", "home-phone"), ("/id/plan/141089/2024/measure/1", "measure-phone"),
                       ("/query", "query-phone"), ("/def/", "vocabulary-phone")):
        page.goto(server_url + path)
        # Nothing wider than the screen: the page must not scroll sideways.
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (path, overflow)
        screenshot(page, name)


def test_desktop_screenshots(page: object, server_url: str, screenshot: Shot) -> None:
    for path, name in (("/", "home"), ("/id/plan/141089/2024", "plan"),
                       ("/id/plan/141089/2024/measure/1", "measure"), ("/def/", "vocabulary")):
        page.goto(server_url + path)
        assert page.locator("h1").inner_text()
        screenshot(page, name)
    assert not page.console_errors, page.console_errors
