"""Every answer belongs to one release while `current` switches every 0.1 s (issue 12.5).

Two releases are built into one data directory; a thread swaps the `current` link between them
(atomically, as the build does) every 0.1 s while 16 clients query a real server. Each 200 answer
must be, ETag and bytes, exactly one release's; a request that straddles a switch may instead get
503 release-changed (the pool never answers an older release's request from a newer store, and
never moves back to a release that is no longer published). At this test's rate (~100–200
answers: each switch restarts the idle query processes) the old flip-back did not show either;
the regression test for it is tests/unit/test_executor.py::test_reopen_never_goes_back_to_an_older_release.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from graph_input import copy_input, point_current
from waiting import wait_for

from kusei.graph.build import build
from kusei.settings import DEFAULT_BASE, Settings

pytestmark = pytest.mark.system

EXEMPLAR = "000_a9155f3b6863ac96.yaml"
QUERY = f"""PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?modified WHERE {{ GRAPH ?g {{ <{DEFAULT_BASE}/id/dataset/kusei> dct:modified ?modified }} }}"""
CLIENTS = 16
SWAP_EVERY = 0.1
# Run until both have happened (about 8 s on an idle machine), however slow the machine is.
SWAPS = 80
ANSWERS = 100


def _answer_from(probe: str, release: str) -> requests.Response:
    """The answer to ``probe`` once the server answers from ``release``, just pointed at."""
    last: list[requests.Response] = []

    def from_release() -> bool:
        last.append(requests.get(probe, timeout=30))
        return last[-1].status_code == 200 and last[-1].headers.get("ETag", "").lstrip('"').startswith(release)

    wait_for(from_release, f"an answer from release {release}", timeout=30,
             seen=lambda: (last[-1].status_code, last[-1].headers.get("ETag")))
    return last[-1]


def test_no_mixed_answers_under_fast_switches(tmp_path: Path, start_server: Callable[..., str]) -> None:
    records = copy_input(tmp_path / "input", [EXEMPLAR])
    data_dir = tmp_path / "data"
    quiet = lambda _: None  # noqa: E731
    first = build(Settings(data_dir=data_dir, modified="2026-11-23"), records_dir=records, report=quiet)
    second = build(Settings(data_dir=data_dir, modified="2027-02-01"), records_dir=records, report=quiet)
    url = start_server(data_dir, workers=2)
    probe = url + "/sparql?" + urlencode({"query": QUERY})

    answers: dict[str, tuple[str, str]] = {}
    for release in (first.release_id, second.release_id):
        point_current(data_dir, release)
        response = _answer_from(probe, release)
        answers[release] = (response.headers["ETag"], hashlib.sha256(response.content).hexdigest())
    assert answers[first.release_id] != answers[second.release_id]

    stop = threading.Event()
    seen: list[tuple[int, tuple[str, str] | None, str]] = []
    lock = threading.Lock()

    swaps = [0]

    def swap() -> None:
        while not stop.wait(SWAP_EVERY):  # the pace of the switches is what is under test
            point_current(data_dir, (first.release_id, second.release_id)[swaps[0] % 2])
            swaps[0] += 1

    def client(n: int) -> None:
        with requests.Session() as http:
            i = 0
            while not stop.is_set():
                # Vary the text so the result cache does not answer every request.
                response = http.get(probe + f"%23{n}-{i % 7}", timeout=60)
                i += 1
                answer = (response.headers.get("ETag", ""), hashlib.sha256(response.content).hexdigest())
                with lock:
                    seen.append((response.status_code, answer if response.status_code == 200 else None,
                                 response.text[:200] if response.status_code != 200 else ""))

    threads = [threading.Thread(target=swap)] + [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    wait_for(lambda: swaps[0] >= SWAPS and len(seen) >= ANSWERS, f"{SWAPS} switches and {ANSWERS} answers",
             timeout=180, seen=lambda: (swaps[0], len(seen)))
    stop.set()
    for thread in threads:
        thread.join(timeout=60)

    # Per release, the answer to the un-suffixed probe is known; suffixed ones differ in the ETag
    # (the query is part of it) but not in the bytes, so bytes decide the release and the ETag
    # must carry that same release's id.
    digest_to_release = {answers[r][1]: r for r in answers}
    mixed = []
    for _status, answer, _ in seen:
        if answer is None:
            continue
        release = digest_to_release.get(answer[1])
        if release is None or release not in answer[0]:
            mixed.append(answer)
    statuses = Counter(status for status, _, _ in seen)
    others = [text for status, _, text in seen if status not in (200, 503)]
    refused = [text for status, _, text in seen if status == 503]
    print(f"release swaps: {len(seen)} answers, statuses {dict(statuses)}, {len(mixed)} mixed, refusals "
          f"{dict(Counter(text.split(';')[0] for text in refused))}")
    assert not mixed, mixed[:3]
    assert not others, others[:3]
    # A 503 is one of the two documented refusals: the release changed while the query waited,
    # or (on a loaded machine, while each switch restarts idle query processes) every slot stayed
    # busy for the whole wait. Neither is a mixed answer; anything else would be a defect.
    unexplained = [text for text in refused if "A new release" not in text and "busy" not in text]
    assert not unexplained, unexplained[:3]
    assert statuses[200] > len(seen) / 2
