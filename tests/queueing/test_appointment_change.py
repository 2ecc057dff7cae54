"""改约 on the public booking page: find by reference + phone, move to another free slot, or cancel.

The page runs under ``frozen_now`` (Monday 3 March 2025, 10:00); bookings are made at 9:00. A slot of
社保业务 (A) holds 3 bookings (two windows × 30/8 × 50 %).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.urls import reverse

from servicehall.audit.models import AuditRecord
from servicehall.queueing import actions
from servicehall.queueing.models import Appointment, AppointmentSlot, AppointmentStatus
from tests.queueing.conftest import MONDAY, SHANGHAI, at

pytestmark = pytest.mark.django_db

TUESDAY = MONDAY + dt.timedelta(days=1)
PHONE = "13800138000"


def slots(category: Any, day: dt.date) -> dict[str, int]:
    return {
        f"{slot_start:%H:%M}": booked
        for slot_start, booked in AppointmentSlot.objects.filter(
            category=category, service_date=day
        ).values_list("slot_start", "booked")
    }


def booking_state(appointment: Appointment) -> tuple[Any, ...]:
    row = Appointment.objects.get(pk=appointment.pk)
    return (row.status, row.service_date, row.slot_start, row.slot_end, row.changed_at)


def everything(category: Any) -> tuple[Any, ...]:
    return (
        list(
            Appointment.objects.order_by("pk").values_list(
                "status", "service_date", "slot_start", "changed_at"
            )
        ),
        sorted(
            AppointmentSlot.objects.filter(category=category).values_list(
                "service_date", "slot_start", "booked"
            )
        ),
        AuditRecord.objects.count(),
    )


@pytest.fixture
def url(town_site: Any) -> str:
    return reverse("queueing:booking_manage", args=[town_site.code])


@pytest.fixture
def booked(social_security: Any) -> Appointment:
    """Tuesday 9:00–9:30, booked on Monday at 9:00."""
    return actions.book_appointment(social_security, TUESDAY, dt.time(9), PHONE, now=at(9))


def post(
    client: Any, url: str, appointment: Appointment, operation: str, phone: str = PHONE, **fields: str
) -> Any:
    return client.post(
        url, {"reference": appointment.reference, "phone": phone, "operation": operation, **fields}
    )


def test_the_citizen_finds_the_booking_moves_it_and_then_cancels_it(
    citizen_client, url, booked, social_security, frozen_now
) -> None:
    # Given the manage page
    assert citizen_client.get(url).status_code == 200
    # When the citizen gives reference and phone (any spelling of the phone)
    found = citizen_client.post(url, {"reference": booked.reference.lower(), "phone": "138-0013-8000"})
    page = found.content.decode()
    # Then the booking shows with the change form and its deadline
    assert found.status_code == 200
    assert booked.reference in page
    assert "2025-03-04 09:00–09:30" in page
    assert "改约须在原时段开始前 30 分钟（2025-03-04 08:30 前）办理" in page
    # When they ask for Tuesday's slots
    listed = post(citizen_client, url, booked, "slots", day=TUESDAY.isoformat()).content.decode()
    assert "原预约时段" in listed
    assert 'name="slot" value="10:00"' in listed
    # And move the booking to 10:00
    moved = post(citizen_client, url, booked, "change", day=TUESDAY.isoformat(), slot="10:00")
    # Then it is moved, the old slot freed and the new one counted, and the change audited
    assert moved.status_code == 200
    assert "已改约到 2025-03-04 10:00–10:30。" in moved.content.decode()
    assert booking_state(booked)[:4] == (AppointmentStatus.BOOKED, TUESDAY, dt.time(10), dt.time(10, 30))
    assert Appointment.objects.get(pk=booked.pk).changed_at is not None
    assert slots(social_security, TUESDAY) == {"09:00": 0, "10:00": 1}
    record = AuditRecord.objects.get(action="queueing.appointment_changed")
    assert (record.before["slot_start"], record.after["slot_start"]) == ("09:00", "10:00")
    assert booked.reference not in record.object_label
    # When they cancel it
    cancelled = post(citizen_client, url, booked, "cancel")
    # Then it is cancelled and the slot free again
    assert cancelled.status_code == 200
    assert "预约已取消。" in cancelled.content.decode()
    assert booking_state(booked)[0] == AppointmentStatus.CANCELLED
    assert slots(social_security, TUESDAY)["10:00"] == 0
    assert AuditRecord.objects.filter(action="queueing.appointment_cancelled").count() == 1
    # And a cancelled booking can be neither moved nor cancelled again
    again = post(citizen_client, url, booked, "change", day=TUESDAY.isoformat(), slot="11:00")
    assert again.status_code == 409
    assert "预约当前状态为“已取消”，不能再操作。" in again.content.decode()


def test_a_full_slot_is_refused_and_nothing_changes(
    citizen_client, url, booked, social_security, frozen_now
) -> None:
    for number in range(3):
        actions.book_appointment(social_security, TUESDAY, dt.time(11), f"1390013900{number}", now=at(9))
    before = everything(social_security)
    listed = post(citizen_client, url, booked, "slots", day=TUESDAY.isoformat()).content.decode()
    assert 'value="11:00" disabled' in listed
    response = post(citizen_client, url, booked, "change", day=TUESDAY.isoformat(), slot="11:00")
    assert response.status_code == 409
    body = response.content.decode()
    assert "该时段已约满，请选择其他时段。" in body
    # The booking and the change form stay on the page, so another slot can be chosen
    assert "2025-03-04 09:00–09:30" in body
    assert 'value="change"' in body
    assert everything(social_security) == before


@pytest.fixture
def before_national_day() -> Iterator[dt.datetime]:
    """Monday 29 September 2025, 10:00: Wednesday 1 October is a statutory holiday."""
    moment = dt.datetime(2025, 9, 29, 10, 0, tzinfo=SHANGHAI)
    with mock.patch("django.utils.timezone.now", return_value=moment.astimezone(dt.UTC)):
        yield moment


def test_a_holiday_is_refused_and_nothing_changes(
    citizen_client, url, social_security, before_national_day
) -> None:
    appointment = actions.book_appointment(
        social_security, dt.date(2025, 9, 30), dt.time(9), PHONE, now=before_national_day
    )
    before = everything(social_security)
    listed = post(citizen_client, url, appointment, "slots", day="2025-10-01").content.decode()
    assert "该日是法定节假日，不办公。" in listed
    response = post(citizen_client, url, appointment, "change", day="2025-10-01", slot="09:00")
    assert response.status_code == 400
    assert "2025-10-01 是法定节假日，不办公，请选择其他工作日。" in response.content.decode()
    assert everything(social_security) == before
    # A weekend without opening hours has no slot either
    weekend = post(citizen_client, url, appointment, "change", day="2025-10-12", slot="09:00")
    assert weekend.status_code == 400
    assert everything(social_security) == before


@pytest.mark.parametrize("operation", ["find", "slots", "change", "cancel"])
def test_a_wrong_phone_is_refused_without_revealing_the_booking(
    citizen_client, url, booked, social_security, frozen_now, operation
) -> None:
    before = everything(social_security)
    response = post(
        citizen_client, url, booked, operation, phone="13900139000", day=TUESDAY.isoformat(), slot="10:00"
    )
    body = response.content.decode()
    assert response.status_code == 404
    assert "未找到该预约，请核对预约码和手机号。" in body
    for secret in (booked.reference, "社保业务", "2025-03-04", "09:00", "138****8000", PHONE):
        assert secret not in body
    # The same answer as for a reference that does not exist
    unknown = citizen_client.post(url, {"reference": "ZZZZZZZZ", "phone": PHONE, "operation": operation})
    assert unknown.status_code == 404
    assert "未找到该预约，请核对预约码和手机号。" in unknown.content.decode()
    assert everything(social_security) == before


def test_a_booking_of_another_site_is_not_found_here(
    citizen_client, booked, other_town_site, social_security, frozen_now
) -> None:
    other_url = reverse("queueing:booking_manage", args=[other_town_site.code])
    before = everything(social_security)
    response = post(citizen_client, other_url, booked, "change", day=TUESDAY.isoformat(), slot="10:00")
    assert response.status_code == 404
    assert booked.reference not in response.content.decode()
    assert everything(social_security) == before


def test_the_change_deadline_refuses_late_changes_but_cancelling_stays_open(
    citizen_client, url, social_security, frozen_now, settings
) -> None:
    # A booking for 10:30 today; it is 10:00, inside the 45 minutes before the slot
    settings.SERVICEHALL_APPOINTMENT_CHANGE_MINUTES = 45
    soon = actions.book_appointment(social_security, MONDAY, dt.time(10, 30), PHONE, now=at(9))
    before = everything(social_security)
    page = post(citizen_client, url, soon, "find").content.decode()
    assert "已过改约截止时间（2025-03-03 09:45）；如不能前来，请取消预约。" in page
    assert 'value="change"' not in page
    response = post(citizen_client, url, soon, "change", day=TUESDAY.isoformat(), slot="10:00")
    assert response.status_code == 400
    assert "原预约时段开始前 45 分钟内不能再改约；如不能前来，请取消预约。" in response.content.decode()
    assert everything(social_security) == before
    assert post(citizen_client, url, soon, "cancel").status_code == 200
    assert booking_state(soon)[0] == AppointmentStatus.CANCELLED


def test_the_default_deadline_is_30_minutes_inclusive(
    citizen_client, url, social_security, frozen_now
) -> None:
    # 10:00 is exactly 30 minutes before a 10:30 slot: still allowed; a minute later it is not
    soon = actions.book_appointment(social_security, MONDAY, dt.time(10, 30), PHONE, now=at(9))
    response = post(citizen_client, url, soon, "change", day=TUESDAY.isoformat(), slot="10:00")
    assert response.status_code == 200
    assert booking_state(soon)[1:3] == (TUESDAY, dt.time(10))
    later = actions.book_appointment(social_security, MONDAY, dt.time(10, 30), "13900139000", now=at(9))
    with pytest.raises(actions.ActionRefused) as refusal:
        actions.change_appointment(later, TUESDAY, dt.time(11), now=at(10, 1))
    assert refusal.value.code == "change_too_late"


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        (
            {"day": (MONDAY + dt.timedelta(days=8)).isoformat(), "slot": "10:00"},
            400,
            "只能改约到今天起 7 天内的日期。",
        ),
        ({"day": TUESDAY.isoformat(), "slot": "09:00"}, 400, "所选时段与原预约相同。"),
        (
            {"day": TUESDAY.isoformat(), "slot": "09:10"},
            400,
            "所选时段不可预约（可能是节假日或不在办公时间）。",
        ),
        ({"day": MONDAY.isoformat(), "slot": "09:30"}, 400, "该时段已开始，请选择之后的时段。"),
        ({"day": TUESDAY.isoformat(), "slot": "25:99"}, 400, "请选择时段。"),
        ({"day": TUESDAY.isoformat(), "slot": ""}, 400, "请选择时段。"),
        ({"day": "2025-02-30", "slot": "10:00"}, 400, "请选择日期。"),
        ({"day": "'; DROP TABLE--", "slot": "10:00"}, 400, "请选择日期。"),
    ],
)
def test_bad_changes_get_a_clear_message_and_change_nothing(
    citizen_client, url, booked, social_security, frozen_now, fields, status, message
) -> None:
    before = everything(social_security)
    response = post(citizen_client, url, booked, "change", **fields)
    assert response.status_code == status
    assert message in response.content.decode()
    assert everything(social_security) == before


def test_an_unknown_operation_is_refused(citizen_client, url, booked, social_security, frozen_now) -> None:
    before = everything(social_security)
    response = post(citizen_client, url, booked, "delete")
    assert response.status_code == 400
    assert "未知操作。" in response.content.decode()
    assert everything(social_security) == before


def test_two_bookings_swapping_slots_both_succeed(social_security) -> None:
    first = actions.book_appointment(social_security, TUESDAY, dt.time(9), PHONE, now=at(9))
    second = actions.book_appointment(social_security, TUESDAY, dt.time(10), "13900139000", now=at(9))
    actions.change_appointment(first, TUESDAY, dt.time(10), now=at(9, 5))
    actions.change_appointment(second, TUESDAY, dt.time(9), now=at(9, 6))
    assert slots(social_security, TUESDAY) == {"09:00": 1, "10:00": 1}


def _access_key(page: str) -> str:
    match = re.search(r'name="access" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def test_the_page_carries_a_signed_key_and_never_the_phone_number(
    citizen_client, url, booked, social_security, frozen_now
) -> None:
    # Given the citizen has found the booking
    found = citizen_client.post(url, {"reference": booked.reference, "phone": PHONE}).content.decode()
    # Then the page shows the masked phone only and its forms carry the key
    assert PHONE not in found
    assert "138****8000" in found
    access = _access_key(found)
    # When they ask for slots and move the booking with the key alone
    listed = citizen_client.post(url, {"access": access, "operation": "slots", "day": TUESDAY.isoformat()})
    assert 'name="slot" value="10:00"' in listed.content.decode()
    moved = citizen_client.post(
        url, {"access": access, "operation": "change", "day": TUESDAY.isoformat(), "slot": "10:00"}
    )
    # Then the booking is moved
    assert "已改约到 2025-03-04 10:00–10:30。" in moved.content.decode()
    assert booking_state(booked)[2] == dt.time(10)


@pytest.mark.parametrize("access", ["forged", "1:abc:def", ""])
def test_a_forged_key_finds_nothing_and_changes_nothing(
    citizen_client, url, booked, social_security, frozen_now, access
) -> None:
    before = booking_state(booked)
    response = citizen_client.post(url, {"access": access, "operation": "cancel"})
    assert response.status_code == 404
    assert booking_state(booked) == before


def test_an_expired_key_asks_to_look_the_booking_up_again(
    citizen_client, url, booked, social_security, frozen_now
) -> None:
    access = _access_key(
        citizen_client.post(url, {"reference": booked.reference, "phone": PHONE}).content.decode()
    )
    later = time.time() + 31 * 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = citizen_client.post(url, {"access": access, "operation": "cancel"})
    assert response.status_code == 404
    assert "页面已过期，请重新输入预约码和手机号查询。" in response.content.decode()
    assert booking_state(booked)[0] == AppointmentStatus.BOOKED
