"""The nginx front of a Kusei deployment: render its configuration, start it, switch its release.

    python -m kusei.endpoint.deploy.nginx render --prefix DIR --listen ADDR:PORT \\
        --replica ADDR:PORT [--replica ADDR:PORT …] --release ID
    nginx -p DIR -c DIR/nginx.conf                      # start
    python -m kusei.endpoint.deploy.nginx switch --prefix DIR ID   # after kusei publish

``render`` writes ``DIR/nginx.conf``, ``DIR/proxy_common.conf`` and ``DIR/release.conf`` from the
templates beside this file; ``switch`` rewrites ``release.conf`` (a rename) and reloads nginx, so
every lookup after it is keyed by the new release. It is what ``kusei publish --then`` runs:
``kusei publish --to A --to B --then "python -m kusei.endpoint.deploy.nginx switch --prefix DIR"``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent
NGINX = "nginx"
_PLACEHOLDER = re.compile(r"@([a-z_]+)@")
_RELEASE_ID = re.compile(r"[0-9A-Za-z._-]+")


@dataclass(frozen=True)
class Front:
    """What a deployment chooses; the defaults follow Kusei's own limits (README "Limits and safety")."""

    prefix: Path
    listen: str
    replicas: list[str]
    header_timeout: int = 10  # as KUSEI_HEADER_TIMEOUT
    body_timeout: int = 10  # as KUSEI_BODY_TIMEOUT
    keepalive_timeout: int = 30
    max_body: str = "100k"  # KUSEI_MAX_BODY_BYTES is 100,000 bytes
    read_timeout: int = 60  # above KUSEI_QUERY_TIMEOUT (30 s)
    connections_per_client: int = 64
    worker_connections: int = 4096
    cache_size: str = "1g"
    cache_valid: str = "1d"
    fail_timeout: int = 5
    access_log: str = ""  # default: PREFIX/access.log; "off" for none
    cache: bool = True  # off only to measure what the cache adds (bench/front.py)
    extra: dict[str, str] = field(default_factory=dict)

    def values(self) -> dict[str, str]:
        prefix = str(self.prefix.resolve())
        upstreams = "\n".join(f"        server {replica} max_fails=1 fail_timeout={self.fail_timeout}s;"
                              for replica in self.replicas)
        log = self.access_log or f"{prefix}/access.log kusei_proxy"
        # nginx started by root hands its workers to "nobody"; in a private prefix (a test's
        # temporary directory) they must be able to write, so they stay the current user.
        user = "user root;" if os.geteuid() == 0 else ""
        return {
            "prefix": prefix, "listen": self.listen, "upstreams": upstreams, "user": user, "access_log": log,
            "header_timeout": str(self.header_timeout), "body_timeout": str(self.body_timeout),
            "keepalive_timeout": str(self.keepalive_timeout), "max_body": self.max_body,
            "read_timeout": str(self.read_timeout), "connections_per_client": str(self.connections_per_client),
            "worker_connections": str(self.worker_connections), "cache_size": self.cache_size,
            "cache_valid": self.cache_valid, "cache_zone": "kusei" if self.cache else "off", **self.extra,
        }


def fill(template: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"the template needs @{name}@")
        return values[name]

    return _PLACEHOLDER.sub(value, template)


def release_conf(release_id: str) -> str:
    if not _RELEASE_ID.fullmatch(release_id):
        raise ValueError(f"not a release id: {release_id!r}")
    return f'map $host $kusei_release {{\n    default "{release_id}";\n}}\n'


def write_release(prefix: Path, release_id: str) -> None:
    temp = prefix / f".release.conf.{os.getpid()}"
    temp.write_text(release_conf(release_id), encoding="utf-8")
    os.replace(temp, prefix / "release.conf")


def render(front: Front, release_id: str) -> Path:
    """Write the configuration under ``front.prefix``; returns the path of nginx.conf."""
    prefix = front.prefix
    for sub in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi", "cache"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    values = front.values()
    for name in ("nginx.conf", "proxy_common.conf"):
        text = fill((TEMPLATES / f"{name}.template").read_text(encoding="utf-8"), values)
        (prefix / name).write_text(text, encoding="utf-8")
    write_release(prefix, release_id)
    return prefix / "nginx.conf"


def nginx_command(prefix: Path, *extra: str) -> list[str]:
    binary = shutil.which(NGINX) or shutil.which(NGINX, path="/usr/sbin:/sbin") or NGINX
    # -e: the error log before the configuration is read, too (the default is a system path).
    return [binary, "-p", str(prefix.resolve()), "-c", str((prefix / "nginx.conf").resolve()),
            "-e", str((prefix / "error.log").resolve()), *extra]


def switch(prefix: Path, release_id: str) -> None:
    """Key the cache by ``release_id`` from now on: rewrite release.conf and reload nginx (its old
    workers finish what they serve; the new ones look up and store under the new key only)."""
    write_release(prefix, release_id)
    subprocess.run(nginx_command(prefix, "-s", "reload"), check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kusei.endpoint.deploy.nginx", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("render", help="write nginx.conf, proxy_common.conf and release.conf into PREFIX")
    r.add_argument("--prefix", required=True, type=Path)
    r.add_argument("--listen", required=True, help="address:port the proxy listens on")
    r.add_argument("--replica", action="append", required=True, help="address:port of a kusei serve; repeat")
    r.add_argument("--release", required=True, help="the release id every replica serves now")
    r.add_argument("--connections-per-client", type=int, default=Front.connections_per_client)
    s = sub.add_parser("switch", help="key the cache by a new release and reload nginx")
    s.add_argument("--prefix", required=True, type=Path)
    s.add_argument("release")
    args = parser.parse_args(argv)
    if args.command == "render":
        path = render(Front(args.prefix, args.listen, args.replica,
                            connections_per_client=args.connections_per_client), args.release)
        print(path)
    else:
        try:
            switch(args.prefix, args.release)
        except (subprocess.CalledProcessError, ValueError) as exc:
            print(f"switch failed: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
