"""Answering a query in the web worker, without the hop to a query process, when its cost is
bounded by its form, or linear in the data of a small release (``bounded.py``, :func:`admits`).

The hop costs a cheap query more than its evaluation (two process wake-ups, ~0.1–0.3 ms, against
0.05–0.2 ms in pyoxigraph). But pyoxigraph 0.5.13 cannot stop a query from Python, so only a query
that the rules of ``bounded.py`` admit runs here, and it runs under a budget smaller than any
answer the query processes give: it is evaluated by the query processes' own code
(``executor.answer``: same serialisation, same checks, same bytes) with at most
:data:`ROWS` rows, :data:`BYTES` bytes and :data:`SECONDS` of time, checked at every chunk the
serialiser writes. An answer past its budget is abandoned there and the query goes to a query
process, which answers it as it would have (the rules leave nothing that can run long before its
first chunk: every solution costs a bounded walk from the anchor, and sorts cover few solutions).

The store is opened read-only once per release and web worker (``Release.memo``): a request holds
its release, so a query is answered from the release it began with, and a store whose release is
no longer served is closed when its last request lets go of it.
"""

from __future__ import annotations

import logging
import os
import time

import pyoxigraph as ox

from kusei.endpoint.query import executor
from kusei.endpoint.query.analysis import Analysis
from kusei.release import Release

logger = logging.getLogger(__name__)

# An answer bigger than this is no lookup: the query process writes it (with the limits of every
# answer), and the web worker keeps no large buffers.
ROWS = 2000
BYTES = 1 << 20
# Longer than any admitted query takes on Kusei's data (the bench's lookups: < 2 ms on 1.1M quads);
# short enough that a query abandoned at it costs the client little on top of the query process.
SECONDS = 0.05

# A query linear in the data (``bounded.nonlinear``: one start that may be every subject of a class
# or a property, then walks out of known nodes; its solutions may be extended by BIND, grouped and
# aggregated, or read in one GRAPH group) is answered here only on a release of at most this
# many triples in its named graphs (the store holds them twice, with the default graph's merge).
# The repository's five plans are 6,900: their examples linear in the data take 0.1–1.5 ms in
# pyoxigraph (the aggregate of example 01 the longest), so at this size such a query costs a few
# milliseconds to a few tens, of the same order as the bounded lookups on a million quads. An
# aggregate is computed whole before its first row is written, so the budget below cannot stop
# it: the size of the release is what bounds it. A larger release sends them to the query processes.
SMALL_RELEASE = 50_000

# Evaluations answered here and abandoned for a query process, per web worker (the pool's stats
# beside them say how many the query processes answered).
counts = {"answered": 0, "abandoned": 0}


def _store(release: Release) -> ox.Store:
    # Keyed by process: a Release made before a fork must not hand a child its parent's store.
    return release.memo(f"inline-store-{os.getpid()}", lambda: ox.Store.read_only(str(release.store_path)))


def admits(release: Release, analysed: Analysis) -> bool:
    """Whether ``analysed`` may be answered here on ``release``: bounded by its form, or linear in
    the data and the release small."""
    small = release.memo("triples", lambda: sum(release.manifest.graphs.values())) <= SMALL_RELEASE
    if not small and not analysed.may_be_bounded:
        # Only the bounded verdict counts on a large release: a text with OPTIONAL, an aggregate …
        # goes to a query process without its tokens and rules being read (~0.1 ms of the web
        # worker for a published example).
        return False
    if analysed.bounded:
        return True
    return analysed.linear and small


def answer(release: Release, query: str, *, prefixes: dict[str, str], base_iri: str, result_format: str,
           max_rows: int, max_bytes: int) -> executor.ExecResult | None:
    """The answer to ``query`` on ``release``, or None if it went over the budget (then ask a query
    process). Errors are raised as a query process's would be."""
    rows, size = min(max_rows, ROWS), min(max_bytes, BYTES)
    request = executor.make_request(query, default_graph_uris=None, named_graph_uris=None,
                                    result_format=result_format, union_default_graph=False,
                                    max_rows=rows, max_bytes=size)
    options = {"prefixes": prefixes or None, "base_iri": base_iri}
    try:
        store = _store(release)
    except (OSError, RuntimeError, ValueError):
        # e.g. a release removed from disk while a request held it: the query process path
        # reports that in its own words.
        return None
    started = time.monotonic()
    header, body = executor.answer(ox, store, request, options, deadline=started + SECONDS)
    elapsed = time.monotonic() - started
    lowered = rows < max_rows or size < max_bytes
    if header.get("status") == "over_budget" or (header.get("status") == "too_large" and lowered):
        counts["abandoned"] += 1
        logger.info("query over the inline budget after %.1f ms (%s); asking a query process",
                    elapsed * 1000, header.get("status"))
        return None
    counts["answered"] += 1
    return executor.read_reply(header, body, elapsed)
