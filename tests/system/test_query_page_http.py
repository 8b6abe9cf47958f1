"""The query page's server-side paging and the Excel CSV download, over HTTP from a real server.

Over HTTP because the session's server has query processes of its own, configured with
the default limits; in-process apps of other tests may share one pool with smaller ones.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
import requests

pytestmark = pytest.mark.system

BROWSER = {"Accept": "text/html"}


def test_csv_with_bom_for_excel(server_url: str) -> None:
    csv_plain = requests.get(server_url + "/sparql", params={"query": "SELECT ?s WHERE { ?s a kusei:Ward }",
                                                              "format": "csv"}, timeout=120)
    response = requests.get(server_url + "/query/download", params={"query": "SELECT ?s WHERE { ?s a kusei:Ward }",
                                                                     "format": "csv-bom"}, timeout=120)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    # The same CSV as /sparql gives, with the byte-order mark in front.
    assert response.content == b"\xef\xbb\xbf" + csv_plain.content
    assert response.content.count(b"\r\n") == 19  # header and Yokohama's 18 wards


def test_query_results_are_paged(server_url: str) -> None:
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 250"
    first = requests.get(server_url + "/query?query=" + quote(query), headers=BROWSER, timeout=120).text
    third = requests.get(server_url + "/query?query=" + quote(query) + "&page=3", headers=BROWSER, timeout=120).text
    assert "250 行" in first and "1–100 行目を表示" in first and "201–250 行目を表示" in third
    assert third.count("<tr><td>") == 50
    assert 'rel="next"' in first and 'rel="prev"' in third and 'rel="next"' not in third
