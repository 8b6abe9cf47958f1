"""The editor's server side: the completion index built with the release and /query/complete, and
the page with or without the editor bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kusei.completion_index import INDEX_FILE

pytestmark = pytest.mark.system

KANAZAWA = "https://w3id.org/kusei/id/area/141089"


def items(client: FlaskClient, kind: str, prefix: str) -> list[dict]:
    response = client.get("/query/complete", query_string={"kind": kind, "prefix": prefix})
    assert response.status_code == 200
    return list(response.get_json()["items"])


def test_the_release_holds_a_completion_index(data_dir: Path) -> None:
    index = json.loads((data_dir / "current" / INDEX_FILE).read_text(encoding="utf-8"))
    kinds = {t["kind"] for t in index["terms"]}
    assert kinds == {"class", "property"}
    measure = next(t for t in index["terms"] if t["iri"].endswith("/def/Measure"))
    assert measure["ja"] == "施策" and measure["en"] and measure["uses"] > 0
    assert {r["type"] for r in index["resources"]} >= {"Ward", "Plan", "Measure", "PolicyArea"}


def test_prefixes_known_to_the_endpoint(client: FlaskClient) -> None:
    found = items(client, "prefix", "sk")
    assert [i["label"] for i in found] == ["skos:"]
    assert found[0]["iri"] == "http://www.w3.org/2004/02/skos/core#"
    assert len(items(client, "prefix", "")) >= 10


def test_classes_and_properties_ranked_by_use_with_labels(client: FlaskClient) -> None:
    classes = items(client, "class", "kusei:")
    assert classes and all(i["kind"] == "class" for i in classes)
    uses = [i["uses"] for i in classes]
    assert uses == sorted(uses, reverse=True) and uses[0] > uses[-1]
    measure = next(i for i in items(client, "class", "kusei:Mea") if i["label"] == "kusei:Measure")
    assert (measure["ja"], measure["namespace"]) == ("施策", "https://w3id.org/kusei/def/")
    properties = items(client, "property", "kusei:pla")
    assert properties[0]["label"] == "kusei:plan" and all(i["kind"] == "property" for i in properties)
    # A Japanese label finds the term too.
    assert "kusei:Measure" in [i["label"] for i in items(client, "term", "施策")]


def test_resources_by_label(client: FlaskClient) -> None:
    found = items(client, "resource", "金沢")
    assert found[0]["iri"] == KANAZAWA and found[0]["type"] == "Ward" and found[0]["label"] == "金沢区"
    assert any(i["type"] == "Plan" for i in found)
    # Folded as the search is: katakana typed as hiragana, half-width as full-width.
    assert items(client, "resource", "kanazawa")[0]["iri"] == KANAZAWA
    assert items(client, "resource", "") == []


def test_bad_kind_is_a_clear_400(client: FlaskClient) -> None:
    response = client.get("/query/complete?kind=everything&prefix=x")
    assert response.status_code == 400
    assert "kind=" in response.get_data(as_text=True)


def test_page_uses_the_editor_bundle_only_where_it_was_built(app: Flask, tmp_path: Path) -> None:
    static = tmp_path / "static"
    static.mkdir()
    app.static_folder = str(static)
    html = app.test_client().get("/query").get_data(as_text=True)
    assert "editor.js" not in html and '<textarea id="query"' in html
    (static / "editor.js").write_text("/* built */", encoding="utf-8")
    html = app.test_client().get("/query").get_data(as_text=True)
    assert 'src="/static/editor.js"' in html and "editor-licences.txt" in html
