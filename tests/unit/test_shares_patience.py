"""A client with nothing else running waits for a query slot as long as it takes others' queries
to end, instead of the short wait every other query gets (issue 17.4: a bystander never gets a 5xx
because others hold every slot)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from waiting import wait_for

from kusei.endpoint.query import slots
from kusei.endpoint.query.shares import ClientShares
from kusei.endpoint.query.slots import NoSlot, QuerySlots


def test_only_a_client_with_nothing_else_running_is_patient(tmp_path: Path) -> None:
    shares = ClientShares(tmp_path, max_queries=3, seconds_per_minute=0)
    with shares.hold("192.0.2.1", wait=0, patience=30):
        assert slots.PATIENCE.get() == 30
        with shares.hold("192.0.2.1", wait=0, patience=30):  # its second query at once
            assert slots.PATIENCE.get() == 0
        with shares.hold("192.0.2.9", wait=0, patience=30):  # another client's first
            assert slots.PATIENCE.get() == 30
        assert slots.PATIENCE.get() == 30
    assert slots.PATIENCE.get() == 0
    with shares.hold("192.0.2.1", wait=0):  # no patience asked for
        assert slots.PATIENCE.get() == 0


def test_a_patient_query_waits_past_its_callers_wait_for_a_slot(tmp_path: Path) -> None:
    query_slots = QuerySlots(tmp_path / "slots", 1)
    shares = ClientShares(tmp_path / "shares", max_queries=2, seconds_per_minute=0)
    answered = threading.Event()
    refused: list[BaseException] = []

    def bystander() -> None:
        try:
            with shares.hold("192.0.2.7", wait=0, patience=60), query_slots.hold(wait=0.01):
                answered.set()
        except NoSlot as exc:
            refused.append(exc)

    with query_slots.hold(wait=0):  # someone else's query holds the only slot
        with pytest.raises(NoSlot):  # an ordinary query is refused after its short wait
            with query_slots.hold(wait=0.01):
                pass
        thread = threading.Thread(target=bystander)
        thread.start()
        wait_for(lambda: query_slots._waiters == 1, "the bystander to wait for the slot")
        assert not answered.is_set()
    thread.join(30)
    assert answered.is_set() and not refused
