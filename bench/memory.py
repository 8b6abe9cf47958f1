"""What `kusei serve` costs in memory and start-up on a data directory (issue 20, point 5).

    python -m bench.memory --data-dir var [--seconds 20] [--concurrency 8] [--quiet 40] [--starts 3] [--modules source]

Cold start: from launching `kusei serve` to the first 200 of ``/sparql?query=ASK{}`` (answered in
the web worker: kusei.endpoint.query.inline), and, asked right after it, to the first answer that
needs a query process (``COUNT(*)``: the fork server and a process forked from it), with the CPU the
tree has used by then (best and median of ``--starts`` launches). The project's modules are compiled
to bytecode first, as ``pip install`` does for an installed package: a checkout run with
PYTHONDONTWRITEBYTECODE set (as the test machines are) otherwise compiles them from source at every
start of every Python process (~0.1 s); ``--modules source`` removes that bytecode first and measures
that. Then, on one server: the idle
tree once every process it started on its own is up, the peak while ``--concurrency`` clients send the published example
queries (each made new to the result cache) for ``--seconds``, and the idle tree again once the
server has gone quiet for ``--quiet`` seconds. Memory is PSS summed over the server's whole process
tree (``/proc/PID/smaps_rollup``): shared pages (the engine's library, the interpreter's heap a
forked process still shares) counted once across the tree, not once per process as RSS counts
them; RSS is printed beside it. One run on a shared machine: counts and memory are steady, times
are not.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.abuse import get
from bench.mix import PROLOGUE
from bench.servers import PROJECT_ROOT, _die_with_parent, free_port, kusei_command, stop_group
from kusei.endpoint.query.executor.memory import IDLE_TREE_BOUND, children_by_parent, tree_memory, tree_pss

PROBE = "/sparql?" + urlencode({"query": "ASK {}"})
# Not bounded by its form (kusei.endpoint.query.analysis): always answered by a query process.
PROCESS_PROBE = "/sparql?" + urlencode({"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"})


def _descendants(root: int) -> list[int]:
    children = children_by_parent()
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, ()))
    return found


def tree_rss(root: int) -> int:
    return tree_memory(root)[0]


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) used so far by ``root``'s tree, reaped children included: what a
    start costs, steadier than its wall time on a shared machine."""
    ticks = 0
    for pid in _descendants(root):
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _start(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KUSEI_DATA_DIR": str(data_dir), "KUSEI_ACCESS_LOG": "off"}
    with log.open("ab") as sink:
        return subprocess.Popen(kusei_command(data_dir, port, 2, 30.0), cwd=PROJECT_ROOT, env=env, stdout=sink,
                                stderr=sink, preexec_fn=_die_with_parent, start_new_session=True)


def _first_answer(proc: subprocess.Popen[bytes], port: int, probe: str = PROBE) -> float:
    started = time.monotonic()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"kusei serve exited ({proc.returncode})")
        try:
            if get(port, probe, "127.0.0.1", timeout=60)[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.01)


PACKAGES = ("kusei", "endpoint", "graph")  # the folders of the one import name, kusei


def prepare_modules(kind: str) -> bool:
    """``compiled``: write the bytecode of the project's modules beside them (``__pycache__``,
    ignored by git), as installing the package would; ``source``: remove it. False if a module did
    not compile."""
    if kind == "source":
        for package in PACKAGES:
            for cache in (PROJECT_ROOT / package).rglob("__pycache__"):
                shutil.rmtree(cache, ignore_errors=True)
        return True
    return all(compileall.compile_dir(PROJECT_ROOT / package, quiet=1) for package in PACKAGES)


def _summary(values: list[float]) -> str:
    return f"best {min(values):.2f} s, median {statistics.median(values):.2f} s"


def _settled(root: int, seconds: float = 3.0) -> tuple[int, int]:
    """The tree once its process count has not changed for ``seconds`` (started processes are up)."""
    last, since = tree_pss(root), time.monotonic()
    while time.monotonic() - since < seconds:
        time.sleep(0.25)
        now = tree_pss(root)
        if now[1] != last[1]:
            since = time.monotonic()
        last = now
    return last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--quiet", type=float, default=40.0, help="seconds of no queries before the last reading")
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--modules", choices=("compiled", "source"), default="compiled",
                        help="run the project's modules from bytecode (as installed) or from source (see above)")
    args = parser.parse_args()
    if not prepare_modules(args.modules):
        parser.error("the project's modules did not all compile")
    data_dir = args.data_dir.resolve()
    log = Path(tempfile.mkdtemp(prefix="kusei-memory-")) / "serve.log"
    mib = 1 << 20

    starts, cpu, by_process, by_process_cpu = [], [], [], []
    for _ in range(args.starts):
        port = free_port()
        launched = time.monotonic()
        proc = _start(data_dir, port, log)
        try:
            starts.append(_first_answer(proc, port))
            cpu.append(tree_cpu(proc.pid))
            _first_answer(proc, port, PROCESS_PROBE)
            by_process.append(time.monotonic() - launched)
            by_process_cpu.append(tree_cpu(proc.pid))
        finally:
            stop_group(proc)
    print(f"cold start (kusei serve to the first answer; modules {args.modules}), {len(starts)} starts: "
          f"{_summary(starts)}; CPU of the tree by then: {_summary(cpu)}", flush=True)
    print(f"  to the first answer from a query process (asked next): {_summary(by_process)}; "
          f"CPU by then: {_summary(by_process_cpu)}", flush=True)
    if args.quiet <= 0:
        return

    queries = sorted((PROJECT_ROOT / "endpoint" / "queries").glob("*.rq"))
    texts = [PROLOGUE + path.read_text() for path in queries]
    port = free_port()
    proc = _start(data_dir, port, log)
    try:
        _first_answer(proc, port)
        pss, count = _settled(proc.pid)
        print(f"idle after start: PSS {pss / mib:.0f} MiB, RSS {tree_rss(proc.pid) / mib:.0f} MiB, {count} processes",
              flush=True)
        stop = threading.Event()
        peak = [0, 0, 0]  # PSS, RSS, processes
        answered: dict[int, int] = {}

        def sample() -> None:
            while not stop.wait(0.1):
                pss, count = tree_pss(proc.pid)
                if pss > peak[0]:
                    peak[:] = [pss, tree_rss(proc.pid), count]

        def client(index: int) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                query = f"{texts[n % len(texts)]}\n# {index}-{n}"
                try:
                    status = get(port, "/sparql?" + urlencode({"query": query}), "127.0.0.1", timeout=60)[0]
                except OSError:
                    status = 0
                answered[status] = answered.get(status, 0) + 1

        threads = [threading.Thread(target=sample, daemon=True)]
        threads += [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.concurrency)]
        for thread in threads:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        for thread in threads:
            thread.join(timeout=70)
        print(f"peak under {args.concurrency} clients of the {len(texts)} examples for {args.seconds:g} s: PSS "
              f"{peak[0] / mib:.0f} MiB, RSS {peak[1] / mib:.0f} MiB, {peak[2]} processes; answers {answered}",
              flush=True)
        time.sleep(args.quiet)
        pss, count = tree_pss(proc.pid)
        print(f"idle {args.quiet:g} s after the load: PSS {pss / mib:.0f} MiB, RSS {tree_rss(proc.pid) / mib:.0f} MiB, "
              f"{count} processes (bound {IDLE_TREE_BOUND / mib:.0f} MiB)", flush=True)
    finally:
        stop_group(proc)


if __name__ == "__main__":
    sys.exit(main())
