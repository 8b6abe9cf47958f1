"""The servers the benchmark runs: Kusei as `kusei serve` runs it (or another WSGI app under the
same granian options) and Oxigraph's own server, each in its own process group, dying with the
benchmark, with its cold start and the memory and process count of its whole tree sampled."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM, 0, 0, 0)


@dataclass
class Resources:
    """What one server costs: time from start to its first answer, and the resident memory and
    process count of its whole process tree, idle (just after that answer) and at the peak of the
    run (sampled every 0.2 s)."""

    name: str
    cold_start_s: float = 0.0
    idle_rss: int = 0
    idle_processes: int = 0
    peak_rss: int = 0
    peak_processes: int = 0
    pid: int = 0  # the server's main process, the root of its tree


SERVERS: list[Resources] = []


def tree(root: int) -> tuple[int, int]:
    """Resident bytes and number of processes of ``root`` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_bytes().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    rss = count = 0
    pending = [root]
    while pending:
        pid = pending.pop()
        try:
            rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
        count += 1
        pending.extend(children.get(pid, ()))
    return rss, count


@contextmanager
def server(command: list[str], url_probe: str, env: dict[str, str], log: Path) -> Iterator[Resources]:
    """Run ``command`` (in its own process group) until the block ends; wait until it answers.

    The command line and the settings passed in the environment are printed first, so every
    result can be read with the configuration that produced it. The server's resources are
    sampled while the block runs (see :class:`Resources`, also kept in ``SERVERS``)."""
    settings = " ".join(f"{k}={v}" for k, v in sorted(env.items()) if k.startswith("KUSEI_"))
    print(f"server {log.stem}: {' '.join(command)}" + (f"  [{settings}]" if settings else ""), flush=True)
    resources = Resources(log.stem)
    started = time.monotonic()
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=sink, stderr=sink,
                                preexec_fn=_die_with_parent, start_new_session=True)
    resources.pid = proc.pid
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.2):
            rss, count = tree(proc.pid)
            resources.peak_rss = max(resources.peak_rss, rss)
            resources.peak_processes = max(resources.peak_processes, count)

    sampler = threading.Thread(target=sample, daemon=True)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{command[0]} exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
            try:
                status, _, _ = request(url_probe, "GET", {})
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(command)} did not answer within {READY_TIMEOUT:.0f} s")
            time.sleep(0.05)
        resources.cold_start_s = time.monotonic() - started
        time.sleep(1)  # let the workers that did not take the probe finish starting
        resources.idle_rss, resources.idle_processes = tree(proc.pid)
        resources.peak_rss, resources.peak_processes = resources.idle_rss, resources.idle_processes
        SERVERS.append(resources)
        sampler.start()
        yield resources
    finally:
        stop.set()
        stop_group(proc)


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """End a server started in its own process group: SIGTERM, then SIGKILL after 15 s."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def print_resources() -> None:
    print("\n== resources per server (whole process tree) ==")
    print(f"  {'server':22s} {'cold start':>10s} {'idle MiB':>9s} {'idle procs':>10s} {'peak MiB':>9s} "
          f"{'peak procs':>10s}")
    for r in SERVERS:
        print(f"  {r.name:22s} {r.cold_start_s:9.2f}s {r.idle_rss / 2**20:9.0f} {r.idle_processes:10d} "
              f"{r.peak_rss / 2**20:9.0f} {r.peak_processes:10d}")


def kusei_command(data_dir: Path, port: int, workers: int, timeout: float) -> list[str]:
    """`kusei serve` as a user runs it, on 127.0.0.1:``port``."""
    return [sys.executable, "-m", "kusei.cli", "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--timeout", str(timeout)]


def kusei_server(data_dir: Path, port: int, workers: int, logdir: Path,
                 timeout: float, app: str = "kusei.endpoint.wsgi:app", *, settings: dict[str, str] | None = None,
                 name: str | None = None) -> AbstractContextManager[Resources]:
    """Kusei as `kusei serve` runs it; any other ``app`` under the very same granian options
    (bench.serve_app). The options are printed with the command. ``settings``: more ``KUSEI_*``
    variables; ``name``: of the log (and of the resources line) when one app runs twice."""
    from kusei.cli import server_options
    from kusei.settings import Settings

    env = {**os.environ, "KUSEI_DATA_DIR": str(data_dir), "KUSEI_QUERY_TIMEOUT": str(timeout),
           "KUSEI_WORKERS": str(workers), "KUSEI_HOST": "127.0.0.1", "KUSEI_PORT": str(port)}
    env.update(settings or {})
    if app == "kusei.endpoint.wsgi:app":
        command = kusei_command(data_dir, port, workers, timeout)
    else:
        command = [sys.executable, "-m", "bench.serve_app", app]
    options = server_options(Settings.load(data_dir=data_dir, port=port, workers=workers, query_timeout=timeout))
    shown = {key: value for key, value in options.items() if key not in ("target", "process_name")}
    print(f"granian options for {app}: {shown}", flush=True)
    probe = f"http://127.0.0.1:{port}/sparql?query=" + urllib.parse.quote("ASK {}")
    return server(command, probe, env, logdir / f"kusei-{name or app.split(':')[0]}.log")


def oxigraph_server(store: Path, port: int, logdir: Path,
                    timeout: float | None) -> AbstractContextManager[Resources]:
    binary = Path(sys.executable).parent / "oxigraph"
    command = [str(binary if binary.exists() else "oxigraph"), "serve-read-only", "--location", str(store),
               "--bind", f"127.0.0.1:{port}"]
    # No --union-default-graph: the store's default graph already holds the merge of the named
    # graphs (as `kusei build` writes it) and Kusei answers from it alone. With the option Oxigraph
    # would match every pattern against the default graph and every named graph, i.e. twice the
    # data with duplicate solutions: more work than Kusei does and a different answer.
    if timeout:
        # Oxigraph 0.5.13 keeps one thread per query sleeping for the whole timeout, so at a few
        # thousand queries per second it runs out of threads ("Resource temporarily unavailable").
        command += ["--timeout-s", str(int(timeout))]
    probe = f"http://127.0.0.1:{port}/query?query=" + urllib.parse.quote("ASK {}")
    return server(command, probe, dict(os.environ), logdir / "oxigraph.log")


def request(url: str, method: str, headers: dict[str, str],
            conn: http.client.HTTPConnection | None = None) -> tuple[int, dict[str, str], bytes]:
    parts = urllib.parse.urlsplit(url)
    own = conn is None
    conn = conn or http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        conn.request(method, f"{parts.path}?{parts.query}", headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        if own:
            conn.close()
