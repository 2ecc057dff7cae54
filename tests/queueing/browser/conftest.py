"""The project's Chromium fixtures (tests/browser), shared with the hall's browser tests."""

from tests.browser.conftest import (  # noqa: F401  (fixtures are found by name)
    _async_unsafe_orm_allowed,
    browser,
    screenshot,
)
