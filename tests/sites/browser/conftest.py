"""The project's browser fixtures (Debian's Chromium at 1366×768), for the sites pages."""

from tests.browser.conftest import (  # noqa: F401
    _async_unsafe_orm_allowed,
    browser,
    browser_context,
    page,
    screenshot,
    sign_in,
)
