"""The frames between the pool and its query processes (endpoint/query/executor/wire.py).

A frame arrives whole whatever its size, also when it is larger than the socket's buffer and is
read in parts as it is written; a frame cut short, or a peer gone, is the end of the connection.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection

import pytest

from kusei.endpoint.query.executor import wire


@pytest.fixture
def pair() -> Iterator[tuple[Connection, Connection]]:
    left, right = socket.socketpair()
    ends = Connection(left.detach()), Connection(right.detach())
    yield ends
    for end in ends:
        end.close()


@pytest.mark.parametrize("size", [0, 1, 16383, 16385, 3 << 20])
def test_a_frame_arrives_whole_while_the_other_side_reads_it(pair: tuple[Connection, Connection], size: int) -> None:
    sender, receiver = pair
    body = os.urandom(size)
    # Written from another thread: a body larger than the socket's buffer is written in parts,
    # each taken by the reader as it comes.
    writer = threading.Thread(target=wire.send, args=(sender, {"status": "ok", "text": "区\n運営"}, body))
    writer.start()
    header, got = wire.receive(receiver)
    writer.join()
    assert header == {"status": "ok", "text": "区\n運営"}
    assert got == body


def test_a_frame_cut_short_is_the_end_of_the_connection(pair: tuple[Connection, Connection]) -> None:
    sender, receiver = pair
    os.write(sender.fileno(), (1000).to_bytes(4, "big") + b'{"n": 1}\nonly part of it')
    sender.close()
    with pytest.raises(EOFError):
        wire.receive(receiver)


def test_writing_to_a_closed_peer_is_an_os_error(pair: tuple[Connection, Connection]) -> None:
    sender, receiver = pair
    receiver.close()
    with pytest.raises(OSError):
        wire.send(sender, {"n": 1}, b"x" * 100_000)

