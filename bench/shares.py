"""What holding a client's share costs per query (endpoint/query/shares.py), in-process.

Every query holds one (the web worker's inline answers too), so this cost is paid per request:
``hold`` checks the client's query-time budget, takes one of its shares, and charges the time
used when the block ends. ``patient`` also asks whether the client runs nothing else (what a
query that waits for a server slot asks).

    .venv/bin/python -m bench.shares
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from kusei.endpoint.query.shares import ClientShares


def per_hold(shares: ClientShares, patience: float, holds: int, rounds: int) -> float:
    """µs per hold, the fastest of ``rounds`` batches."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(holds):
            with shares.hold("192.0.2.1", wait=2.0, patience=patience) as charge:
                charge(0.0002)
        best = min(best, (time.perf_counter() - started) / holds)
    return best * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holds", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        shares = ClientShares(Path(directory), max_queries=4, seconds_per_minute=120.0)
        print(f"hold, answered in the web worker: {per_hold(shares, 0.0, args.holds, args.rounds):6.1f} µs")
        print(f"hold, waiting for a slot (patient): {per_hold(shares, 32.0, args.holds, args.rounds):6.1f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
