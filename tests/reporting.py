"""Helpers shared by test modules."""

from __future__ import annotations

import pytest


def report(config: pytest.Config, line: str) -> None:
    """Print ``line`` on the terminal even while pytest captures output."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(line)
