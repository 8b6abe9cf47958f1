"""How the pool waits for a query process: the round trip of a cheap query by waking strategy.

Each strategy starts its own query processes on the release store, then threads (one per process,
as the pool lends them) send the same ASK back to back. Strategies:

- ``selector``: the wait as it was, ``Connection.poll`` (a selector built on every call), both
  sides sleeping at once;
- ``poll``: a ``select.poll`` object registered once, both sides sleeping at once;
- ``pool spins N``: ``poll``, but the pool checks for the reply for up to N µs before sleeping;
- ``pool yields N``: as ``pool spins N``, giving up the core (``sched_yield``) between checks;
- ``both spin N``: as ``pool spins N``, and the query process checks for the next request for up to
  N µs after answering;
- ``QueryExecutor.run``: the pool as the server uses it (after the strategy rows, not interleaved).

Rounds of all strategies are interleaved, so load from other jobs falls on each alike; the
fastest round's p50 and its throughput are reported, with CPU seconds used per round trip (the
price of spinning on a shared machine)::

    .venv/bin/python -m bench.wake --data-dir var [--concurrency 1 8] [--spins 25 50 100 200]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import threading
import time
from pathlib import Path

from kusei.endpoint.query.executor import make_request, wire
from kusei.endpoint.query.executor.process import QueryProcess
from kusei.release import current_link, open_release

ASK = "ASK { ?s ?p ?o }"


def _start(store: Path, spin: float, child_spin: float, yields: bool = False) -> QueryProcess:
    process = QueryProcess(store)
    ready = process.ask({"store": str(store), "prefixes": {}, "base_iri": None, "isolate_network": False,
                         "parent": os.getpid(), "spin": child_spin}, time.monotonic() + 60)
    if ready is None or ready[0].get("status") != "ready":
        raise SystemExit(f"query process did not start: {ready}")
    process.spin = spin
    process.spin_yields = yields
    return process


def _round_trip(process: QueryProcess, request: dict, selector: bool) -> None:
    if selector:  # the wait before this change: Connection.poll builds a selector per call
        wire.send(process._conn, request)
        while not process._conn.poll(60):
            pass
        header, _ = wire.receive(process._conn)
    else:
        reply = process.ask(request, time.monotonic() + 60)
        assert reply is not None
        header = reply[0]
    if header.get("status") != "ok":
        raise SystemExit(f"unexpected reply {header}")


def _round(processes: list[QueryProcess], request: dict, selector: bool,
           seconds: float) -> tuple[list[float], int, float]:
    samples: list[list[float]] = [[] for _ in processes]
    stop_at = time.perf_counter() + seconds

    def caller(index: int) -> None:
        process, mine = processes[index], samples[index]
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            _round_trip(process, request, selector)
            mine.append(time.perf_counter() - started)

    cpu = _cpu([p.pid for p in processes])
    threads = [threading.Thread(target=caller, args=(i,)) for i in range(len(processes))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    used = _cpu([p.pid for p in processes]) - cpu
    flat = [value for mine in samples for value in mine]
    return flat, int(len(flat) / elapsed), used / max(1, len(flat))


def _pool_run(store: Path, concurrency: int, seconds: float, rounds: int) -> tuple[float, float, float, int, float]:
    """The same ASK through the pool as the server runs it (the strategy of process.SPIN_SECONDS,
    plus the pool's lending, recycling check and reply parsing)."""
    from kusei.endpoint.query.executor import QueryExecutor

    with QueryExecutor(store, workers=concurrency, max_rows=10, max_bytes=10**6, prefixes={},
                       union_default_graph=False) as executor:
        executor.wait_ready(120)
        best: tuple[float, float, float, int, float] | None = None
        for _ in range(rounds):
            samples: list[list[float]] = [[] for _ in range(concurrency)]
            stop_at = time.perf_counter() + seconds

            def caller(index: int, samples: list[list[float]] = samples, stop_at: float = stop_at) -> None:
                while time.perf_counter() < stop_at:
                    started = time.perf_counter()
                    executor.run(ASK, timeout=60)
                    samples[index].append(time.perf_counter() - started)

            cpu = _cpu(executor.worker_pids())
            threads = [threading.Thread(target=caller, args=(i,)) for i in range(concurrency)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            flat = sorted(value for mine in samples for value in mine)
            used = (_cpu(executor.worker_pids()) - cpu) / max(1, len(flat))
            row = (flat[len(flat) // 2] * 1e6, flat[len(flat) * 9 // 10] * 1e6, statistics.fmean(flat) * 1e6,
                   int(len(flat) / elapsed), used * 1e6)
            if best is None or row[2] < best[2]:
                best = row
    assert best is not None
    return best


def _cpu(pids: list[int]) -> float:
    """CPU seconds of this process and the query processes ``pids`` so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    total = own.ru_utime + own.ru_stime
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("var"), help="a built data directory (default: var)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--spins", type=float, nargs="+", default=[25, 50, 100, 200], help="µs")
    parser.add_argument("--seconds", type=float, default=1.0, help="per round (default: 1)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default: 5)")
    args = parser.parse_args(argv)

    store = open_release(current_link(args.data_dir)).store_path
    request = make_request(ASK, default_graph_uris=None, named_graph_uris=None, result_format="json",
                           union_default_graph=False, max_rows=10, max_bytes=10**6)
    request["store"] = str(store)
    strategies = [("selector", 0.0, 0.0, False, True), ("poll", 0.0, 0.0, False, False),
                  *((f"pool spins {spin:g}", spin / 1e6, 0.0, False, False) for spin in args.spins),
                  *((f"pool yields {spin:g}", spin / 1e6, 0.0, True, False) for spin in args.spins),
                  *((f"both spin {spin:g}", spin / 1e6, spin / 1e6, False, False) for spin in args.spins)]
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores")
    for concurrency in args.concurrency:
        pools = {name: [_start(store, spin, child_spin, yields) for _ in range(concurrency)]
                 for name, spin, child_spin, yields, _ in strategies}
        best: dict[str, tuple[float, float, float, int, float]] = {}
        try:
            for _ in range(args.rounds):
                for name, _, _, _, selector in strategies:
                    samples, rate, cpu = _round(pools[name], request, selector, args.seconds)
                    samples.sort()
                    p50, p90 = samples[len(samples) // 2] * 1e6, samples[len(samples) * 9 // 10] * 1e6
                    mean = statistics.fmean(samples) * 1e6
                    if name not in best or mean < best[name][2]:
                        best[name] = (p50, p90, mean, rate, cpu * 1e6)
        finally:
            for processes in pools.values():
                for process in processes:
                    process.kill()
        best["QueryExecutor.run"] = _pool_run(store, concurrency, args.seconds, args.rounds)
        base = best["selector"]
        print(f"\nc={concurrency}: {'strategy':<16} {'p50 µs':>7} {'p90 µs':>7} {'mean µs':>8} {'mean × selector':>16} "
              f"{'trips/s':>8} {'× selector':>10} {'CPU µs/trip':>12}")
        for name, (p50, p90, mean, rate, cpu) in best.items():
            print(f"      {name:<16} {p50:>7.0f} {p90:>7.0f} {mean:>8.0f} {mean / base[2]:>16.2f} "
                  f"{rate:>8,} {rate / base[3]:>10.2f} {cpu:>12.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
