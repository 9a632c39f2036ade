"""Browser tests: real headless Chromium (Debian's package) driven by Playwright.

The shop runs under pytest-django's live server on PostgreSQL, with the offline Stripe
simulator delivering signed webhooks to it (the `stripe_sim_live` fixture). When a test
fails, a screenshot of each page it opened is saved under
`test-results/<test name>/` (or `$E2E_OUTPUT_DIR/<test name>/`).
"""

import os
import re
from pathlib import Path

# Playwright's sync API runs an event loop in this thread; Django's ORM calls in the
# test body are still plain synchronous code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT_DIR = Path(os.environ.get("E2E_OUTPUT_DIR", ROOT / "test-results"))
DOC_SCREENSHOTS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1000, "height": 720}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server, request):
    """Open a page in a fresh browser context (its own cookies: one per person).

    On failure, each page's final state is saved as a PNG under the output directory.
    """
    contexts = []

    def open_page(viewport=VIEWPORT):
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page

    failed = any(
        getattr(getattr(request.node, f"report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )
    if failed:
        target = OUTPUT_DIR / re.sub(r"[^\w.-]+", "_", request.node.name)
        target.mkdir(parents=True, exist_ok=True)
        for i, context in enumerate(contexts):
            for j, page in enumerate(context.pages):
                page.screenshot(path=target / f"page-{i}-{j}.png", full_page=True)
    for context in contexts:
        context.close()


def save_doc_screenshot(page, name: str) -> None:
    """The README's screenshots: written when missing or when UPDATE_SCREENSHOTS=1,
    so ordinary test runs leave the committed PNGs alone."""
    path = DOC_SCREENSHOTS / f"{name}.png"
    if path.exists() and os.environ.get("UPDATE_SCREENSHOTS") != "1":
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path)
