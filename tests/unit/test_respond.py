"""The one step from a page's data to a response (views/page_common.py ``respond``): each variant
is chosen once and written by its format's writer, only the chosen variant's data is made, a
Linked-Data resource gets its 304 before any work, and a strict page refuses an unknown format.

Each case runs ``respond`` in a request context of the real app, on the built release.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import pyoxigraph as ox
import pytest
from flask import Flask, Response

from kusei import formats
from kusei.endpoint.query.errors import NotAcceptable
from kusei.endpoint.web import http as web
from kusei.endpoint.web import negotiation
from kusei.endpoint.web.views.page_common import WRITERS, Page, respond, writer

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
EX = "http://example.org/"
TRIPLES = [ox.Triple(ox.NamedNode(EX + "s"), ox.NamedNode(EX + "p"), ox.Literal("区政", language="ja"))]
DATA = {"name": "区政", "count": 3}
TABLE = "name,count\r\n区政,3\r\n"
T = TypeVar("T")
LINK = '</x>; rel="alternate"; type="text/html"'


class Made:
    """Counts which variants' data a response made."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, name: str, value: T) -> Callable[[], T]:
        def make() -> T:
            self.calls.append(name)
            return value
        return make


def context() -> dict[str, object]:
    return {"title_ja": "一覧", "title_en": "Browse", "sections": [], "crumbs": [], "note_ja": "", "note_en": "",
            "json_href": "/x.json", "csv_href": None}


def table_page(made: Made, *, strict: bool = False, table: bool = True) -> Page:
    return Page("browse.html", made("html", context()), data=made("json", DATA),
                table=made("csv", TABLE) if table else None, table_name="things", strict=strict)


def resource_page(made: Made) -> Page:
    return Page("browse.html", made("html", context()), triples=made("rdf", TRIPLES), link=LINK)


@contextmanager
def asked(app: Flask, path: str, **headers: str) -> Iterator[None]:
    with app.test_request_context(path, headers=headers):
        yield


def answer(app: Flask, page: Page, path: str, suffix: str | None = None, **headers: str) -> Response:
    with asked(app, path, **headers):
        return respond(page, suffix)


# -- pages with HTML, JSON and CSV ------------------------------------------------------------------


def test_a_browser_gets_the_page_and_nothing_else_is_made(app: Flask) -> None:
    made = Made()
    response = answer(app, table_page(made), "/x", Accept=BROWSER)
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    assert "<h1>一覧" in response.get_data(as_text=True)
    assert response.headers["Vary"] == "Accept"
    assert "Link" not in response.headers
    assert made.calls == ["html"]


@pytest.mark.parametrize(("path", "suffix", "headers"), [
    ("/x.json", "json", {}),
    ("/x?format=json", None, {}),
    ("/x", None, {"Accept": "application/json"}),
])
def test_json_by_suffix_parameter_or_accept(app: Flask, path: str, suffix: str | None,
                                             headers: dict[str, str]) -> None:
    made = Made()
    response = answer(app, table_page(made), path, suffix, **headers)
    assert response.content_type == "application/json"
    assert json.loads(response.get_data(as_text=True)) == DATA
    assert response.get_data(as_text=True).endswith("\n")
    assert response.headers["Vary"] == "Accept"
    assert made.calls == ["json"]


@pytest.mark.parametrize(("path", "suffix"), [("/x.csv", "csv"), ("/x?format=csv", None)])
def test_csv_by_suffix_or_parameter_is_a_named_file(app: Flask, path: str, suffix: str | None) -> None:
    made = Made()
    response = answer(app, table_page(made), path, suffix)
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'inline; filename="things.csv"'
    assert response.get_data(as_text=True) == TABLE
    # Chosen by URL only, so the answer does not vary by Accept.
    assert "Vary" not in response.headers
    assert made.calls == ["csv"]


def test_csv_is_never_chosen_by_accept(app: Flask) -> None:
    made = Made()
    response = answer(app, table_page(made), "/x", **{"Accept": "text/csv"})
    assert response.content_type == "text/html; charset=utf-8"
    assert made.calls == ["html"]


def test_an_unknown_format_gets_the_page_unless_the_page_is_strict(app: Flask) -> None:
    made = Made()
    assert answer(app, table_page(made, table=False), "/x?format=csv").content_type == "text/html; charset=utf-8"
    strict = Made()
    with pytest.raises(NotAcceptable) as refused:
        answer(app, table_page(strict, strict=True, table=False), "/x?format=csv")
    assert refused.value.status == 406
    assert "format=" in refused.value.message
    assert refused.value.details["offered"] == "text/html, application/json"
    assert strict.calls == []


def test_a_page_without_a_linked_data_form_is_not_answered_304_before_it_is_made(app: Flask) -> None:
    # Its 304 comes from the full response, which then carries all its headers (http._finish).
    made = Made()
    with asked(app, "/x", Accept=BROWSER):
        etag = web.release_etag("/x?", negotiation.HTML.media_type)
    response = answer(app, table_page(made), "/x", Accept=BROWSER, **{"If-None-Match": f'"{etag}"'})
    assert response.status_code == 200
    assert made.calls == ["html"]


# -- a Linked-Data resource ------------------------------------------------------------------------


def test_a_resource_is_turtle_by_default_with_its_link_header(app: Flask) -> None:
    made = Made()
    response = answer(app, resource_page(made), "/x")
    turtle = formats.by_name("ttl")
    assert response.content_type == turtle.content_type
    assert {q.triple for q in ox.parse(response.get_data(), format=ox.RdfFormat.TURTLE)} == set(TRIPLES)
    assert response.headers["Link"] == LINK
    assert response.headers["Vary"] == "Accept"
    assert made.calls == ["rdf"]


def test_a_resource_by_suffix_does_not_vary_and_a_browser_gets_its_page(app: Flask) -> None:
    made = Made()
    response = answer(app, resource_page(made), "/x.nt", ".nt", Accept=BROWSER)
    assert response.content_type == "application/n-triples; charset=utf-8"
    assert {q.triple for q in ox.parse(response.get_data(), format=ox.RdfFormat.N_TRIPLES)} == set(TRIPLES)
    assert "Vary" not in response.headers
    page = answer(app, resource_page(made), "/x", Accept=BROWSER)
    assert page.content_type == "text/html; charset=utf-8"
    assert page.headers["Link"] == LINK
    assert page.headers["Vary"] == "Accept"
    assert made.calls == ["rdf", "html"]


def test_a_resource_answers_304_before_making_anything(app: Flask) -> None:
    made = Made()
    with asked(app, "/x"):
        etag = web.release_etag("/x?", formats.by_name("ttl").media_type)
    response = answer(app, resource_page(made), "/x", **{"If-None-Match": f'"{etag}"'})
    assert response.status_code == 304
    assert response.get_etag()[0] == etag
    assert response.headers["Vary"] == "Accept"
    assert made.calls == []
    # Another format's validator is not this one's.
    assert answer(app, resource_page(made), "/x", **{"Accept": "application/n-triples",
                                                     "If-None-Match": f'"{etag}"'}).status_code == 200


def test_a_resource_refuses_what_it_cannot_write(app: Flask) -> None:
    made = Made()
    with pytest.raises(NotAcceptable) as refused:
        answer(app, resource_page(made), "/x", Accept="image/png")
    assert "text/turtle" in refused.value.details["offered"]
    assert "text/html" in refused.value.details["offered"]
    assert made.calls == []


def test_every_format_a_page_offers_has_a_writer() -> None:
    for fmt in (negotiation.HTML, negotiation.JSON, negotiation.CSV, *formats.GRAPH_FORMATS):
        assert writer(fmt) in WRITERS.values()
    with pytest.raises(KeyError):
        writer(negotiation.TEXT)  # errors are written by the error renderer, not as pages
