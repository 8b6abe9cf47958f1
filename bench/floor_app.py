"""The cheapest possible answer from the HTTP stack: a fixed SPARQL JSON body for any request.

Served with the same granian settings as Kusei (bench.serve_app), it measures what the HTTP server and the WSGI
call cost by themselves, i.e. the best requests/s any WSGI app could reach under that server on this
machine. Its ratio to Oxigraph is the ceiling for Kusei's ratio on trivial queries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

BODY = b'{"head":{"vars":[]},"boolean":true}'
HEADERS = [("Content-Type", "application/sparql-results+json"), ("Content-Length", str(len(BODY)))]


def app(environ: dict, start_response: Callable[..., object]) -> Iterable[bytes]:
    start_response("200 OK", HEADERS)
    return [BODY]
