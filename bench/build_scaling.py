"""How the build grows with the number of documents: time per stage and peak memory (run on demand).

Each size N copies the five seed records N/5 times. Copy k of record i is moved to its own plan
(ward i of the reference table, fiscal year 1990 + k) and its own source file, so every copy is a
distinct document graph that passes the same text checks and shapes as the original. The real
``kusei.graph.build.build`` runs on the copies, each size in a fresh process so that its peak
resident memory (``ru_maxrss``) is its own; times are printed per stage with the ratio to the
first size of the same run, and the 1-minute load average of the machine before each size.

    .venv/bin/python -m bench.build_scaling --documents 5 25 50 100 200
    .venv/bin/python -m bench.build_scaling --documents 5 25 --as-before   # the gate as it was

``--as-before`` puts the gate back as it was before the merged-graph run was restricted: every node
of the merged graph judged, and rdflib's own order of matching SPARQL patterns.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from ruamel.yaml import YAML

from kusei.graph.build import build
from kusei.graph.input.reference import Reference
from kusei.graph.input.verify import RECORDS_DIR, SOURCES_DIR
from kusei.settings import Settings

FIRST_YEAR = 1990
SEEDS = 5
# The build's steps (BuildResult.timings keys) as printed, in order.
STAGES = [("reading", "read+check"), ("assembling", "assemble"), ("validating documents", "SHACL docs"),
          ("validating the union", "SHACL merged"), ("writing", "dumps+index"), ("loading", "store")]


def replicate(scale: int, records_out: Path, sources_out: Path) -> int:
    """Write ``scale`` copies of every seed record (and its document); return the record count."""
    yaml = YAML(typ="rt")
    reference = Reference()
    wards = sorted(reference.wards)
    count = 0
    for index, path in enumerate(sorted(RECORDS_DIR.glob("*.yaml"))):
        for copy in range(scale):
            record = yaml.load(path.read_text(encoding="utf-8"))
            source = record["document"]["file"]
            # Same naming as the seeds (NNN_<16 hex>.txt), which the shapes check.
            digest = hashlib.sha256(f"{source}/{copy}".encode()).hexdigest()[:16]
            new_source = f"{index:03d}_{digest}.txt"
            # The copy names its new ward where the seed named its own (verify checks the ward a
            # document names), and its year is stated as inferred (verify checks a printed one).
            seed_name = reference.wards[record["document"]["ward"]]["name"]
            name = reference.wards[wards[index]]["name"]
            text = (SOURCES_DIR / source).read_text(encoding="utf-8")
            (sources_out / new_source).write_text(text.replace(seed_name, name), encoding="utf-8")
            record["document"]["file"] = new_source
            record["document"]["ward"] = wards[index]
            record["plan"]["fiscal_year"] = {"year": FIRST_YEAR + copy, "inferred": True,
                                             "reason": "A copy made by bench.build_scaling."}
            out = io.StringIO()
            yaml.dump(record, out)
            (records_out / f"{index:03d}_{digest}.yaml").write_text(out.getvalue().replace(seed_name, name),
                                                                    encoding="utf-8")
            count += 1
    return count


def as_before() -> None:
    """The gate as it was: no node left out of the merged-graph run, rdflib's pattern order."""
    import functools

    from kusei.graph.gate import validate

    validate.uncovered_shapes = lambda shapes: ["(bench: --as-before)"]  # type: ignore[assignment]
    validate.memoised_sparql = functools.partial(validate.memoised_sparql, cheapest_first=False)  # type: ignore[assignment]


def cpu_per_step() -> dict[str, float]:
    """Make every build step also record the CPU seconds it took (all threads of this process).
    On a machine other jobs share, wall time measures the load as much as the build; CPU time is
    close to what the step takes on an idle core."""
    import contextlib

    from kusei.graph import build as build_module

    seconds: dict[str, float] = {}
    original = build_module.Steps.step

    @contextlib.contextmanager
    def step(self: build_module.Steps, name: str, short: str | None = None) -> Iterator[None]:
        started = time.process_time()
        with original(self, name, short):
            yield
        seconds[short or name.split(" ")[0]] = time.process_time() - started

    build_module.Steps.step = step  # type: ignore[method-assign]
    return seconds


def one_size(scale: int) -> dict:
    """Build ``scale`` copies of the seeds in a temporary directory; the figures as a dict."""
    cpu = cpu_per_step()
    with tempfile.TemporaryDirectory(prefix=f"kusei-scale{scale}-") as tmp:
        root = Path(tmp)
        records, sources = root / "records", root / "sources"
        records.mkdir()
        sources.mkdir()
        documents = replicate(scale, records, sources)
        lines: list[str] = []
        started = time.perf_counter()
        result = build(Settings(data_dir=root / "data"), records_dir=records, sources_dir=sources,
                       report=lines.append)
        total = time.perf_counter() - started
        judged = [line for line in lines if "judged" in line]
        return {"documents": documents, "total": total, "timings": result.timings, "cpu": cpu,
                "quads": sum(result.graph_triples.values()),
                "document_triples": sum(n for g, n in result.graph_triples.items() if "/graph/document/" in g),
                "merged_judged": judged[-1].strip() if judged else ""}


def measure(documents: int, before: bool) -> dict:
    """One size in a child process: its figures and its peak resident memory."""
    load = os.getloadavg()[0]
    child = subprocess.Popen([sys.executable, "-m", "bench.build_scaling", "--child", str(documents // SEEDS),
                              *(["--as-before"] if before else [])], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    out = child.stdout.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"the build of {documents} documents failed (exit {child.returncode})")
    figures = json.loads(out.strip().splitlines()[-1])
    figures["peak_mib"] = usage.ru_maxrss / 1024  # KiB on Linux
    figures["cpu_total"] = usage.ru_utime + usage.ru_stime
    figures["load_before"] = load
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, nargs="+", default=[5, 25, 50, 100, 200],
                        help="numbers of documents, multiples of 5 (default 5 25 50 100 200)")
    parser.add_argument("--as-before", action="store_true",
                        help="the gate as it was: every node of the merged graph judged, rdflib's pattern order")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        if args.as_before:
            as_before()
        print(json.dumps(one_size(args.child)))
        return 0
    if any(n % SEEDS or n <= 0 for n in args.documents):
        parser.error(f"each number of documents is a positive multiple of {SEEDS}")
    if max(args.documents) // SEEDS > 2100 - FIRST_YEAR:
        parser.error("at most 550 documents: fiscal years must stay within 1990-2100")
    rows = []
    for documents in args.documents:
        row = measure(documents, args.as_before)
        rows.append(row)
        stages = ", ".join(f"{short} {row['timings'].get(key, 0):.1f}/{row['cpu'].get(key, 0):.1f}"
                           for key, short in STAGES)
        print(f"{row['documents']} documents ({row['quads']} quads): build {row['total']:.1f} s wall, "
              f"{row['cpu_total']:.1f} s CPU (per stage wall/CPU s: {stages}); peak {row['peak_mib']:.0f} MiB; "
              f"load before {row['load_before']:.1f}; {row['merged_judged']}", flush=True)
    first = rows[0]
    print("\nCPU seconds per stage (wall seconds in the lines above):")
    header = f"{'docs':>5} {'quads':>8} {'wall s':>7} {'CPU s':>7} {'× 1st':>6} " + " ".join(
        f"{short:>12}" for _, short in STAGES) + f" {'peak MiB':>9} {'load':>5}"
    print(header)
    for row in rows:
        print(f"{row['documents']:>5} {row['quads']:>8} {row['total']:>7.1f} {row['cpu_total']:>7.1f} "
              f"{row['cpu_total'] / first['cpu_total']:>6.1f} "
              + " ".join(f"{row['cpu'].get(key, 0):>12.1f}" for key, _ in STAGES)
              + f" {row['peak_mib']:>9.0f} {row['load_before']:>5.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
