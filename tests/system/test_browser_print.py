"""Printing: a plan prints as the plan, in headless Chromium's own print path (page.pdf).

The same page is printed twice, once with the screen styles (what printing gave before there was
a print stylesheet) and once as browsers print; the printed plan must take fewer pages and show
none of the site's navigation, search, format buttons or Linked-Data tables, while its measures,
projects and source lines remain.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

pytestmark = [pytest.mark.system, pytest.mark.slow]
pytest.importorskip("playwright.sync_api")

PLAN = "/id/plan/141089/2024"
HIDDEN_IN_PRINT = ("header.site nav", ".site-search", "footer.site", ".crumbs", ".formats", "details.all-props",
                   ".outline-toc")


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_a_plan_prints_as_the_plan(open_page: Callable, server_url: str) -> None:
    page = open_page()
    page.goto(server_url + PLAN)
    page.emulate_media(media="screen")
    as_screen = pdf_pages(page.pdf(format="A4"))
    page.emulate_media(media="print")
    printed = pdf_pages(page.pdf(format="A4"))
    assert 0 < printed < as_screen, (printed, as_screen)

    for selector in HIDDEN_IN_PRINT:
        shown = page.eval_on_selector_all(
            selector, "els => els.filter(e => getComputedStyle(e).display !== 'none').length")
        assert shown == 0, selector
    # The plan itself is there: every measure's title and its source-line note, in small print.
    titles = page.eval_on_selector_all(".part-measure .part-title", "els => els.map(e => e.offsetHeight)")
    assert titles and all(h > 0 for h in titles)
    sizes = page.eval_on_selector_all(".part-source", "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    body = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert sizes and all(0 < size < body for size in sizes)
