"""What `kusei serve` loads before its first answer, and where (issue 20.5: cold start).

The web workers are forked from the server's main process, so what it has loaded they share and
need not load again; the fork server and the query processes start as fresh interpreters and load
only the engine and the answer code; rdflib is loaded by the first JSON-LD answer, not at start.
These are counts of modules and processes, not times: bench/memory.py times the start.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kusei.endpoint.web import app as app_module
from kusei.endpoint.web.app import create_app
from kusei.release import CurrentRelease
from kusei.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _modules_after(code: str, **env: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints a JSON object as its last line."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_the_cli_loads_no_server_until_a_command_needs_it() -> None:
    loaded = _modules_after("""
        import json, sys
        import kusei.cli
        print(json.dumps({"modules": sorted(sys.modules)}))
    """)["modules"]
    for heavy in ("flask", "werkzeug", "rdflib", "pyoxigraph", "granian", "pyshacl", "pydantic_settings"):
        assert heavy not in loaded, heavy
    version = subprocess.run([sys.executable, "-m", "kusei.cli", "--version"], cwd=PROJECT_ROOT,
                             capture_output=True, text=True, timeout=120)
    assert version.returncode == 0 and version.stdout.startswith("kusei ") and version.stdout.strip() != "kusei"


def test_the_main_process_loads_and_validates_for_the_workers_before_it_forks(data_dir: Path) -> None:
    # kusei serve up to the moment granian would fork the web workers.
    seen = _modules_after(f"""
        import json, sys
        import granian
        from kusei import cli
        from kusei.endpoint.web import app

        def forking(server):
            handed = app._handed_over
            print(json.dumps({{"modules": sorted(sys.modules),
                               "handed_over": None if handed is None else str(handed.link.parent.resolve()),
                               "release": None if handed is None else handed.latest().id}}))
            raise SystemExit(0)

        granian.Granian.serve = forking
        cli.main(["serve", "--data-dir", {str(data_dir)!r}, "--port", "1"])  # never bound: serve() is replaced
    """, KUSEI_RATE_LIMIT="")
    loaded = set(seen["modules"])
    # The workers' modules, loaded once here and shared by every worker forked from here ...
    for module in ("flask", "kusei.endpoint.web.app", "kusei.endpoint.web.views.pages",
                   "kusei.endpoint.web.views.sparql", "kusei.endpoint.web.metrics", "kusei.endpoint.query.service"):
        assert module in loaded, module
    # ... but nothing only some answers or settings need: rdflib (JSON-LD), the rate limiter (off).
    for unneeded in ("rdflib", "pyshacl", "flask_limiter", "limits"):
        assert unneeded not in loaded, unneeded
    assert seen["handed_over"] == str(data_dir.resolve())
    assert seen["release"] == CurrentRelease(data_dir).latest().id


def test_the_fork_server_and_query_processes_load_only_the_engine_and_the_answer_code() -> None:
    loaded = _modules_after("""
        import json, sys
        import kusei.endpoint.query.executor.child
        print(json.dumps({"modules": sorted(sys.modules)}))
    """)["modules"]
    assert "pyoxigraph" in loaded and "kusei.endpoint.query.executor.answer" in loaded
    for heavy in ("pydantic", "kusei.release", "kusei.settings", "kusei.endpoint.query.executor.pool",
                  "importlib.metadata", "flask", "rdflib"):
        assert heavy not in loaded, heavy


def test_rdflib_is_loaded_by_the_first_json_ld_answer_only(data_dir: Path) -> None:
    found = _modules_after(f"""
        import json, sys
        from kusei.endpoint.web.app import create_app
        from kusei.settings import Settings

        client = create_app(Settings(data_dir={str(data_dir)!r})).test_client()
        construct = "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }} LIMIT 5"
        statuses = [client.get("/sparql", query_string={{"query": "ASK {{}}"}}).status_code,
                    client.get("/sparql", query_string={{"query": "SELECT * {{ ?s ?p ?o }} LIMIT 5"}}).status_code,
                    client.get("/sparql", query_string={{"query": construct}},
                               headers={{"Accept": "text/turtle"}}).status_code]
        before = "rdflib" in sys.modules
        answer = client.get("/sparql", query_string={{"query": construct}},
                            headers={{"Accept": "application/ld+json"}})
        print(json.dumps({{"statuses": statuses, "before": before, "jsonld": answer.status_code,
                          "type": answer.content_type, "after": "rdflib" in sys.modules}}))
    """)
    assert found["statuses"] == [200, 200, 200]
    assert found["before"] is False
    assert (found["jsonld"], found["type"].split(";")[0]) == (200, "application/ld+json")
    assert found["after"] is True


def test_a_handed_over_release_is_taken_by_the_first_app_of_its_data_directory(data_dir: Path,
                                                                                 tmp_path: Path) -> None:
    current = CurrentRelease(data_dir)
    app_module.hand_over(current)
    try:
        first = create_app(Settings(data_dir=data_dir))
        second = create_app(Settings(data_dir=data_dir))
    finally:
        app_module.hand_over(None)
    assert first.extensions["kusei_release"] is current
    assert second.extensions["kusei_release"] is not current  # taken once: a second app validates its own
    assert second.extensions["kusei_release"].latest().id == current.latest().id

    other = tmp_path / "other"
    shutil.copytree(data_dir, other, symlinks=True)
    app_module.hand_over(current)
    try:
        elsewhere = create_app(Settings(data_dir=other))
    finally:
        app_module.hand_over(None)
    assert elsewhere.extensions["kusei_release"] is not current
    assert elsewhere.extensions["kusei_release"].link.parent == other


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server needs Linux pidfds")
def test_a_serving_app_starts_its_fork_server_before_any_query(data_dir: Path) -> None:
    found = _modules_after(f"""
        import json, os, threading, time
        from pathlib import Path
        from kusei.endpoint.query.executor.memory import children_by_parent
        from kusei.endpoint.web.app import create_app
        from kusei.settings import Settings

        def keepers():
            return sum(t.name == "kusei-fork-server-keeper" for t in threading.enumerate())

        create_app(Settings(data_dir={str(data_dir)!r}))
        plain = keepers()
        create_app(Settings(data_dir={str(data_dir)!r}), start_fork_server=True)
        serving = keepers()
        fork_server = None
        deadline = time.monotonic() + 120
        while fork_server is None and time.monotonic() < deadline:
            for child in children_by_parent().get(os.getpid(), ()):
                try:
                    if b"--fork-server" in Path(f"/proc/{{child}}/cmdline").read_bytes():
                        fork_server = int(child)
                except OSError:
                    pass
            time.sleep(0.05)
        print(json.dumps({{"plain": plain, "serving": serving, "fork_server": fork_server}}))
    """)
    assert found["plain"] == 0  # an app that only tests pages starts nothing until a query needs it
    assert found["serving"] == 1
    assert found["fork_server"] is not None

