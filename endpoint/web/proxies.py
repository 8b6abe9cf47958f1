"""The client's address behind reverse proxies that the operator trusts (``trusted_proxies``).

Only when the TCP peer is one of the configured proxies is ``X-Forwarded-For`` read, from the
right: each hop a trusted proxy appended is skipped, and the first address that is not a trusted
proxy is the client. Whatever a client writes into the header itself stands to the left of that
and is never believed. With no proxies configured (the default) the header is ignored.

Werkzeug's ``ProxyFix`` trusts a fixed *number* of hops whoever the peer is: a client that reaches
the server directly (a second listener, a firewall gap) could then choose its own address, and so
its rate-limit bucket and fair share. Trust by address holds wherever the request came from.

The peer's own address stays in the environ as ``kusei.peer`` (the request log shows both).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING

from kusei.settings import Network

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PEER_KEY = "kusei.peer"


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.1:5000"
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address(peer: str, forwarded_for: str | None, trusted: Iterable[Network]) -> str:
    """The client's address for a request from ``peer`` carrying ``forwarded_for`` (the joined
    X-Forwarded-For values), trusting only the hops in ``trusted``."""
    trusted = tuple(trusted)

    def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in trusted)

    if not forwarded_for or not is_trusted(_address(peer)):
        return peer
    client = peer
    for hop in reversed(forwarded_for.split(",")):
        address = _address(hop)
        if address is None:
            # A trusted proxy passed on something that is not an address: the last address known
            # to be real is the hop that passed it.
            return client
        client = str(address)
        if not is_trusted(address):
            return client
    return client  # every hop is a trusted proxy: the farthest one is the client


class TrustedProxies:
    """WSGI middleware: ``REMOTE_ADDR`` becomes the client's address as :func:`client_address` finds it."""

    def __init__(self, app: WSGIApplication, trusted: Iterable[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        peer = environ.get("REMOTE_ADDR", "")
        environ[PEER_KEY] = peer
        if self.trusted:
            environ["REMOTE_ADDR"] = client_address(peer, environ.get("HTTP_X_FORWARDED_FOR"), self.trusted)
        return self.app(environ, start_response)
