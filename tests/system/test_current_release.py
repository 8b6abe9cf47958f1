"""Following `current` across a switch: no request made after the switch gets the old release,
even while the new one is still being validated (seen in CI: 18 requests after a swap answered
from the old release while the first request to see the new one was opening it)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from graph_input import copy_input, point_current

from kusei import release as release_module
from kusei.graph.build import build
from kusei.release import CurrentRelease, Release
from kusei.settings import Settings

pytestmark = pytest.mark.system  # builds through the SHACL gate

EXEMPLAR = "000_a9155f3b6863ac96.yaml"


def test_a_request_during_validation_of_the_new_release_waits_for_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = copy_input(tmp_path / "input", [EXEMPLAR])
    data_dir = tmp_path / "data"
    quiet = lambda _: None  # noqa: E731
    old = build(Settings(data_dir=data_dir, modified="2026-11-23"), records_dir=records, report=quiet).release_id
    new = build(Settings(data_dir=data_dir, modified="2027-02-01"), records_dir=records, report=quiet).release_id
    point_current(data_dir, old)
    current = CurrentRelease(data_dir)
    assert current.latest().id == old

    # Hold the validation of the new release open until the second request has asked.
    opening, proceed = threading.Event(), threading.Event()
    real_open = release_module.open_release

    def slow_open(path: Path) -> Release:
        opening.set()
        assert proceed.wait(30), "the test never let the validation finish"
        return real_open(path)

    monkeypatch.setattr(release_module, "open_release", slow_open)
    point_current(data_dir, new)
    first: list[str] = []
    second: list[str] = []
    a = threading.Thread(target=lambda: first.append(current.latest().id))
    a.start()
    assert opening.wait(30), "the first request did not start opening the new release"
    b = threading.Thread(target=lambda: second.append(current.latest().id))
    b.start()
    b.join(0.5)  # a request made after the switch must not be answered meanwhile
    answered_early = list(second)
    proceed.set()
    a.join(30)
    b.join(30)
    assert answered_early == [], f"answered {answered_early} while the new release was being validated"
    assert first == [new] and second == [new]
