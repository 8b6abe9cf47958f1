"""The query service's pools are made from the settings of the app that asks (issue 19: one pool
per process, made by whichever app came first, had no limits of its own: max_rows=2**62)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kusei.endpoint.query import service
from kusei.endpoint.query.errors import ResultTooLarge
from kusei.release import CurrentRelease
from kusei.settings import Settings

FIVE_ROWS = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 5"


def test_each_settings_gets_a_pool_with_its_own_limits(data_dir: Path) -> None:
    release = CurrentRelease(data_dir).latest()
    roomy = Settings(data_dir=data_dir)
    tight = Settings(data_dir=data_dir, max_result_rows=3)
    pool = service._pool(release, roomy, service.Lane.SPARQL)
    assert service._pool(release, roomy, service.Lane.SPARQL) is pool
    small = service._pool(release, tight, service.Lane.SPARQL)
    assert small is not pool
    assert service.pool_stats() is not None and small.stats() == service.pool_stats()
    # The pool's own limit holds even for a caller that passes none.
    assert pool.run(FIVE_ROWS, timeout=30).rows == 5
    with pytest.raises(ResultTooLarge):
        small.run(FIVE_ROWS, timeout=30)
