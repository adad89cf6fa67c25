"""Chromium contexts for the episode page's tests: a desktop window and a phone, with the suite's
Chromium, its error watch, and clipboard access. One browser per test module."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright import sync_api
from test_browser import CHROMIUM, CHROMIUM_ARGS, WATCH

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}

# The Web Share API's seam: records what the page shares instead of opening the system's sheet.
RECORD_SHARES = """
window.__shared = [];
Object.defineProperty(Navigator.prototype, 'share', {configurable: true, value: function (data) {
    window.__shared.push(data); return Promise.resolve(); }});
"""
# A browser without the Web Share API (desktop Chromium on Linux has none; said outright all the same).
NO_SHARE = "delete Navigator.prototype.share; delete navigator.share;"


@pytest.fixture(scope="module")
def chromium() -> Iterator[sync_api.Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium (or set PLATEAU_CHROMIUM)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def context(browser: sync_api.Browser, *scripts: str, javascript: bool = True, **device) -> sync_api.BrowserContext:
    """A fresh context (its own clipboard and storage) that watches for CSP violations and errors."""
    opened = browser.new_context(
        locale="fr-FR",
        java_script_enabled=javascript,
        permissions=["clipboard-read", "clipboard-write"],
        **(device or DESKTOP),
    )
    for script in (WATCH, *scripts):
        opened.add_init_script(script)
    return opened
