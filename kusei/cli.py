"""The `kusei` command: build the graph, serve it."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kusei import __version__
from kusei.settings import Settings, SettingsError


def _settings(args: argparse.Namespace) -> Settings:
    # Flags override the environment; both are validated in one place (kusei.settings).
    return Settings.load(
        data_dir=Path(args.data_dir) if args.data_dir else None,
        base=args.base, licence=args.licence, modified=args.modified, public_url=args.public_url,
        host=getattr(args, "host", None), port=getattr(args, "port", None),
        workers=getattr(args, "workers", None), query_timeout=getattr(args, "timeout", None),
        rate_limit=getattr(args, "rate_limit", None),
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
    from kusei.graph.input.record import RecordErrors

    settings = _settings(args)
    try:
        result = build(settings)
    except BuildError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    except RecordErrors as exc:
        print(f"build failed: {exc}\nnothing was published.", file=sys.stderr)
        return 1
    _print_summary(result)
    print(f"dumps: {result.path / 'dumps'}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
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
        "KUSEI_QUERY_TIMEOUT": str(settings.query_timeout),
        # Served as given, whatever the release was built with: the service description follows it.
        "KUSEI_PUBLIC_URL": settings.public_url,
    }
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


def _parser() -> argparse.ArgumentParser:
    defaults = Settings.model_fields
    parser = argparse.ArgumentParser(prog="kusei", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("build", "build and publish the graph"), ("serve", "serve the graph (builds if needed)")):
        p = sub.add_parser(name, help=helptext, description=helptext)
        for flag, field in (("--data-dir", "data_dir"), ("--base", "base"), ("--licence", "licence"),
                            ("--modified", "modified"), ("--public-url", "public_url")):
            info = defaults[field]
            p.add_argument(flag, default=None, help=f"{info.description} (KUSEI_{field.upper()}; default: "
                                                    f"{info.default or 'none'})")
    serve = sub.choices["serve"]
    for flag, field, kind in (("--host", "host", str), ("--port", "port", int), ("--workers", "workers", int),
                              ("--timeout", "query_timeout", float), ("--rate-limit", "rate_limit", str)):
        info = defaults[field]
        serve.add_argument(flag, type=kind, default=None,
                           help=f"{info.description} (KUSEI_{field.upper()}; default: {info.default or 'off'})")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"build": cmd_build, "serve": cmd_serve}[args.command](args)
    except SettingsError as exc:
        print(f"kusei {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
