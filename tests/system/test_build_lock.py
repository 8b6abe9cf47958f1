"""One build at a time, newest input wins (issue 17.2).

Builds run as subprocesses, as `kusei build` runs, so one can be paused (SIGSTOP) right after it
has read its records and another started on edited records meanwhile.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from graph_input import copy_input

from kusei.graph.build import build
from kusei.settings import Settings

pytestmark = pytest.mark.system  # builds run as `kusei build` runs, through the SHACL gate

EXEMPLAR = "000_a9155f3b6863ac96.yaml"
ORIGINAL = "plain text extracted from its PDF."
EDITED = "plain text extracted from its PDF (edited while another build ran)."
WAIT = 300.0  # generous: each step happens, only slowly on a loaded machine


class Build:
    """A build in a subprocess; its report lines are collected, and events fire on given words."""

    def __init__(self, data_dir: Path, records: Path, watch: tuple[str, ...]) -> None:
        code = ("import sys; from pathlib import Path; from kusei.graph.build import build; "
                "from kusei.settings import Settings; "
                "build(Settings(data_dir=Path(sys.argv[1])), records_dir=Path(sys.argv[2]))")
        self.process = subprocess.Popen([sys.executable, "-c", code, str(data_dir), str(records)],
                                        stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.seen = {word: threading.Event() for word in watch}
        self.ended = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            for word, event in self.seen.items():
                if word in line:
                    event.set()
        self.ended.set()

    def wait_for(self, *events: threading.Event) -> None:
        """Until one of ``events`` fires."""
        done = threading.Event()
        for event in events:
            threading.Thread(target=lambda e=event: (e.wait(WAIT), done.set()), daemon=True).start()
        assert done.wait(WAIT), "".join(self.lines)

    def finish(self) -> int:
        code = self.process.wait(timeout=WAIT)
        self._reader.join(timeout=WAIT)
        return code


def _records(tmp_path: Path) -> Path:
    records = copy_input(tmp_path / "input", [EXEMPLAR])
    assert ORIGINAL in (records / EXEMPLAR).read_text(encoding="utf-8")
    return records


def test_a_paused_build_cannot_publish_older_records_over_newer(tmp_path: Path) -> None:
    records = _records(tmp_path)
    data_dir = tmp_path / "data"
    first = Build(data_dir, records, ("· validating each document",))
    first.wait_for(first.seen["· validating each document"], first.ended)  # its records are read
    os.kill(first.process.pid, signal.SIGSTOP)
    try:
        record = records / EXEMPLAR
        record.write_text(record.read_text(encoding="utf-8").replace(ORIGINAL, EDITED), encoding="utf-8")
        second = Build(data_dir, records, ("another build",))
        # Either it waits for the paused one (the lock), or it runs to its end (no lock).
        second.wait_for(second.seen["another build"], second.ended)
    finally:
        os.kill(first.process.pid, signal.SIGCONT)
    assert first.finish() == 0, "".join(first.lines)
    assert second.finish() == 0, "".join(second.lines)
    published = (data_dir / "current" / "dumps" / "kusei.nt").read_text(encoding="utf-8")
    assert EDITED in published and ORIGINAL not in published, "the older records were published last"
    assert second.seen["another build"].is_set(), "the second build did not say it waited"


def test_a_killed_build_leaves_no_lock_behind(tmp_path: Path) -> None:
    records = _records(tmp_path)
    data_dir = tmp_path / "data"
    killed = Build(data_dir, records, ("· validating each document",))
    killed.wait_for(killed.seen["· validating each document"], killed.ended)
    killed.process.kill()
    killed.finish()
    said: list[str] = []
    result = build(Settings(data_dir=data_dir), records_dir=records, report=said.append)
    assert not any("another build" in line for line in said)
    assert (data_dir / "current").resolve() == result.path.resolve()
