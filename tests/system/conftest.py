"""Fixtures of the system tests that need a browser: headless Chromium, its pages, axe-core, screenshots.

Chromium is the Debian package (``apt-get install chromium``), driven by Python Playwright; a test
that asks for a browser is skipped where either is missing. axe-core comes from the npm registry
(``.ci/run`` installs it into tests/node/). Screenshots go to tests/artifacts/. The cross-layer
fixtures (the data directory, the servers) are in tests/conftest.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

TESTS = Path(__file__).resolve().parents[1]
ARTIFACTS = TESTS / "artifacts"
AXE = TESTS / "node" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# Generous: what is waited for happens, only slowly on a loaded machine; a test waits no longer
# than that takes.
WAIT_MS = 120_000
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("headless Chromium not found: install the Debian package `chromium` (CI does)")
    sync_api.expect.set_options(timeout=WAIT_MS)
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture()
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """``open_page(**context_options)``: a page in a new context (desktop, Japanese unless the options
    say otherwise), closed after the test. ``page.page_errors`` collects uncaught script errors;
    ``page.console_errors`` those and every console error (failed loads included)."""
    contexts: list[BrowserContext] = []

    def open_(**options: Any) -> Page:
        context = browser.new_context(**{"viewport": VIEWPORTS["desktop"], "locale": "ja-JP", **options})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page_errors: list[str] = []
        console_errors: list[str] = []
        page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: (page_errors.append(str(error)), console_errors.append(str(error))))
        page.page_errors = page_errors  # type: ignore[attr-defined]
        page.console_errors = console_errors  # type: ignore[attr-defined]
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def viewports() -> dict[str, dict[str, int]]:
    """The widths every page must fit, by name: ``desktop`` (the default of ``open_page``) and ``phone``."""
    return VIEWPORTS


@pytest.fixture()
def page(open_page: Callable[..., Page]) -> Page:
    return open_page()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """tests/artifacts/, where screenshots and reports are kept for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture()
def screenshot(artifacts: Path) -> Callable[[Page, str], None]:
    """``screenshot(page, name)``: the whole page as tests/artifacts/<name>.png."""

    def take(page: Page, name: str) -> None:
        page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)

    return take


@pytest.fixture()
def axe() -> Callable[[Page], list[dict[str, Any]]]:
    """``axe(page)``: axe-core's violations on the page. The page's context must bypass CSP
    (``open_page(bypass_csp=True)``): the pages' own policy refuses an injected script."""
    if not AXE.is_file():
        pytest.skip("axe-core missing: run `npm install --prefix tests/node` (.ci/run does)")

    def run(page: Page) -> list[dict[str, Any]]:
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("async () => await axe.run(document, { resultTypes: ['violations'] })")
        return list(result["violations"])

    return run
