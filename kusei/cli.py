"""The `kusei` command: build the graph, serve it."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kusei.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    return Settings().with_overrides(
        data_dir=Path(args.data_dir) if args.data_dir else None,
        base=args.base.rstrip("/") if args.base else None,
        licence=getattr(args, "licence", None),
        modified=getattr(args, "modified", None),
        public_url=getattr(args, "public_url", None),
    )


def _print_summary(result) -> None:  # noqa: ANN001 - BuildResult, imported lazily
    print(f"release {result.release_id}{' (unchanged)' if result.reused else ''} at {result.path}")
    print("triples per named graph:")
    for graph, count in result.graph_triples.items():
        print(f"  {count:>7}  {graph}")
    print("entities per class, per document:")
    for doc, classes in result.classes_per_document.items():
        print(f"  {doc}: " + ", ".join(f"{name} {n}" for name, n in classes.items()))
    total = sum(result.timings.values())
    print(f"built in {total:.2f} s (" + ", ".join(f"{k.split(' ')[0]} {v:.2f} s" for k, v in
                                              result.timings.items()) + ")")


def cmd_build(args: argparse.Namespace) -> int:
    from kusei.graph.build import BuildError, build
    from kusei.graph.input.record import RecordError

    settings = _settings(args)
    try:
        result = build(settings)
    except BuildError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    except RecordError as exc:
        print(f"build failed: {exc}\nnothing was published.", file=sys.stderr)
        return 1
    _print_summary(result)
    print(f"dumps: {result.path / 'dumps'}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args).with_overrides(host=args.host, port=args.port, workers=args.workers,
                                              rate_limit=args.rate_limit)
    from kusei.endpoint.web.throttle import parse_rate_limit

    try:
        parse_rate_limit(settings.rate_limit)  # refused here, not by every gunicorn worker failing to boot
    except ValueError as exc:
        print(f"cannot serve: {exc}", file=sys.stderr)
        return 2
    if not (settings.data_dir / "current").exists():
        print("no release yet: building first", file=sys.stderr)
        if cmd_build(args) != 0:
            return 1
    env = {
        "KUSEI_DATA_DIR": str(settings.data_dir.resolve()),
        "KUSEI_BASE": settings.base,
        "KUSEI_HOST": settings.host,
        "KUSEI_PORT": str(settings.port),
        "KUSEI_WORKERS": str(settings.workers),  # each starts its share of the query processes
        "KUSEI_RATE_LIMIT": settings.rate_limit,
    }
    if args.timeout:
        env["KUSEI_QUERY_TIMEOUT"] = str(args.timeout)
    os.environ.update(env)
    from kusei.release import CurrentRelease, ReleaseError

    try:
        CurrentRelease(settings.data_dir)
    except ReleaseError as exc:
        print(f"cannot serve: {exc}", file=sys.stderr)
        return 2
    print(f"serving on http://{settings.host}:{settings.port}/ (Ctrl+C stops)", file=sys.stderr)
    gunicorn = [sys.executable, "-m", "gunicorn", "--bind", f"{settings.host}:{settings.port}",
                "--workers", str(settings.workers), "--threads", "4",
                "--timeout", str(int(settings.query_timeout) + 30),
                # The control socket defaults to one path per user, shared by every server it runs.
                "--no-control-socket", "kusei.endpoint.wsgi:app"]
    os.execv(sys.executable, gunicorn)
    return 0  # not reached


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kusei", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("build", "build and publish the graph"), ("serve", "serve the graph (builds if needed)")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--data-dir", help="where releases live (KUSEI_DATA_DIR, default ./var)")
        p.add_argument("--base", help="base IRI (KUSEI_BASE, default https://w3id.org/kusei)")
        p.add_argument("--licence", help="dataset licence IRI (KUSEI_LICENCE, default CC BY 4.0)")
        p.add_argument("--modified", help="release date in the dataset description (KUSEI_MODIFIED)")
        p.add_argument("--public-url", help="where dumps and endpoint are published (KUSEI_PUBLIC_URL)")
    serve = sub.choices["serve"]
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.add_argument("--timeout", type=float, help="query time limit in seconds (KUSEI_QUERY_TIMEOUT)")
    serve.add_argument("--rate-limit", help="queries per client address, e.g. 120/minute (KUSEI_RATE_LIMIT; off)")
    args = parser.parse_args(argv)
    return {"build": cmd_build, "serve": cmd_serve}[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
