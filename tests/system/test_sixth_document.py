"""A sixth document grows everything downstream with no code change.

A copy of the graph input gets a fictitious FY2025 plan of 青葉区 (a ward with no plan in the data),
written for the tests (tests/records_data/); it passes verify, builds, and shows on the home, ward,
plan, search, comparison and browse pages, in SPARQL answers, the dumps and the manifest.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from graph_input import copy_input

from kusei.endpoint.web.app import create_app
from kusei.graph.build import BuildResult, build
from kusei.graph.input.reference import Reference
from kusei.graph.input.verify import RECORDS_DIR, check_input
from kusei.settings import Settings

pytestmark = [pytest.mark.system, pytest.mark.records]  # builds through the SHACL gate

DATA = Path(__file__).resolve().parent.parent / "records_data"
SIXTH = "005_84d6b909dfe8435b"
WARD, YEAR = "141178", 2025
PLAN = f"/id/plan/{WARD}/{YEAR}"
GOAL = "みどりの丘で、みんなが笑顔になる青葉区"
BROWSER = "text/html,application/xhtml+xml"


@pytest.fixture(scope="module")
def six(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    base = tmp_path_factory.mktemp("six")
    records = copy_input(base / "input")
    shutil.copy(DATA / f"{SIXTH}.yaml", records / f"{SIXTH}.yaml")
    shutil.copy(DATA / f"{SIXTH}.txt", records.parent / "sources" / f"{SIXTH}.txt")
    result = build(Settings(data_dir=base / "data"), records_dir=records, report=lambda _: None)
    return records, result


@pytest.fixture(scope="module")
def client(six: tuple[Path, BuildResult]) -> FlaskClient:
    app = create_app(Settings(data_dir=six[1].path.parent.parent))
    app.config["TESTING"] = True
    return app.test_client()


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path, headers={"Accept": BROWSER})
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def test_the_sixth_record_passes_verify_and_is_built(six: tuple[Path, BuildResult]) -> None:
    records, result = six
    paths = sorted(records.glob("*.yaml"))
    outcome = check_input(paths, records.parent / "sources", Reference())
    assert [str(e) for e in outcome.errors] == []
    assert not [n for n in outcome.notes if n.startswith(SIXTH)], "the test document is transcribed in full"
    manifest = json.loads((result.path / "release.json").read_text(encoding="utf-8"))
    assert len(manifest["documents"]) == len(list(RECORDS_DIR.glob("*.yaml"))) + 1
    assert manifest["documents"]["84d6b909dfe8435b"] == f"{SIXTH}.yaml"
    assert (result.path / "sources" / f"{SIXTH}.txt").is_file()
    nquads = gzip.decompress((result.path / "dumps" / "kusei.nq.gz").read_bytes()).decode("utf-8")
    assert f"<https://w3id.org/kusei{PLAN}>" in nquads and GOAL in nquads


def test_the_sixth_plan_is_on_the_pages(client: FlaskClient) -> None:
    home = page(client, "/")
    assert f'href="/ward/{WARD}"' in home
    ward = page(client, f"/ward/{WARD}")
    assert f'href="{PLAN}"' in ward and GOAL in ward
    plan = page(client, PLAN)
    for text in (GOAL, "坂のまちの見守り", "青葉の森を未来へ", "どんぐり植樹デー"):
        assert text in plan
    assert "どんぐり植樹デー" in page(client, f"{PLAN}/measure/2/project/1")
    found = re.sub(r"<[^>]+>", "", page(client, "/search?q=" + quote("どんぐり")))  # hits are marked up
    assert "どんぐり植樹デー" in found
    assert PLAN in page(client, "/id/plan/")
    assert "坂のまちの見守り" in page(client, "/compare?plan=" + quote(f"https://w3id.org/kusei{PLAN}"))


def test_the_sixth_plan_answers_queries(client: FlaskClient) -> None:
    query = ("PREFIX kusei: <https://w3id.org/kusei/def/> PREFIX dcterms: <http://purl.org/dc/terms/> "
             "SELECT ?plan ?title WHERE { ?plan a kusei:Plan ; kusei:basicGoal/dcterms:title ?title ; "
             f"dcterms:spatial <https://w3id.org/kusei/id/area/{WARD}> }}")
    response = client.get("/sparql", query_string={"query": query},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    rows = response.get_json()["results"]["bindings"]
    assert [(r["plan"]["value"], r["title"]["value"]) for r in rows] == [(f"https://w3id.org/kusei{PLAN}", GOAL)]
    count = client.get("/sparql", query_string={"query": "PREFIX kusei: <https://w3id.org/kusei/def/> "
                                                         "SELECT (COUNT(?p) AS ?n) WHERE { ?p a kusei:Plan }"},
                       headers={"Accept": "application/sparql-results+json"})
    assert int(count.get_json()["results"]["bindings"][0]["n"]["value"]) == len(list(RECORDS_DIR.glob("*.yaml"))) + 1
