"""Query results in headless Chromium: which IRIs become links, the LIMIT notice, and sorting and
paging with JavaScript off (the plain form the server renders).

Chromium comes from the shared fixtures of tests/system/conftest.py. Nothing waits on a fixed
timeout beyond Playwright's own (generous) deadline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest

from kusei.endpoint.web.pages.terms import natural_key

pytestmark = pytest.mark.system

if TYPE_CHECKING:
    from playwright.sync_api import Page

expect = pytest.importorskip("playwright.sync_api").expect

HOSTILE = "SELECT ?x WHERE { VALUES ?x { <javascript:alert(1)> <data:text/html,hello> <https://example.org/safe> } }"


def _page(open_page: Callable[..., Page], *, javascript: bool) -> tuple[Page, list[str]]:
    page = open_page(java_script_enabled=javascript)
    problems: list[str] = page.page_errors  # type: ignore[attr-defined]
    # A script run by a result link would most likely open a dialog.
    page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    return page, problems


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_only_http_iris_in_results_are_links(open_page: Callable[..., Page], server_url: str, javascript: bool) -> None:
    page, problems = _page(open_page, javascript=javascript)
    if javascript:
        page.goto(server_url + "/query")
        page.locator("#query").fill(HOSTILE)
        page.locator("#run").click()
    else:
        page.goto(server_url + "/query?" + urlencode({"query": HOSTILE}))
    cells = page.locator("#results tbody td")
    expect(cells).to_have_count(3)
    if javascript:
        # The script drew this table, with buttons in the header; the server's has links.
        expect(page.locator("#results th button.sort")).to_have_count(1)
    expect(page.locator("#results a[href^='javascript:' i], #results a[href^='data:' i]")).to_have_count(0)
    expect(page.locator("#results tbody a")).to_have_count(1)
    expect(page.locator("#results tbody a")).to_have_attribute("href", "https://example.org/safe")
    texts = page.locator("#results tbody .iri-text")
    expect(texts).to_have_count(2)
    expect(texts.first).to_contain_text("javascript:alert(1)")
    texts.first.click()  # text, so nothing happens
    assert page.url.startswith(server_url), page.url
    assert not problems, problems


def test_the_script_says_when_the_querys_limit_cut_the_result(open_page: Callable[..., Page], server_url: str) -> None:
    page, problems = _page(open_page, javascript=True)
    page.goto(server_url + "/query")
    notice = page.locator("#limit-notice")
    expect(notice).to_be_hidden()
    page.locator("#query").fill("SELECT ?p WHERE { ?p a kusei:Plan } LIMIT 2")
    page.locator("#run").click()
    expect(page.locator("#results tbody tr")).to_have_count(2)
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("LIMIT 2")
    page.locator("#query").fill("SELECT ?p WHERE { ?p a kusei:Plan } LIMIT 1000")
    page.locator("#run").click()
    expect(page.locator("#status")).to_contain_text("行 rows")
    expect(notice).to_be_hidden()
    assert not problems, problems


def test_sorting_and_paging_without_javascript(open_page: Callable[..., Page], server_url: str) -> None:
    page, problems = _page(open_page, javascript=False)
    query = "SELECT ?s ?label WHERE { ?s rdfs:label ?label } LIMIT 150"
    page.goto(server_url + "/query?" + urlencode({"query": query}))
    status = page.locator("#status")
    expect(status).to_contain_text("150 行")
    expect(page.locator("#limit-notice")).to_contain_text("LIMIT 150")
    page.locator("#results th a.sort", has_text="?label").click()
    page.wait_for_url(re.compile(r"sort=label"))
    expect(page.locator("#results th[aria-sort=ascending]")).to_have_count(1)
    page.locator("#results th a.sort", has_text="?label").click()
    page.wait_for_url(re.compile(r"order=desc"))
    expect(page.locator("#results th[aria-sort=descending]")).to_have_count(1)
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(100)
    first_page_last = rows.nth(99).locator("td").nth(1).locator(".literal").inner_text()
    page.locator("#pager a[rel=next]").click()
    page.wait_for_url(re.compile(r"page=2"))
    expect(status).to_contain_text("101–150")
    expect(rows).to_have_count(50)
    # Still sorted, descending, across the page break.
    expect(page.locator("#results th[aria-sort=descending]")).to_have_count(1)
    second_page_first = rows.first.locator("td").nth(1).locator(".literal").inner_text()
    labels = page.locator("#results tbody td:nth-child(2) .literal").all_inner_texts()
    assert len(labels) == 50
    keys = [natural_key(label) for label in labels]
    assert keys == sorted(keys, reverse=True)
    assert natural_key(first_page_last) >= natural_key(second_page_first)
    assert not problems, problems
