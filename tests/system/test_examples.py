"""Every example query of the query page answers, over HTTP, with at least one result."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from kusei.endpoint.web.pages.query import QUERIES_DIR, load_examples
from kusei.graph.build import build
from kusei.settings import Settings

pytestmark = pytest.mark.system

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


OTHER_BASE = "https://data.example.org/kusei"


@pytest.fixture(scope="module")
def other_base_url(tmp_path_factory: pytest.TempPathFactory, start_server: Callable[..., str]) -> str:
    directory = tmp_path_factory.mktemp("other-base")
    build(Settings(data_dir=directory, base=OTHER_BASE), report=lambda _: None)
    return start_server(directory)


def test_served_examples_follow_the_configured_base(other_base_url: str) -> None:
    # Regression: the examples declared PREFIX kusei: <https://w3id.org/kusei/def/> whatever the
    # base, so under another base every one of them matched nothing.
    page = requests.get(other_base_url + "/query", timeout=60)
    assert page.status_code == 200
    served = [html.unescape(q) for q in re.findall(r'data-query="([^"]*)"', page.text)]
    assert len(served) == len(EXAMPLES)
    for query in served:
        assert "w3id.org" not in query
    assert sum(f"<{OTHER_BASE}/def/>" in query for query in served) >= 12
    for query in served:
        response = requests.post(other_base_url + "/sparql", data={"query": query},
                                 headers={"Accept": "application/sparql-results+json"}, timeout=60)
        assert response.status_code == 200, response.text
        data = response.json()
        assert data.get("boolean") is True or data["results"]["bindings"], query[:200]
