"""Content negotiation on its own (endpoint/web/negotiation.py): q-values, wildcards, parameters,
aliases, ``format=`` over ``Accept``, and what a 406 lists. No app, no data: the functions take
the header and the parameter as strings."""

from __future__ import annotations

import pytest

from kusei.endpoint.web.negotiation import negotiate_graph, negotiate_results, parse_accept, prefers
from kusei.formats import GRAPH_FORMATS, RESULT_FORMATS, Format
from kusei.formats import media_types as offered_media_types


def _name(fmt: Format | None) -> str | None:
    return fmt.name if fmt is not None else None


@pytest.mark.parametrize(("accept", "results", "graph"), [
    # The client's preference wins, whatever order it writes it in.
    ("text/csv;q=0.5, application/sparql-results+json;q=0.9", "json", None),
    ("application/sparql-results+json;q=0.2, text/tab-separated-values", "tsv", None),
    ("application/n-triples;q=0.3, application/rdf+xml;q=0.8, text/turtle;q=0.5", None, "rdf"),
    # q=0 refuses a type even where a wildcard would take it.
    ("application/sparql-results+json;q=0, application/*", "xml", "nt"),
    ("text/turtle;q=0, text/*", "csv", "nt"),  # N-Triples by its alias text/plain
    # A more specific range overrides a wildcard's q-value.
    ("text/*;q=0.5, text/tab-separated-values", "tsv", "ttl"),
])
def test_q_values(accept: str, results: str | None, graph: str | None) -> None:
    assert _name(negotiate_results(accept, None)) == results
    assert _name(negotiate_graph(accept, None)) == graph


@pytest.mark.parametrize(("accept", "results", "graph"), [
    ("*/*", "json", "ttl"),  # the first offered format of each kind
    ("text/*", "csv", "ttl"),
    ("application/*", "json", "nt"),
])
def test_wildcards_take_the_first_offered_format_they_cover(accept: str, results: str, graph: str) -> None:
    assert _name(negotiate_results(accept, None)) == results
    assert _name(negotiate_graph(accept, None)) == graph


@pytest.mark.parametrize("accept", [None, "", "*/*;q=abc"])
def test_no_usable_accept_gets_the_default(accept: str | None) -> None:
    assert negotiate_results(accept, None) is RESULT_FORMATS[0]
    assert negotiate_graph(accept, None) is GRAPH_FORMATS[0]


def test_media_type_parameters_do_not_stop_a_match() -> None:
    assert _name(negotiate_graph("text/turtle;charset=utf-8", None)) == "ttl"
    assert _name(negotiate_results("text/csv; header=present; q=0.9", None)) == "csv"
    assert [value for value, _ in parse_accept("text/turtle;charset=utf-8;q=0.4")] == ["text/turtle"]


def test_aliases_select_their_format_but_never_win_a_tie() -> None:
    assert _name(negotiate_results("application/json", None)) == "json"
    assert _name(negotiate_results("application/xml", None)) == "xml"
    assert _name(negotiate_graph("application/json", None)) == "jsonld"
    assert _name(negotiate_graph("text/plain", None)) == "nt"
    # text/plain (an alias of N-Triples) and text/turtle liked alike: the primary type wins.
    assert _name(negotiate_graph("text/plain, text/turtle", None)) == "ttl"


@pytest.mark.parametrize("accept", ["image/png", "text/html", "application/pdf;q=1, text/html;q=0.5"])
def test_nothing_offered_is_none(accept: str) -> None:
    assert negotiate_results(accept, None) is None
    assert negotiate_graph(accept, None) is None


@pytest.mark.parametrize(("accept", "param", "kind", "expected"), [
    ("text/csv", "json", "results", "json"),  # format= overrides Accept
    ("text/turtle", "json", "graph", "jsonld"),
    (None, "text/turtle", "graph", "ttl"),  # a media type is a format= value too
    (None, " TTL ", "graph", "ttl"),  # case and spaces do not matter
    (None, "n3", "graph", "ttl"),  # and other names of the format
    (None, "application/json", "results", "json"),  # an alias as well
    ("*/*", "png", "results", None),  # an unknown format= is refused, not replaced by Accept
    ("text/turtle", "csv", "graph", None),  # nor is a format of the other kind
])
def test_format_parameter_overrides_accept(accept: str | None, param: str, kind: str, expected: str | None) -> None:
    negotiate = negotiate_graph if kind == "graph" else negotiate_results
    assert _name(negotiate(accept, param)) == expected


@pytest.mark.parametrize(("offered", "negotiate"), [(RESULT_FORMATS, negotiate_results),
                                                    (GRAPH_FORMATS, negotiate_graph)])
def test_a_406_lists_exactly_the_types_that_would_be_accepted(offered: tuple[Format, ...], negotiate) -> None:
    listed = offered_media_types(offered)
    assert len(listed) == len(set(listed)) == len(offered)
    for fmt, media_type in zip(offered, listed, strict=True):
        assert negotiate(media_type, None) is fmt, media_type  # each one listed selects its format
        assert negotiate(None, fmt.name) is fmt  # and so does its format= name
    assert negotiate(", ".join(f"{t};q=0" for t in listed), None) is None


def test_prefers() -> None:
    assert prefers("text/html, application/json;q=0.9", "text/html", ["application/json"])
    assert not prefers("text/html;q=0.5, application/json", "text/html", ["application/json"])
    assert not prefers("*/*", "text/html", ["application/json"])  # a tie goes to the others
    assert not prefers(None, "text/html", ["application/json"])
