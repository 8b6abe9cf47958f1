"""Static checks of the package as it is: the layer contracts (import-linter) and the types (mypy).

Both tools read the package from the file system, where ``kusei.graph`` and ``kusei.endpoint`` live
in the card's top-level folders (setuptools' package-dir maps them). The tests lay the package out
as an installed wheel would, in a temporary folder, and run the tools on it with pyproject.toml.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CONFIG = ROOT / "pyproject.toml"


def _layout(target: Path) -> Path:
    package = target / "kusei"
    ignore = shutil.ignore_patterns("__pycache__", "sources", "records", "reference", "*.html", "static")
    shutil.copytree(ROOT / "kusei", package, ignore=ignore)
    for folder in ("graph", "endpoint"):
        shutil.copytree(ROOT / folder, package / folder, ignore=ignore)
    return package


def _run(tool: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    if not (BIN / tool).exists():
        pytest.skip(f"{tool} is installed with the test extra")
    return subprocess.run([str(BIN / tool), *args], cwd=cwd, text=True, capture_output=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(cwd)})


def test_layer_contracts_hold(tmp_path: Path) -> None:
    _layout(tmp_path)
    result = _run("lint-imports", [str(CONFIG)], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"Contracts: [1-9]\d* kept, 0 broken", result.stdout), result.stdout


def test_a_broken_contract_is_reported(tmp_path: Path) -> None:
    """The check can fail: a query module importing Flask breaks the query-layer contract."""
    package = _layout(tmp_path)
    (package / "endpoint" / "query" / "leak.py").write_text("import flask  # noqa\n", encoding="utf-8")
    result = _run("lint-imports", [str(CONFIG)], tmp_path)
    assert result.returncode != 0
    assert "The query layer knows nothing of HTTP or Flask BROKEN" in result.stdout


def test_types_check(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    _layout(tmp_path)
    # mypy's incremental cache (it rechecks what changed, by content hash) in pytest's cache
    # directory, so a second run does not check every module again; without it, a fresh one.
    # (No cache directory when the cache plugin is off: ``-p no:cacheprovider``.)
    pytest_cache = getattr(request.config, "cache", None)
    cache = pytest_cache.mkdir("mypy") if pytest_cache is not None else tmp_path / ".mypy"
    result = _run("mypy", ["--config-file", str(CONFIG), "--cache-dir", str(cache), "-p", "kusei"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
