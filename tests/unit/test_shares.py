"""A client's shares and query-time budget hold across the processes and threads of one server, and
a process that dies frees what it held (endpoint/query/shares.py)."""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from kusei.endpoint.query import shares
from kusei.endpoint.query.shares import ClientShares, OverShare

CLIENT = "192.0.2.10"
# A fresh interpreter: what the child holds is its own, not copied from this test process.
SPAWN = multiprocessing.get_context("spawn")


def _hold_until_killed(directory: str, ready: multiprocessing.synchronize.Event) -> None:
    with ClientShares(Path(directory), max_queries=1, seconds_per_minute=0).hold(CLIENT, wait=0):
        ready.set()
        threading.Event().wait()


def _charge(directory: str, seconds: float) -> None:
    with ClientShares(Path(directory), max_queries=1, seconds_per_minute=1).hold(CLIENT, wait=0) as charge:
        charge(seconds)


def test_a_share_held_in_another_process_is_taken_and_freed_when_it_dies(tmp_path: Path) -> None:
    ready = SPAWN.Event()
    child = SPAWN.Process(target=_hold_until_killed, args=(str(tmp_path), ready), daemon=True)
    child.start()
    try:
        assert ready.wait(60), "the child did not take its share"
        mine = ClientShares(tmp_path, max_queries=1, seconds_per_minute=0)
        with pytest.raises(OverShare, match="already runs 1 queries"):
            with mine.hold(CLIENT, wait=0):
                pass
        with mine.hold("192.0.2.11", wait=0):  # another client is not touched
            pass
    finally:
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        child.join(30)
    with mine.hold(CLIENT, wait=0):  # the kernel dropped the dead child's lock
        pass


def test_time_charged_in_another_process_counts_against_the_budget(tmp_path: Path) -> None:
    child = SPAWN.Process(target=_charge, args=(str(tmp_path), 1.5))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    with pytest.raises(OverShare, match="used its 1 s of query time") as refused:
        with ClientShares(tmp_path, max_queries=1, seconds_per_minute=1).hold(CLIENT, wait=0):
            pass
    assert 1 <= refused.value.retry_after <= 61
    with ClientShares(tmp_path, max_queries=1, seconds_per_minute=1).hold("192.0.2.11", wait=0):
        pass


def test_charges_add_up_under_the_budget_until_they_reach_it(tmp_path: Path) -> None:
    budget = ClientShares(tmp_path, max_queries=4, seconds_per_minute=1)
    for _ in range(3):
        with budget.hold(CLIENT, wait=0) as charge:
            charge(0.3)
    with budget.hold(CLIENT, wait=0) as charge:  # 0.9 s spent: still under
        charge(0.2)
    with pytest.raises(OverShare):
        with budget.hold(CLIENT, wait=0):
            pass


def test_threads_of_one_process_and_two_instances_exclude_each_other(tmp_path: Path) -> None:
    first = ClientShares(tmp_path, max_queries=1, seconds_per_minute=0)
    second = ClientShares(tmp_path, max_queries=1, seconds_per_minute=0)  # the same files
    refused: list[BaseException] = []

    def other_thread() -> None:
        try:
            with first.hold(CLIENT, wait=0):
                pass
        except OverShare as exc:
            refused.append(exc)

    with second.hold(CLIENT, wait=0):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join(30)
        with pytest.raises(OverShare):
            with first.hold(CLIENT, wait=0):
                pass
    assert len(refused) == 1
    with first.hold(CLIENT, wait=0):  # released by the block's end
        pass


def test_a_torn_ledger_record_is_not_a_charge(tmp_path: Path) -> None:
    budget = ClientShares(tmp_path, max_queries=1, seconds_per_minute=1)
    start = shares._bucket(CLIENT) * shares.REGION
    now = int(time.monotonic())
    torn = (math.nan, -3.0, math.inf)
    with open(tmp_path / "budget", "r+b") as ledger:  # what a process killed mid-write may leave
        ledger.seek(start)
        ledger.write(b"".join(shares.RECORD.pack(now - index, torn[index % 3]) for index in range(shares.RECORDS)))
    with budget.hold(CLIENT, wait=0) as charge:
        charge(0.4)
    with budget.hold(CLIENT, wait=0) as charge:  # the 0.4 s counts, the garbage does not
        charge(0.4)
    with pytest.raises(OverShare):
        with budget.hold(CLIENT, wait=0) as charge:
            charge(0.4)
        with budget.hold(CLIENT, wait=0):
            pass


def test_only_charges_within_the_last_minute_count(tmp_path: Path) -> None:
    budget = ClientShares(tmp_path, max_queries=1, seconds_per_minute=1)
    start = shares._bucket(CLIENT) * shares.REGION
    now = int(time.monotonic())

    def ledger_of(*records: tuple[int, float]) -> None:
        with open(tmp_path / "budget", "r+b") as ledger:
            ledger.seek(start)
            ledger.write(bytes(shares.REGION))
            for second, used in records:
                ledger.seek(start + (second % shares.RECORDS) * shares.RECORD.size)
                ledger.write(shares.RECORD.pack(second, used))

    ledger_of((now - 90, 5.0), (now - 70, 5.0))  # spent, but more than a minute ago
    budget.check(CLIENT)
    ledger_of((now - 90, 5.0), (now - 30, 0.6), (now - 1, 0.6))
    with pytest.raises(OverShare, match="try again in"):
        budget.check(CLIENT)
    ledger_of((now - 30, 0.6))
    budget.check(CLIENT)
