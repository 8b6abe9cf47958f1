"""Where a query's time goes inside Kusei's query process, and what the bounded DESCRIBE costs.

Run on demand (not part of the tests), on the data `bench.run` builds (bench/out/, reused):

    python -m bench.engine                         # 18 wards x 11 years (bench.run's data), the engine-bound mix
    python -m bench.engine --queries 27 --profile  # plus a cProfile of executor.answer per query
    python -m bench.engine --describe-only

In one process, alternating the contenders so machine noise hits them alike, p50 of:

- ``raw``: pyoxigraph alone, ``Store.query`` + ``serialize`` to bytes (JSON or N-Triples);
- ``answer``: ``executor.answer`` in-process (what a query process does: limits, row count,
  langString check) on the same store;
- ``executor``: ``QueryExecutor.run``, through a query process (the frame, the socket, the copy);
- for DESCRIBE: Oxigraph's own ``DESCRIBE`` (raw); a floor, most of the description's triples by
  plain patterns (raw: what any query giving that description costs at least); the bounded
  description's CONSTRUCT (``describe.description_query``) raw; ``service.execute`` of the
  DESCRIBE as /sparql runs it for N-Triples (through query processes, ordered, written); and
  ``service.describe`` as a resource page asks it.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bench.generate import BASE  # noqa: E402
from bench.run import load_queries, prepare_data  # noqa: E402
from kusei.release import current_link, store_dir  # noqa: E402

PREFIXES = {"kusei": f"{BASE}/def/"}
DESCRIBED = f"{BASE}/id/plan/141011/2016"  # the plan of bench/queries/22-describe-plan.rq


def p50_ms(contenders: dict[str, Callable[[], object]], duration: float, max_runs: int = 2000) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for fn in contenders.values():  # warm caches once
        fn()
    stop_at = time.monotonic() + duration
    first = next(iter(contenders))
    while time.monotonic() < stop_at or len(samples[first]) < 5:
        for name, fn in contenders.items():
            started = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - started)
        if len(samples[first]) >= max_runs:
            break
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


def profile(fn: Callable[[], object], runs: int, top: int = 12) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        fn()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def engine_table(store_path: Path, names: list[str], duration: float, show_profile: bool) -> None:
    from kusei.endpoint.query.executor import QueryExecutor
    from kusei.endpoint.query.executor.answer import answer, make_request

    store = ox.Store.read_only(str(store_path))
    options = {"prefixes": PREFIXES}
    queries = [q for q in load_queries(names) if not q.name.startswith("22")]
    print(f"{'query':28s} {'raw ms':>9s} {'answer ms':>10s} {'executor ms':>12s} {'answer/raw':>11s} "
          f"{'executor/raw':>13s}")
    with QueryExecutor(store_path, workers=1, max_rows=10**6, max_bytes=10**9, prefixes=PREFIXES,
                       union_default_graph=False) as executor:
        executor.wait_ready(120)
        for query in queries:
            fmt = ox.RdfFormat.N_TRIPLES if query.graph else ox.QueryResultsFormat.JSON
            request = make_request(query.text, default_graph_uris=None, named_graph_uris=None, result_format="json",
                                   union_default_graph=False, max_rows=10**6, max_bytes=10**9)

            def raw(q: str = query.text, fmt: ox.RdfFormat | ox.QueryResultsFormat = fmt) -> object:
                return store.query(q, prefixes=PREFIXES).serialize(format=fmt)

            def inproc(request: dict = request) -> object:
                header, body = answer(ox, store, request, options)
                assert header["status"] == "ok", header
                return body

            def exe(q: str = query.text) -> object:
                return executor.run(q, timeout=60, result_format="json")

            assert inproc() == raw(), query.name  # the same bytes, or the comparison means nothing
            p50 = p50_ms({"raw": raw, "answer": inproc, "executor": exe}, duration)
            print(f"{query.name:28s} {p50['raw']:9.2f} {p50['answer']:10.2f} {p50['executor']:12.2f} "
                  f"{p50['answer'] / p50['raw']:11.2f} {p50['executor'] / p50['raw']:13.2f}", flush=True)
            if show_profile:
                print(profile(inproc, 50))


def describe_table(store_path: Path, duration: float, show_profile: bool) -> None:
    from kusei.endpoint.query import service
    from kusei.formats import by_name
    from kusei.release import open_release
    from kusei.settings import Settings

    try:
        from kusei.endpoint.query.describe import description_query
    except ImportError:  # before it moved there (to measure an older commit the same way)
        description_query = service.description_query  # type: ignore[attr-defined]

    store = ox.Store.read_only(str(store_path))
    release = open_release(store_path.parent)
    settings = Settings(data_dir=store_path.parent.parent.parent, max_result_rows=10**6)
    bounded = description_query([DESCRIBED], base=release.base)
    nt = ox.RdfFormat.N_TRIPLES
    nt_format = by_name("nt")
    describe = f"DESCRIBE <{DESCRIBED}>"

    def own() -> bytes:
        return store.query(describe).serialize(format=nt)  # type: ignore[no-any-return]

    def bounded_raw() -> bytes:
        return store.query(bounded).serialize(format=nt)  # type: ignore[no-any-return]

    # A lower bound for any query giving this description: the bulk of its triples (own, incoming,
    # the incoming resources' labels) by plain patterns, with no filter, limit or order.
    r = f"<{DESCRIBED}>"
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    floor_query = (f"CONSTRUCT {{ {r} ?p ?o . ?s ?q {r} . ?s {label} ?l }} WHERE {{ {{ {r} ?p ?o }} "
                   f"UNION {{ ?s ?q {r} }} UNION {{ ?s ?q {r} . ?s {label} ?l }} }}")

    def floor() -> bytes:
        return store.query(floor_query).serialize(format=nt)  # type: ignore[no-any-return]

    def sparql_nt() -> bytes:
        # What /sparql does for a DESCRIBE asked for as N-Triples.
        outcome = service.execute(release, describe, settings=settings, timeout=60, write_as="nt")
        if isinstance(outcome, service.Written):
            return outcome.body
        return nt_format.write(outcome.triples or [], release.base)

    def page() -> list:
        return service.describe(release, [DESCRIBED], settings=settings)

    contenders = {"own": own, "floor": floor, "bounded": bounded_raw, "sparql": sparql_nt, "page": page}
    triples = {"own": own().count(b"\n"), "floor": len(set(floor().splitlines())),
               "bounded": len(set(bounded_raw().splitlines())),
               "sparql": sparql_nt().count(b"\n"), "page": len(page())}
    p50 = p50_ms(contenders, duration)  # type: ignore[arg-type]
    print(f"\nDESCRIBE <{DESCRIBED}>")
    for name, label in (("own", "Oxigraph's DESCRIBE, raw"), ("floor", "plain patterns for most of it, raw"),
                        ("bounded", "bounded description CONSTRUCT, raw"),
                        ("sparql", "service.execute(write_as=nt), as /sparql"),
                        ("page", "service.describe, as a resource page")):
        print(f"  {label:44s} {p50[name]:8.2f} ms  {triples[name]:5d} triples  "
              f"x{p50['own'] / p50[name]:.3f} of Oxigraph's DESCRIBE rate")
    if show_profile:
        print(profile(sparql_nt, 30))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=PROJECT_ROOT / "bench" / "out")
    parser.add_argument("--wards", type=int, default=18)
    parser.add_argument("--years", type=int, default=11, help="as bench.run's default: the same data")
    parser.add_argument("--queries", nargs="*", default=["27", "23", "20", "21"])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per query")
    parser.add_argument("--profile", action="store_true", help="a cProfile of each contender path")
    parser.add_argument("--describe-only", action="store_true")
    args = parser.parse_args(argv)
    data_dir = prepare_data(args.workdir, args.wards, args.years)
    store_path = store_dir(current_link(data_dir).resolve())
    if not args.describe_only:
        engine_table(store_path, args.queries, args.duration, args.profile)
    describe_table(store_path, args.duration, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
