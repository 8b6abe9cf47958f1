"""The plans the served release already publishes, which a new record must not silently replace
(``document.supersedes``; :func:`kusei.graph.input.verify.check_input`)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from pathlib import Path

from kusei.namespaces import terms
from kusei.release import current_link, open_store, read_manifest


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def published_plans(data_dir: Path, report: Callable[[str], None] = _stderr) -> dict[str, str]:
    """The plans of the release ``current`` serves now: ``ward/year`` → document id (none if no release)."""
    release = current_link(data_dir)
    try:
        manifest = read_manifest(release)
        if manifest is None:
            return {}
        store = open_store(release)
        t = terms(manifest.base)
        rows = store.query(f"SELECT ?plan ?doc WHERE {{ GRAPH ?g {{ ?plan a {t.kusei('Plan')} ; "
                           f"{t.kusei('sourceDocument')} ?doc }} }}")
        plans = {row["plan"].value.split("/id/plan/", 1)[-1]: row["doc"].value.rsplit("/", 1)[-1]
                 for row in rows}  # type: ignore[union-attr,index]
        del store
        gc.collect()
    except (OSError, RuntimeError, ValueError) as exc:
        # A broken release must not stop the build that replaces it; the check is skipped, loudly.
        report(f"  warning: cannot read the plans {release} publishes ({exc}); records are not checked "
               "against them (document.supersedes)")
        return {}
    return plans
