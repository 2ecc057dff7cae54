"""Given staff at a 1366×768 screen, when they use the main pages in Chromium, then each works by keyboard.

Locators use what a person sees (headings, labels, link and button text), not ids or classes.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from tests.browser.chromium import skip_module_unless_browser_available

skip_module_unless_browser_available()

from django_otp.oath import TOTP  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from servicehall.audit.actions import record  # noqa: E402
from servicehall.audit.models import AuditRecord  # noqa: E402
from tests.conftest import make_staff  # noqa: E402
from tests.factories import TEST_PASSWORD  # noqa: E402

pytestmark = pytest.mark.browser

MASKED_PHONE = re.compile(r"^\d{3}\*{4}\d{4}$")
SCREEN_WIDTH = 1366


# --- helpers -------------------------------------------------------------------------------------


def wait_for_htmx(page: Any) -> None:
    page.wait_for_function("() => window.htmx !== undefined", timeout=5_000)


def tab_to(page: Any, target: Any, limit: int = 40) -> None:
    """Press Tab until ``target`` has focus, and check the focus is visible (outline or ring)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            focus_visible = target.evaluate(
                """element => {
                    const style = getComputedStyle(element);
                    return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
                        || style.boxShadow !== 'none';
                }"""
            )
            assert focus_visible, f"keyboard focus on {target} is not visible"
            return
    described = page.evaluate(
        "() => document.activeElement ? document.activeElement.outerHTML.slice(0, 120) : 'nothing'"
    )
    pytest.fail(f"{target} not reached with {limit} Tab presses; focus is on {described}")


def sidebar_link(page: Any, label: str) -> Any:
    return page.get_by_role("navigation", name="主导航").get_by_role("link", name=label, exact=True)


def log_in_with_form(page: Any, username: str, password: str = TEST_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("登录名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()


def definition(page: Any, term: str) -> Any:
    """The <dd> that follows the <dt> with this text (a label/value pair on a detail page)."""
    return page.locator(f'xpath=//dt[normalize-space()="{term}"]/following-sibling::dd[1]')


def horizontal_overflow(page: Any) -> dict[str, Any]:
    """The page's scroll width and the outermost elements that stick out past the right edge."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const culprits = [];
            for (const element of document.body.querySelectorAll('*')) {
                const box = element.getBoundingClientRect();
                if (box.right <= width + 1 || box.width === 0) continue;
                if (culprits.some(outer => outer.contains(element))) continue;
                culprits.push(element);
            }
            return {
                scrollWidth: document.scrollingElement.scrollWidth,
                culprits: culprits.slice(0, 5).map(element => {
                    const name = element.tagName.toLowerCase()
                        + (element.id ? '#' + element.id : '')
                        + (element.className && typeof element.className === 'string'
                           ? '.' + element.className.trim().split(/\\s+/).join('.') : '');
                    const right = Math.round(element.getBoundingClientRect().right);
                    return `${name} (right edge ${right}px): ${element.textContent.trim().slice(0, 60)}`;
                }),
            };
        }"""
    )


# --- tests ---------------------------------------------------------------------------------------


def test_clerk_logs_in_by_keyboard_browses_to_their_site_and_logs_out(
    page: Any, clerk: Any, window: Any, screenshot: Any
) -> None:
    # Given a window clerk of 三角镇便民服务中心 who is not logged in
    # When they open the home page
    page.goto("/")
    # Then they are sent to the login page
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    wait_for_htmx(page)
    screenshot(page, "01-login")

    # When they log in with the keyboard only, starting from the top of the page
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    tab_to(page, page.get_by_label("登录名"))
    page.keyboard.type("clerk")
    page.keyboard.press("Tab")
    expect(page.get_by_label("密码")).to_be_focused()
    page.keyboard.type(TEST_PASSWORD)
    page.keyboard.press("Enter")

    # Then they reach their workbench, greeted by name
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("李受理")
    expect(page.get_by_text("三角镇便民服务中心").first).to_be_visible()
    wait_for_htmx(page)
    screenshot(page, "02-workbench-clerk")

    # When they follow 服务场所 in the sidebar and open their own site, by keyboard
    tab_to(page, sidebar_link(page, "服务场所"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="服务场所", level=1)).to_be_visible()
    tab_to(page, page.get_by_role("main").get_by_role("link", name="三角镇便民服务中心"))
    page.keyboard.press("Enter")

    # Then the site page lists its windows
    expect(page.get_by_role("heading", name="三角镇便民服务中心", level=1)).to_be_visible()
    windows_table = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="窗口号"))
    expect(windows_table).to_be_visible()
    expect(windows_table.get_by_role("cell", name="社保综合窗口")).to_be_visible()
    expect(windows_table).to_contain_text("人力资源和社会保障局")
    screenshot(page, "03-site-detail-clerk")

    # When they log out with the 退出 button
    tab_to(page, page.get_by_role("button", name="退出", exact=True))
    page.keyboard.press("Enter")

    # Then they are back at the login page and the logout is audited
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert AuditRecord.objects.filter(action="accounts.logout", actor=clerk).count() == 1


def test_wrong_password_is_refused_with_400_and_the_form_still_works(page: Any, clerk: Any) -> None:
    # Given a clerk at the login page, listening to the server's answers
    statuses: list[int] = []
    page.on(
        "response",
        lambda response: (
            statuses.append(response.status)
            if response.request.method == "POST" and "/accounts/login/" in response.url
            else None
        ),
    )
    page.goto("/accounts/login/")

    # When they submit a wrong password
    page.get_by_label("登录名").fill("clerk")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_label("密码").press("Enter")

    # Then the page says so, with status 400, and no session is started
    expect(page.get_by_text("登录名或密码错误")).to_be_visible()
    assert statuses == [400]
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    assert AuditRecord.objects.filter(action="accounts.login_failed").count() == 1

    # When they correct the password in the same form, reaching it by keyboard
    expect(page.get_by_label("登录名")).to_have_value("clerk")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    tab_to(page, page.get_by_label("密码"))
    page.keyboard.type(TEST_PASSWORD)
    page.keyboard.press("Enter")

    # Then they are in
    expect(page.get_by_role("heading", level=1)).to_contain_text("李受理")
    assert statuses[-1] == 302


def test_supervisor_sees_masked_phones_and_reveals_one_which_is_audited(
    page: Any, supervisor: Any, clerk: Any, screenshot: Any
) -> None:
    # Given a window supervisor logged in, and a clerk at their site
    log_in_with_form(page, "supervisor")
    expect(page.get_by_role("heading", level=1)).to_contain_text("陈负责")

    # When they open 工作人员
    sidebar_link(page, "工作人员").click()
    expect(page.get_by_role("heading", name="工作人员", level=1)).to_be_visible()
    wait_for_htmx(page)

    # Then every phone number is masked, and no full number is on the page
    expect(page.get_by_role("cell", name=MASKED_PHONE)).to_have_count(2)
    assert clerk.mobile_phone not in page.content()
    screenshot(page, "04-staff-list-supervisor")

    # When they open the clerk and ask for the full phone number (htmx, no page load)
    page.get_by_role("link", name="李受理").click()
    expect(page.get_by_role("heading", name="李受理", level=1)).to_be_visible()
    wait_for_htmx(page)
    phone = definition(page, "手机号")
    expect(phone).to_contain_text(clerk.masked_mobile_phone)
    phone.get_by_role("button", name="查看完整").click()

    # Then the full number replaces the masked one, and the reveal is in the audit trail
    expect(phone).to_contain_text(clerk.mobile_phone)
    expect(phone).not_to_contain_text(clerk.masked_mobile_phone)
    expect(definition(page, "身份证号")).not_to_contain_text(clerk.resident_id)
    screenshot(page, "05-staff-detail-revealed")
    revealed = AuditRecord.objects.filter(action="personal_data.revealed", actor=supervisor)
    assert revealed.count() == 1
    assert revealed.get().object_id == str(clerk.pk)
    assert revealed.get().after == {"field": "mobile_phone"}


def test_audit_administrator_enrols_totp_then_verifies_the_audit_chain(
    page: Any, audit_administrator: Any, screenshot: Any
) -> None:
    # Given an audit administrator, whose post requires an authenticator, logging in with a password
    log_in_with_form(page, "auditadmin")

    # Then they land on 双因素认证 with a QR code and the secret to type by hand
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/"))
    expect(page.get_by_role("heading", name="双因素认证")).to_be_visible()
    expect(page.get_by_role("main").locator("svg").first).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text()
    device = TOTPDevice.objects.filter(user=audit_administrator, confirmed=False).latest("id")
    assert secret.replace(" ", "") == base64.b32encode(device.bin_key).decode().rstrip("=")
    screenshot(page, "06-two-factor-enrolment")

    # When they type the code their authenticator shows, by keyboard
    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    expect(page.get_by_label("6 位验证码")).to_be_focused()
    page.keyboard.type(f"{token:0{device.digits}d}")
    page.keyboard.press("Enter")

    # Then they reach the workbench
    expect(page.get_by_role("heading", level=1)).to_contain_text("周审计")
    assert TOTPDevice.objects.filter(user=audit_administrator, confirmed=True).count() == 1

    # When they open 审计日志
    tab_to(page, sidebar_link(page, "审计日志"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="审计日志", level=1)).to_be_visible()
    wait_for_htmx(page)

    # Then their own login is listed
    own_login = (
        page.get_by_role("row")
        .filter(has_text=re.compile(r"accounts\.login\b"))
        .filter(has_text="auditadmin")
    )
    expect(own_login.first).to_be_visible()

    # When they verify the chain's integrity, by keyboard
    tab_to(page, page.get_by_role("button", name="校验完整性"))
    page.keyboard.press("Enter")

    # Then the page reports an intact chain
    expect(page.get_by_text("审计链完整")).to_be_visible()
    screenshot(page, "07-audit-list-verified")


def test_language_switch_on_the_login_page_sets_html_lang(page: Any, screenshot: Any) -> None:
    # Given the login page in Chinese
    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    # When the visitor picks English in the top bar (its label may be translated afterwards)
    language = page.get_by_role("banner").get_by_role("combobox")
    expect(language).to_have_accessible_name("界面语言")
    language.select_option("en")

    # Then the page is served in English (the catalogue may be incomplete; the page still renders)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(language).to_have_value("en")
    screenshot(page, "12-login-english")


LAYOUT_PAGES = [
    ("supervisor", "/", "08-layout-workbench-supervisor"),
    ("supervisor", "/accounts/staff/", "09-layout-staff-list"),
    ("supervisor", "/sites/", "10-layout-site-list"),
    ("audit_administrator", "/audit/", "11-layout-audit-list"),
]


@pytest.mark.parametrize(("persona", "path", "shot"), LAYOUT_PAGES, ids=[path for _, path, _ in LAYOUT_PAGES])
def test_main_pages_fit_a_1366_wide_screen(
    request: pytest.FixtureRequest,
    page: Any,
    sign_in: Any,
    screenshot: Any,
    persona: str,
    path: str,
    shot: str,
    window: Any,
    department: Any,
) -> None:
    # Given a realistic amount of data: a full page of staff with several roles, and a busy audit trail
    site = window.site
    for number in range(24):
        staff = make_staff(
            site,
            "window_clerk",
            "pre_reviewer",
            "complaint_handler",
            full_name=f"欧阳{'明' * (number % 3 + 1)}{number}",
            department=department,
        )
        record("accounts.staff_updated", target=staff, after={"rank": "科员"})
    user = request.getfixturevalue(persona)
    sign_in(user)

    # When they open the page on a 1366×768 screen
    response = page.goto(path)
    assert response is not None
    assert response.status == 200
    wait_for_htmx(page)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot(page, shot)

    # Then nothing makes the page scroll sideways
    overflow = horizontal_overflow(page)
    assert overflow["scrollWidth"] <= SCREEN_WIDTH, (
        f"{path} scrolls sideways at {SCREEN_WIDTH}px: scrollWidth {overflow['scrollWidth']}; "
        f"sticking out: {overflow['culprits']}"
    )
