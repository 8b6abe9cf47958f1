"""Kusei with the timeout mechanism taken out: for measuring what that mechanism costs, never to serve.

The app is the real one (``kusei.endpoint.web.app.create_app``) except that ``engine`` evaluates each query
in the request thread itself, with the very function a query worker runs
(``executor.answer``), instead of sending it to a worker process that can be killed. A runaway
query here runs on until it ends: this app has no time limit at all. Comparing it with the real
app under the same load isolates the cost of the worker processes (pipes, process switches).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kusei.endpoint.query import executor
from kusei.endpoint.query import service as engine
from kusei.endpoint.web.app import create_app
from kusei.release import Release, open_store
from kusei.settings import Settings


class InProcess:
    """Stands in for ``executor.QueryExecutor`` with the same ``run`` contract, minus the timeout."""

    def __init__(self, release: Release, settings: Settings) -> None:
        prefixes, base_iri = engine._query_options(release.base)
        self.store = open_store(release.path)
        self.options: dict[str, Any] = {"prefixes": prefixes, "base_iri": base_iri}
        self.max_rows, self.max_bytes = settings.max_result_rows, settings.max_result_bytes

    def run(self, query: str, *, default_graph_uris: list[str] | None = None,
            named_graph_uris: list[str] | None = None, timeout: float, result_format: str = "json",
            max_rows: int | None = None, max_bytes: int | None = None, store_path: Path | None = None,
            describe: executor.Describe | None = None) -> executor.ExecResult:
        request = executor.make_request(
            query, default_graph_uris=default_graph_uris, named_graph_uris=named_graph_uris,
            result_format=result_format, union_default_graph=False,
            max_rows=min(self.max_rows, max_rows or self.max_rows),
            max_bytes=min(self.max_bytes, max_bytes or self.max_bytes), describe=describe)
        started = time.monotonic()
        header, body = executor.answer(ox, self.store, request, self.options)
        return executor.read_reply(header, body, time.monotonic() - started)


_runners: dict[Path, InProcess] = {}
_runners_lock = threading.Lock()


def in_process_pool(release: Release, settings: Settings, lane: object = None) -> InProcess:
    """What ``service._pool(release, settings, lane)`` returns, one per release for every lane:
    the store opened once, not per request."""
    with _runners_lock:
        runner = _runners.get(release.path)
        if runner is None:
            runner = _runners[release.path] = InProcess(release, settings)
        return runner


engine._pool = in_process_pool  # type: ignore[assignment]
app = create_app()
