"""Fixtures of the documentation checks: the built site and a headless Chromium.

Chromium is the system's (Debian's `chromium` package; `CHROMIUM` names another binary), driven
by Playwright's Python package, which downloads no browser of its own here."""

import os
import pathlib

import pytest
from playwright.sync_api import sync_playwright

SITE = pathlib.Path(__file__).resolve().parents[1] / "site"


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            # CI runs as root, where Chromium's sandbox cannot start
            args=["--no-sandbox"],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def site():
    """The site `make docs` built."""
    assert (SITE / "index.html").is_file(), f"no built site in {SITE}: run `make docs` first"
    return SITE
