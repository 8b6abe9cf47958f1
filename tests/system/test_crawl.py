"""A crawl of the whole site from the home page, as a browser's user or a search engine would
follow it: every link in every page (query pages included) must answer 2xx.

A redirect counts by the page it leads to. Links marked ``rel="nofollow"`` (sorted variants of a
query result) are fetched and checked too, but not followed further: that is what keeps the
crawl, and crawlers, finite.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
import requests

pytestmark = [pytest.mark.system, pytest.mark.slow]

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# Attributes that make the browser fetch or navigate to a URL.
LINK_ATTRIBUTES = {"a": "href", "link": "href", "script": "src", "img": "src", "form": "action"}


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, bool]] = []  # (url, followed)
        self.noindex = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and (values.get("name") or "").lower() == "robots":
            self.noindex = "noindex" in (values.get("content") or "")
        name = LINK_ATTRIBUTES.get(tag)
        target = values.get(name) if name else None
        if target is None or (tag == "link" and values.get("rel") in ("preconnect", "dns-prefetch")):
            return
        if tag == "form" and (values.get("method") or "get").lower() != "get":
            return
        self.found.append((target, "nofollow" not in (values.get("rel") or "").split()))


def crawl(server_url: str) -> tuple[dict[str, int], dict[str, str], int]:
    """Status of every URL reached, where each was first linked from, and the number of links seen."""
    session = requests.Session()
    session.headers["Accept"] = BROWSER
    status: dict[str, int] = {}
    linked_from: dict[str, str] = {"/": "(start)"}
    links_seen = 0
    frontier: list[tuple[str, bool]] = [("/", True)]
    # What the sitemap lists is linked too, for crawlers.
    sitemap = session.get(server_url + "/sitemap.xml", timeout=120)
    assert sitemap.status_code == 200
    for loc in re.findall(r"<loc>([^<]+)</loc>", sitemap.text):
        local = loc[len(server_url):] if loc.startswith(server_url) else loc
        if local not in linked_from:
            linked_from[local] = "/sitemap.xml"
            frontier.append((local, True))

    def fetch(item: tuple[str, bool]) -> tuple[str, bool, int, str | None]:
        path, follow = item
        # A redirect (/sparql sends browsers to the query page) counts by where it leads.
        response = session.get(server_url + path, timeout=120)
        is_html = response.headers.get("Content-Type", "").startswith("text/html")
        return path, follow, response.status_code, response.text if is_html and follow else None

    with ThreadPoolExecutor(max_workers=4) as pool:
        while frontier:
            batch, frontier = frontier, []
            for path, follow, code, body in pool.map(fetch, batch):
                status[path] = code
                if body is None or not 200 <= code < 300:
                    continue
                parser = Links()
                parser.feed(body)
                for target, followed in parser.found:
                    links_seen += 1
                    url = urldefrag(urljoin(server_url + path, target))[0]
                    parts = urlsplit(url)
                    if parts.scheme not in ("http", "https") or f"{parts.scheme}://{parts.netloc}" != server_url:
                        continue  # other sites are not ours to check here
                    local = url[len(server_url):] or "/"
                    if local in status or local in linked_from:
                        continue
                    linked_from[local] = path
                    frontier.append((local, followed and follow))
    return status, linked_from, links_seen


def test_every_link_of_every_page_answers_2xx(server_url: str) -> None:
    status, linked_from, links_seen = crawl(server_url)
    failures = sorted((code, path, linked_from[path]) for path, code in status.items() if not 200 <= code < 300)
    print(f"crawl: {len(status)} URLs from {links_seen} links; {len(failures)} not 2xx")
    assert not failures, "\n".join(f"{code} {path[:200]} (linked from {source[:120]})"
                                   for code, path, source in failures[:40])
    # The crawl reached the parts of the site people use, query pages included.
    for prefix in ("/ward/", "/id/plan/", "/def/", "/query?", "/compare", "/dumps/", "/search"):
        assert any(path.startswith(prefix) for path in status), prefix
