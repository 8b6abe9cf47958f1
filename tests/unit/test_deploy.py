"""endpoint/deploy/: the nginx configuration renders completely and nginx accepts it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kusei.endpoint.deploy.nginx import Front, fill, nginx_command, release_conf, render, write_release


def test_every_placeholder_is_filled(tmp_path: Path) -> None:
    conf = render(Front(tmp_path, "127.0.0.1:8080", ["127.0.0.1:8001", "10.0.0.2:8000"]), "abc123")
    text = conf.read_text(encoding="utf-8") + (tmp_path / "proxy_common.conf").read_text(encoding="utf-8")
    assert "@" not in text.replace("$http", "")  # no placeholder left (nginx variables use $)
    assert "server 127.0.0.1:8001 max_fails=1" in text and "server 10.0.0.2:8000 max_fails=1" in text
    assert f"include {tmp_path.resolve()}/release.conf;" in text
    assert '"abc123"' in (tmp_path / "release.conf").read_text(encoding="utf-8")
    with pytest.raises(KeyError, match="@missing@"):
        fill("x @missing@", {})


def test_a_release_id_cannot_inject_configuration(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        release_conf('x"; } include /etc/passwd; map $a $b { default "')
    write_release(tmp_path, "0123abcd")
    assert "0123abcd" in (tmp_path / "release.conf").read_text(encoding="utf-8")


@pytest.mark.skipif(not (shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")),
                    reason="nginx is not installed (tests/setup.sh installs it)")
def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    render(Front(tmp_path, "127.0.0.1:18080", ["127.0.0.1:18001", "127.0.0.1:18002"]), "abc123")
    checked = subprocess.run(nginx_command(tmp_path, "-t"), capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
