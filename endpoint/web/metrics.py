"""``/metrics``: the server's counters in the Prometheus text format (prometheus_client).

`kusei serve` runs several web worker processes, each counting what it serves. The server as a
whole is reported with prometheus_client's multiprocess mode: `kusei serve` gives every worker one
fresh directory (``PROMETHEUS_MULTIPROC_DIR``, removed when it stops) where each keeps its counts
in a memory-mapped file, and whichever worker answers ``/metrics`` sums all of them — counts of
workers that were replaced stay in the sums, so counters never go back. What is a state rather
than a count (slots in use, memory of the process tree, the release served) is read when scraped.
Without that directory (one process: tests, another WSGI server) the counts are this process's.

Only clients in ``metrics_clients`` (loopback by default) get an answer; the address is the
client's as :mod:`kusei.endpoint.web.proxies` finds it, so a public client behind a trusted proxy
on loopback is still refused.
"""

from __future__ import annotations

import ipaddress
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from kusei.endpoint.query import service
from kusei.endpoint.web import current
from kusei.endpoint.web.http import error_response
from kusei.release import ReleaseError
from kusei.settings import Settings, networks

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

bp = Blueprint("metrics", __name__)

# Counts live in this registry (not prometheus_client's global one, which also holds the
# interpreter's own metrics, meaningless summed over processes).
REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter("kusei_http_requests", "Requests answered, by route (the URL rule), method and status.",
                   ["route", "method", "status"], registry=REGISTRY)
LATENCY = Histogram("kusei_http_request_duration_seconds",
                    "Time from the request's arrival to its last byte handed to the server, by route.",
                    ["route"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
RESPONSE_BYTES = Counter("kusei_http_response_bytes", "Body bytes sent, by route.", ["route"], registry=REGISTRY)
REFUSALS = Counter("kusei_refusals", "Requests answered with an error, by its code (the error field of a "
                   "JSON error body: busy, timeout, query-syntax, too-many-requests …).", ["code"],
                   registry=REGISTRY)
RESULT_CACHE = Counter("kusei_result_cache_lookups", "Answers to /sparql by whether the result cache held "
                       "them (hit) or the engine ran (miss).", ["result"], registry=REGISTRY)
SLOT_WAIT = Histogram("kusei_query_slot_wait_seconds", "Time a SPARQL query waited for a query slot "
                      "(those that waited longest were refused: kusei_refusals_total{code=\"busy\"}).",
                      registry=REGISTRY, buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2))
QUERY_PROCESSES = Counter("kusei_query_process_events", "Query processes started, and ended by cause "
                          "(timeouts, killed, recycled, crashes, memory_kills), by lane (sparql or pages).",
                          ["lane", "event"], registry=REGISTRY)

# Children of the labelled metrics by their labels: .labels() costs more than the count itself.
_children: dict[tuple[object, ...], Any] = {}
# Query pools' counters are read at most this often per process (they lag by as much at most).
POOL_INTERVAL = 0.5
_pools_read = 0.0
_pools_lock = threading.Lock()


def _child(metric: Any, *labels: str) -> Any:  # noqa: ANN401 - a prometheus_client metric
    key = (id(metric), *labels)
    child = _children.get(key)
    if child is None:
        child = _children.setdefault(key, metric.labels(*labels))
    return child


def count(route: str, method: str, status: int, duration: float, sent: int, error: str | None,
          cache: str | None) -> None:
    """Count one answered request (called by the request log, once its last byte is sent)."""
    global _pools_read
    _child(REQUESTS, route, method, str(status)).inc()
    _child(LATENCY, route).observe(duration)
    _child(RESPONSE_BYTES, route).inc(sent)
    if error:
        _child(REFUSALS, error).inc()
    if cache:
        _child(RESULT_CACHE, cache).inc()
    now = time.monotonic()
    # One thread at a time takes the pools' deltas (two at once would count them twice).
    if now - _pools_read >= POOL_INTERVAL and _pools_lock.acquire(blocking=False):
        try:
            _pools_read = now
            observe_pools()
        finally:
            _pools_lock.release()


POOL_EVENTS = ("started", "timeouts", "killed", "recycled", "crashes", "memory_kills")
_seen: dict[tuple[int, str], dict[str, int]] = {}


def observe_pools() -> None:
    """Add what this process's query pools did since the last call to the counters."""
    for lane in service.Lane:
        stats = service.pool_stats(lane)
        if not stats:
            continue
        key = (os.getpid(), lane.value)
        before = _seen.get(key, {})
        for event in POOL_EVENTS:
            delta = stats.get(event, 0) - before.get(event, 0)
            if delta > 0:
                QUERY_PROCESSES.labels(lane.value, event).inc(delta)
        _seen[key] = stats


def _observe_slot_wait(seconds: float) -> None:
    SLOT_WAIT.observe(seconds)


class ServerState(Collector):
    """What is read at scrape time: the release, query slots in use, memory of the process tree."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        settings: Settings = self.app.config["KUSEI"]
        try:
            release = self.app.extensions["kusei_release"].latest()
            info = InfoMetricFamily("kusei_release", "The release served now (its id, as in ETags).")
            info.add_metric([], {"id": release.id})
            yield info
        except ReleaseError:
            pass
        slots = GaugeMetricFamily("kusei_query_slots", "The server's query slots, by state.", labels=["state"])
        paths = service.slot_files(settings)
        slots.add_metric(["in_use"], slots_in_use(paths))
        slots.add_metric(["total"], len(paths))
        yield slots
        total, largest = service.server_memory()
        yield GaugeMetricFamily("kusei_server_memory_bytes", "Resident memory of the server's whole process "
                                "tree (web workers and query processes).", value=total)
        yield GaugeMetricFamily("kusei_largest_query_process_bytes", "Resident memory of the largest query "
                                "process.", value=largest)


def slots_in_use(paths: list[Path]) -> int:
    """How many of the slot files are locked now, read from /proc/locks (Linux) without taking any
    lock, so a scrape never delays a query; 0 where that is not available."""
    wanted = set()
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            continue
        wanted.add(f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}")
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return 0
    locked = {fields[5] for fields in (line.split() for line in lines)
              if len(fields) > 5 and fields[1] == "FLOCK" and fields[5] in wanted}
    return len(locked)


def _forget_dead_workers(directory: str) -> None:
    # Gauges of replaced workers would otherwise stay; counters are kept (mark_process_dead
    # removes only the files of live-mode gauges).
    for name in os.listdir(directory):
        pid = name.rpartition("_")[2].removesuffix(".db")
        if pid.isdigit() and not _alive(int(pid)):
            mark_process_dead(int(pid), directory)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def exposition(app: Flask) -> bytes:
    """The text a scrape gets: the whole server's counts and its state now."""
    registry = CollectorRegistry(auto_describe=True)
    directory = os.environ.get(MULTIPROC_ENV)
    if directory and Path(directory).is_dir():
        _forget_dead_workers(directory)
        MultiProcessCollector(registry, path=directory)
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    state = CollectorRegistry(auto_describe=True)
    state.register(ServerState(app))
    return text + generate_latest(state)


def allowed(address: str, settings: Settings) -> bool:
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(client in network for network in networks(settings.metrics_clients))


@bp.get("/metrics")
def metrics() -> Response:
    if not allowed(request.remote_addr or "", current.settings()):
        return error_response(403, "Metrics are served to the addresses in KUSEI_METRICS_CLIENTS only.",
                              code="metrics-forbidden")
    # An iterable body: a streamed response gets no release ETag from kusei.endpoint.web.http,
    # which would let a revalidating client keep one scrape's numbers.
    body = exposition(current_app._get_current_object())  # type: ignore[attr-defined]
    response = Response(iter([body]), content_type=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    if _observe_slot_wait not in service.slot_wait_listeners:
        service.slot_wait_listeners.append(_observe_slot_wait)
