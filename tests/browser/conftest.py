"""Headless Chromium (Debian's package, never a downloaded one) driving the app on pytest-django's live server.

Every page opens at 1366×768 with a zh-CN locale, the smallest screen a service window desk has.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.browser.chromium import LAUNCH_ARGUMENTS, chromium_executable
from tests.conftest import verified_client

SCREEN = {"width": 1366, "height": 768}
SCREENSHOT_DIRECTORY = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def _async_unsafe_orm_allowed() -> Iterator[None]:
    """Playwright's sync API keeps an event loop in the test thread; Django then refuses ORM calls
    there (SynchronousOnlyOperation). Allowed only while a browser module runs, then restored."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser(_async_unsafe_orm_allowed: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    assert executable is not None, "the module should have been skipped: no Chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=LAUNCH_ARGUMENTS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def browser_context(browser: Any, live_server: Any, transactional_db: None) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.url, viewport=SCREEN, screen=SCREEN, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    """A fresh tab; a JavaScript error, a server error or a missing static file fails the test."""
    tab = browser_context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    tab.on(
        "response",
        lambda response: (
            problems.append(f"HTTP {response.status} for {response.url}")
            if response.status >= 500 or (response.status >= 400 and "/static/" in response.url)
            else None
        ),
    )
    tab.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    yield tab
    assert problems == [], "the browser saw problems:\n" + "\n".join(problems)


@pytest.fixture
def sign_in(browser_context: Any, live_server: Any) -> Any:
    """Start the browser already logged in (second factor verified): for tests about pages, not login."""

    def sign_in_as(user: Any) -> None:
        client = verified_client(user)
        session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
        browser_context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session_key, "url": live_server.url}]
        )

    return sign_in_as


@pytest.fixture
def screenshot() -> Any:
    """Save what a person at a 1366×768 screen sees into test-artifacts/screenshots/ for review."""
    SCREENSHOT_DIRECTORY.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = SCREENSHOT_DIRECTORY / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
