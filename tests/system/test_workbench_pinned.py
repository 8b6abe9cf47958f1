"""Links that stay true: a share link pins the release; after a new release it still answers from the
old one while it is kept (KUSEI_KEEP_RELEASES), says a newer one exists and links the current
answer; once pruned it says so. Two real builds into a data directory of the test's own, which
differ in the dataset's stated modification date, so the same query answers differently on each.
"""

from __future__ import annotations

import hashlib
import re
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask

from kusei.endpoint.web.app import create_app
from kusei.endpoint.web.pages import pinned
from kusei.graph.build import build
from kusei.graph.release_dir import _prune
from kusei.settings import Settings

pytestmark = [pytest.mark.system, pytest.mark.slow]

QUERY = ("SELECT ?modified WHERE { ?dataset a void:Dataset ; dcterms:modified ?modified }")


def _quiet(_: str) -> None:
    pass


def make_app(data_dir: Path, modified: str, keep: int = 3) -> tuple[Flask, str]:
    settings = Settings(data_dir=data_dir, modified=modified, keep_releases=keep)
    result = build(settings, report=_quiet)
    app = create_app(settings)
    app.config["TESTING"] = True
    return app, result.release_id


def share_link(html: str) -> str:
    match = re.search(r'<a id="share-link" href="([^"]+)"', html)
    assert match, "no share link on a result page"
    return unescape(match.group(1))


def cells(html: str) -> list[str]:
    return re.findall(r'<span class="literal"[^>]*>([^<]*)</span>', html.split('id="results"')[1])


def test_encoding_round_trip_and_bad_links() -> None:
    text = "SELECT * WHERE { ?s rdfs:label \"金沢区\" }"
    assert pinned.decode(pinned.encode(text), 1000) == text
    assert pinned.encode(text) == pinned.encode(text)  # the same query, the same link
    with pytest.raises(pinned.BadLink):
        pinned.decode("not-a-link!!", 1000)
    with pytest.raises(pinned.BadLink):  # a small link must not inflate past the length limit
        pinned.decode(pinned.encode("#" * 50_000), 1000)
    assert pinned.link("0123456789abcdef", "SELECT * {}")  # short: a link
    long_query = "".join(f"# {hashlib.sha256(str(i).encode()).hexdigest()}\n" for i in range(80)) + "SELECT * {}"
    assert pinned.link("0123456789abcdef", long_query) is None


def test_pinned_link_answers_from_its_release_until_pruned(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    app, first = make_app(data_dir, "2026-01-01")
    page = app.test_client().get("/query?" + urlencode({"query": QUERY})).get_data(as_text=True)
    assert f"Computed on release <code>{first}</code>" in page
    link = share_link(page)
    assert link.startswith(f"/q/{first[:10]}/") and len(link) <= pinned.MAX_LINK
    assert cells(page) == ["2026-01-01"]
    # The link on the release it pins: the same answer, named as the current one.
    same = app.test_client().get(link).get_data(as_text=True)
    assert cells(same) == ["2026-01-01"] and "the current one" in same

    # A new release: /query answers from it, the pinned link still from the first.
    app, second = make_app(data_dir, "2026-02-02")
    assert second != first
    now = app.test_client().get("/query?" + urlencode({"query": QUERY})).get_data(as_text=True)
    assert cells(now) == ["2026-02-02"]
    before = app.test_client().get(link)
    html = before.get_data(as_text=True)
    assert before.status_code == 200 and cells(html) == ["2026-01-01"]
    assert f"Computed on release <code>{first}</code>" in html
    assert f"A newer release, <code>{second}</code>, exists" in html
    current = unescape(re.search(r'<a id="current-answer" href="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    assert cells(app.test_client().get(current).get_data(as_text=True)) == ["2026-02-02"]
    # Sorting and paging links stay on the pinned link.
    assert link + "?sort=modified&order=" in unescape(html)
    assert share_link(html) == link

    # Pruned (as the build prunes past KUSEI_KEEP_RELEASES; here down to one release): the link
    # says so (410) and keeps the query, with the way to the current answer.
    _prune(data_dir, data_dir / "releases" / second, 1)
    assert not (data_dir / "releases" / first).exists() and (data_dir / "releases" / second).exists()
    gone = app.test_client().get(link)
    text = gone.get_data(as_text=True)
    assert gone.status_code == 410 and "no longer kept" in text and "dcterms:modified" in text
    assert app.test_client().get(f"/q/{first[:10]}/@@@").status_code == 400


def test_too_long_for_a_link_says_so_and_offers_post(client: object) -> None:
    # Comments of hex digests: text that does not compress below the link's limit.
    noise = "".join(f"# {hashlib.sha256(str(i).encode()).hexdigest()}\n" for i in range(80))
    query = noise + "SELECT ?s WHERE { ?s a kusei:Plan } LIMIT 1"
    html = client.post("/query/share", data={"query": query}).get_json()  # type: ignore[attr-defined]
    assert html["link"] is None and "longer than" in html["reason"]
    page = client.get("/query?" + urlencode({"query": query})).get_data(as_text=True)  # type: ignore[attr-defined]
    assert '<a id="share-link" href="" hidden>' in page
    assert re.search(r'<span id="share-too-long">', page) and 'form="share-post"' in page
    posted = client.post(re.search(r'<form id="share-post" method="post" action="([^"]+)"', page).group(1),  # type: ignore[attr-defined,union-attr]
                         data={"query": query})
    assert posted.status_code == 200 and "Computed on release" in posted.get_data(as_text=True)
