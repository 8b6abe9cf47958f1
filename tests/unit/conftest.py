"""The unit set's data: a small release, built in a few seconds, in place of the session build.

``data_dir`` here overrides the one of tests/conftest.py (a build of every record through the
SHACL gate, which the unit set may not use): it holds three plans (SMALL_RECORDS), built as
`kusei build` builds but through a gate with no shapes (tests/graph_input.py). The shapes have
their own unit tests (test_shapes.py); builds through them are system tests.

A unit test that reaches the SHACL gate of a build with the project's shapes fails, saying so:
such a test belongs in tests/system.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import flask
import jinja2
import jinja2.bccache
import pytest
from graph_input import build_without_shapes

import kusei.graph.build
from kusei.namespaces import SH

# 金沢区 FY2024 (the exemplar) and FY2014 (one ward in two years, a banner, corrections) and 港北区
# FY2023 (a second ward, circled project markers).
SMALL_RECORDS = ["000_a9155f3b6863ac96.yaml", "001_e7dff769fc0fd27d.yaml", "003_32e2ae0216829679.yaml"]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with one release of SMALL_RECORDS (read only)."""
    directory = tmp_path_factory.mktemp("small")
    return build_without_shapes(directory, SMALL_RECORDS).path.parent.parent


@pytest.fixture(autouse=True)
def no_build_through_the_shapes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a unit test whose build would validate with shapes: that is a system test."""
    validate = getattr(kusei.graph.build, "validate_graphs", None)
    if validate is None:  # the build's gate moved: guard it where it is now
        pytest.fail("tests/unit/conftest.py: kusei.graph.build.validate_graphs is gone; guard the build's SHACL "
                    "gate where it is now", pytrace=False)

    def refuse_shapes(parts, shared, shapes, ontology):  # type: ignore[no-untyped-def]
        if any(str(p).startswith(SH) or str(o).startswith(SH) for _, p, o in shapes):
            pytest.fail("a unit test ran a build through the SHACL shapes; a test that needs one belongs in "
                        "tests/system (tests/unit/conftest.py)", pytrace=False)
        return validate(parts, shared, shapes, ontology)

    monkeypatch.setattr(kusei.graph.build, "validate_graphs", refuse_shapes)
    yield


class _SharedBytecode(jinja2.BytecodeCache):
    """Compiled templates kept in memory for every app of the run (Jinja's own bytecode cache,
    keyed by template name and source checksum)."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


@pytest.fixture(scope="session", autouse=True)
def templates_compiled_once() -> Iterator[None]:
    """The unit set makes an app per test (172 apps): each would compile the same templates again,
    a third of what the page tests cost. A server compiles them once per process, as here."""
    shared = _SharedBytecode()
    create = flask.Flask.create_jinja_environment

    def with_shared_cache(app: flask.Flask) -> jinja2.Environment:
        environment = create(app)
        environment.bytecode_cache = shared
        return environment

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flask.Flask, "create_jinja_environment", with_shared_cache)
        yield
