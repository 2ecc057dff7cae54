"""The hall in headless Chromium, served by the project's real ASGI application (uvicorn), because the
calling display lives on a Server-Sent Events stream that a WSGI live server cannot hold open.

- A visitor takes a ticket at the kiosk, the clerk calls it with the keyboard shortcut N at the counter
  workstation, and the calling display shows the call as it happens.
- The display's stream fails hard (a proxy answers 502, so the browser's EventSource closes for good):
  the display reopens it after a pause and catches up on the call made while it was down.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.chromium import skip_module_unless_browser_available

skip_module_unless_browser_available()

from django.conf import settings as django_settings  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from servicehall.queueing import actions  # noqa: E402
from servicehall.queueing.models import Ticket, TicketStatus  # noqa: E402
from tests.browser.conftest import SCREEN  # noqa: E402
from tests.conftest import verified_client  # noqa: E402
from tests.queueing.conftest import at, issue  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture
def hall_server(transactional_db: None, _async_unsafe_orm_allowed: None, settings: Any) -> Iterator[str]:
    """uvicorn with ``servicehall.config.asgi:application`` on a free loopback port, in this process
    (so it shares the test database and the frozen clock); stopped at the end of the test."""
    import uvicorn

    from servicehall.config.asgi import application

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            application, log_level="warning", lifespan="off", access_log=False, timeout_graceful_shutdown=2
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    listener.close()


@pytest.fixture
def hall_context(browser: Any, hall_server: str) -> Iterator[Any]:
    context = browser.new_context(
        base_url=hall_server, viewport=SCREEN, screen=SCREEN, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def problems() -> list[str]:
    return []


@pytest.fixture
def open_tab(hall_context: Any, problems: list[str]) -> Iterator[Any]:
    """New tabs that record JavaScript errors and server errors; the 502 this test module fakes for the
    event stream, and streams cut when a tab closes, are expected and not counted."""

    def watch(tab: Any) -> Any:
        tab.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
        tab.on(
            "response",
            lambda response: (
                problems.append(f"HTTP {response.status} for {response.url}")
                if (response.status >= 500 and "/hall/events/" not in response.url)
                or (response.status >= 400 and "/static/" in response.url)
                else None
            ),
        )
        return tab

    yield lambda: watch(hall_context.new_page())
    assert problems == [], "the browser saw problems:\n" + "\n".join(problems)


def sign_in(context: Any, server: str, user: Any) -> None:
    client = verified_client(user)
    session_key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": session_key, "url": server}])


def test_kiosk_ticket_counter_shortcut_call_and_the_display_shows_it(
    open_tab, hall_context, hall_server, clerk, window, social_security, town_site, frozen_now, screenshot
) -> None:
    # Given the hall's calling display and the kiosk
    display = open_tab()
    display.goto(f"/hall/display/{town_site.code}/")
    expect(display.locator("#connection-status")).to_have_text("● 已连接")
    kiosk = open_tab()
    kiosk.goto(f"/hall/kiosk/{town_site.code}/")
    # When a visitor touches A, gives a phone and takes a ticket
    kiosk.get_by_role("link", name="A · 社保业务").click()
    kiosk.locator("#kiosk-phone").fill("13800138000")
    kiosk.get_by_role("button", name="取号").click()
    # Then the receipt shows the number and a QR code
    expect(kiosk.locator("#ticket .number")).to_have_text("A001")
    expect(kiosk.locator("#ticket .qr svg")).to_be_visible()
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.status) == ("kiosk", TicketStatus.WAITING)
    # And the display's waiting count follows
    expect(display.locator("#counts td.n").first).to_have_text("1")
    # When the clerk, signed in at window 3, presses N on the workstation
    actions.sign_in(clerk, window, now=at(9))
    sign_in(hall_context, hall_server, clerk)
    counter = open_tab()
    counter.goto(f"/hall/counter/{window.pk}/")
    expect(counter.locator("#counter")).to_contain_text("暂无")
    counter.keyboard.press("n")
    # Then the workstation shows A001 called, and the display shows and announces the call
    expect(counter.locator(".counter-current")).to_have_text("A001")
    expect(counter.get_by_text("已叫号：请 A001 号到 3 号窗口办理")).to_be_visible()
    expect(display.locator("#latest-call")).to_have_text("请 A001 号到 3 号窗口办理")
    assert Ticket.objects.get().status == TicketStatus.CALLED
    expect(display.locator("#counts td.n").first).to_have_text("0")
    screenshot(display, "queueing-display-after-call")
    screenshot(counter, "queueing-counter-after-call")


def test_display_reopens_a_stream_closed_by_a_502_and_catches_up(
    open_tab, clerk, at_window, social_security, town_site, frozen_now
) -> None:
    first = issue(social_security, 1)
    issue(social_security, 2)
    display = open_tab()
    requests: list[str] = []

    def stream(route: Any) -> None:
        requests.append(route.request.url)
        if len(requests) == 1:
            # While a proxy in front of the app fails, the window calls A001
            actions.call_next(clerk, at_window, now=at(9, 45))
            route.fulfill(status=502, content_type="text/html", body="<h1>502 Bad Gateway</h1>")
            return
        route.continue_()

    display.route("**/hall/events/**", stream)
    display.goto(f"/hall/display/{town_site.code}/")
    # Then the browser gives up on that stream, the display reopens one itself and catches up
    expect(display.locator("#latest-call")).to_have_text("请 A001 号到 3 号窗口办理", timeout=15_000)
    expect(display.locator("#connection-status")).to_have_text("● 已连接")
    assert display.locator("#display").get_attribute("data-reopens") == "1"
    assert len(requests) == 2
    assert "last_event_id=" in requests[1]
    # And the live stream works again: the next call arrives as it happens
    actions.call_next(clerk, at_window, expected_current_id=first.pk, now=at(9, 46))
    expect(display.locator("#latest-call")).to_have_text("请 A002 号到 3 号窗口办理")
    expect(display.locator("#recent-calls")).to_contain_text("A001")


PHONE_SCREEN = {"width": 390, "height": 844}


def test_entrance_poster_leads_a_phone_to_a_ticket_and_its_live_status(
    open_tab,
    browser,
    hall_context,
    hall_server,
    supervisor,
    social_security,
    town_site,
    frozen_now,
    screenshot,
) -> None:
    # Given the poster a supervisor prints for the entrance
    sign_in(hall_context, hall_server, supervisor)
    poster = open_tab()
    poster.goto("/hall/poster/")
    expect(poster.locator("#poster-qr svg")).to_be_visible()
    mobile_url = poster.locator(".poster-url").inner_text().strip()
    assert mobile_url == f"{hall_server}/hall/m/{town_site.code}/"
    screenshot(poster, "queueing-entrance-poster")
    # When a visitor's phone opens the address in the QR code, picks A and gives a number
    phone = browser.new_context(viewport=PHONE_SCREEN, locale="zh-CN", is_mobile=True, has_touch=True)
    try:
        tab = phone.new_page()
        tab.goto(mobile_url)
        tab.get_by_role("link", name="A · 社保业务").click()
        tab.locator("#mobile-phone").fill("13800138000")
        tab.get_by_role("button", name="取号").click()
        # Then the live status page shows the number and the people ahead, without the phone
        expect(tab.locator(".status-card .number")).to_have_text("A001")
        expect(tab.locator(".status-card")).to_contain_text("前面还有 0 人")
        assert "13800138000" not in tab.content()
        screenshot(tab, "queueing-mobile-status")
        # And a second ticket for the same phone and business is refused with a clear message
        tab.goto(mobile_url + f"?category={social_security.pk}")
        tab.locator("#mobile-phone").fill("13800138000")
        tab.get_by_role("button", name="取号").click()
        expect(tab.locator("#mobile-error")).to_contain_text("该手机号今天已在“社保业务”排队（A001）")
        assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]
    finally:
        phone.close()
    assert Ticket.objects.get().channel == "mobile"
