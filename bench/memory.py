"""What `kusei serve` costs in memory and start-up on a data directory (issue 20, point 5).

    python -m bench.memory --data-dir var [--seconds 20] [--concurrency 8] [--quiet 40] [--starts 3]

Cold start: from launching `kusei serve` to the first 200 of ``/sparql?query=ASK{}`` (best and
median of ``--starts`` launches). Then, on one server: the idle tree once every process it
started on its own is up, the peak while ``--concurrency`` clients send the published example
queries (each made new to the result cache) for ``--seconds``, and the idle tree again once the
server has gone quiet for ``--quiet`` seconds. Memory is PSS summed over the server's whole process
tree (``/proc/PID/smaps_rollup``): shared pages (the engine's library, the interpreter's heap a
forked process still shares) counted once across the tree, not once per process as RSS counts
them; RSS is printed beside it. One run on a shared machine: counts and memory are steady, times
are not.
"""

from __future__ import annotations

import argparse
import os
import signal
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
from bench.servers import PROJECT_ROOT, _die_with_parent, free_port, kusei_command

PROBE = "/sparql?" + urlencode({"query": "ASK {}"})


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as stat:
                    parent = int(stat.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, ()))
    return found


def tree_pss(root: int) -> tuple[int, int, int]:
    """PSS and RSS (bytes) summed over ``root``'s process tree, and the number of processes."""
    pss = rss = count = 0
    for pid in _descendants(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
                fields = {line.split(b":")[0]: int(line.split()[1]) for line in rollup.read().splitlines()[1:]
                          if line.endswith(b"kB")}
        except (OSError, ValueError, IndexError):
            continue
        pss += fields.get(b"Pss", 0) << 10
        rss += fields.get(b"Rss", 0) << 10
        count += 1
    return pss, rss, count


def _start(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KUSEI_DATA_DIR": str(data_dir), "KUSEI_ACCESS_LOG": "off"}
    with log.open("ab") as sink:
        return subprocess.Popen(kusei_command(data_dir, port, 2, 30.0), cwd=PROJECT_ROOT, env=env, stdout=sink,
                                stderr=sink, preexec_fn=_die_with_parent, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def _first_answer(proc: subprocess.Popen[bytes], port: int) -> float:
    started = time.monotonic()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"kusei serve exited ({proc.returncode})")
        try:
            if get(port, PROBE, "127.0.0.1", timeout=60)[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.01)


def _settled(root: int, seconds: float = 3.0) -> tuple[int, int, int]:
    """The tree once its process count has not changed for ``seconds`` (started processes are up)."""
    last, since = tree_pss(root), time.monotonic()
    while time.monotonic() - since < seconds:
        time.sleep(0.25)
        now = tree_pss(root)
        if now[2] != last[2]:
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
    args = parser.parse_args()
    data_dir = args.data_dir.resolve()
    log = Path(tempfile.mkdtemp(prefix="kusei-memory-")) / "serve.log"
    mib = 1 << 20

    starts = []
    for _ in range(args.starts):
        port = free_port()
        proc = _start(data_dir, port, log)
        try:
            starts.append(_first_answer(proc, port))
        finally:
            _stop(proc)
    print(f"cold start (kusei serve to the first answer), {len(starts)} starts: best {min(starts):.2f} s, "
          f"median {statistics.median(starts):.2f} s", flush=True)

    queries = sorted((PROJECT_ROOT / "endpoint" / "queries").glob("*.rq"))
    texts = [PROLOGUE + path.read_text() for path in queries]
    port = free_port()
    proc = _start(data_dir, port, log)
    try:
        _first_answer(proc, port)
        pss, rss, count = _settled(proc.pid)
        print(f"idle after start: PSS {pss / mib:.0f} MiB, RSS {rss / mib:.0f} MiB, {count} processes", flush=True)
        stop = threading.Event()
        peak = [0, 0, 0]
        answered: dict[int, int] = {}

        def sample() -> None:
            while not stop.wait(0.1):
                now = tree_pss(proc.pid)
                if now[0] > peak[0]:
                    peak[:] = list(now)

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
        pss, rss, count = tree_pss(proc.pid)
        print(f"idle {args.quiet:g} s after the load: PSS {pss / mib:.0f} MiB, RSS {rss / mib:.0f} MiB, "
              f"{count} processes", flush=True)
    finally:
        _stop(proc)


if __name__ == "__main__":
    sys.exit(main())
