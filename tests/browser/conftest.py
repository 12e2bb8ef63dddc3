"""A real Chromium (Debian's `chromium`, driven by Playwright for Python) and the console's world. Without the
browser the tests are skipped on a workstation but FAIL on CI (CI=true), where scripts/install.sh installs it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.world import World, console_world
from tests.support import REPO

SCREENSHOTS = pytest.StashKey[list[Path]]()


def chromium_path() -> str | None:
    for candidate in (os.environ.get("DAARION_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped: while Playwright's sync API is open it holds an event loop in this thread, and the
    suite's asyncio tests that follow need the thread to themselves."""
    executable = chromium_path()
    if executable is None:
        message = "no chromium: `apt-get install -y chromium` (scripts/install.sh does it when CI=true)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def world(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with console_world(database_url, tmp_path_factory.mktemp("console")) as made:
        yield made


@pytest.fixture(scope="session")
def screenshot_dirs(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> list[Path]:
    """Where each page's screenshots go: a temp dir of the run and bench/output/console/ (gitignored)."""
    dirs = [tmp_path_factory.mktemp("console-screenshots"), REPO / "bench" / "output" / "console"]
    for folder in dirs:
        folder.mkdir(parents=True, exist_ok=True)
    request.config.stash[SCREENSHOTS] = dirs
    return dirs


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    dirs = terminalreporter.config.stash.get(SCREENSHOTS, [])
    if dirs:
        terminalreporter.section("operator console screenshots")
        for folder in dirs:
            terminalreporter.write_line(f"{folder} ({len(list(folder.glob('*.png')))} PNG files)")
