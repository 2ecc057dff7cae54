"""The catalogue pages in headless Chromium: the guide prints on one A4 page and fits a phone; the item
form fits 1366×768 and works by keyboard."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.chromium import skip_module_unless_browser_available

skip_module_unless_browser_available()

from playwright.sync_api import expect  # noqa: E402

from servicehall.catalog import actions  # noqa: E402
from servicehall.catalog.models import ServiceItem  # noqa: E402
from tests.browser.conftest import SCREENSHOT_DIRECTORY  # noqa: E402
from tests.catalog.conftest import fee, item_data, material  # noqa: E402

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def full_item(centre_administrator: Any, department: Any, windows: list[Any]) -> ServiceItem:
    """An item as large as a real one: eight materials, two fees, four steps, two windows, long texts."""
    return actions.create_item(
        centre_administrator,
        item_data(
            department,
            windows,
            name="城乡居民基本养老保险待遇领取资格认证及待遇申领",
            conditions="年满60周岁、累计缴费满15年的本市户籍城乡居民，未领取国家规定的基本养老保障待遇。" * 3,
            legal_basis="《国务院关于建立统一的城乡居民基本养老保险制度的意见》（国发〔2014〕8号）；"
            "《广东省城乡居民基本养老保险实施办法》第十二条、第十三条",
            deemed_approval_on_timeout=True,
            delivery_by_post=True,
            delivery_by_cabinet=True,
            is_free=False,
            fees=[
                fee("证书工本费", "15.00", "粤发改价格〔2021〕12号"),
                fee("邮寄费", "12.00", "邮政普遍服务资费标准"),
            ],
            materials=[
                material(name, form=form, copies=copies, notes=notes)
                for name, form, copies, notes in [
                    ("城乡居民基本养老保险待遇申领表", "original", 1, "申请人签名并按手印"),
                    ("居民身份证", "original_and_copy", 1, "核对原件后退回"),
                    ("户口簿", "original_and_copy", 1, "户主页及本人页"),
                    ("近期一寸免冠彩色照片", "original", 2, "白底"),
                    ("社会保障卡", "original", 1, ""),
                    ("银行存折或银行卡", "copy", 1, "本人名下一类账户"),
                    ("授权委托书", "original", 1, "委托他人办理时提供"),
                    ("代办人居民身份证", "original_and_copy", 1, "委托他人办理时提供"),
                ]
            ],
            steps=[
                actions.StepData("申请", "到窗口提交材料或网上申请"),
                actions.StepData("受理", "窗口当场核对材料，出具受理通知书"),
                actions.StepData("审核", "社保经办机构审核缴费年限和资格"),
                actions.StepData("办结", "次月起按月发放待遇，结果短信告知"),
            ],
        ),
    )


def horizontal_overflow(page: Any) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_guide_detail_prints_on_one_a4_page(
    page: Any, screenshot: Any, centre_administrator: Any, department: Any, window: Any, second_window: Any
) -> None:
    item = full_item(centre_administrator, department, [window, second_window])
    response = page.goto(f"/guide/{item.code}/")
    assert response is not None
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text(item.name)
    screenshot(page, "catalog-01-guide-detail-1366")
    page.emulate_media(media="print")
    screenshot(page, "catalog-02-guide-detail-print")
    pdf = page.pdf(format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1, f"the printed guide takes {pages} A4 pages"


def test_guide_fits_a_phone(
    browser: Any,
    live_server: Any,
    centre_administrator: Any,
    department: Any,
    window: Any,
    second_window: Any,
) -> None:
    item = full_item(centre_administrator, department, [window, second_window])
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="zh-CN", is_mobile=True)
    try:
        phone = context.new_page()
        for path in ("/guide/", f"/guide/{item.code}/", f"/guide/sites/{department.site_id}/"):
            response = phone.goto(path)
            assert response is not None
            assert response.status == 200
            assert horizontal_overflow(phone) <= PHONE["width"], f"{path} scrolls sideways on a phone"
        phone.goto("/guide/")
        phone.get_by_label("搜索事项").fill("养老")
        phone.get_by_label("搜索事项").press("Enter")
        expect(phone.get_by_role("link", name=item.name)).to_be_visible()
        phone.screenshot(path=str(_shot_path("catalog-03-guide-list-phone")))
        phone.get_by_role("link", name=item.name).click()
        phone.screenshot(path=str(_shot_path("catalog-04-guide-detail-phone")), full_page=True)
    finally:
        context.close()


def _shot_path(name: str) -> Any:
    SCREENSHOT_DIRECTORY.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIRECTORY / f"{name}.png"


def test_item_form_fits_the_desk_screen_and_works_by_keyboard(
    page: Any,
    sign_in: Any,
    screenshot: Any,
    centre_administrator: Any,
    department: Any,
    window: Any,
    second_window: Any,
) -> None:
    item = full_item(centre_administrator, department, [window])
    sign_in(centre_administrator)
    page.goto("/catalog/")
    expect(page.get_by_role("heading", level=1)).to_have_text("事项库")
    assert horizontal_overflow(page) <= 1366
    screenshot(page, "catalog-05-item-list")
    page.goto(f"/catalog/items/{item.pk}/")
    assert horizontal_overflow(page) <= 1366
    screenshot(page, "catalog-06-item-form")

    # When the administrator asks for one more step row with the keyboard and types into it
    add_step = page.locator("#steps-rows").get_by_role("button", name="增加一行")
    add_step.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # autofocus is applied after the load event, so the check waits for it
    expect(page.locator('[name="steps-5-name"]')).to_be_focused()
    page.keyboard.type("归档")
    page.get_by_label("第 6 行 环节说明").fill("材料归档备查")
    with page.expect_navigation():
        page.get_by_role("button", name="保存事项").press("Enter")

    # Then the item is saved with the new step last
    expect(page.locator(".alert-success")).to_contain_text("已保存事项")
    assert list(item.steps.order_by("position").values_list("name", flat=True)) == [
        "申请",
        "受理",
        "审核",
        "办结",
        "归档",
    ]
