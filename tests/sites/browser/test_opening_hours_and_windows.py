"""Given a manager at a 1366×768 screen, when they edit windows and opening hours by keyboard, then it saves."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from tests.browser.chromium import skip_module_unless_browser_available

skip_module_unless_browser_available()

from playwright.sync_api import expect  # noqa: E402

from servicehall.sites.models import OpeningPeriod, Window  # noqa: E402
from tests.browser.test_main_pages import horizontal_overflow, wait_for_htmx  # noqa: E402

pytestmark = pytest.mark.browser
SCREEN_WIDTH = 1366


def test_manager_sets_opening_hours_by_keyboard_and_adds_a_row(
    page: Any, sign_in: Any, screenshot: Any, centre_administrator: Any, town_site: Any
) -> None:
    # Given a manager on the town's opening-hours editor
    sign_in(centre_administrator)
    page.goto(f"/sites/{town_site.pk}/opening-hours/")
    wait_for_htmx(page)
    assert horizontal_overflow(page)["scrollWidth"] <= SCREEN_WIDTH
    # When they type Monday morning, add a third row with the keyboard and fill Saturday's duty in it
    page.get_by_label("星期一 上午 开始时间").fill("08:30")
    page.get_by_label("星期一 上午 结束时间").fill("12:00")
    add_row = page.get_by_role("button", name="增加时段行")
    add_row.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("星期一 加开时段 开始时间")).to_be_focused()
    expect(page.get_by_label("星期一 上午 开始时间")).to_have_value("08:30")
    page.get_by_label("星期六 加开时段 开始时间").fill("09:00")
    page.get_by_label("星期六 加开时段 结束时间").fill("12:00")
    page.get_by_label("星期六 加开时段 说明").fill("周六值班")
    screenshot(page, "sites-opening-hours-editor")
    page.get_by_label("星期六 加开时段 说明").press("Enter")
    # Then the table is saved and shown on the site's page
    expect(page.get_by_text("办公时间已保存。")).to_be_visible()
    assert list(
        OpeningPeriod.objects.filter(site=town_site).values_list("weekday", "starts_at", "ends_at", "note")
    ) == [(1, time(8, 30), time(12), ""), (6, time(9), time(12), "周六值班")]


def test_overlap_is_marked_on_the_cell(
    page: Any, sign_in: Any, centre_administrator: Any, town_site: Any
) -> None:
    sign_in(centre_administrator)
    page.goto(f"/sites/{town_site.pk}/opening-hours/")
    page.get_by_label("星期二 上午 开始时间").fill("08:00")
    page.get_by_label("星期二 上午 结束时间").fill("12:00")
    page.get_by_label("星期二 下午 开始时间").fill("11:00")
    page.get_by_label("星期二 下午 结束时间").fill("13:00")
    page.get_by_role("button", name="保存办公时间").click()
    expect(page.get_by_text("星期二 11:00–13:00 与 08:00–12:00 时段重叠。")).to_be_visible()
    expect(page.get_by_label("星期二 下午 开始时间")).to_have_attribute("aria-invalid", "true")
    assert not OpeningPeriod.objects.exists()


def test_manager_adds_a_window_with_posts(
    page: Any, sign_in: Any, screenshot: Any, centre_administrator: Any, town_site: Any, department: Any
) -> None:
    sign_in(centre_administrator)
    page.goto(f"/sites/{town_site.pk}/")
    assert horizontal_overflow(page)["scrollWidth"] <= SCREEN_WIDTH
    screenshot(page, "sites-detail-manager")
    page.get_by_role("link", name="新增窗口").click()
    assert horizontal_overflow(page)["scrollWidth"] <= SCREEN_WIDTH
    page.get_by_label("窗口号").fill("6")
    page.get_by_label("名称").fill("社保窗口")
    page.get_by_label("进驻部门").select_option(label=department.name)
    page.get_by_label("窗口受理岗").check()
    page.get_by_label("爱心专窗").check()
    screenshot(page, "sites-window-form")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已新增 6 号窗口。")).to_be_visible()
    window = Window.objects.get(site=town_site, number=6)
    assert sorted(window.posts.values_list("kind", flat=True)) == ["caring", "reception"]
