"""A broken release is never served: the last good one is, and the server says so (issue 17.3).

Two good releases are built; copies of one are then broken part by part (empty or missing
release.json, no store, a dump missing, a dump truncated) and published by pointing ``current``
at them, as a build's switch does. A running server goes on answering from the release it
served, names the problem in its service description and its log, and moves on as soon as a good
release is published. A server started on a broken release serves the newest good one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from graph_input import copy_input, point_current

from kusei.graph.build import build
from kusei.settings import DEFAULT_BASE, Settings

pytestmark = pytest.mark.system

EXEMPLAR = "000_a9155f3b6863ac96.yaml"
QUERY = f"""PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?modified WHERE {{ GRAPH ?g {{ <{DEFAULT_BASE}/id/dataset/kusei> dct:modified ?modified }} }}"""


def _empty_manifest(release: Path) -> None:
    (release / "release.json").write_bytes(b"")


def _no_manifest(release: Path) -> None:
    (release / "release.json").unlink()


def _no_store(release: Path) -> None:
    shutil.rmtree(release / "store")


def _no_dump(release: Path) -> None:
    (release / "dumps" / "kusei.nt").unlink()


def _short_dump(release: Path) -> None:
    with (release / "dumps" / "kusei.ttl").open("r+b") as handle:
        handle.truncate(10)


BREAKS = [_empty_manifest, _no_manifest, _no_store, _no_dump, _short_dump]


def _modified(url: str) -> str:
    response = requests.get(f"{url}/sparql", params={"query": QUERY, "format": "json"}, timeout=120)
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"][0]["modified"]["value"]


def _description(url: str) -> str:
    response = requests.get(f"{url}/sparql", headers={"Accept": "text/turtle"}, timeout=120)
    assert response.status_code == 200
    return response.text


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A data directory with two good releases: (directory, id of the 2026 one, id of the 2027 one)."""
    tmp = tmp_path_factory.mktemp("fallback")
    records = copy_input(tmp / "input", [EXEMPLAR])
    data_dir = tmp / "data"
    quiet = lambda _: None  # noqa: E731
    old = build(Settings(data_dir=data_dir, modified="2026-11-23"), records_dir=records, report=quiet)
    new = build(Settings(data_dir=data_dir, modified="2027-02-01"), records_dir=records, report=quiet)
    return data_dir, old.release_id, new.release_id


def test_a_running_server_keeps_the_last_good_release(releases: tuple[Path, str, str],
                                                      start_server: Callable[..., str]) -> None:
    data_dir, old, new = releases
    point_current(data_dir, old)
    url = start_server(data_dir)
    assert _modified(url) == "2026-11-23"
    assert "broken" not in _description(url)
    for breaks in BREAKS:
        name = f"broken{breaks.__name__}"
        shutil.copytree(data_dir / "releases" / new, data_dir / "releases" / name)
        breaks(data_dir / "releases" / name)
        point_current(data_dir, name)
        assert _modified(url) == "2026-11-23", breaks.__name__
        assert f"({name}) is broken" in _description(url), breaks.__name__
        assert requests.get(f"{url}/dumps/kusei.nt", timeout=120).status_code == 200
    point_current(data_dir, new)  # a good release again: served at once
    assert _modified(url) == "2027-02-01"
    assert "broken" not in _description(url)


def test_a_server_started_on_a_broken_release_serves_the_newest_good_one(
        releases: tuple[Path, str, str], start_server: Callable[..., str]) -> None:
    data_dir, old, new = releases
    name = "broken-at-start"
    shutil.copytree(data_dir / "releases" / new, data_dir / "releases" / name)
    _empty_manifest(data_dir / "releases" / name)
    os.utime(data_dir / "releases" / old)  # the newest good one by time, as the build leaves it
    point_current(data_dir, name)
    url = start_server(data_dir)
    assert _modified(url) == "2026-11-23"
    assert f"({name}) is broken" in _description(url)
