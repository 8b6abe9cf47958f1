"""Every example query of the query page answers, over HTTP, with at least one result."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from kusei.endpoint.web.pages.query import QUERIES_DIR, load_examples

EXAMPLES = sorted(QUERIES_DIR.glob("*.rq"))


def test_there_are_enough_examples_with_titles() -> None:
    assert len(EXAMPLES) >= 12
    for example in load_examples():
        assert example.title != example.id and example.title_ja and example.description, example.id


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_returns_results(server_url: str, path: Path) -> None:
    query = path.read_text(encoding="utf-8")
    response = requests.get(
        server_url + "/sparql",
        params={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    data = response.json()
    if "boolean" in data:
        assert data["boolean"] is True
    else:
        assert data["results"]["bindings"], f"{path.name} returned no rows"
