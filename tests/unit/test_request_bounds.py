"""What the app bounds before a request reaches a view: the time a body may take to arrive, how
many requests may read one at once, and the length of the request target (endpoint/web/app.py)."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

from flask import Flask

from kusei.endpoint.web.app import MAX_TARGET_BYTES, create_app
from kusei.settings import BODY_READERS, Settings

FORM = "application/x-www-form-urlencoded"


class Dripping(io.RawIOBase):
    """A body that arrives a few bytes at a time, ``pause`` seconds apart, like a slow client's."""

    def __init__(self, data: bytes, pause: float) -> None:
        self.data, self.pause, self.position = data, pause, 0

    def readable(self) -> bool:
        return True

    # The test client measures the stream it is given (seek to the end, tell, seek back).
    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = len(self.data) if whence == io.SEEK_END else offset
        return self.position

    def tell(self) -> int:
        return self.position

    def read(self, size: int = -1) -> bytes:
        time.sleep(self.pause)  # a client sending slowly is what is under test, not a wait
        part, self.data = self.data[:max(1, min(size, 3))], self.data[max(1, min(size, 3)):]
        return part


def _app(data_dir: Path, **settings: object) -> Flask:
    app = create_app(Settings(data_dir=data_dir, **settings))  # type: ignore[arg-type]
    app.config["TESTING"] = True
    return app


def test_a_body_that_does_not_arrive_in_time_is_a_408(data_dir: Path) -> None:
    app = _app(data_dir, body_timeout=0.5)
    body = b"query=" + b"%20" * 300 + b"ASK%7B%7D"
    response = app.test_client().post("/sparql", input_stream=Dripping(body, 0.05), content_type=FORM,
                                      content_length=len(body))
    assert response.status_code == 408, response.text
    assert "did not arrive" in response.text


def test_a_body_that_arrives_in_time_is_answered(data_dir: Path) -> None:
    app = _app(data_dir, body_timeout=60)
    body = b"query=ASK%7B%7D"
    response = app.test_client().post("/sparql", input_stream=Dripping(body, 0.01), content_type=FORM,
                                      content_length=len(body), headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    assert response.json == {"head": {}, "boolean": True}


def test_body_readers_past_the_cap_get_503_before_their_body_is_read(data_dir: Path) -> None:
    app = _app(data_dir, body_timeout=60)
    readers = app.extensions["kusei_body_readers"]
    for _ in range(BODY_READERS):  # as many slow senders as the cap allows, all still sending
        assert readers.acquire(blocking=False)
    try:
        stream = Dripping(b"query=ASK%7B%7D", 0)
        response = app.test_client().post("/sparql", input_stream=stream, content_type=FORM, content_length=15)
        assert response.status_code == 503, response.text
        assert stream.data == b"query=ASK%7B%7D"  # not a byte read
    finally:
        for _ in range(BODY_READERS):
            readers.release()
    # GET requests read no body: served whatever the body readers do.
    assert app.test_client().get("/sparql", query_string={"query": "ASK {}"}).status_code == 200


def test_a_request_target_past_the_bound_is_a_414(data_dir: Path) -> None:
    client = _app(data_dir).test_client()
    long_query = "ASK {} #" + "x" * MAX_TARGET_BYTES
    assert client.get("/sparql", query_string={"query": long_query}).status_code == 414
    assert client.get("/id/" + "x" * MAX_TARGET_BYTES).status_code == 414


def test_many_concurrent_body_reads_give_their_places_back(data_dir: Path) -> None:
    app = _app(data_dir, body_timeout=60)
    statuses: list[int] = []

    def post() -> None:
        body = b"query=ASK%7B%7D"
        statuses.append(app.test_client().post("/sparql", data=body, content_type=FORM).status_code)

    threads = [threading.Thread(target=post) for _ in range(BODY_READERS * 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(statuses) == BODY_READERS * 2 and set(statuses) <= {200, 503}
    readers = app.extensions["kusei_body_readers"]
    for _ in range(BODY_READERS):  # every place was given back
        assert readers.acquire(blocking=False)
