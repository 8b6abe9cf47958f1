"""The least a Python WSGI app can do to answer a SPARQL query: Kusei's ceiling on this stack.

Read the query from the query string, evaluate it with pyoxigraph on the release's store (its
default graph, as Kusei and Oxigraph answer), write the answer as SPARQL results JSON or
N-Triples, and send it. No guard, no time or size limit, no log, no cache, no content negotiation,
no HTTP conventions: never to serve, only to measure. Served by ``bench.serve_app`` under the
very granian options `kusei serve` uses (``bench.run --minimal``), its ratio to Oxigraph is what
any app of this design could reach: what Kusei loses beyond it is Kusei's own work.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Callable, Iterable
from pathlib import Path

import pyoxigraph as ox

from kusei.release import current_link, store_dir

# Opened once per web worker (granian imports the app in each).
STORE = ox.Store.read_only(str(store_dir(current_link(Path(os.environ["KUSEI_DATA_DIR"])).resolve())))
RESULTS = "application/sparql-results+json"
TRIPLES = "application/n-triples"


def app(environ: dict, start_response: Callable[..., object]) -> Iterable[bytes]:
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))["query"][0]
    result = STORE.query(query)
    if isinstance(result, ox.QueryTriples):
        body, media_type = result.serialize(format=ox.RdfFormat.N_TRIPLES), TRIPLES
    else:
        body, media_type = result.serialize(format=ox.QueryResultsFormat.JSON), RESULTS
    assert body is not None  # with no output given, serialize returns the bytes
    start_response("200 OK", [("Content-Type", media_type), ("Content-Length", str(len(body)))])
    return [body]
