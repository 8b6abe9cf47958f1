"""The decisions on the way from data to a response, each on its own (no app, no data, no server):
the format registry and its writers, content negotiation for every kind of route, and the ETag
and 304 decision every route shares."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pyoxigraph as ox
import pytest

from kusei import formats
from kusei.endpoint.web import http as web
from kusei.endpoint.web import negotiation

EX = "http://example.org/"
TRIPLE = ox.Triple(ox.NamedNode(EX + "s"), ox.NamedNode(EX + "p"), ox.Literal("区政", language="ja"))


@dataclass(frozen=True)
class Rows:
    variables: tuple[str, ...] = ("x",)
    rows: list[tuple[ox.Literal | None, ...]] | None = None
    boolean: bool | None = None


# -- the registry ---------------------------------------------------------------------------------


def test_a_name_is_unique_within_its_kind_and_kinds_are_what_they_say() -> None:
    for kind in ("results", "graph", "page", "file"):
        names = [fmt.name for fmt in formats.of_kind(kind)]  # type: ignore[arg-type]
        assert len(names) == len(set(names)), kind
        assert all(fmt.kind == kind for fmt in formats.of_kind(kind))  # type: ignore[arg-type]
    assert formats.by_name("json").kind == "results"  # results and graph formats by default
    assert formats.by_name("json", "page").media_type == "application/json"
    with pytest.raises(KeyError):
        formats.by_name("html")


def test_the_older_names_are_gone() -> None:
    assert not hasattr(formats, "ResultFormat") and not hasattr(formats, "GraphFormat")


@pytest.mark.parametrize(("name", "media_type"), [
    ("kusei.ttl", "text/turtle"), ("kusei.ttl.gz", "application/gzip"), ("SHA256SUMS", "text/plain"),
    ("000_abc.txt", "text/plain"), ("release.json", "application/json"), ("kusei.nq", "application/n-quads"),
    ("README", "application/octet-stream"), ("x.exe", "application/octet-stream"),
])
def test_a_release_file_gets_its_media_type_from_the_registry(name: str, media_type: str) -> None:
    assert formats.media_type_of_file(name) == media_type


def test_results_formats_write_solutions_and_refuse_triples() -> None:
    body = formats.by_name("json").write(Rows(rows=[(ox.Literal("a"),), (None,)]))
    assert [b.get("x", {}).get("value") for b in json.loads(body)["results"]["bindings"]] == ["a", None]
    assert formats.by_name("csv").write(Rows(boolean=None, rows=[])) == b"x\r\n"
    assert json.loads(formats.by_name("json").write(Rows(boolean=True, rows=None)))["boolean"] is True
    with pytest.raises(ValueError, match="graph result"):
        formats.by_name("json").write([TRIPLE])


def test_graph_formats_write_triples_with_the_prefixes_and_refuse_solutions() -> None:
    body = formats.by_name("ttl").write([TRIPLE], "https://kusei.example")
    assert b"@prefix kusei: <https://kusei.example/def/>" in body and "区政".encode() in body
    assert formats.by_name("nt").write([TRIPLE], "https://kusei.example").count(b"\n") == 1
    document = json.loads(formats.by_name("jsonld").write([TRIPLE], "https://kusei.example"))
    assert "@context" in document
    with pytest.raises(ValueError, match="query results"):
        formats.by_name("ttl").write(Rows(rows=[]))
    with pytest.raises(ValueError, match="base IRI"):
        formats.by_name("ttl").write([TRIPLE])
    with pytest.raises(ValueError):
        formats.by_name("html", "page").write([TRIPLE])


def test_xml_formats_refuse_characters_xml_cannot_carry() -> None:
    bad = ox.Triple(ox.NamedNode(EX + "s"), ox.NamedNode(EX + "p"), ox.Literal("bell\x07"))
    with pytest.raises(ValueError, match="U\\+0007"):
        formats.by_name("rdf").write([bad], "https://kusei.example")
    with pytest.raises(ValueError, match="U\\+0007"):
        formats.by_name("xml").write(Rows(rows=[(ox.Literal("bell\x07"),)]))
    assert b"bell" in formats.by_name("ttl").write([bad], "https://kusei.example")


# -- negotiation ----------------------------------------------------------------------------------


def _name(fmt: formats.Format | None) -> str | None:
    return None if fmt is None else f"{fmt.kind}:{fmt.name}"


@pytest.mark.parametrize(("accept", "format_param", "suffix", "expected"), [
    (None, None, None, "graph:ttl"),  # curl
    ("*/*", None, None, "graph:ttl"),
    ("text/html,application/xhtml+xml,*/*;q=0.8", None, None, "page:html"),  # a browser
    ("text/html;q=0.5, text/turtle", None, None, "graph:ttl"),  # RDF liked better than HTML
    ("text/html, application/n-triples", None, None, "page:html"),  # a tie goes to the page
    ("application/ld+json", None, None, "graph:jsonld"),
    ("image/png", None, None, None),  # 406
    ("text/html", "ttl", None, "graph:ttl"),  # format= over Accept
    ("text/turtle", "html", None, "page:html"),
    ("text/html", None, ".nt", "graph:nt"),  # the suffix URL over everything
    ("text/html", None, ".trig", None),  # not offered as a suffix URL
])
def test_a_resource_is_a_page_or_rdf(accept: str | None, format_param: str | None, suffix: str | None,
                                     expected: str | None) -> None:
    assert _name(negotiation.resource(accept, format_param, suffix)) == expected


@pytest.mark.parametrize(("suffix", "accept", "format_param", "strict", "expected"), [
    (None, None, None, False, "page:html"),
    (None, "application/json", None, False, "page:json"),
    (None, "text/html, application/json", None, False, "page:html"),
    (None, "text/csv", None, False, "page:html"),  # CSV only by link or format=
    ("csv", "application/json", None, False, "page:csv"),
    ("json", None, None, False, "page:json"),
    (None, None, "CSV", False, "page:csv"),
    (None, "application/json", "html", False, "page:html"),
    (None, None, "xml", False, "page:html"),  # an unknown format= on a page: the page
    (None, None, "xml", True, None),  # … or a 406 where the route is strict (the dumps listing)
])
def test_a_page_variant(suffix: str | None, accept: str | None, format_param: str | None, strict: bool,
                        expected: str | None) -> None:
    assert _name(negotiation.page(suffix, accept, format_param, strict=strict)) == expected


def test_a_page_offers_only_its_variants() -> None:
    listing = (negotiation.HTML, negotiation.JSON)
    assert negotiation.page("csv", None, None, offered=listing) is negotiation.HTML
    assert negotiation.page(None, None, "csv", offered=listing, strict=True) is None


@pytest.mark.parametrize(("accept", "expected"), [
    (None, "text"), ("*/*", "text"), ("application/json", "json"), ("text/html,*/*;q=0.8", "html"),
    ("application/sparql-results+json", "text"), ("text/html;q=0.2, application/json", "json"),
])
def test_an_error_is_json_html_or_text(accept: str | None, expected: str) -> None:
    assert negotiation.for_error(accept).name == expected


@pytest.mark.parametrize(("accept", "format_param", "expected"), [
    ("text/html", None, "page:html"), ("text/html", "ttl", "graph:ttl"), ("*/*", None, "graph:ttl"),
    ("text/turtle, text/html", None, "graph:ttl"), ("image/png", None, None),
])
def test_the_service_description_is_rdf_or_the_query_page(accept: str, format_param: str | None,
                                                          expected: str | None) -> None:
    assert _name(negotiation.rdf_or_page(accept, format_param)) == expected


def test_the_kind_of_an_answer_follows_the_query_form() -> None:
    assert [negotiation.kind_of_form(form) for form in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE", None)] \
        == ["results", "results", "graph", "graph", None]
    assert _name(negotiation.negotiate("graph", None, "json")) == "graph:jsonld"
    assert _name(negotiation.negotiate("results", None, "json")) == "results:json"


# -- ETags and 304 --------------------------------------------------------------------------------


def test_an_etag_names_the_release_and_depends_on_every_part() -> None:
    etag = web.etag_of("r1", "/sparql?query=ASK", "json")
    assert etag.startswith("r1-") and etag == web.etag_of("r1", "/sparql?query=ASK", "json")
    assert len({etag, web.etag_of("r2", "/sparql?query=ASK", "json"), web.etag_of("r1", "/sparql?query=ASK", "xml"),
                web.etag_of("r1", "/sparql?query=ASK")}) == 4
    assert web.file_etag("ab" * 32) == "ab" * 32


@pytest.mark.parametrize(("if_none_match", "expected"), [
    ('"e1"', "e1"),
    ('"e1:gzip"', "e1:gzip"),  # the client cached the gzipped bytes
    ('"other", "e1"', "e1"),
    ("*", "e1"),
    ('"other"', None),
    ('W/"e1"', "e1"),  # If-None-Match compares weakly (RFC 9110, 13.1.2)
    ('"e1:br"', None),  # a coding this server never sends
])
def test_fresh_compares_if_none_match(if_none_match: str, expected: str | None) -> None:
    assert web.fresh(if_none_match, "e1") == expected


def test_if_modified_since_counts_only_without_if_none_match() -> None:
    modified = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
    same = "Tue, 01 Dec 2026 10:00:00 GMT"
    earlier = "Tue, 01 Dec 2026 09:59:59 GMT"
    assert web.fresh(None, "e1", if_modified_since=same, last_modified=modified) == "e1"
    assert web.fresh(None, "e1", if_modified_since=earlier, last_modified=modified) is None
    assert web.fresh(None, "e1", if_modified_since="garbage", last_modified=modified) is None
    assert web.fresh(None, "e1", if_modified_since=same) is None  # no date to compare with
    assert web.fresh('"other"', "e1", if_modified_since=same, last_modified=modified) is None
    assert web.fresh(None, "e1") is None
