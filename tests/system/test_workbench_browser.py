"""The query workbench in headless Chromium: the editor (CodeMirror, built by
endpoint/web/editor/build.sh) used with the keyboard only — completion of a prefix, a class, a
property and a resource by its Japanese label, Ctrl+Enter, the error marked in the text — with
no console error under the page's CSP, axe-core's serious/critical checks, and the chart drawn
again when the script runs the query.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.system, pytest.mark.slow]

BUNDLE = Path(__file__).resolve().parents[2] / "endpoint" / "web" / "static" / "editor.js"
KANAZAWA = "https://w3id.org/kusei/id/area/141089"


@pytest.fixture(autouse=True)
def _bundle() -> None:
    if not BUNDLE.is_file():
        pytest.skip("editor bundle not built: run endpoint/web/editor/build.sh (tests/setup.sh does)")


def focus_editor_by_tab(page: Any) -> None:
    """Tab from the top of the page until the editor has the focus, as a keyboard user would."""
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement && document.activeElement.className") == "query-editor-host":
            return
    raise AssertionError("the editor cannot be reached with Tab")


def accept(page: Any, option: str) -> None:
    """Wait for the completion list to offer ``option`` selected first, and take it with Enter."""
    listbox = page.locator(".cm-tooltip-autocomplete [role=listbox]")
    expect(listbox.locator("[role=option]").first).to_contain_text(option)
    expect(listbox.locator("[role=option][aria-selected=true]")).to_contain_text(option)
    page.keyboard.press("Enter")


def test_keyboard_only_completion_run_and_error(open_page: Callable[..., Any], server_url: str,
                                                 screenshot: Callable) -> None:
    page = open_page()
    query = "SELECT ?m ?w WHERE {\n  ?m a \n}\nLIMIT 5"
    page.goto(server_url + "/query?" + urlencode({"query": query}))
    expect(page.locator(".cm-content")).to_have_count(1)
    expect(page.locator("#query")).to_have_attribute("aria-hidden", "true")  # the form's field, behind the editor
    focus_editor_by_tab(page)

    # A class after `a`: the most used first, with its labels; accepting declares its prefix.
    page.keyboard.press("Control+Home")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("End")
    page.keyboard.type("kusei:Mea")
    expect(page.locator(".cm-completionDetail").first).to_contain_text("施策")
    screenshot(page, "workbench-complete-term")
    accept(page, "kusei:Measure")
    text = page.locator("#query").input_value()
    assert text.startswith("PREFIX kusei: <https://w3id.org/kusei/def/>\n")
    assert "?m a kusei:Measure" in text

    # A property after `;`, then a resource by its Japanese label: 金沢 offers the ward's IRI.
    page.keyboard.type(" ;\n    kusei:pla")
    accept(page, "kusei:plan")
    page.keyboard.type(" ?p .\n  ?p dcterms:spatial 金沢")
    expect(page.locator(".cm-tooltip-autocomplete [role=option]").first).to_contain_text("金沢区")
    screenshot(page, "workbench-complete-resource")
    page.keyboard.press("Enter")
    assert f"?p dcterms:spatial <{KANAZAWA}>" in page.locator("#query").input_value()

    # A prefix: `sko` offers skos:, and accepting adds its PREFIX line after kusei's.
    page.keyboard.type(" .\n  ?w sko")
    expect(page.locator(".cm-tooltip-autocomplete [role=option]").first).to_contain_text("skos:")
    screenshot(page, "workbench-complete-prefix")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # the terms of skos: are offered next; not wanted here
    page.keyboard.type("prefLabel ?w")
    text = page.locator("#query").input_value()
    assert text.startswith("PREFIX kusei: <https://w3id.org/kusei/def/>\n"
                           "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n")
    assert "?w skos:prefLabel ?w" in text

    # Ctrl+Enter runs the query from the editor.
    page.keyboard.press("Control+Enter")
    expect(page.locator("#status")).to_contain_text("rows")

    # A syntax error: the endpoint's line and column are marked in the editor's text.
    page.keyboard.press("Control+End")
    page.keyboard.type(" }}")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#error")).to_be_visible()
    # A range on the character, or a point where the parser stopped past the line's end, and a
    # marker in the gutter beside the line.
    expect(page.locator(".cm-lintRange-error, .cm-lintPoint-error")).to_have_count(1)
    expect(page.locator(".cm-lint-marker-error")).to_have_count(1)
    line = re.search(r"line (\d+)", page.locator("#error").inner_text())
    assert line and int(line.group(1)) == len(page.locator("#query").input_value().splitlines())
    # Tab leaves the editor (no keyboard trap).
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") != "query-editor-host"
    # The editor's styles pass the page's CSP; the one console error is the 400 of the bad query.
    assert not page.page_errors, page.page_errors
    assert not [e for e in page.console_errors if "Failed to load resource" not in e], page.console_errors


def test_workbench_passes_axe_with_editor_completion_and_chart(open_page: Callable[..., Any], server_url: str,
                                                                axe: Callable, screenshot: Callable) -> None:
    page = open_page(bypass_csp=True)
    page.goto(server_url + "/query?" + urlencode({"example": "01-measures-by-policy-area", "ward": KANAZAWA}))
    expect(page.locator(".cm-content")).to_have_count(1)
    expect(page.locator("#chart svg[role=img]")).to_have_count(1)
    page.locator(".cm-content").press("Control+End")
    page.keyboard.type("\n# kusei:Mea")
    page.keyboard.press("Control+Space")
    screenshot(page, "workbench-axe")
    serious = [v for v in axe(page) if v.get("impact") in ("serious", "critical")]
    assert not serious, [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in serious]


def test_script_run_draws_the_chart_and_the_view_control(open_page: Callable[..., Any], server_url: str) -> None:
    page = open_page()
    page.goto(server_url + "/query")
    page.locator("a.example", has_text="区ごとの施策数の推移").click()  # a canned query: opens as a page
    expect(page.locator("#chart svg[role=img]")).to_be_visible()
    assert page.locator("#chart polyline").count() >= 4  # a line per ward
    # Run as bar with the control: the script asks the server for the chart again.
    page.locator("#view").select_option("bar")
    expect(page.locator("#chart svg[role=img] rect").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"view=bar"))
    assert page.locator("#chart polyline").count() == 0
    expect(page.locator("#chart-download")).to_have_attribute("href", re.compile(r"/query/chart\.svg\?.*view=bar"))
    assert not page.console_errors, page.console_errors
