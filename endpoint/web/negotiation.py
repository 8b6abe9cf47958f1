"""Content negotiation: the one place that reads ``Accept``, ``format=`` and format suffixes.

Every route asks here which format of ``kusei.formats`` a request gets (None: nothing acceptable is
offered, a 406); none reads those headers or parameters itself. The functions take the header and
parameter values, not the request, so the lean path (``lean.py``) asks the same questions without
Flask, and their answers are remembered (clients send the same few Accept headers over and over).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from kusei import formats
from kusei.formats import GRAPH_FORMATS, RESULT_FORMATS, Format

HTML = formats.by_name("html", "page")
JSON = formats.by_name("json", "page")
CSV = formats.by_name("csv", "page")
TEXT = formats.by_name("text", "page")
_HTML_TYPES = (HTML.media_type, *HTML.aliases)


@functools.lru_cache(maxsize=256)
def parse_accept(accept: str | None) -> MIMEAccept:
    """The Accept header with media-type parameters other than q dropped.

    werkzeug compares parameters exactly, so ``text/turtle;charset=utf-8`` would match nothing;
    no format here is chosen by a parameter, so dropping them loses nothing.
    """
    parsed = parse_accept_header(accept or "", MIMEAccept)
    return MIMEAccept([(value.split(";", 1)[0].strip(), quality) for value, quality in parsed])


def _by_param(offered: Iterable[Format], format_param: str) -> Format | None:
    wanted = format_param.strip().lower()
    return next((fmt for fmt in offered if fmt.selected_by(wanted)), None)


def _by_accept(offered: tuple[Format, ...], accept: str | None) -> Format | None:
    parsed = parse_accept(accept)
    if not parsed:
        # No Accept, or one with no valid entry (e.g. `*/*;q=abc`): RFC 9110 lets a server disregard
        # it, and the pages and dumps already do, so every URL answers such a client alike.
        return offered[0]
    by_type: dict[str, Format] = {}
    for fmt in offered:
        by_type.setdefault(fmt.media_type, fmt)
    for fmt in offered:  # aliases after every primary type, so they never win a tie
        for alias in fmt.aliases:
            by_type.setdefault(alias, fmt)
    best = parsed.best_match(list(by_type))
    return by_type[best] if best else None


@functools.lru_cache(maxsize=512)
def negotiate(kind: str, accept: str | None, format_param: str | None) -> Format | None:
    """The ``results`` or ``graph`` format for an Accept header, or ``format=`` (short name or media
    type) if given; server's order breaks ties."""
    offered = GRAPH_FORMATS if kind == "graph" else RESULT_FORMATS
    if format_param:
        return _by_param(offered, format_param)
    return _by_accept(offered, accept)


def kind_of_form(form: str | None) -> str | None:
    """``graph`` for CONSTRUCT and DESCRIBE, ``results`` for SELECT and ASK, else None."""
    if form in ("CONSTRUCT", "DESCRIBE"):
        return "graph"
    if form in ("SELECT", "ASK"):
        return "results"
    return None


def negotiate_results(accept: str | None, format_param: str | None) -> Format | None:
    """The results format for an Accept header, or ``format=`` if given."""
    return negotiate("results", accept, format_param)


def negotiate_graph(accept: str | None, format_param: str | None) -> Format | None:
    """The RDF format for an Accept header, or ``format=`` if given."""
    return negotiate("graph", accept, format_param)


def prefers(accept: str | None, media_type: str, over: Iterable[str]) -> bool:
    """Whether the client likes ``media_type`` strictly better than each of ``over``."""
    if not accept:
        return False
    # Offered after the others, so ties (e.g. a bare */*) go to them.
    return parse_accept(accept).best_match([*over, media_type]) == media_type


@functools.lru_cache(maxsize=256)
def resource(accept: str | None, format_param: str | None, suffix: str | None = None) -> Format | None:
    """The HTML page or an RDF format of a Linked-Data resource: by suffix URL (``.ttl`` …), then
    ``format=``, then Accept. RDF by default: a bare ``*/*`` is a script or curl, and gets Turtle;
    HTML only when named and liked at least as much as any RDF type named."""
    if suffix is not None:
        return next((fmt for fmt in GRAPH_FORMATS if fmt.page_suffix and fmt.suffix == suffix), None)
    if format_param:
        if format_param.strip().lower() in (HTML.name, HTML.media_type):
            return HTML
        return negotiate("graph", accept, format_param)
    if not accept or not accept.strip():
        return GRAPH_FORMATS[0]
    offered = {fmt.media_type for fmt in GRAPH_FORMATS}
    parsed = parse_accept(accept)
    html_q = max((q for mime, q in parsed if mime in _HTML_TYPES), default=0)
    rdf_q = max((q for mime, q in parsed if mime in offered), default=0)
    if html_q > 0 and html_q >= rdf_q:
        return HTML
    return negotiate("graph", accept, None)


def rdf_or_page(accept: str | None, format_param: str | None) -> Format | None:
    """The service description's choice: the HTML page (the query form) when no ``format=`` is
    given and the client prefers HTML to every RDF type, else the negotiated RDF format."""
    if not format_param and prefers(accept, HTML.media_type, over=formats.media_types(GRAPH_FORMATS)):
        return HTML
    return negotiate("graph", accept, format_param)


def page(suffix: str | None, accept: str | None, format_param: str | None, *,
         offered: tuple[Format, ...] = (HTML, JSON, CSV), strict: bool = False) -> Format | None:
    """The variant of a page (Datasette-style): a ``.json``/``.csv`` URL, ``format=``, or an Accept
    that prefers JSON to HTML; HTML otherwise. CSV is never chosen by Accept (spreadsheet users
    follow the link). An unknown ``format=`` gets HTML, or None (406) if ``strict``."""
    by_suffix = next((fmt for fmt in offered if suffix and fmt.name == suffix), None)
    if by_suffix is not None:
        return by_suffix
    if format_param:
        chosen = _by_param(offered, format_param)
        if chosen is None and not strict:
            return HTML
        return chosen
    if JSON in offered and prefers(accept, JSON.media_type, over=[HTML.media_type]):
        return JSON
    return HTML


@functools.lru_cache(maxsize=64)
def for_error(accept: str | None) -> Format:
    """How an error is told: JSON or an HTML page if the client prefers one, plain text otherwise."""
    best = parse_accept(accept).best_match([TEXT.media_type, JSON.media_type, HTML.media_type])
    return {JSON.media_type: JSON, HTML.media_type: HTML}.get(best or "", TEXT)
