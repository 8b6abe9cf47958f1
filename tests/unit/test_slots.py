"""Query slots shared by the processes of one server (endpoint/slots.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from waiting import wait_for

from kusei.endpoint.query.slots import NoSlot, QuerySlots

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_threads_of_one_process_exclude_each_other(tmp_path: Path) -> None:
    slots = QuerySlots(tmp_path, 2)
    with slots.hold(wait=0), slots.hold(wait=0):
        with pytest.raises(NoSlot):
            with slots.hold(wait=0.05):
                pass
    with slots.hold(wait=0):  # both were given back
        pass


def test_a_waiting_query_gets_the_slot_when_it_frees(tmp_path: Path) -> None:
    slots = QuerySlots(tmp_path, 1)
    got = threading.Event()

    def waiter() -> None:
        with slots.hold(wait=10):
            got.set()

    with slots.hold(wait=0):
        thread = threading.Thread(target=waiter)
        thread.start()
        wait_for(lambda: slots._waiters == 1, "the second query to wait for the slot")
        assert not got.is_set()
    thread.join(10)
    assert got.is_set()


def test_a_killed_process_gives_its_slot_back(tmp_path: Path) -> None:
    holder = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from kusei.endpoint.query.slots import QuerySlots
        with QuerySlots(Path({str(tmp_path)!r}), 1).hold(wait=5):
            print("holding", flush=True)
            time.sleep(60)  # holds the slot until the test kills it: that death is what is under test
    """)
    process = subprocess.Popen([sys.executable, "-c", holder], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "holding"
        slots = QuerySlots(tmp_path, 1)
        with pytest.raises(NoSlot):
            with slots.hold(wait=0.05):
                pass
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        with slots.hold(wait=5):
            pass
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_slot_directories_of_ended_servers_are_removed(tmp_path: Path) -> None:
    import subprocess
    import sys

    from kusei.endpoint.query.slots import remove_stale

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    gone = tmp_path / f"{ended.pid}-abc"
    alive = tmp_path / f"{os.getpid()}-abc"
    unknown = tmp_path / "0123456789abcdef"  # older naming: its server may still run
    for directory in (gone, alive, unknown):
        directory.mkdir()
    remove_stale(tmp_path)
    assert not gone.exists() and alive.exists() and unknown.exists()


def test_a_full_waiting_room_refuses_at_once(tmp_path: Path) -> None:
    # One slot, one waiter allowed: the second query to find the slot taken is refused without
    # waiting, so queries never hold more request threads than slots + waiters.
    slots = QuerySlots(tmp_path, 1, max_waiters=1)
    outcomes: list[str] = []

    def query() -> None:
        try:
            with slots.hold(wait=60):
                outcomes.append("ran")
        except NoSlot:
            outcomes.append("refused")

    with slots.hold(wait=0):
        first = threading.Thread(target=query)
        first.start()
        # The waiter counts itself in before it waits.
        wait_for(lambda: slots._waiters == 1, "the first query to wait for the slot")
        second = threading.Thread(target=query)
        second.start()
        second.join(30)  # it would wait 60 s if the room were not full
        assert outcomes == ["refused"]
    first.join(30)  # the slot freed: the waiter runs
    assert outcomes == ["refused", "ran"]


def test_the_servers_slot_directories_are_removed_by_its_main_process(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from kusei.endpoint.query import slots as slots_module

    monkeypatch.setattr(slots_module, "slots_root", lambda: tmp_path)
    mine, other = tmp_path / "4242-abc", tmp_path / "4243-abc"
    QuerySlots(mine, 2)
    QuerySlots(other, 2)
    slots_module.remove_server(4242)
    assert not mine.exists() and other.exists()
