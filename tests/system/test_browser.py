"""The pages in a real browser: the query page with and without JavaScript, and following a result.

Headless Chromium from the Debian package (``apt-get install chromium``), driven by Python
Playwright; the test is skipped where that browser is missing. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

# Generous: what is waited for happens, only slowly on a loaded machine; a test waits no longer
# than that takes.
WAIT_MS = 120_000

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="headless Chromium not found: install the Debian package `chromium` (CI does)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


@pytest.fixture()
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport=DESKTOP, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    yield page
    context.close()


def shot(page: object, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def result_rows(page: object) -> object:
    return page.locator("#results table.result-table tbody tr")


def test_query_page_runs_examples_and_links_to_resources(page: object, server_url: str) -> None:
    page.goto(server_url + "/query")
    assert page.title().startswith("SPARQL")

    # Pick an example and run it with the button.
    page.locator("a.example", has_text="マスコット").click()
    assert "kusei:Mascot" in page.locator("#query").input_value()
    page.locator("#run").click()
    # Locator assertions, not string predicates: those are evaluated with eval(), which the page's
    # own CSP forbids whenever Playwright has to poll (a loaded machine). No short deadline either.
    expect(page.locator("#status")).to_contain_text("rows", timeout=WAIT_MS)
    assert result_rows(page).count() > 0
    assert re.search(r"\d+ 行 rows · \d+ ms", page.locator("#status").inner_text())
    assert "/query?query=" in page.url
    assert not page.locator("#downloads").is_hidden()
    # A SELECT offers table downloads only.
    assert page.locator("#dl-table").is_visible() and page.locator("#dl-graph").is_hidden()
    shot(page, "query-mascots")

    # The name in the first row is the label the mascot's own page shows.
    first = result_rows(page).first
    name = first.locator("td").nth(1).locator(".literal").inner_text()
    first.locator("td").first.locator("a").click()
    page.wait_for_load_state()
    assert "/id/mascot/" in page.url
    assert page.locator("h1").inner_text() == name
    assert page.locator("nav.crumbs a").count() >= 2
    shot(page, "resource-mascot")

    # Another example, run with Ctrl+Enter this time.
    page.go_back()
    page.locator("a.example", has_text="人口と世帯数").click()
    page.locator("#query").press("Control+Enter")
    expect(page.locator("#results th", has_text="?population")).to_have_count(1, timeout=WAIT_MS)
    assert result_rows(page).count() > 0
    assert not page.console_errors, page.console_errors


def test_query_error_shows_line_and_column(page: object, server_url: str) -> None:
    page.goto(server_url + "/query")
    page.locator("#query").fill("SELECT * WHERE {\n  ?s ?p\n}")
    page.locator("#run").click()
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert re.search(r"line \d+, column \d+", error.inner_text())
    shot(page, "query-error")


def test_query_form_without_javascript(browser: object, server_url: str) -> None:
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    try:
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
        shot(page, "query-no-js")
    finally:
        context.close()


def test_pages_on_a_phone(browser: object, server_url: str) -> None:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        for path, name in (("/", "home-phone"), ("/id/plan/141089/2024/measure/1", "measure-phone"),
                           ("/query", "query-phone"), ("/def/", "vocabulary-phone")):
            page.goto(server_url + path)
            # Nothing wider than the screen: the page must not scroll sideways.
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, (path, overflow)
            shot(page, name)
    finally:
        context.close()


def test_desktop_screenshots(page: object, server_url: str) -> None:
    for path, name in (("/", "home"), ("/id/plan/141089/2024", "plan"),
                       ("/id/plan/141089/2024/measure/1", "measure"), ("/def/", "vocabulary")):
        page.goto(server_url + path)
        assert page.locator("h1").inner_text()
        shot(page, name)
    assert not page.console_errors, page.console_errors
