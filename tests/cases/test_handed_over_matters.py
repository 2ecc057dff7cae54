"""替岗: during a colleague's approved leave, the named substitute sees the colleague's open matters
(seed 000 AB岗工作制度 2 and 4; issue 6 "The substitute sees the handed-over open cases and inquiries")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from servicehall.cases import actions
from servicehall.duty.models import HandoverItem, Leave, LeaveKind, LeaveStatus
from tests.cases.conftest import person

pytestmark = pytest.mark.django_db


def approved_leave(staff: Any, substitute: Any, first: dt.date, last: dt.date, **fields: Any) -> Leave:
    leave = Leave.objects.create(
        site_id=staff.site_id,
        staff=staff,
        starts_on=first,
        ends_on=last,
        kind=LeaveKind.PERSONAL,
        reason="家中有事",
        status=fields.get("status", LeaveStatus.APPROVED),
        substitute=substitute,
        handover_note="张三丰的营业执照变更等材料，周三来补",
    )
    HandoverItem.objects.create(site_id=staff.site_id, leave=leave, position=1, description="回电张三丰")
    return leave


def inquiry_of(staff: Any) -> Any:
    return actions.record_inquiry(
        staff,
        actions.InquiryData(
            channel="phone", asker_name="李咨询", question="社保转移要带什么？", answer="身份证"
        ),
    )


def test_the_substitute_sees_the_colleagues_open_matters_during_the_leave(
    client_for: Any, clerk: Any, second_clerk: Any, committed_item: Any, at: Any
) -> None:
    # Given the clerk owns an open case and an open inquiry, and is on leave today with second_clerk named
    with at("2026-03-04"):
        case = actions.open_case(clerk, committed_item, person())
        inquiry = inquiry_of(clerk)
        approved_leave(clerk, second_clerk, dt.date(2026, 3, 4), dt.date(2026, 3, 6))
        # When the substitute opens their work list
        html = client_for(second_clerk).get("/cases/my/").content.decode()
    # Then the colleague's matters are there, with the handover note and items
    assert "替岗代办：李受理 请假期间（03-04 至 03-06）移交的事项" in html
    assert "张三丰的营业执照变更等材料，周三来补" in html
    assert "<li>回电张三丰</li>" in html
    assert f'href="/cases/{case.pk}/"' in html
    assert f'href="/cases/inquiries/{inquiry.pk}/"' in html


def test_before_and_after_the_leave_nothing_is_handed_over(
    client_for: Any, clerk: Any, second_clerk: Any, committed_item: Any, at: Any
) -> None:
    with at("2026-03-03"):
        actions.open_case(clerk, committed_item, person())
        approved_leave(clerk, second_clerk, dt.date(2026, 3, 4), dt.date(2026, 3, 6))
        assert "替岗代办" not in client_for(second_clerk).get("/cases/my/").content.decode()
    with at("2026-03-09"):
        assert "替岗代办" not in client_for(second_clerk).get("/cases/my/").content.decode()


def test_a_leave_not_yet_approved_hands_over_nothing(
    client_for: Any, clerk: Any, second_clerk: Any, committed_item: Any, at: Any
) -> None:
    with at("2026-03-04"):
        actions.open_case(clerk, committed_item, person())
        approved_leave(
            clerk, second_clerk, dt.date(2026, 3, 4), dt.date(2026, 3, 4), status=LeaveStatus.REQUESTED
        )
        assert "替岗代办" not in client_for(second_clerk).get("/cases/my/").content.decode()


def test_colleagues_who_are_not_the_substitute_see_nothing(
    client_for: Any, clerk: Any, second_clerk: Any, supervisor: Any, committed_item: Any, at: Any
) -> None:
    with at("2026-03-04"):
        actions.open_case(clerk, committed_item, person())
        approved_leave(clerk, second_clerk, dt.date(2026, 3, 4), dt.date(2026, 3, 4))
        assert "替岗代办" not in client_for(supervisor).get("/cases/my/").content.decode()
