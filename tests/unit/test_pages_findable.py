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
