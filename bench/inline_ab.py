"""One lookup over HTTP through `kusei serve` with and without answers in the web worker, batches
interleaved, the fastest batch of each kept (steadier than bench.run's cells on a loaded machine).

    python -m bench.inline_ab --data-dir var r1-ask-plan.rq r2-plan-measures.rq

Each query is a file of bench/queries/real/ (the repository's data), sent with a new trailing
comment each time so that no cache answers it; one keep-alive connection each, concurrency 1.
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bench.mix import PROLOGUE  # noqa: E402
from bench.servers import free_port  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("queries", nargs="+")
    args = parser.parse_args(argv)
    kusei = Path(sys.executable).parent / "kusei"
    servers = {}
    for name, flag in (("inline", "true"), ("hop", "false")):
        port = free_port()
        env = {**os.environ, "KUSEI_DATA_DIR": str(args.data_dir), "KUSEI_PORT": str(port), "KUSEI_HOST": "127.0.0.1",
               "KUSEI_WORKERS": "1", "KUSEI_INLINE_QUERIES": flag, "KUSEI_ACCESS_LOG": os.devnull}
        servers[name] = (port, subprocess.Popen([str(kusei), "serve"], env=env, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL, start_new_session=True))
    try:
        conns = {}
        for name, (port, _) in servers.items():
            for _ in range(600):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    conn.request("GET", "/sparql?query=ASK%7B%7D")
                    conn.getresponse().read()
                    conns[name] = conn
                    break
                except OSError:
                    time.sleep(0.1)
        sent = 0
        for query_file in args.queries:
            query = PROLOGUE + (PROJECT_ROOT / "bench" / "queries" / "real" / query_file).read_text(encoding="utf-8")
            best: dict[str, float] = {}
            for _ in range(args.rounds):
                for name, conn in conns.items():
                    started = time.perf_counter()
                    for _ in range(args.batch):
                        sent += 1
                        conn.request("GET", "/sparql?query=" + urllib.parse.quote(f"{query} # {sent}"),
                                     headers={"Accept": "application/sparql-results+json"})
                        answer = conn.getresponse()
                        answer.read()
                        assert answer.status == 200, answer.status
                    spent = (time.perf_counter() - started) / args.batch * 1e6
                    best[name] = min(best.get(name, spent), spent)
            print(f"{query_file:24s} inline {best['inline']:6.0f} us, query process {best['hop']:6.0f} us per "
                  f"request ({best['inline'] / best['hop']:.2f}x); load average {os.getloadavg()[0]:.1f}")
    finally:
        for _, proc in servers.values():
            os.killpg(proc.pid, 15)
            proc.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
