"""A phone's view (390 px) of the plan and the comparison: the plan's structure visible at a glance,
the comparison's row headers kept in view and its chart inside the screen."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

pytestmark = [pytest.mark.system, pytest.mark.slow]
pytest.importorskip("playwright.sync_api")

PHONE = {"width": 390, "height": 844}
PLAN = "/id/plan/141160/2024"


def test_a_plan_on_a_phone_shows_projects_apart_from_bullets(open_page: Callable, server_url: str) -> None:
    page = open_page(viewport=PHONE)
    page.goto(server_url + PLAN)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    project = page.eval_on_selector(".part-project > .part-title a",
                                    "e => [getComputedStyle(e).fontWeight, parseFloat(getComputedStyle(e).fontSize)]")
    bullets = page.eval_on_selector_all(".part-actionitem .item-text a",
                                        "els => els.map(e => [getComputedStyle(e).fontWeight, "
                                        "parseFloat(getComputedStyle(e).fontSize), e.closest('h1,h2,h3,h4,h5,h6')])")
    assert bullets
    for weight, size, heading in bullets:
        assert int(weight) < int(project[0]) and size < project[1] and heading is None
    # Source lines are a small marker inside the heading or bullet, not a line of their own.
    markers = page.eval_on_selector_all(
        "a.part-source", "els => els.map(e => [e.closest('.part-title, .item-text') !== null, "
        "parseFloat(getComputedStyle(e).fontSize), parseFloat(getComputedStyle(document.body).fontSize)])")
    assert markers and all(inside and size < body for inside, size, body in markers)


def test_an_inferred_year_is_labelled(open_page: Callable, server_url: str) -> None:
    rows = requests.post(f"{server_url}/sparql", data={"query": """PREFIX kusei: <https://w3id.org/kusei/def/>
        SELECT ?plan ?inferred WHERE { ?plan a kusei:Plan OPTIONAL { ?plan kusei:fiscalYearInferred ?inferred } }"""},
        headers={"Accept": "application/sparql-results+json"}, timeout=60).json()["results"]["bindings"]
    assert any(r.get("inferred", {}).get("value") == "true" for r in rows)
    page = open_page(viewport=PHONE)
    for row in rows:
        page.goto(server_url + row["plan"]["value"].removeprefix("https://w3id.org/kusei"))
        labelled = page.locator(".badge-inferred").count()
        assert labelled == (1 if row.get("inferred", {}).get("value") == "true" else 0), row["plan"]["value"]


def test_the_comparison_keeps_its_row_headers_and_chart_on_a_phone(open_page: Callable, server_url: str) -> None:
    page = open_page(viewport=PHONE)
    page.goto(server_url + "/compare")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = page.eval_on_selector(".table-scroll", "e => e.getBoundingClientRect().left")
    page.eval_on_selector(".table-scroll", "e => { e.scrollLeft = 400; }")
    assert page.eval_on_selector(".table-scroll", "e => e.scrollLeft") > 0
    header_left = page.eval_on_selector(".compare-table tbody th", "e => e.getBoundingClientRect().left")
    assert abs(header_left - box) <= 2  # the policy-area column stayed in view
    chart = page.eval_on_selector(".chart svg", "e => e.getBoundingClientRect().toJSON()")
    scroller = page.eval_on_selector(".chart-scroll", "e => e.getBoundingClientRect().toJSON()")
    assert chart["right"] <= scroller["right"] + 1 and chart["width"] <= PHONE["width"]
    # Every bar is inside the drawing, and the legend comes before it.
    assert page.eval_on_selector_all(".chart rect", "els => els.every(r => r.getBBox().x + r.getBBox().width <= "
                                     "r.ownerSVGElement.viewBox.baseVal.width)")
    legend = page.eval_on_selector(".chart .legend", "e => e.getBoundingClientRect().top")
    assert legend < chart["top"]
