"""What crawlers and link followers meet: no link that cannot answer, variants kept out of indexes,
robots.txt, sitemap.xml and the per-page description."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from flask.testing import FlaskClient

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path, headers={"Accept": BROWSER})
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_query_page_links_only_downloads_that_answer(client: FlaskClient) -> None:
    for query, kind in (("SELECT ?p WHERE { ?p a kusei:Plan }", "table"),
                        ("CONSTRUCT { ?p a kusei:Plan } WHERE { ?p a kusei:Plan }", "graph")):
        html = page(client, "/query?" + urlencode({"query": query}))
        hrefs = re.findall(r'<a href="([^"]+)" data-format="([^"]+)"', html)
        formats = {fmt for _, fmt in hrefs}
        assert formats == ({"csv", "csv-bom", "tsv", "json"} if kind == "table" else {"ttl", "nt", "jsonld"})
        for href, _ in hrefs:
            response = client.get(href.replace("&amp;", "&"))
            assert response.status_code == 200, (href, response.status_code)


def test_sorted_and_paged_query_variants_are_kept_out_of_indexes(client: FlaskClient) -> None:
    query = "SELECT ?p WHERE { ?p a kusei:Plan }"
    plain = page(client, "/query?" + urlencode({"query": query}))
    assert 'name="robots"' not in plain
    assert re.search(r'<a class="sort" href="[^"]+" rel="nofollow"', plain)
    for variant in ({"sort": "p", "order": "desc"}, {"page": 2}):
        html = page(client, "/query?" + urlencode({"query": query, **variant}))
        assert '<meta name="robots" content="noindex">' in html


def _meta(html: str, attribute: str, name: str) -> str | None:
    found = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)">', html)
    return found.group(1) if found else None


def test_each_page_describes_itself_for_search_engines_and_previews(client: FlaskClient) -> None:
    paths = ["/", "/ward/141089", "/ward/141089/years", "/compare", "/def/", "/id/", "/dumps/",
             "/id/plan/141089/2024", "/id/plan/141089/2024/measure/3", "/search?q=" + "防災"]
    descriptions = {}
    for path in paths:
        html = page(client, path)
        description = _meta(html, "name", "description")
        assert description and len(description) > 20, path
        assert _meta(html, "property", "og:description") == description
        title = re.search(r"<title>(.*?) · Kusei</title>", html).group(1)
        assert _meta(html, "property", "og:title") == title, path
        assert _meta(html, "property", "og:url", ).endswith(path.split("?")[0])
        assert _meta(html, "property", "og:site_name") and _meta(html, "property", "og:type")
        descriptions[path] = description
    # Pages of one kind say different things about different resources.
    assert len(set(descriptions.values())) == len(paths)
    assert "暮らしの安全・安心" in descriptions["/id/plan/141089/2024/measure/3"]


def test_robots_txt_keeps_query_variants_out_and_points_to_the_sitemap(client: FlaskClient) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "Disallow: /query?" in text and "Disallow: /search" in text
    sitemap_url = re.search(r"^Sitemap: (\S+)$", text, flags=re.M).group(1)
    assert sitemap_url.endswith("/sitemap.xml")


def test_sitemap_lists_the_resource_pages_and_each_answers(client: FlaskClient, app) -> None:
    import xml.etree.ElementTree as ET

    from kusei.release import open_store

    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    locs = [el.text for el in root.iter(ns + "loc")]
    paths = [loc.removeprefix("http://localhost") for loc in locs]
    assert len(paths) == len(set(paths))
    release = app.extensions["kusei_release"].latest()
    plans = [s["p"].value for s in open_store(release.path).query(
        f"SELECT ?p WHERE {{ ?p a <{release.base}/def/Plan> }}")]
    for plan in plans:
        assert plan[len(release.base):] in paths
    assert not any(p.startswith("/query?") or "#" in p for p in paths)
    for path in paths:
        assert client.get(path, headers={"Accept": BROWSER}).status_code == 200, path
