"""Search by reading and by facet: the readings the build writes into the index, facets with
counts, snippets around the match, a suggestion when nothing is found."""

from __future__ import annotations

import json
from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient

from kusei.search_index import INDEX_FILE

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# The readings the issue asks for, in hiragana and katakana.
WORDS = {"防災": ("ぼうさい", "ボウサイ"), "子育て": ("こそだて", "コソダテ"), "金沢": ("かなざわ", "カナザワ")}


def entries(app: Flask) -> list[dict]:
    path = app.extensions["kusei_release"].latest().path / INDEX_FILE
    return json.loads(path.read_text(encoding="utf-8"))["entries"]


def search(client: FlaskClient, query: str, **filters: str) -> dict:
    response = client.get("/search.json", query_string={"q": query, **filters})
    assert response.status_code == 200
    return response.get_json()


def test_kana_readings_find_the_kanji(client: FlaskClient, app: Flask) -> None:
    for word, readings in WORDS.items():
        holding = {e["iri"] for e in entries(app) if any(word in t for t in e["titles"] + e["texts"])}
        assert holding, word
        by_kanji = {h["iri"] for h in search(client, word)["results"]}
        for reading in readings:
            result = search(client, reading)
            found = {h["iri"] for h in result["results"]}
            assert holding <= found or result["total"] > len(result["results"]), (word, reading)
            assert by_kanji <= found, (word, reading)
            # The kanji the reading matched is what the snippet or title marks.
            assert any(word in "".join(h["highlights"]) for h in result["results"]), (word, reading)


def test_readings_are_in_the_index_not_computed_per_request(app: Flask) -> None:
    read = [r for e in entries(app) for r in e["read_titles"] + e["read_texts"] if r]
    assert read
    for reading, words in read:
        assert reading and words[0][0] == 0
        assert [r for r, _ in words] == sorted(r for r, _ in words)
    from kusei.endpoint.web.pages import search as server_search

    assert "sudachi" not in open(server_search.__file__, encoding="utf-8").read().lower()


def test_facets_count_what_choosing_them_gives(client: FlaskClient) -> None:
    result = search(client, "ぼうさい")
    assert set(result["facets"]) == {"type", "ward", "year", "area"}
    for name, values in result["facets"].items():
        assert values
        for value in values:
            narrowed = search(client, "ぼうさい", **{name: value["value"]})
            assert narrowed["total"] == value["count"], (name, value)
    # Two facets together narrow further, and the facets then count within the other choice.
    ward = result["facets"]["ward"][0]["value"]
    year_counts = {v["value"]: v["count"] for v in search(client, "ぼうさい", ward=ward)["facets"]["year"]}
    for year, count in year_counts.items():
        assert search(client, "ぼうさい", ward=ward, year=year)["total"] == count


def test_the_snippet_is_not_the_title_again(client: FlaskClient) -> None:
    for query in ("こそだて", "防災", "いっずん"):
        for hit in search(client, query)["results"]:
            assert hit["snippet"] != hit["title"], hit


def test_a_suggestion_when_nothing_is_found(client: FlaskClient) -> None:
    result = search(client, "ぼうさいざざざざ")
    assert result["total"] == 0 and result["suggestion"]
    assert search(client, result["suggestion"]["query"])["total"] == result["suggestion"]["count"] > 0
    page = client.get("/search?q=" + quote("ぼうさいざざざざ"), headers={"Accept": BROWSER}).get_data(as_text=True)
    assert 'class="suggestion"' in page
    # The facet links of a search page are variations of it, kept out of crawls.
    page = client.get("/search?q=" + quote("ぼうさい"), headers={"Accept": BROWSER}).get_data(as_text=True)
    assert 'class="facets"' in page and page.count('rel="nofollow"') >= 4
