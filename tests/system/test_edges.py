"""Every 200 is well-formed and every edge is answered (issue 17.7), against a real server.

Raw sockets where a client library would tidy the request up (no Host, two Hosts).
"""

from __future__ import annotations

import shutil
import socket
import xml.dom.minidom
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

pytestmark = pytest.mark.system


def _raw(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as it is and read the answer until the server closes the connection."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


@pytest.fixture(scope="module")
def own_server(data_dir: Path, tmp_path_factory: pytest.TempPathFactory,
               start_server: Callable[..., str]) -> tuple[str, Path]:
    """A server on a copy of the data directory, so a test may take a file away."""
    copy = tmp_path_factory.mktemp("edges") / "data"
    shutil.copytree(data_dir, copy, symlinks=True)
    return start_server(copy), copy


@pytest.mark.parametrize(("query", "fmt"), [
    ('SELECT ?x WHERE { BIND("a\\u0000b" AS ?x) }', "xml"),
    ('SELECT ?x WHERE { BIND("a\\u0001b" AS ?x) }', "xml"),
    ('SELECT ?x WHERE { BIND("a\\uFFFEb" AS ?x) }', "xml"),
    ('CONSTRUCT { <http://example.org/a> <http://example.org/b> "a\\u0000b" } WHERE {}', "rdf"),
])
def test_xml_never_carries_what_xml_cannot(own_server: tuple[str, Path], query: str, fmt: str) -> None:
    url, _ = own_server
    response = requests.get(f"{url}/sparql", params={"query": query, "format": fmt}, timeout=60)
    # Refused, naming the character; never a 200 no XML parser reads.
    assert response.status_code == 406, response.text[:300]
    character = query.split("\\u")[1][:4].upper()
    assert f"U+{character}" in response.text
    # The same answer in a format that can carry it is a 200.
    other = requests.get(f"{url}/sparql", params={"query": query, "format": "json" if fmt == "xml" else "nt"},
                         timeout=60)
    assert other.status_code == 200


def test_xml_with_tab_and_newline_stays_well_formed(own_server: tuple[str, Path]) -> None:
    url, _ = own_server
    response = requests.get(f"{url}/sparql", params={"query": 'SELECT ?x WHERE { BIND("a\\tb\\nc" AS ?x) }',
                                                     "format": "xml"}, timeout=60)
    assert response.status_code == 200
    xml.dom.minidom.parseString(response.content)  # raises if not well-formed


def test_http11_without_host_is_400(own_server: tuple[str, Path]) -> None:
    url, _ = own_server
    status, _, _ = _raw(url, b"GET /dumps/ HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert status == 400


def test_http10_without_host_is_served(own_server: tuple[str, Path]) -> None:
    url, _ = own_server
    status, _, _ = _raw(url, b"GET /dumps/ HTTP/1.0\r\n\r\n")
    assert status == 200


def test_two_hosts_are_400_never_an_empty_location(own_server: tuple[str, Path]) -> None:
    url, _ = own_server
    status, headers, _ = _raw(url, b"GET /dumps HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n"
                                   b"Connection: close\r\n\r\n")
    assert status == 400
    assert "location" not in headers


def test_redirect_reflects_no_host(own_server: tuple[str, Path]) -> None:
    url, _ = own_server
    status, headers, body = _raw(url, b"GET /dumps HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
    assert status == 308
    assert headers["location"] == "/dumps/"
    assert b"evil" not in body and "evil" not in "".join(headers.values())


def test_malformed_host_is_400_and_not_echoed(own_server: tuple[str, Path]) -> None:
    url, _ = own_server
    status, _, body = _raw(url, b"GET /dumps HTTP/1.1\r\nHost: x<script>y\r\nConnection: close\r\n\r\n")
    assert status == 400
    assert b"script" not in body


@pytest.mark.parametrize("ranges", ["bytes=0-0,-1", "bytes=0-9,5-20", "bytes=0-0,999999999-"])
def test_several_ranges_get_the_whole_file(own_server: tuple[str, Path], ranges: str) -> None:
    url, data = own_server
    response = requests.get(f"{url}/dumps/kusei.nt", headers={"Range": ranges}, timeout=60)
    assert response.status_code == 200
    assert len(response.content) == (data / "current" / "dumps" / "kusei.nt").stat().st_size


def test_one_range_still_gets_206(own_server: tuple[str, Path]) -> None:
    url, _ = own_server
    response = requests.get(f"{url}/dumps/kusei.nt", headers={"Range": "bytes=0-9"}, timeout=60)
    assert response.status_code == 206 and len(response.content) == 10


def test_a_dump_file_gone_missing_is_404(own_server: tuple[str, Path]) -> None:
    url, data = own_server
    # Listed first, so the server knows the file; then it goes.
    assert requests.get(f"{url}/dumps/", params={"format": "json"}, timeout=60).status_code == 200
    (data / "current" / "dumps" / "kusei.nt.gz").unlink()
    response = requests.get(f"{url}/dumps/kusei.nt.gz", timeout=60)
    assert response.status_code == 404
    assert requests.get(f"{url}/dumps/kusei.ttl", timeout=60).status_code == 200


def test_quoted_query_in_a_redirect_is_kept(own_server: tuple[str, Path]) -> None:
    url, _ = own_server
    target = "/dumps?format=" + quote("json")
    response = requests.get(url + target, allow_redirects=False, timeout=60)
    assert response.status_code == 308
    assert response.headers["Location"] == "/dumps/?format=json"


def test_a_large_answer_is_sent_whole_plain_or_gzipped_and_revalidates(own_server: tuple[str, Path]) -> None:
    """Answers over 1 MiB are sent from a temporary file (issue 17.4: not held by the web worker
    while a slow client reads): the same bytes, gzipped when asked, with working validators."""
    url, _ = own_server
    params = {"query": "SELECT * WHERE { ?s ?p ?o }", "format": "json"}
    plain = requests.get(f"{url}/sparql", params=params, headers={"Accept-Encoding": "identity"}, timeout=120)
    assert plain.status_code == 200 and len(plain.content) > 1 << 20
    assert int(plain.headers["Content-Length"]) == len(plain.content)
    rows = plain.json()["results"]["bindings"]
    zipped = requests.get(f"{url}/sparql", params=params, timeout=120)  # requests asks for gzip
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.content == plain.content  # decoded by requests
    for response in (plain, zipped):
        again = requests.get(f"{url}/sparql", params=params, timeout=120,
                             headers={"If-None-Match": response.headers["ETag"],
                                      "Accept-Encoding": response.headers.get("Content-Encoding", "identity")})
        assert again.status_code == 304
    assert len(rows) > 1000
