"""The `kusei` command: build the graph, serve it, draft a record for a new plan."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def _loading() -> Iterator[None]:
    """No garbage collection while modules load: importing allocates hundreds of thousands of
    objects and hardly any garbage, and the collections it triggers cost ~15-25 % of the import
    time (measured on `kusei serve`'s imports). The collector is on again afterwards, as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


with _loading():
    from kusei.settings import BODY_READERS, Settings, SettingsError, options


def _settings(args: argparse.Namespace) -> Settings:
    # Flags override the environment; both are validated in one place (kusei.settings), and every
    # flag is a setting's (kusei.settings.options), so no flag is read here by name.
    return Settings.load(**{option.field: getattr(args, option.field, None) for option in options()})


def _print_summary(result) -> None:  # noqa: ANN001 - BuildResult, imported lazily
    print(f"release {result.release_id}{' (unchanged)' if result.reused else ''} at {result.path}")
    print("triples per named graph:")
    for graph, count in result.graph_triples.items():
        print(f"  {count:>7}  {graph}")
    print("entities per class, per document:")
    for doc, classes in result.classes_per_document.items():
        print(f"  {doc}: " + ", ".join(f"{name} {n}" for name, n in classes.items()))
    total = sum(result.timings.values())
    print(f"built in {total:.2f} s (" + ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items()) + ")")


def cmd_build(args: argparse.Namespace) -> int:
    from kusei.graph.build import BuildError, build
    from kusei.graph.input.record import RecordErrors
    from kusei.release import dumps_dir

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
    print(f"dumps: {dumps_dir(result.path)}")
    return 0


# Request threads of one web worker beyond what queries may hold (slots + waiters) and bodies
# being read: pages, dumps, the service description and cached answers are served by these, so
# their capacity does not depend on how many runaway queries or slow senders there are.
OTHER_THREADS = 32
# How long a stopping worker may finish its requests before it is killed (its query processes
# die with it).
STOP_GRACE = 5
# How often granian samples each web worker's memory for max_web_worker_memory.
RSS_SAMPLE_SECONDS = 5
# granian's HTTP/1 read buffer, which bounds a request's head (request line and headers; 431 past
# it). Its default, 408 KiB, would let each header the app remembers (Accept, for negotiation)
# be 50 times what gunicorn allowed; 32 KiB still holds the app's longest target (8,190 bytes).
MAX_HEAD_BYTES = 32 << 10
# Open connections per web worker (granian's backpressure); past it, new ones wait in the listen
# backlog. Idle connections cost a few kilobytes and no thread, so the bound is generous.
MAX_CONNECTIONS = 4096


def request_threads(settings: Settings) -> int:
    """Request threads per web worker: a query holds one while it runs (up to every slot of the
    server, in one worker) or waits (WAITERS_PER_SLOT per slot and worker, see
    kusei.endpoint.query.slots); body readers are capped at BODY_READERS; the rest is for all else."""
    from kusei.endpoint.query.slots import WAITERS_PER_SLOT

    return (1 + WAITERS_PER_SLOT) * settings.max_concurrent_queries + BODY_READERS + OTHER_THREADS


def server_options(settings: Settings) -> dict[str, object]:
    """What `kusei serve` passes to granian (``granian.Granian`` keyword arguments), in one place:
    the CLI serves with it and the benchmarks print and reuse it."""
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    threads = request_threads(settings)
    return {
        "target": "kusei.endpoint.wsgi:app",
        "address": settings.host,
        "port": settings.port,
        "interface": Interfaces.WSGI,
        "workers": settings.workers,
        "blocking_threads": threads,
        # Idle connections and half-sent requests wait in the asynchronous front, not in a thread;
        # the request threads start on demand and end after this long unused.
        "blocking_threads_idle_timeout": 30,
        # granian counts every open connection against this, idle ones too, and holds a connection
        # that never sends a byte until its client closes it: the bound is on connections, not work.
        "backpressure": MAX_CONNECTIONS,
        "http1_settings": HTTP1Settings(header_read_timeout=max(1, round(settings.header_timeout * 1000)),
                                        max_buffer_size=MAX_HEAD_BYTES),
        "respawn_failed_workers": True,
        "workers_kill_timeout": STOP_GRACE,
        "workers_max_rss": (-(-settings.max_web_worker_memory // (1 << 20))
                            if settings.max_web_worker_memory else None),
        "rss_sample_interval": RSS_SAMPLE_SECONDS,
        # What `ps` shows; the server's process tree is found by KUSEI_SERVER_PID, not by this.
        "process_name": f"granian kusei serve {settings.host}:{settings.port}",
    }


def cmd_serve(args: argparse.Namespace) -> int:
    with _loading():  # up to the fork of the web workers, which get the collector on (serve)
        return _serve(args)


def _serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from kusei.endpoint.web.throttle import parse_rate_limit

    try:
        parse_rate_limit(settings.rate_limit)  # refused here, not by every web worker failing to boot
    except ValueError as exc:
        print(f"cannot serve: {exc}", file=sys.stderr)
        return 2
    from kusei.release import CurrentRelease, ReleaseError, current_link

    if not current_link(settings.data_dir).exists():
        print("no release yet: building first", file=sys.stderr)
        gc.enable()  # a build leaves garbage in cycles (rdflib, pyshacl)
        built = cmd_build(args)
        gc.disable()
        if built != 0:
            return 1
    # The web workers read their settings from the environment: every setting as resolved here.
    # The public URL is served as given, whatever the release was built with: the service
    # description follows it.
    os.environ.update(settings.environment())

    # Out of the collector's reach from now (see below): validating the release collects once, to
    # close the store it opened, and then looks only at what was made since.
    gc.freeze()
    try:
        current = CurrentRelease(settings.data_dir)
    except ReleaseError as exc:
        print(f"cannot serve: {exc}", file=sys.stderr)
        return 2
    from granian import Granian

    from kusei.endpoint.query import slots
    from kusei.endpoint.query.executor.memory import SERVER_PID, lean_malloc

    # Every web worker keeps its counts here and /metrics sums them (kusei.endpoint.web.metrics);
    # a fresh directory per server, so a restart starts from zero as Prometheus expects.
    _remove_stale_metrics()
    metrics_dir = tempfile.mkdtemp(prefix=f"kusei-metrics-{os.getpid()}-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    print(f"serving on http://{settings.host}:{settings.port}/ (Ctrl+C stops)", file=sys.stderr)
    # This process is granian's main process: it forks the web workers, which create their query
    # processes and slot files after the fork (kusei.endpoint.query.service), and removes this
    # server's slot directory once every worker has stopped.
    os.environ[SERVER_PID] = str(os.getpid())  # the root of the tree the memory bound covers
    # The web workers are forked from this process: what it has loaded and validated they need not
    # load and validate again (each would, and a restarted one once more). The modules are loaded
    # once PROMETHEUS_MULTIPROC_DIR is set: prometheus_client reads it on import.
    from kusei.endpoint.web import app

    app.preload()
    app.hand_over(current)
    # The web workers are forked from this process and share its heap until they write to it: kept
    # out of the garbage collector's reach, the objects loaded so far are not copied into every
    # worker by a collection that only reads them (bench/memory.py).
    gc.freeze()
    lean_malloc()  # large answers given back to the system once sent (executor/memory.py)
    server = Granian(**server_options(settings))  # type: ignore[arg-type]
    logging.getLogger("_granian").addFilter(_known_warnings)
    gc.enable()  # for this process and the web workers it forks (frozen objects stay out of reach)
    try:
        server.serve()
    finally:
        slots.remove_server(os.getpid())
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _remove_stale_metrics() -> None:
    """Remove the metrics directories of servers that were killed before they could (named after
    their main process)."""
    from kusei.endpoint.query import slots

    slots.remove_orphans(Path(tempfile.gettempdir()).glob("kusei-metrics-*-*"), lambda entry: entry.name.split("-")[2])


def _known_warnings(record: logging.LogRecord) -> bool:
    # granian warns when a WSGI worker may run more threads than 2 x cores + 1. Kusei sizes them on
    # purpose (request_threads: waiting queries and slow bodies must not take the threads of pages),
    # and the threads start on demand; README "Running in public" says so.
    return "seems quite high" not in record.getMessage()


def cmd_publish(args: argparse.Namespace) -> int:
    """Copy a release to other data directories, verify every file, then switch them all (or none)."""
    import shlex
    import subprocess

    from kusei.distribute import PublishError, publish

    try:
        published = publish(Path(args.source), [Path(target) for target in args.to],
                            keep=_settings(args).keep_releases)
    except PublishError as exc:
        print(f"kusei publish: {exc}\nnothing was switched: every target keeps its current release.",
              file=sys.stderr)
        return 1
    print(f"release {published.release_id} is current in {len(published.targets)} data directories")
    if args.then:
        # e.g. reloading the proxy, whose cache is keyed by the release (endpoint/deploy/)
        done = subprocess.run([*shlex.split(args.then), published.release_id], check=False)
        if done.returncode != 0:
            print(f"kusei publish: {args.then!r} failed with status {done.returncode}", file=sys.stderr)
            return 3
    return 0


def cmd_draft(args: argparse.Namespace) -> int:
    from kusei.graph.draft.command import DraftError, draft_document, summary
    from kusei.graph.input.verify import RECORDS_DIR, SOURCES_DIR

    sources = Path(args.sources_dir) if args.sources_dir else SOURCES_DIR
    records = Path(args.records_dir) if args.records_dir else RECORDS_DIR
    try:
        result = draft_document(Path(args.source), args.ward, args.year, sources=sources, records=records)
    except DraftError as exc:
        print(f"kusei draft: {exc}", file=sys.stderr)
        return 1
    print(summary(result))
    return 0 if result.not_found == 0 else 1


def _add_draft_parser(sub: argparse._SubParsersAction) -> None:
    helptext = "draft a record from a plan's PDF, HTML page or text (graph/ADDING_A_PLAN.md)"
    p = sub.add_parser("draft", help=helptext, description=helptext)
    p.add_argument("source", help="the document: .pdf, .html or .txt")
    p.add_argument("--ward", required=True, help="the ward's 6-digit code (graph/reference/wards.yaml)")
    p.add_argument("--year", type=int, default=None, help="the fiscal year, when the document does not print it")
    p.add_argument("--sources-dir", default=None, help="where the text goes (default: graph/sources)")
    p.add_argument("--records-dir", default=None, help="where the record goes (default: graph/records)")


class _Version(argparse.Action):
    """--version, looked up only when asked for (kusei.__version__ reads the package metadata)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from kusei import __version__

        print(f"{parser.prog} {__version__}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    defaults = Settings.model_fields
    parser = argparse.ArgumentParser(prog="kusei", description=__doc__)
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("build", "build and publish the graph"), ("serve", "serve the graph (builds if needed)")):
        sub.add_parser(name, help=helptext, description=helptext)
    for option in options():
        for command in option.commands:
            sub.choices[command].add_argument(option.flag, dest=option.field, type=option.kind, default=None,
                                              help=option.help)
    _add_draft_parser(sub)
    publish = sub.add_parser("publish", help="copy a built release to other data directories, verified, "
                             "and switch them together", description=cmd_publish.__doc__)
    publish.add_argument("--from", dest="source", default=str(defaults["data_dir"].default),
                         help="data directory (its current release) or release directory to publish (default: var)")
    publish.add_argument("--to", action="append", required=True, metavar="DATA_DIR",
                         help="data directory to publish to; repeat for every replica")
    publish.add_argument("--then", default=None, metavar="COMMAND",
                         help="run COMMAND with the release id appended once every target has switched "
                              "(e.g. the proxy's reload, endpoint/deploy/nginx-release)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        commands = {"build": cmd_build, "serve": cmd_serve, "draft": cmd_draft, "publish": cmd_publish}
        return commands[args.command](args)
    except SettingsError as exc:
        print(f"kusei {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
