"""Run SPARQL queries in child processes, so that a timeout really stops the work.

``Store.query`` cannot be interrupted: an aggregate or a sort over a cross product keeps a core
busy (and, for aggregates, holds the GIL, freezing every other thread of the process) until it
ends, which may be never. So queries run in persistent child processes, one query at a time
each; when a query overruns its timeout the parent SIGKILLs the child, which frees its CPU and
memory at once, and a fresh child takes its place.

- ``pool``: :class:`QueryExecutor`, the pool a server process keeps (waits, limits, restarts);
- ``process``: one child seen from the pool (start, ask with a deadline, kill, cause of death);
- ``forks``: the fork server the children are forked from (loaded once per server process);
- ``wire``: the frames both sides exchange, written once;
- ``child``: the child's main (``python -m kusei.endpoint.query.executor``);
- ``answer``: evaluation, serialisation and row counting, and the reply read back;
- ``memory``: resident memory of the process tree and the watch that enforces its bounds.

One executor per process: it is thread-safe (threaded server workers share it) but must not
cross a fork, so each server worker creates its own after forking (``kusei.endpoint.query.service``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Eager: the query processes need it, and its name is also a submodule's (importing the submodule
# would otherwise leave ``executor.answer`` naming the module).
from kusei.endpoint.query.executor.answer import (
    Describe,
    ExecResult,
    answer,
    make_request,
    read_reply,
)

if TYPE_CHECKING:
    from kusei.endpoint.query.executor.memory import server_root, tree_memory
    from kusei.endpoint.query.executor.pool import QueryExecutor

# Loaded when first asked for: the fork server and the query processes start as
# ``python -m kusei.endpoint.query.executor``, which runs this file first, and need neither the pool
# nor what it imports (the release manifest, pydantic); the server processes get them on first use.
_LAZY = {"server_root": "memory", "tree_memory": "memory", "QueryExecutor": "pool"}

__all__ = ["Describe", "ExecResult", "QueryExecutor", "answer", "make_request", "read_reply",
           "server_root", "tree_memory"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value
