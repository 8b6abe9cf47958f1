"""Settings shared by the build and the server: environment variables, overridable by CLI flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_BASE = "https://w3id.org/kusei"
# The documents print no licence; CC BY 4.0 is what the city states for its open data unless
# noted otherwise. It is a default to be confirmed by the publisher, not an established fact.
DEFAULT_LICENCE = "https://creativecommons.org/licenses/by/4.0/"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("KUSEI_DATA_DIR", "var")))
    base: str = field(default_factory=lambda: os.environ.get("KUSEI_BASE", DEFAULT_BASE).rstrip("/"))
    # Where the dataset's dumps and endpoint are published; defaults to the base.
    public_url: str = field(default_factory=lambda: os.environ.get("KUSEI_PUBLIC_URL", "").rstrip("/"))
    licence: str = field(default_factory=lambda: os.environ.get("KUSEI_LICENCE", DEFAULT_LICENCE))
    # The release date stated in the dataset description; fixed so builds are reproducible.
    modified: str = field(default_factory=lambda: os.environ.get("KUSEI_MODIFIED", "2026-11-23"))
    host: str = field(default_factory=lambda: os.environ.get("KUSEI_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: _int("KUSEI_PORT", 8000))
    workers: int = field(default_factory=lambda: _int("KUSEI_WORKERS", 2))
    query_timeout: float = field(default_factory=lambda: _float("KUSEI_QUERY_TIMEOUT", 30.0))
    max_query_length: int = field(default_factory=lambda: _int("KUSEI_MAX_QUERY_LENGTH", 20_000))
    max_body_bytes: int = field(default_factory=lambda: _int("KUSEI_MAX_BODY_BYTES", 100_000))
    max_result_rows: int = field(default_factory=lambda: _int("KUSEI_MAX_RESULT_ROWS", 100_000))
    max_result_bytes: int = field(default_factory=lambda: _int("KUSEI_MAX_RESULT_BYTES", 50_000_000))
    # Memory per server process for answers to repeated queries (0 turns the cache off).
    result_cache_bytes: int = field(default_factory=lambda: _int("KUSEI_RESULT_CACHE_BYTES", 64 << 20))
    max_concurrent_queries: int = field(default_factory=lambda: _int("KUSEI_MAX_CONCURRENT_QUERIES", 8))
    # Memory bounds (bytes): one query process while it answers (the query is stopped past it:
    # 422); the server's whole process tree (the largest running query is stopped: 503); a query
    # process after a query (replaced if it kept more, so idle processes give memory back).
    # 0 turns a bound off.
    max_query_memory: int = field(default_factory=lambda: _int("KUSEI_MAX_QUERY_MEMORY", 1 << 30))
    max_server_memory: int = field(default_factory=lambda: _int("KUSEI_MAX_SERVER_MEMORY", 4 << 30))
    max_idle_worker_memory: int = field(default_factory=lambda: _int("KUSEI_MAX_IDLE_WORKER_MEMORY", 384 << 20))
    # Queries per client address on /sparql, in flask-limiter notation ("120/minute"); empty = off.
    rate_limit: str = field(default_factory=lambda: os.environ.get("KUSEI_RATE_LIMIT", "").strip())

    @property
    def published_at(self) -> str:
        return self.public_url or self.base

    def with_overrides(self, **values: object) -> Settings:
        return replace(self, **{k: v for k, v in values.items() if v is not None})
