"""The citizen's rating pages (QR link, 评价器) and the supervisors' pages, with who may open what."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from servicehall.feedback.models import Channel, Rating, Rectification
from servicehall.feedback.public_views import evaluator_key
from tests.conftest import verified_client
from tests.feedback.conftest import at


@pytest.fixture
def served_just_now(clerk: Any, at_window: Any, social_security: Any, frozen_now: Any) -> Any:
    """A service at window 3 that ended at 9:59, one minute before the frozen 10:00."""
    from servicehall.queueing import actions as queueing
    from tests.feedback.conftest import issue

    ticket = issue(social_security, 40)
    queueing.call_next(clerk, at_window, now=at(9, 45))
    queueing.start_service(clerk, at_window, now=at(9, 46))
    queueing.finish_service(clerk, at_window, now=at(9, 59))
    ticket.refresh_from_db()
    return ticket


def test_the_citizen_rates_from_the_ticket_qr_code_once(served_just_now: Any, citizen_client: Client) -> None:
    # Given the citizen's ticket page after the service
    status_page = citizen_client.get(reverse("queueing:ticket_status", args=[served_just_now.visit.token]))
    assert "评价本次服务" in status_page.content.decode()
    # When they follow the link and rate
    response = citizen_client.get(reverse("feedback:rate_visit", args=[served_just_now.visit.token]))
    assert response.status_code == 302
    form_url = response["Location"]
    assert citizen_client.get(form_url).status_code == 200
    thanks = citizen_client.post(form_url, {"level": "5", "reasons": ["attitude", "efficiency"]})
    # Then one rating is recorded for the clerk, channel 扫码
    assert "感谢您的评价" in thanks.content.decode()
    rating = Rating.objects.get()
    assert (rating.level, rating.channel, rating.staff_id) == (5, Channel.QR_CODE, served_just_now.clerk_id)
    # And a second submission changes nothing
    again = citizen_client.post(form_url, {"level": "1", "reasons": ["attitude"]})
    assert "已经评价过了" in again.content.decode()
    assert Rating.objects.count() == 1


def test_a_bad_rating_without_a_reason_is_sent_back_with_a_message(
    served_just_now: Any, citizen_client: Client
) -> None:
    form_url = citizen_client.get(reverse("feedback:rate_visit", args=[served_just_now.visit.token]))[
        "Location"
    ]
    response = citizen_client.post(form_url, {"level": "1"})
    assert response.status_code == 400
    assert "请选择不满意的原因" in response.content.decode()
    assert Rating.objects.count() == 0


def test_a_logged_in_staff_member_cannot_rate_through_the_page(served_just_now: Any, clerk: Any) -> None:
    client = verified_client(clerk)
    form_url = client.get(reverse("feedback:rate_visit", args=[served_just_now.visit.token]))["Location"]
    response = client.post(form_url, {"level": "5"})
    assert response.status_code == 403
    assert Rating.objects.count() == 0


def test_an_unknown_rating_link_says_so(citizen_client: Client, db: None) -> None:
    response = citizen_client.get(reverse("feedback:rate", args=["nonsense"]))
    assert response.status_code == 404
    assert "评价链接无效" in response.content.decode()


def test_the_window_evaluator_asks_for_the_service_just_finished(
    served_just_now: Any, at_window: Any, citizen_client: Client
) -> None:
    url = reverse("feedback:evaluator", args=[at_window.pk, evaluator_key(at_window)])
    page = citizen_client.get(url)
    assert "已办结，请您对本次服务进行评价" in page.content.decode()
    response = citizen_client.post(url, {"ticket": str(served_just_now.pk), "level": "4"})
    assert "感谢您的评价" in response.content.decode()
    assert Rating.objects.get().channel == Channel.EVALUATOR
    # The same service cannot be rated again from the evaluator
    again = citizen_client.post(
        url, {"ticket": str(served_just_now.pk), "level": "1", "reasons": ["attitude"]}
    )
    assert again.status_code == 409
    assert Rating.objects.count() == 1


def test_the_evaluator_needs_its_device_key(at_window: Any, citizen_client: Client) -> None:
    response = citizen_client.get(reverse("feedback:evaluator", args=[at_window.pk, "0" * 24]))
    assert response.status_code == 404


STAFF_PAGES = ["feedback:overview", "feedback:board", "feedback:appeal_list", "feedback:evaluator_list"]


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_supervisor_pages_permission_matrix(
    name: str, clerk: Any, supervisor: Any, citizen_client: Client
) -> None:
    url = reverse(name)
    assert citizen_client.get(url).status_code == 302
    assert verified_client(clerk).get(url).status_code == 403
    assert verified_client(supervisor).get(url).status_code == 200


def test_the_supervisor_works_a_bad_rating_from_the_board(
    served_just_now: Any, citizen_client: Client, supervisor: Any, clerk: Any
) -> None:
    form_url = citizen_client.get(reverse("feedback:rate_visit", args=[served_just_now.visit.token]))[
        "Location"
    ]
    citizen_client.post(form_url, {"level": "2", "reasons": ["attitude"], "contact_phone": "13812345678"})
    task = Rectification.objects.get()
    client = verified_client(supervisor)
    board = client.get(reverse("feedback:board")).content.decode()
    assert reverse("feedback:rectification", args=[task.pk]) in board
    detail = client.get(reverse("feedback:rectification", args=[task.pk])).content.decode()
    assert "138****5678" in detail
    assert "13812345678" not in detail
    # Missing the note: refused with a message, nothing changed
    refused = client.post(
        reverse("feedback:rectification_action", args=[task.pk]), {"action": "verify", "justified": "yes"}
    )
    assert refused.status_code == 400
    task.refresh_from_db()
    assert task.status == "verifying"
    client.post(
        reverse("feedback:rectification_action", args=[task.pk]),
        {"action": "verify", "justified": "yes", "note": "属实"},
    )
    task.refresh_from_db()
    assert task.status == "rectifying"
    # The clerk sees the rating on their page, without the citizen's phone
    mine = verified_client(clerk).get(reverse("feedback:mine")).content.decode()
    assert "不满意" in mine
    assert "5678" not in mine
    # and with the day only, not the minute that would match it to the ticket served
    rated_at = timezone.localtime(task.rating.rated_at)
    assert f"{rated_at:%Y-%m-%d}" in mine
    assert f"{rated_at:%H:%M}" not in mine


def test_another_sites_supervisor_cannot_open_the_task(
    served_just_now: Any, citizen_client: Client, other_town_site: Any
) -> None:
    from servicehall.accounts.roles import Role
    from tests.conftest import make_staff

    form_url = citizen_client.get(reverse("feedback:rate_visit", args=[served_just_now.visit.token]))[
        "Location"
    ]
    citizen_client.post(form_url, {"level": "1", "reasons": ["attitude"]})
    task = Rectification.objects.get()
    outsider = verified_client(
        make_staff(other_town_site, Role.WINDOW_SUPERVISOR, username="o", full_name="外站")
    )
    assert outsider.get(reverse("feedback:rectification", args=[task.pk])).status_code == 404
    response = outsider.post(
        reverse("feedback:rectification_action", args=[task.pk]),
        {"action": "verify", "justified": "no", "note": "x"},
    )
    assert response.status_code == 404
    task.refresh_from_db()
    assert task.status == "verifying"
