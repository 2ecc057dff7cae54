"""Taking a ticket by phone (the entrance poster's QR code → the mobile page) and the SMS-style notices.

The notices are made after the ticket's transaction commits, so these tests run the on-commit
callbacks (``django_capture_on_commit_callbacks(execute=True)``) exactly where the actions register them.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from unittest import mock

import pytest
from django.urls import reverse

from servicehall.queueing import actions, notices
from servicehall.queueing.models import (
    NoticeKind,
    NoticeStatus,
    SmsNotice,
    Ticket,
    TicketChannel,
    TicketStatus,
    Visit,
)
from tests.queueing.conftest import NOW, at, issue

pytestmark = pytest.mark.django_db

PHONE = "13800138000"
MASKED = "138****8000"


class BrokenSender:
    """A gateway that is down."""

    name = "broken"

    def send(self, phone: str, text: str) -> None:
        raise ConnectionError("gateway unreachable")


def mobile_url(site: Any) -> str:
    return reverse("queueing:mobile", args=[site.code])


def mobile_issue(client: Any, site: Any, **data: Any) -> Any:
    return client.post(reverse("queueing:mobile_issue", args=[site.code]), data)


# ---------------------------------------------------------------------------------------------
# The mobile page


def test_mobile_page_issues_a_mobile_ticket_and_lands_on_the_live_status_page(
    citizen_client, social_security, household, town_site, frozen_now
) -> None:
    # Given the page the entrance QR code opens
    first = citizen_client.get(mobile_url(town_site))
    assert first.status_code == 200
    body = first.content.decode()
    assert "社保业务" in body
    assert "户政业务" in body
    chosen = citizen_client.get(mobile_url(town_site), {"category": social_security.pk})
    assert 'name="phone"' in chosen.content.decode()
    # When the visitor takes a ticket with their phone
    response = mobile_issue(citizen_client, town_site, category=social_security.pk, phone=PHONE)
    # Then it is an ordinary A ticket of the mobile channel, and the status page opens
    ticket = Ticket.objects.get()
    assert (ticket.number, ticket.channel, ticket.phone) == ("A001", TicketChannel.MOBILE, PHONE)
    assert response.status_code == 302
    assert response["Location"] == reverse("queueing:ticket_status", args=[Visit.objects.get().token])
    status = citizen_client.get(response["Location"])
    assert status.status_code == 200
    assert "A001" in status.content.decode()
    assert PHONE not in status.content.decode()


def test_one_open_ticket_per_phone_per_category_per_day(
    citizen_client, social_security, household, town_site, frozen_now
) -> None:
    mobile_issue(citizen_client, town_site, category=social_security.pk, phone=PHONE)
    # When the same phone asks again for the same business
    again = mobile_issue(citizen_client, town_site, category=social_security.pk, phone="138 0013 8000")
    # Then a clear refusal and no second ticket
    assert again.status_code == 409
    assert "该手机号今天已在“社保业务”排队（A001），请勿重复取号。" in again.content.decode()
    assert Ticket.objects.count() == 1
    # But another business is fine, and so is the same one once the first ticket is given up
    assert mobile_issue(citizen_client, town_site, category=household.pk, phone=PHONE).status_code == 302
    actions.cancel_ticket(None, Ticket.objects.get(number="A001"))
    assert (
        mobile_issue(citizen_client, town_site, category=social_security.pk, phone=PHONE).status_code == 302
    )
    assert sorted(Ticket.objects.values_list("number", flat=True)) == ["A001", "A002", "B001"]


def test_one_client_cannot_take_tickets_in_bulk(
    citizen_client, social_security, town_site, frozen_now, settings
) -> None:
    settings.SERVICEHALL_MOBILE_TICKETS_PER_CLIENT = 2
    assert mobile_issue(citizen_client, town_site, category=social_security.pk).status_code == 302
    assert mobile_issue(citizen_client, town_site, category=social_security.pk).status_code == 302
    refused = mobile_issue(citizen_client, town_site, category=social_security.pk)
    assert refused.status_code == 429
    assert "本设备取号过于频繁，请稍后再试" in refused.content.decode()
    assert Ticket.objects.count() == 2
    # Another address is not affected
    other = citizen_client.post(
        reverse("queueing:mobile_issue", args=[town_site.code]),
        {"category": social_security.pk},
        REMOTE_ADDR="10.9.8.7",
    )
    assert other.status_code == 302


def test_mobile_ticket_keeps_the_kiosk_rules(citizen_client, social_security, town_site) -> None:
    # Outside opening hours (12:30, the lunch break)
    lunch = at(12, 30).astimezone(dt.UTC)
    with mock.patch("django.utils.timezone.now", return_value=lunch):
        refused = mobile_issue(citizen_client, town_site, category=social_security.pk)
    assert refused.status_code == 400
    assert "现在不在办公时间内" in refused.content.decode()
    # A closed site
    town_site.is_active = False
    town_site.save(update_fields=["is_active"])
    with mock.patch("django.utils.timezone.now", return_value=NOW.astimezone(dt.UTC)):
        assert mobile_issue(citizen_client, town_site, category=social_security.pk).status_code == 404
    assert Ticket.objects.count() == 0


def test_mobile_garbage_is_refused_and_changes_nothing(
    citizen_client, social_security, household, town_site, frozen_now
) -> None:
    no_category = mobile_issue(citizen_client, town_site, category="abc")
    assert no_category.status_code == 400
    assert "请选择业务。" in no_category.content.decode()
    other_item = mobile_issue(citizen_client, town_site, category=social_security.pk, item="999999")
    assert other_item.status_code == 400
    assert "所选业务或事项不存在" in other_item.content.decode()
    bad_phone = mobile_issue(citizen_client, town_site, category=social_security.pk, phone="12345")
    assert bad_phone.status_code == 400
    assert "手机号格式不正确。" in bad_phone.content.decode()
    assert citizen_client.get(mobile_url(town_site), {"category": "999999"}).status_code == 404
    assert Ticket.objects.count() == 0


def test_entrance_poster_shows_the_site_qr_code_to_the_mobile_page(
    client_for, supervisor, clerk, town_site, social_security
) -> None:
    page = client_for(supervisor).get(reverse("queueing:entrance_poster"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in body
    assert "手机扫码取号" in body
    assert f"http://testserver{mobile_url(town_site)}" in body
    assert "cdn" not in body.lower()
    # A clerk has no poster to print
    assert client_for(clerk).get(reverse("queueing:entrance_poster")).status_code == 403


def test_poster_of_another_site_is_out_of_scope(client_for, supervisor, other_town_site) -> None:
    response = client_for(supervisor).get(reverse("queueing:entrance_poster"), {"site": other_town_site.pk})
    assert response.status_code in (403, 404)


# ---------------------------------------------------------------------------------------------
# SMS-style notices


def test_notices_at_issue_when_near_and_when_called(
    clerk, at_window, social_security, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        ahead = [issue(social_security, minute) for minute in range(1, 6)]
        mine = issue(social_security, 6, phone=PHONE)
    # At issue: the number, five people ahead and the status link
    notice = SmsNotice.objects.get()
    token = Visit.objects.get(pk=mine.visit_id).token
    assert notice.kind == NoticeKind.ISSUED
    assert notice.text.startswith("【三角镇便民服务中心】您已取号 A006（社保业务），前面还有 5 人")
    assert reverse("queueing:ticket_status", args=[token]) in notice.text
    assert (notice.status, notice.sender, notice.phone) == (NoticeStatus.SENT, "outbox", PHONE)
    # When the window calls the first two, three people are ahead: the near notice, once
    previous = None
    for minute, ticket in enumerate(ahead, start=30):
        with django_capture_on_commit_callbacks(execute=True):
            actions.call_next(
                clerk, at_window, expected_current_id=previous.pk if previous else None, now=at(9, minute)
            )
        previous = ticket
        if minute == 31:
            near = SmsNotice.objects.filter(kind=NoticeKind.NEAR).get()
            assert "A006 号前面还有 3 人" in near.text
    assert SmsNotice.objects.filter(kind=NoticeKind.NEAR).count() == 1
    # And when it is called: the window
    with django_capture_on_commit_callbacks(execute=True):
        called = actions.call_next(clerk, at_window, expected_current_id=previous.pk, now=at(9, 40))
    assert called.pk == mine.pk
    called_notice = SmsNotice.objects.get(kind=NoticeKind.CALLED)
    assert called_notice.text == "【三角镇便民服务中心】请 A006 号到 3 号窗口办理。"
    assert list(SmsNotice.objects.order_by("id").values_list("kind", flat=True)) == [
        "issued",
        "near",
        "called",
    ]
    assert set(SmsNotice.objects.values_list("status", flat=True)) == {NoticeStatus.SENT}


def test_a_short_queue_gets_no_separate_near_notice(
    clerk, at_window, social_security, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = issue(social_security, 1)
        issue(social_security, 2, phone=PHONE)
    assert "前面还有 1 人" in SmsNotice.objects.get().text
    with django_capture_on_commit_callbacks(execute=True):
        actions.call_next(clerk, at_window, now=at(9, 30))
        actions.call_next(clerk, at_window, expected_current_id=first.pk, now=at(9, 31))
    assert list(SmsNotice.objects.order_by("id").values_list("kind", flat=True)) == ["issued", "called"]


def test_no_phone_no_notice(clerk, at_window, social_security, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        issue(social_security, 1)
        issue(social_security, 2)
        actions.call_next(clerk, at_window, now=at(9, 30))
    assert SmsNotice.objects.count() == 0


def test_a_call_that_found_nobody_to_notify_does_not_hide_a_phone_ticket_issued_after_it(
    clerk, at_window, social_security, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = issue(social_security, 1)
        actions.call_next(clerk, at_window, now=at(9, 30))  # nobody to notify: remembered for 2 s
        issue(social_security, 31, phone=PHONE)
        actions.call_next(clerk, at_window, expected_current_id=first.pk, now=at(9, 32))
    assert list(SmsNotice.objects.order_by("id").values_list("kind", flat=True)) == ["issued", "called"]


def test_outbox_page_masks_phones_and_is_scoped(
    client_for,
    supervisor,
    clerk,
    centre_administrator,
    social_security,
    town_site,
    django_capture_on_commit_callbacks,
    caplog,
) -> None:
    with caplog.at_level(logging.DEBUG), django_capture_on_commit_callbacks(execute=True):
        issue(social_security, 1, phone=PHONE)
    # The log says the notice went out, never to whom
    assert "SMS notice" in caplog.text
    assert PHONE not in caplog.text
    for viewer in (supervisor, centre_administrator):
        page = client_for(viewer).get(reverse("queueing:notice_list"), {"site": town_site.pk})
        body = page.content.decode()
        assert page.status_code == 200
        assert MASKED in body
        assert "A001" in body
        assert "已发送" in body
        assert PHONE not in body
    assert client_for(clerk).get(reverse("queueing:notice_list")).status_code == 403
    failed_only = client_for(supervisor).get(reverse("queueing:notice_list"), {"status": "failed"})
    assert "A001" not in failed_only.content.decode()


def test_outbox_of_another_site_is_not_listed(
    client_for, supervisor, other_town_site, django_capture_on_commit_callbacks
) -> None:
    response = client_for(supervisor).get(reverse("queueing:notice_list"), {"site": other_town_site.pk})
    assert response.status_code in (403, 404)


def test_a_failing_sender_marks_the_notice_failed_and_the_call_still_works(
    clerk, at_window, social_security, settings, django_capture_on_commit_callbacks, caplog
) -> None:
    settings.SERVICEHALL_SMS_SENDER = "tests.queueing.test_mobile_and_notices.BrokenSender"
    with caplog.at_level(logging.DEBUG), django_capture_on_commit_callbacks(execute=True):
        ticket = issue(social_security, 1, phone=PHONE)
    notice = SmsNotice.objects.get()
    assert (notice.status, notice.error, notice.sender, notice.sent_at) == (
        NoticeStatus.FAILED,
        "ConnectionError",
        "broken",
        None,
    )
    with django_capture_on_commit_callbacks(execute=True):
        called = actions.call_next(clerk, at_window, now=at(9, 30))
    assert called.pk == ticket.pk
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.CALLED
    assert SmsNotice.objects.get(kind=NoticeKind.CALLED).status == NoticeStatus.FAILED
    assert PHONE not in caplog.text


def test_a_notice_that_cannot_be_made_never_fails_the_action(
    clerk, at_window, social_security, django_capture_on_commit_callbacks
) -> None:
    with (
        mock.patch.object(notices, "ticket_issued", side_effect=RuntimeError("boom")),
        mock.patch.object(notices, "ticket_called", side_effect=RuntimeError("boom")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = issue(social_security, 1, phone=PHONE)
        called = actions.call_next(clerk, at_window, now=at(9, 30))
    assert called.pk == ticket.pk
    assert SmsNotice.objects.count() == 0


def test_notice_kinds_through_the_mobile_page(
    citizen_client, social_security, town_site, frozen_now, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        mobile_issue(citizen_client, town_site, category=social_security.pk, phone=PHONE)
    assert SmsNotice.objects.get().ticket.channel == TicketChannel.MOBILE


@pytest.mark.skipif(
    __import__("django.conf").conf.settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs PostgreSQL row locks (SQLite serialises writers anyway)",
)
@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_with_one_phone_get_one_ticket(social_security) -> None:
    import threading

    from django.db import connections

    from servicehall.lib.errors import Conflict

    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def take(minute: int) -> None:
        try:
            barrier.wait(5)
            actions.issue_mobile_ticket(social_security, phone=PHONE, now=at(9, 10))
            outcomes.append("ticket")
        except Conflict as refusal:
            outcomes.append(refusal.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(minute,)) for minute in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(outcomes) == ["duplicate_mobile_ticket"] * 3 + ["ticket"]
    assert Ticket.objects.filter(phone=PHONE).count() == 1
