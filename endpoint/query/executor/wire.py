"""How the pool and its query processes talk: the one definition of the frames both sides use.

The two ends of a socket pair are wrapped in ``multiprocessing.connection.Connection`` (the
child's end is its stdin), which carries each message with its length. A frame is one message:
a JSON header, a line feed, then the body, raw bytes (a serialised answer; empty in requests).
JSON rather than ``Connection.send``'s pickle: the parent must not unpickle what comes from a
process that has just run an untrusted query.
"""

from __future__ import annotations

import json
from multiprocessing.connection import Connection
from typing import Any

# What the pool runs with ``python -m`` (see __main__.py); query processes are also found by it in
# the process tree (memory.py).
CHILD_MODULE = "kusei.endpoint.query.executor"


def send(conn: Connection, header: dict[str, Any], body: bytes = b"") -> None:
    # json.dumps escapes line feeds inside strings, so the first one ends the header.
    conn.send_bytes(json.dumps(header).encode("utf-8") + b"\n" + body)


def receive(conn: Connection) -> tuple[dict[str, Any], bytes]:
    """The next frame; EOFError if the other side is gone."""
    try:
        data = conn.recv_bytes()
    except OSError as exc:
        # A peer that died with unread data resets instead of closing (ConnectionResetError), and
        # one that died in the middle of its frame (killed for memory while it wrote a large
        # answer) is "got end of file during message": either way it is gone, and the pool then
        # says why (process.death) rather than fail the request with an OSError.
        raise EOFError(str(exc)) from exc
    head, _, body = data.partition(b"\n")
    return json.loads(head), body
