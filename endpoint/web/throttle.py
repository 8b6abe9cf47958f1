"""Optional per-client throttling of ``/sparql``: the ``rate_limit`` setting, a 429 with ``Retry-After``.

``init_app(app)`` does nothing when the setting is empty (the default). Otherwise each client
address may send that many ``GET``, ``HEAD`` or ``POST /sparql`` requests (queries, and the service
description) in any window of the stated length; CORS preflights, pages, dumps and the service's
other URLs are never counted.

Counts live in the memory of each server process (flask-limiter's ``memory://`` storage): a
shared one would need a service such as Redis. With W web workers a client is thus
never refused before the limit, and always refused past W times the limit.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, cast

from flask import Flask, Response, current_app, request

from kusei.endpoint.query import shares
from kusei.endpoint.web.http import error_response

if TYPE_CHECKING:
    from flask.typing import RouteCallable
    from flask_limiter import RateLimitExceeded
    from limits import RateLimitItem

QUERY_VIEW = "sparql.sparql"
# Preflights never reach the view anyway (Flask answers them itself); listed so that stays true.
COUNTED_METHODS = ["GET", "HEAD", "POST"]


def parse_rate_limit(value: str) -> list[RateLimitItem]:
    """The limits in ``value`` ("120/minute", "10/second;500/hour"); none for an empty value.

    Raises ValueError with a message naming the setting, so a bad value stops the server at start.
    """
    if not value.strip():
        return []
    # flask-limiter and limits are loaded only when throttling is on (~0.07 s at each start).
    from limits import parse_many

    try:
        items = parse_many(value)
    except ValueError:
        raise ValueError(f"KUSEI_RATE_LIMIT {value!r} is not a rate limit such as '120/minute' or "
                         "'10/second;500/hour' (empty turns throttling off)") from None
    if any(item.amount < 1 for item in items):
        raise ValueError(f"KUSEI_RATE_LIMIT {value!r} allows no query at all; leave it empty to turn throttling off")
    return items


def _name_client() -> None:
    # Each query's fair share (kusei.endpoint.query.shares) is its client's: the address the WSGI
    # server gives, which a trusted proxy's forwarded address replaces where one is configured.
    shares.CLIENT.set(request.remote_addr)


def init_app(app: Flask) -> None:
    app.before_request(_name_client)
    rate_limit = app.config["KUSEI"].rate_limit
    if not parse_rate_limit(rate_limit):
        return
    from flask_limiter import Limiter, RateLimitExceeded
    from flask_limiter.util import get_remote_address

    # The moving window makes "N per minute" hold for any 60 s, not just for fixed slots that a
    # client could straddle with 2 N queries. X-RateLimit-* headers stay off: their counts would be
    # those of one web worker. The address is request.remote_addr: the TCP peer's, or behind a proxy
    # listed in KUSEI_TRUSTED_PROXIES the client it forwards (endpoint/web/proxies.py).
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://", strategy="moving-window",
                      headers_enabled=False)
    # The same as decorating sparql() with @limiter.limit(...), done here so the view need not know.
    limited = limiter.limit(rate_limit, methods=COUNTED_METHODS)(app.view_functions[QUERY_VIEW])
    # The decorator returns the view with its own signature; mypy loses that on Flask's sync-or-async
    # RouteCallable union (it splits the union inside flask-limiter's ParamSpec overload).
    app.view_functions[QUERY_VIEW] = cast("RouteCallable", limited)
    app.extensions["kusei_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _too_many_requests)


def _too_many_requests(exc: RateLimitExceeded) -> Response:
    limit = exc.limit.limit
    breached = current_app.extensions["kusei_limiter"].current_limit
    # When the oldest counted query leaves the window; whole seconds, at least 1, so that a client
    # retrying at once is not simply refused again.
    reset = breached.window.reset_time if breached is not None else time.time() + limit.get_expiry()
    retry_after = max(1, math.ceil(reset - time.time()))
    response = error_response(
        429, f"Too many queries from your address: at most {limit.amount} per {_period(limit)}. "
             f"Try again in {retry_after} s.",
        limit=str(limit), retry_after=retry_after)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _period(limit: RateLimitItem) -> str:
    unit = limit.GRANULARITY.name
    return unit if limit.multiples == 1 else f"{limit.multiples} {unit}s"
