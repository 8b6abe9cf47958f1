"""Canned queries: examples with #param lines become forms whose result pages are the query page."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient

from kusei.endpoint.web.pages import canned
from kusei.endpoint.web.pages.query import load_examples

pytestmark = pytest.mark.system

KANAZAWA = "https://w3id.org/kusei/id/area/141089"


def rows(html: str) -> list[str]:
    return re.findall(r"<tr><td>.*?</tr>", html, re.S)


def editor_text(html: str) -> str:
    match = re.search(r'<textarea id="query"[^>]*>(.*?)</textarea>', html, re.S)
    assert match
    return unescape(match.group(1))


def test_param_lines_are_found_filled_and_unfilled() -> None:
    text = "SELECT * WHERE {\n  #param ?ward ward\n  #param ?year year\n  #param ?x nonsense\n}"
    assert canned.params_in(text) == [("ward", "ward", ""), ("year", "year", "")]
    filled = text.replace("  #param ?ward", "  VALUES ?ward { <x:w> } #param ?ward")
    assert canned.params_in(filled)[0] == ("ward", "ward", "<x:w>")
    assert canned.unfilled(filled) == text


def test_form_narrows_the_example_and_the_result_page_is_the_query_page(client: FlaskClient) -> None:
    everything = client.get("/query?" + urlencode({"example": "17-measures-of-a-ward"})).get_data(as_text=True)
    chosen = client.get("/query?" + urlencode({"example": "17-measures-of-a-ward", "ward": KANAZAWA,
                                               "year": "2024"})).get_data(as_text=True)
    all_rows, kanazawa_2024 = rows(everything), rows(chosen)
    assert 0 < len(kanazawa_2024) < len(all_rows)
    assert all("金沢区" in row and ">2024<" in row for row in kanazawa_2024)
    # The form shows the choices made; the editor holds the filled-in query, an ordinary one.
    assert re.search(r'<option value="' + re.escape(KANAZAWA) + '" selected>金沢区</option>', chosen)
    assert re.search(r'<option value="2024" selected>2024</option>', chosen)
    text = editor_text(chosen)
    assert f"VALUES ?ward {{ <{KANAZAWA}> }} #param ?ward ward" in text
    # Its permalink is the plain query link, which shows the same rows and the same form again.
    permalink = unescape(re.search(r'id="permalink" href="([^"]+)"', chosen).group(1))  # type: ignore[union-attr]
    again = client.get(permalink).get_data(as_text=True)
    assert rows(again) == kanazawa_2024 and 'id="canned-form"' in again
    # Leaving a choice open brings back every row.
    reopened = client.get("/query?" + urlencode({"example": "17-measures-of-a-ward", "ward": "", "year": ""}))
    assert len(rows(reopened.get_data(as_text=True))) == len(all_rows)


def test_canned_result_has_the_chart_of_its_example(client: FlaskClient) -> None:
    html = client.get("/query?" + urlencode({"example": "01-measures-by-policy-area", "ward": KANAZAWA}))
    page = html.get_data(as_text=True)
    assert 'id="chart-download"' in page and "/query/chart.svg?" in page
    segments = re.findall(r"<rect [^>]*><title>([^<]*)</title>", page)
    assert segments and all("金沢区" in s for s in segments)


def test_a_value_not_offered_is_refused_and_reaches_no_query(client: FlaskClient) -> None:
    response = client.get("/query?" + urlencode({"example": "17-measures-of-a-ward", "ward": "> } } SELECT"}))
    assert response.status_code == 400
    assert "not one of the values offered" in response.get_data(as_text=True)
    assert client.get("/query?example=no-such").status_code == 404


def test_every_parameterised_example_offers_values_from_the_data(client: FlaskClient) -> None:
    examples = [ex for ex in load_examples() if canned.params_in(ex.query)]
    assert {ex.id[:2] for ex in examples} >= {"01", "16", "17"}
    html = client.get("/query?" + urlencode({"example": "17-measures-of-a-ward"})).get_data(as_text=True)
    for name in ("ward", "year", "area"):
        select = re.search(rf'<select id="param-{name}" name="{name}">(.*?)</select>', html, re.S)
        assert select and select.group(1).count("<option") >= 2, name
