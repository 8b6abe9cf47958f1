"""How build and SHACL-validation time grow with the amount of source data (run on demand).

Each scale N copies the five seed records N times. Copy k of record i is moved to its own plan
(ward i of the reference table, fiscal year 1990 + k) and its own source file, so every copy is a
distinct document graph that passes the same text checks and shapes as the original. The real
``kusei.graph.build.build`` then runs on the copies; times are printed with the ratio to scale 1 from
the same run.

    .venv/bin/python -m bench.build_scaling --scales 1 10 100
"""

from __future__ import annotations

import argparse
import hashlib
import io
import tempfile
import time
from pathlib import Path

from ruamel.yaml import YAML

from kusei.graph.build import build
from kusei.graph.input.reference import Reference
from kusei.graph.input.verify import RECORDS_DIR, SOURCES_DIR
from kusei.settings import Settings

FIRST_YEAR = 1990


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    args = parser.parse_args(argv)
    if max(args.scales) > 2100 - FIRST_YEAR:
        parser.error("at most 110 copies: fiscal years must stay within 1990-2100")
    rows = []
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix=f"kusei-scale{scale}-") as tmp:
            root = Path(tmp)
            records, sources = root / "records", root / "sources"
            records.mkdir()
            sources.mkdir()
            documents = replicate(scale, records, sources)
            started = time.perf_counter()
            result = build(Settings(data_dir=root / "data"), records_dir=records, sources_dir=sources,
                           report=lambda _: None)
            total = time.perf_counter() - started
            triples = sum(n for g, n in result.graph_triples.items() if "/graph/document/" in g)
            # Both gates: each document, then the merged default graph.
            validation = sum(v for k, v in result.timings.items() if k.startswith("validating"))
            rows.append((scale, documents, triples, total, validation))
            print(f"scale {scale}: {documents} documents, {triples} document triples, build {total:.1f} s, "
                  f"validation {validation:.1f} s", flush=True)
    base = rows[0]
    print(f"\n{'scale':>5} {'docs':>5} {'doc triples':>11} {'build s':>8} {'× 1st':>6} {'SHACL s':>8} {'× 1st':>6}")
    for scale, documents, triples, total, validation in rows:
        print(f"{scale:>5} {documents:>5} {triples:>11} {total:>8.1f} {total / base[3]:>6.1f} "
              f"{validation:>8.1f} {validation / base[4]:>6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
