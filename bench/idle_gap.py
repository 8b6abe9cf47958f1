"""Why a request costs the web worker more inside the server than in a loop: the idle gap.

The Flask app (the lean path and the query service, no HTTP) answers distinct lookups, each
new to the result cache, back to back; then with a pause after each, as a server's request thread
waits for its client's next request: once sleeping through the pause (as the thread does), once
spinning through it (the core kept busy). Reported: the app's CPU per request, p50.

    .venv/bin/python -m bench.idle_gap --data-dir var
    .venv/bin/python -m bench.idle_gap --data-dir var --gaps 0.0003 0.002 --query bench/queries/real/r1-ask-plan.rq
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from werkzeug.test import EnvironBuilder  # noqa: E402

from bench.mix import PROLOGUE  # noqa: E402
from kusei.endpoint.web.app import create_app  # noqa: E402
from kusei.settings import Settings  # noqa: E402

DEFAULT_QUERY = PROJECT_ROOT / "bench" / "queries" / "real" / "r1-ask-plan.rq"


def cpu_per_request(app: object, query: str, requests: int, gap: float, spin: bool) -> float:
    """µs of this thread's CPU per request, p50 (the first fifth left out as warm-up)."""
    headers = [("Accept", "application/sparql-results+json"), ("Host", "localhost")]
    environ = EnvironBuilder(path="/sparql", headers=headers).get_environ()
    environ["REMOTE_ADDR"] = "127.0.0.1"
    stamp = time.time_ns()
    strings = [urlencode({"query": f"{query}\n# idle-gap {stamp} {index}"}) for index in range(requests)]

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        assert status.startswith("200"), status

    samples = []
    for query_string in strings:
        request = dict(environ, QUERY_STRING=query_string)
        started = time.thread_time_ns()
        b"".join(app(request, start_response))  # type: ignore[operator]
        samples.append(time.thread_time_ns() - started)
        if gap > 0:
            until = time.perf_counter() + gap
            if spin:
                while time.perf_counter() < until:
                    pass
            else:
                time.sleep(gap)
    return statistics.median(samples[requests // 5:]) / 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True, help="a built Kusei data directory")
    parser.add_argument("--query", type=Path, default=DEFAULT_QUERY)
    parser.add_argument("--gaps", type=float, nargs="*", default=[0.0003, 0.002], help="seconds after each request")
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args(argv)
    app = create_app(Settings(data_dir=args.data_dir, access_log="off"))
    query = PROLOGUE + args.query.read_text(encoding="utf-8")
    print(f"{'after each request':24s} {'app CPU µs p50':>15s}")
    print(f"{'nothing':24s} {cpu_per_request(app, query, args.requests, 0.0, False):15.0f}", flush=True)
    for gap in args.gaps:
        for spin in (False, True):
            label = f"{gap * 1e3:g} ms {'spinning' if spin else 'asleep'}"
            print(f"{label:24s} {cpu_per_request(app, query, args.requests, gap, spin):15.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
