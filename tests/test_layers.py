"""The layer contracts of pyproject.toml ([tool.importlinter]) hold for the code as it is.

import-linter reads a package from the file system, where ``kusei.graph`` and ``kusei.endpoint``
live in the card's top-level folders (setuptools' package-dir maps them). The test lays the package
out as an installed wheel would, in a temporary folder, and runs ``lint-imports`` on it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _layout(target: Path) -> Path:
    package = target / "kusei"
    ignore = shutil.ignore_patterns("__pycache__", "sources", "records", "reference", "*.html", "static")
    shutil.copytree(ROOT / "kusei", package, ignore=ignore)
    for folder in ("graph", "endpoint"):
        shutil.copytree(ROOT / folder, package / folder, ignore=ignore)
    return package


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is installed with the test extra")
def test_layer_contracts_hold(tmp_path: Path) -> None:
    _layout(tmp_path)
    result = subprocess.run([str(LINT_IMPORTS), str(ROOT / "pyproject.toml")], cwd=tmp_path, text=True,
                            capture_output=True, env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"Contracts: [1-9]\d* kept, 0 broken", result.stdout), result.stdout


def test_a_broken_contract_is_reported(tmp_path: Path) -> None:
    """The check can fail: a query module importing Flask breaks the query-layer contract."""
    if not LINT_IMPORTS.exists():
        pytest.skip("import-linter is installed with the test extra")
    package = _layout(tmp_path)
    (package / "endpoint" / "query" / "leak.py").write_text("import flask  # noqa\n", encoding="utf-8")
    result = subprocess.run([str(LINT_IMPORTS), str(ROOT / "pyproject.toml")], cwd=tmp_path, text=True,
                            capture_output=True, env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=300)
    assert result.returncode != 0
    assert "The query layer knows nothing of HTTP or Flask BROKEN" in result.stdout
