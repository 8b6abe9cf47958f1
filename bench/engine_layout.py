"""What the layout of the engine costs at c=8: one query per process (Kusei's query processes) or
one per thread of a single process (Oxigraph's server), on the same store, the same queries.

Each layout runs N workers that ask the same query over and over (distinct texts, so no engine
cache helps) for ``--seconds``; reported are queries per second and CPU per query (user + system,
of the whole layout), and the ratio of queries per second to ``threads`` with as many workers.
No HTTP and no Kusei code: pyoxigraph alone, as each layout holds it.

- ``threads:N``: one process, one ``Store``, N threads (pyoxigraph releases the GIL while it
  evaluates);
- ``processes:N``: N processes, each with the store opened read-only, as N query processes;
- ``processes:N:slice=MS``: the same, each process asking the kernel for slices of MS ms
  (``sched_setattr``, EEVDF, Linux 6.12 and later) instead of the default (~1-3 ms).

    .venv/bin/python -m bench.engine_layout --years 11 --queries 01 06
    .venv/bin/python -m bench.engine_layout --layouts threads:8 processes:8 processes:2 processes:8:slice=30
"""

from __future__ import annotations

import argparse
import ctypes
import multiprocessing
import os
import struct
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bench.generate import BASE  # noqa: E402
from bench.mix import load_queries  # noqa: E402
from bench.run import prepare_data  # noqa: E402
from kusei.namespaces import prefixes  # noqa: E402
from kusei.release import current_link, store_dir  # noqa: E402

_SCHED_SETATTR = {"x86_64": 314, "aarch64": 274}


def _ask_slice(milliseconds: float) -> None:
    number = _SCHED_SETATTR.get(os.uname().machine)
    if number is None:
        raise SystemExit("sched_setattr: unknown syscall number on this machine")
    # struct sched_attr, first version: size, policy (SCHED_OTHER), flags, nice, priority,
    # runtime (the slice, ns), deadline, period.
    attr = ctypes.create_string_buffer(struct.pack("IIQiIQQQ", 48, 0, 0, os.getpriority(os.PRIO_PROCESS, 0), 0,
                                                   round(milliseconds * 1e6), 0, 0))
    if ctypes.CDLL(None, use_errno=True).syscall(number, 0, attr, 0) != 0:
        raise SystemExit(f"sched_setattr refused: errno {ctypes.get_errno()}")


def _ask(store: ox.Store, text: str, stop: float, tag: str) -> int:
    options = prefixes(BASE)
    done = 0
    while time.monotonic() < stop:
        answer = store.query(f"{text}\n# layout {tag} {done}", prefixes=options)
        if isinstance(answer, ox.QueryTriples):
            answer.serialize(format=ox.RdfFormat.N_TRIPLES)
        else:
            answer.serialize(format=ox.QueryResultsFormat.JSON)
        done += 1
    return done


def _process(store_path: str, text: str, stop: float, slice_ms: float, out: multiprocessing.Queue) -> None:
    if slice_ms:
        _ask_slice(slice_ms)
    store = ox.Store.read_only(store_path)
    out.put(_ask(store, text, stop, str(os.getpid())))


def run(layout: str, store_path: Path, text: str, seconds: float) -> tuple[float, float]:
    """Queries per second and CPU ms per query of ``layout``."""
    kind, count, *rest = layout.split(":")
    workers = int(count)
    slice_ms = float(rest[0].removeprefix("slice=")) if rest else 0.0
    before = os.times()
    started = time.monotonic()
    stop = started + seconds
    if kind == "threads":
        store = ox.Store.read_only(str(store_path))
        counts: list[int] = []
        threads = [threading.Thread(target=lambda tag=str(i): counts.append(_ask(store, text, stop, tag)))
                   for i in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        total = sum(counts)
    elif kind == "processes":
        context = multiprocessing.get_context("fork")
        out: multiprocessing.Queue = context.Queue()
        processes = [context.Process(target=_process, args=(str(store_path), text, stop, slice_ms, out))
                     for _ in range(workers)]
        for process in processes:
            process.start()
        total = sum(out.get() for _ in processes)
        for process in processes:
            process.join()
    else:
        raise SystemExit(f"unknown layout {layout!r}")
    elapsed = time.monotonic() - started
    after = os.times()
    cpu = sum(getattr(after, f) - getattr(before, f) for f in ("user", "system", "children_user", "children_system"))
    return total / elapsed, cpu / max(total, 1) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=PROJECT_ROOT / "bench" / "out")
    parser.add_argument("--wards", type=int, default=18)
    parser.add_argument("--years", type=int, default=11)
    parser.add_argument("--queries", nargs="*", default=["01", "06"])
    parser.add_argument("--layouts", nargs="*",
                        default=["threads:8", "processes:8", "processes:2", "processes:8:slice=30"])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2, help="each layout this often, alternating")
    args = parser.parse_args(argv)
    store_path = store_dir(current_link(prepare_data(args.workdir, args.wards, args.years)).resolve())
    print(f"{'query':28s} {'layout':24s} {'queries/s':>10s} {'CPU ms/query':>13s} {'ratio to threads':>17s}")
    for query in load_queries(args.queries):
        results: dict[str, list[tuple[float, float]]] = {layout: [] for layout in args.layouts}
        for _ in range(args.rounds):
            for layout in args.layouts:
                results[layout].append(run(layout, store_path, query.text, args.seconds))
        for layout, samples in results.items():
            rate = sum(s[0] for s in samples) / len(samples)
            cpu = sum(s[1] for s in samples) / len(samples)
            workers = layout.split(":")[1]
            peer = results.get(f"threads:{workers}")
            ratio = rate / (sum(s[0] for s in peer) / len(peer)) if peer else float("nan")
            print(f"{query.name:28s} {layout:24s} {rate:10.1f} {cpu:13.2f} {ratio:17.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
