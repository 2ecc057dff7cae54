"""Given the demo centre at a 1366×768 screen, the duty pages fit, work by keyboard and show the gap in red."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest

from tests.browser.chromium import skip_module_unless_browser_available

skip_module_unless_browser_available()

from django.utils import timezone  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from servicehall.accounts.models import User  # noqa: E402
from servicehall.duty.demo import load_demo  # noqa: E402
from servicehall.operations.demo import load_demo_centre  # noqa: E402
from tests.browser.test_main_pages import horizontal_overflow, wait_for_htmx  # noqa: E402

pytestmark = pytest.mark.browser
SCREEN_WIDTH = 1366


@pytest.fixture
def demo(transactional_db: None) -> None:
    load_demo_centre()
    load_demo(StringIO())


def test_the_supervisor_sees_the_board_with_the_red_gap(
    page: Any, sign_in: Any, screenshot: Any, demo: None
) -> None:
    sign_in(User.objects.get(username="chen.jing"))
    page.goto("/duty/board/")
    expect(page.get_by_role("heading", name="岗位覆盖（四周）")).to_be_visible()
    expect(page.locator(".duty-gap-alert")).to_contain_text("7号窗口")
    assert page.locator(".duty-board .duty-gap").count() >= 1
    assert horizontal_overflow(page)["scrollWidth"] <= SCREEN_WIDTH
    screenshot(page, "duty-board")
    for path, name in [
        ("/duty/posts/", "duty-posts"),
        ("/duty/roster/", "duty-roster"),
        ("/duty/leave/queue/", "duty-leave-queue"),
        ("/duty/attendance/", "duty-attendance"),
    ]:
        page.goto(path)
        assert horizontal_overflow(page)["scrollWidth"] <= SCREEN_WIDTH, path
        screenshot(page, name)


def test_a_clerk_picks_a_substitute_from_the_free_colleagues(
    page: Any, sign_in: Any, screenshot: Any, demo: None
) -> None:
    sign_in(User.objects.get(username="zheng.lihua"))
    page.goto("/duty/leave/")
    wait_for_htmx(page)
    expect(page.locator("#id_substitute")).to_be_disabled()
    # When she picks a Thursday two weeks ahead
    today = timezone.localdate()
    thursday = (today + dt.timedelta(days=14 + (3 - today.weekday()) % 7)).isoformat()
    page.get_by_label("开始日期").fill(thursday)
    page.get_by_label("结束日期").fill(thursday)
    page.get_by_label("结束日期").dispatch_event("change")
    # Then the substitutes offered are the free ones: 叶青 (a B角 only), not 杨芳 (A角 of 13号窗口)
    expect(page.locator("#id_substitute")).to_be_enabled()
    expect(page.locator("#id_substitute option", has_text="叶青")).to_have_count(1)
    expect(page.locator("#id_substitute option", has_text="杨芳")).to_have_count(0)
    assert horizontal_overflow(page)["scrollWidth"] <= SCREEN_WIDTH
    screenshot(page, "duty-leave-form")
    page.goto("/duty/check-in/")
    assert page.locator('form button:has-text("打卡")').count() in (0, 4)
    screenshot(page, "duty-check-in")
