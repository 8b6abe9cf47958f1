"""Kusei behind a reverse proxy: which proxy (nginx or Varnish), and what replicas and the cache add.

    .venv/bin/python -m bench.front [--data-dir DIR] [--duration 5] [--connections 16]

Needs Debian's nginx, varnish and wrk (`apt-get install nginx varnish wrk`); serves the release in
``--data-dir`` (default: builds one into bench/out/front-var). One run, on loopback:

1. **Choice**: one replica behind nginx (endpoint/deploy/) and behind Varnish (the VCL below,
   equivalent for what is measured): requests/s of a cached GET (the home page) and of a request
   passed through uncached (a 404, which neither caches), with the replica alone for reference.
2. **Scale**: behind nginx with 1 and 2 replicas (one web worker each) without the cache, and with
   2 replicas and the cache: the cheap query mix (examples 02, 08, 11, 14 of bench/mix.py, as GET
   /sparql) and a page mix (home, plan list, vocabulary, query page).

Everything is printed as requests/s and as ratios to the first cell of its table. The load
generator (wrk), the proxies and the replicas share the machine's cores: ratios measured in one
run are what to compare; absolute numbers depend on the machine and what else runs on it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.mix import load_queries
from bench.servers import free_port, server
from kusei.endpoint.deploy.nginx import Front, nginx_command, render
from kusei.release import current_link

OUT = Path(__file__).resolve().parent / "out"
CHEAP = ["02", "08", "11", "14"]
PAGES = ["/", "/id/plan/", "/def/", "/query"]
PASS = "/no-such-page-for-the-benchmark"

VCL = """vcl 4.1;
import directors;
backend r1 {
    .host = "127.0.0.1"; .port = "@port@";
    .probe = { .url = "/sparql?query=ASK%7B%7D"; .interval = 2s; .timeout = 1s; .window = 3; .threshold = 2; }
}
sub vcl_init { new replicas = directors.round_robin(); replicas.add_backend(r1); }
sub vcl_recv {
    set req.backend_hint = replicas.backend();
    if (req.method != "GET" && req.method != "HEAD") { return (pass); }
    return (hash);
}
sub vcl_hash { hash_data(req.http.Accept); }
sub vcl_backend_response {
    if (beresp.status != 200) { set beresp.uncacheable = true; set beresp.ttl = 0s; return (deliver); }
    unset beresp.http.Cache-Control;
    set beresp.ttl = 1d;
    return (deliver);
}
"""


def wrk(url: str, paths: list[str], duration: float, connections: int, workdir: Path,
        unique: bool = False) -> float:
    """Requests/s of wrk cycling through ``paths`` (gzip accepted, as browsers do). ``unique``
    appends a numbered comment to each (a query's text): no cache can answer any of them."""
    script = workdir / "paths.lua"
    quoted = ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    suffix = ' .. "%0A%23" .. tid .. "-" .. n' if unique else ""
    # setup() runs once per wrk thread in the main state: each thread gets its own id.
    script.write_text(f"local paths = {{{quoted}}}\nlocal i = 0\nlocal n = 0\nlocal threads = 0\ntid = 0\n"
                      "function setup(thread)\n  threads = threads + 1\n  thread:set('tid', threads)\nend\n"
                      "request = function()\n  i = i % #paths + 1\n  n = n + 1\n"
                      f"  return wrk.format('GET', paths[i]{suffix}, {{['Accept-Encoding'] = 'gzip'}})\nend\n",
                      encoding="utf-8")
    done = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration:g}s", "-s", str(script),
                           url], capture_output=True, text=True, check=True)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    if errors and paths != [PASS]:
        print(f"  ({errors.group(1)} non-2xx answers at {url})", file=sys.stderr)
    found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    return float(found.group(1)) if found else 0.0


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


@contextlib.contextmanager
def replicas(data_dir: Path, count: int, workdir: Path) -> Iterator[list[int]]:
    ports = [free_port() for _ in range(count)]
    with contextlib.ExitStack() as stack:
        for port in ports:
            command = [sys.executable, "-m", "kusei.cli", "serve", "--data-dir", str(data_dir), "--host",
                       "127.0.0.1", "--port", str(port), "--workers", "1"]
            env = {**os.environ, "KUSEI_TRUSTED_PROXIES": "127.0.0.1", "KUSEI_ACCESS_LOG": "off",
                   "KUSEI_RATE_LIMIT": ""}
            probe = f"http://127.0.0.1:{port}/sparql?query=" + urllib.parse.quote("ASK {}")
            stack.enter_context(server(command, probe, env, workdir / f"replica-{port}.log"))
        yield ports


@contextlib.contextmanager
def nginx(prefix: Path, ports: list[int], release: str, cache: bool) -> Iterator[str]:
    listen = free_port()
    shutil.rmtree(prefix, ignore_errors=True)
    render(Front(prefix, f"127.0.0.1:{listen}", [f"127.0.0.1:{p}" for p in ports], cache=cache,
                 access_log="off", connections_per_client=1024), release)
    process = subprocess.Popen(nginx_command(prefix, "-g", "daemon off;"))
    try:
        wait_for(f"http://127.0.0.1:{listen}/")
        yield f"http://127.0.0.1:{listen}"
    finally:
        process.send_signal(signal.SIGQUIT)
        process.wait(timeout=30)


@contextlib.contextmanager
def varnish(workdir: Path, port: int) -> Iterator[str]:
    listen = free_port()
    vcl = workdir / "front.vcl"
    vcl.write_text(VCL.replace("@port@", str(port)), encoding="utf-8")
    name = workdir / "varnish"
    process = subprocess.Popen(["varnishd", "-F", "-j", "none", "-n", str(name), "-a", f"127.0.0.1:{listen}",
                                "-f", str(vcl), "-s", "malloc,128m", "-T", "none"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{listen}/")
        yield f"http://127.0.0.1:{listen}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass(frozen=True)
class Run:
    duration: float
    connections: int
    workdir: Path

    def rate(self, url: str, paths: list[str], unique: bool = False) -> float:
        return wrk(url, paths, self.duration, self.connections, self.workdir, unique)

    def warm(self, url: str, paths: list[str]) -> None:
        wrk(url, paths, 1, 4, self.workdir)


def choice(data_dir: Path, release: str, run: Run) -> list[tuple[str, float]]:
    """nginx and Varnish in front of one replica: a cached GET and a request passed through."""
    with replicas(data_dir, 1, run.workdir) as ports:
        direct = f"http://127.0.0.1:{ports[0]}"
        rows = [("replica alone: home page", run.rate(direct, ["/"]))]
        with nginx(run.workdir / "nginx", ports, release, cache=True) as front:
            run.warm(front, ["/"])
            rows.append(("nginx: cached home page", run.rate(front, ["/"])))
            rows.append(("nginx: passed through (404)", run.rate(front, [PASS])))
        with varnish(run.workdir, ports[0]) as front:
            run.warm(front, ["/"])
            rows.append(("varnish: cached home page", run.rate(front, ["/"])))
            rows.append(("varnish: passed through (404)", run.rate(front, [PASS])))
        rows.append(("replica alone: 404", run.rate(direct, [PASS])))
    return rows


def scale(data_dir: Path, release: str, run: Run, mix: list[str], pages: list[str]
          ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """nginx with 1 and 2 replicas without its cache, and with 2 replicas and the cache."""
    queries: list[tuple[str, float]] = []
    page_rows: list[tuple[str, float]] = []
    for count, cache in ((1, False), (2, False), (2, True)):
        with replicas(data_dir, count, run.workdir) as ports, \
                nginx(run.workdir / "nginx", ports, release, cache=cache) as front:
            label = f"nginx, {count} replica{'s' if count > 1 else ''}, cache {'on' if cache else 'off'}"
            if cache:
                run.warm(front, mix + pages)
            if not cache:
                queries.append((label + ", every query new", run.rate(front, mix, unique=True)))
            queries.append((label + ", the mix repeated", run.rate(front, mix)))
            if pages:
                page_rows.append((label, run.rate(front, pages)))
    return queries, page_rows


def table(title: str, rows: list[tuple[str, float]]) -> None:
    print(f"\n{title}")
    first = rows[0][1] or 1.0
    for name, rate in rows:
        print(f"  {name:<48} {rate:9.0f} req/s  {rate / first:6.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--queries", nargs="*", default=CHEAP, help="query name prefixes of bench/mix.py")
    parser.add_argument("--pages", nargs="*", default=PAGES, help="page paths (none: skip the page mix)")
    parser.add_argument("--skip-choice", action="store_true", help="only the scale tables")
    args = parser.parse_args(argv)
    for tool in ("nginx", "varnishd", "wrk"):
        if not (shutil.which(tool) or shutil.which(tool, path="/usr/sbin")):
            print(f"{tool} is missing: apt-get install nginx varnish wrk", file=sys.stderr)
            return 2
    data_dir = args.data_dir or OUT / "front-var"
    if not current_link(data_dir).exists():
        subprocess.run([sys.executable, "-m", "kusei.cli", "build", "--data-dir", str(data_dir)], check=True)
    release = current_link(data_dir).resolve().name
    mix = ["/sparql?" + urllib.parse.urlencode({"query": q.text}) for q in load_queries(args.queries)]
    print(f"cores: {os.cpu_count()}; load average now: {os.getloadavg()[0]:.1f}; wrk -c {args.connections}, "
          f"{args.duration:g} s per cell; release {release}")
    with tempfile.TemporaryDirectory(prefix="kusei-front-") as tmp:
        workdir = Path(tmp)
        run = Run(args.duration, args.connections, workdir)
        if not args.skip_choice:
            table("Choice of proxy (1 replica, 1 web worker)", choice(data_dir, release, run))
        queries, pages = scale(data_dir, release, run, mix, args.pages)
        table(f"Query mix ({', '.join(args.queries)})", queries)
        if pages:
            table(f"Pages ({', '.join(args.pages)})", pages)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
