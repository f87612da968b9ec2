"""Headless Debian Chromium through Playwright, with screenshots saved under test-artifacts/screenshots/."""

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("HAOCHA_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_available() -> bool:
    return bool(shutil.which(CHROMIUM) or os.path.exists(CHROMIUM))


@contextmanager
def chromium():
    """A headless Debian Chromium; open pages with new_page()."""
    if not chromium_available():
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make test` installs Debian's chromium package")
    # Playwright's sync API runs an event loop in this thread; the ORM calls in tests stay synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, width=1280, height=800):
    """A page in its own context (own cookies), collecting JavaScript errors in page.js_errors."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    return page


@contextmanager
def browser_page(width=1280, height=800):
    with chromium() as browser:
        yield new_page(browser, width, height)


def login(page, base_url, username, password, next_url="/"):
    page.goto(f"{base_url}/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()


def screenshot(page, name: str, settle_ms: int = 800) -> Path:
    """Save a full-page PNG once chart animations have settled."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(settle_ms)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def htmx_ready(page, selector: str) -> None:
    """Wait until htmx has finished swapping and has wired up `selector` (htmx 2 records initHash on an
    element it has processed): an event fired at a freshly swapped form before that is lost."""
    page.wait_for_function(
        """sel => {
            if (document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')) return false;
            const el = document.querySelector(sel);
            return !!(el && el['htmx-internal-data'] && el['htmx-internal-data'].initHash);
        }""",
        arg=selector,
    )
