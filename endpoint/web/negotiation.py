"""Content negotiation: which format of ``kusei.formats`` a request's ``Accept`` or ``format=`` picks."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import TypeVar

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from kusei.formats import GRAPH_FORMATS, RESULT_FORMATS, GraphFormat, ResultFormat


def parse_accept(accept: str | None) -> MIMEAccept:
    """The Accept header with media-type parameters other than q dropped.

    werkzeug compares parameters exactly, so ``text/turtle;charset=utf-8`` would match nothing;
    no format here is chosen by a parameter, so dropping them loses nothing.
    """
    parsed = parse_accept_header(accept or "", MIMEAccept)
    return MIMEAccept([(value.split(";", 1)[0].strip(), quality) for value, quality in parsed])


F = TypeVar("F", ResultFormat, GraphFormat)


def _negotiate(
    offered: Sequence[F], accept: str | None, format_param: str | None
) -> F | None:
    if format_param:
        wanted = format_param.strip().lower()
        for fmt in offered:
            if wanted in (fmt.name, fmt.media_type) or wanted in fmt.aliases or wanted in fmt.other_names:
                return fmt
        return None
    parsed = parse_accept(accept)
    if not parsed:
        # No Accept, or one with no valid entry (e.g. `*/*;q=abc`): RFC 9110 lets a server disregard
        # it, and the pages and dumps already do, so every URL answers such a client alike.
        return offered[0]
    by_type: dict[str, F] = {}
    for fmt in offered:
        by_type.setdefault(fmt.media_type, fmt)
    for fmt in offered:  # aliases after every primary type, so they never win a tie
        for alias in fmt.aliases:
            by_type.setdefault(alias, fmt)
    best = parsed.best_match(list(by_type))
    return by_type[best] if best else None


# Clients send the same few Accept headers over and over; parsing one costs more than the rest of
# choosing a format, so the choice is remembered (bounded: `kusei serve` caps a request head at 32 KiB).
@functools.lru_cache(maxsize=256)
def negotiate_results(accept: str | None, format_param: str | None) -> ResultFormat | None:
    """The results format for an Accept header, or ``format=`` (short name or media type) if given."""
    return _negotiate(RESULT_FORMATS, accept, format_param)


@functools.lru_cache(maxsize=256)
def negotiate_graph(accept: str | None, format_param: str | None) -> GraphFormat | None:
    """The RDF format for an Accept header, or ``format=`` (short name or media type) if given."""
    return _negotiate(GRAPH_FORMATS, accept, format_param)


def prefers(accept: str | None, media_type: str, over: Iterable[str]) -> bool:
    """Whether the client likes ``media_type`` strictly better than each of ``over``."""
    if not accept:
        return False
    parsed = parse_accept(accept)
    # Offered after the others, so ties (e.g. a bare */*) go to them.
    return parsed.best_match([*over, media_type]) == media_type
