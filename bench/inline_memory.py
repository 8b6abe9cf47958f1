"""What answering queries in the web worker costs in memory: the PSS of one web worker before and
after its first inline answer (which opens the release's store read-only in that process).

    python -m bench.inline_memory --data-dir var

Starts `kusei serve --workers 1` twice on the same data directory, with and without inline
answers, sends each the same queries (a lookup the web worker answers, then one a query process
answers) and reads ``/proc/<pid>/smaps_rollup`` of the web worker (the server's child that is no
query process) after each step. One run; PSS shares pages among the processes that map them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bench.servers import free_port  # noqa: E402

LOOKUP = "ASK { <https://w3id.org/kusei/id/plan/141089/2014> a kusei:Plan }"
PROBE = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"  # not bounded by its form: a query process answers it
SCAN = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def pss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def web_worker(server: int) -> int:
    """The server's child that runs the app (the one whose own children are query processes, or
    the only one)."""
    kids = children(server)
    for kid in kids:
        cmdline = Path(f"/proc/{kid}/cmdline").read_bytes()
        if b"kusei.endpoint.query.executor" not in cmdline:
            return kid
    return server


def ask(port: int, query: str, tag: str) -> None:
    url = f"http://127.0.0.1:{port}/sparql?query=" + urllib.parse.quote(f"{query} # {tag}")
    with urllib.request.urlopen(url, timeout=60) as answer:
        answer.read()


def measure(data_dir: Path, inline: bool) -> list[tuple[str, int]]:
    port = free_port()
    env = {**os.environ, "KUSEI_DATA_DIR": str(data_dir), "KUSEI_PORT": str(port), "KUSEI_HOST": "127.0.0.1",
           "KUSEI_WORKERS": "1", "KUSEI_INLINE_QUERIES": "true" if inline else "false"}
    kusei = Path(sys.executable).parent / "kusei"
    proc = subprocess.Popen([str(kusei), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ask(port, PROBE, "ready")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        time.sleep(1)
        worker = web_worker(proc.pid)
        steps = [("started, one query answered", pss(worker))]
        for n in range(20):
            ask(port, LOOKUP, f"lookup {n}")
        steps.append(("after 20 lookups", pss(worker)))
        ask(port, SCAN, "scan")
        steps.append(("after a scan (query process)", pss(worker)))
        return steps
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    for inline in (False, True):
        for label, value in measure(args.data_dir, inline):
            print(f"inline={str(inline).lower():5s} {label:32s} web worker PSS {value / 2**20:7.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
