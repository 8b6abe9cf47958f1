"""Charts of query results, drawn on the server: chosen by a #view: line or the page's control,
inline in the page without JavaScript and downloadable as SVG.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient

from kusei.endpoint.web.pages.query import load_examples
from kusei.endpoint.web.pages.result_chart import view_of

pytestmark = pytest.mark.system

SVG = "{http://www.w3.org/2000/svg}"


def example(stem: str) -> str:
    return next(ex.query for ex in load_examples() if ex.id.startswith(stem))


def chart_svg(client: FlaskClient, query: str, **params: str) -> ET.Element:
    response = client.get("/query/chart.svg?" + urlencode({"query": query, **params}))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "image/svg+xml"
    assert "attachment" in response.headers["Content-Disposition"]
    return ET.fromstring(response.get_data())


def test_view_line_is_read_only_on_a_line_of_its_own() -> None:
    assert view_of("#view:bar\nSELECT * {}") == "bar"
    assert view_of("SELECT * {}\n  # view: stacked  \n") == "stacked"
    assert view_of("SELECT ?x { ?x ?p '#view:bar' }") is None
    assert view_of("#view:pie\n#view:line\nSELECT * {}") == "line"  # an unknown view is passed over
    assert view_of("SELECT * {}") is None


def test_ward_by_policy_area_opens_as_stacked_bars(client: FlaskClient) -> None:
    query = example("01-")
    assert view_of(query) == "stacked"
    svg = chart_svg(client, query)
    assert svg.get("role") == "img"
    title, desc = svg.find(SVG + "title"), svg.find(SVG + "desc")
    assert title is not None and "?measures" in (title.text or "")
    assert desc is not None and desc.text
    bars = svg.findall(SVG + "rect")
    # One segment per (area, ward · year) with measures; each says what it is to a screen reader.
    page = client.get("/query?" + urlencode({"query": query}))
    html = page.get_data(as_text=True)
    rows = len(re.findall(r"<tr><td>", html))
    assert len(bars) == rows > 0
    segment = bars[0].find(SVG + "title")
    assert segment is not None and re.search(r" · .+ · \d{4}: \?measures = \d+$", segment.text or "")
    # The page has the same chart inline (no script needed) and the download link.
    assert html.count("<rect ") >= rows and 'id="chart-download"' in html


def test_line_over_fiscal_years(client: FlaskClient) -> None:
    query = example("16-")
    svg = chart_svg(client, query)
    lines = svg.findall(SVG + "polyline")
    wards = {t.text for t in (pl.find(SVG + "title") for pl in lines) if t is not None}
    assert len(lines) == len(wards) >= 4  # one line per ward
    points = svg.findall(SVG + "circle")
    years = {re.search(r" · (\d{4}):", p.findtext(SVG + "title") or "").group(1) for p in points}  # type: ignore[union-attr]
    assert {"2014", "2024"} <= years


def test_the_control_overrides_the_comment_and_bar_is_one_bar_per_row(client: FlaskClient) -> None:
    query = example("16-")
    svg = chart_svg(client, query, view="bar")
    rects = svg.findall(SVG + "rect")
    html = client.get("/query?" + urlencode({"query": query, "view": "bar"})).get_data(as_text=True)
    assert len(rects) == len(re.findall(r"<tr><td>", html))
    # The control's choice stays in the page's own links (permalink, sort).
    assert "view=bar" in re.search(r'id="permalink" href="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    # view=table draws nothing, whatever the comment says.
    html = client.get("/query?" + urlencode({"query": query, "view": "table"})).get_data(as_text=True)
    assert "<polyline" not in html and "<rect " not in html.split('id="results"')[1]


def test_a_result_without_numbers_says_why_it_has_no_chart(client: FlaskClient) -> None:
    query = "#view:bar\nSELECT ?plan ?label WHERE { ?plan a kusei:Plan ; rdfs:label ?label }"
    response = client.get("/query/chart.svg?" + urlencode({"query": query}))
    assert response.status_code == 422
    assert "no numeric column" in response.get_data(as_text=True)
    html = client.get("/query?" + urlencode({"query": query})).get_data(as_text=True)
    assert "no numeric column" in html
    # A line needs a fiscal-year column.
    query = ("SELECT ?wardLabel (COUNT(*) AS ?n) WHERE { ?p a kusei:Plan ; dcterms:spatial/rdfs:label ?wardLabel } "
             "GROUP BY ?wardLabel")
    response = client.get("/query/chart.svg?" + urlencode({"query": query, "view": "line"}))
    assert response.status_code == 422 and "fiscal-year" in response.get_data(as_text=True)


def test_labels_in_the_svg_are_escaped(client: FlaskClient) -> None:
    query = "SELECT ?label ?n WHERE { VALUES (?label ?n) { (\"<b>&x</b>\" 3) (\"y\" 1) } }"
    svg = chart_svg(client, query, view="bar")
    texts = [t.text for t in svg.iter(SVG + "text")]
    assert "<b>&x</b>" in texts
