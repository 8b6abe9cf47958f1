"""Static files (stylesheet, scripts, icon) go the way every other answer goes: compressed when the
client accepts gzip, with an ETag (the content's SHA-256) and Vary, and a 304 when the client holds
either the plain or the gzipped bytes. Against a real `kusei serve`."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
import requests

from kusei.endpoint.web import app as web_app

pytestmark = pytest.mark.system

STATIC = Path(web_app.__file__).parent / "static"


def test_a_static_file_is_gzipped_with_an_etag_and_revalidates(server_url: str) -> None:
    data = (STATIC / "kusei.css").read_bytes()
    url = f"{server_url}/static/kusei.css"
    zipped = requests.get(url, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=30)
    assert zipped.status_code == 200
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Content-Type"].startswith("text/css")
    assert "Accept-Encoding" in {v.strip() for v in zipped.headers["Vary"].split(",")}
    assert gzip.decompress(zipped.raw.read(decode_content=False)) == data
    digest = hashlib.sha256(data).hexdigest()
    assert zipped.headers["ETag"] == f'"{digest}:gzip"'

    plain = requests.get(url, headers={"Accept-Encoding": "identity"}, timeout=30)
    assert plain.content == data and "Content-Encoding" not in plain.headers
    assert plain.headers["ETag"] == f'"{digest}"'

    for held in (zipped.headers["ETag"], plain.headers["ETag"]):
        again = requests.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": held}, timeout=30)
        assert again.status_code == 304, held
        assert again.content == b""
        assert again.headers["ETag"] == held
        assert "Accept-Encoding" in again.headers["Vary"]
    changed = requests.get(url, headers={"If-None-Match": '"not-this-one"'}, timeout=30)
    assert changed.status_code == 200 and changed.content == data


def test_a_missing_or_escaping_static_path_is_404(server_url: str) -> None:
    assert requests.get(f"{server_url}/static/no-such.js", timeout=30).status_code == 404
    assert requests.get(f"{server_url}/static/..%2fapp.py", timeout=30).status_code == 404


def test_a_static_file_revalidates_by_date_too(server_url: str) -> None:
    url = f"{server_url}/static/favicon.svg"
    first = requests.get(url, timeout=30)
    assert first.status_code == 200 and first.headers["Content-Type"].startswith("image/svg+xml")
    by_date = requests.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]}, timeout=30)
    assert by_date.status_code == 304
