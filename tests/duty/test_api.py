"""The duty API: the clock-in terminal, coverage as JSON, leave asked and decided; refusals as {code, detail}."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from servicehall.duty.models import CheckIn, CheckInSource, Leave, LeaveStatus
from tests.duty.conftest import MONDAY, at, leave_for

pytestmark = pytest.mark.django_db


def post_json(client, url, payload):
    return client.post(url, data=json.dumps(payload), content_type="application/json")


def test_the_terminal_checks_in_the_logged_in_staff_member(world, client_for, clock) -> None:
    clock.set(at(MONDAY, 8, 57))
    response = post_json(client_for(world.a_three), "/api/duty/check-ins", {"slot": "morning_in"})
    assert response.status_code == 201
    body = response.json()
    assert (body["staff_id"], body["slot"], body["status"], body["source"]) == (
        world.a_three.pk,
        "morning_in",
        "late",
        CheckInSource.TERMINAL,
    )
    again = post_json(client_for(world.a_three), "/api/duty/check-ins", {"slot": "morning_in"})
    assert again.status_code == 409
    assert again.json() == {"code": "already_checked_in", "detail": "您已打过“上午上班”卡（08:57）。"}
    bad = post_json(client_for(world.a_three), "/api/duty/check-ins", {"slot": "lunch"})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_slot")
    assert CheckIn.objects.count() == 1


def test_coverage_as_json(world, client_for, clock) -> None:
    leave_for(world.a_three, dt.date(2026, 3, 4))
    leave_for(world.b_three, dt.date(2026, 3, 4))
    response = client_for(world.supervisor).get(
        f"/api/duty/coverage?site_id={world.site.pk}&start=2026-03-02&days=7"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["site_id"], body["start"], body["days"]) == (world.site.pk, "2026-03-02", 7)
    gap = next(cell for cell in body["cells"] if cell["gap"] and cell["post_id"] == world.post_three.pk)
    assert gap == {
        "day": "2026-03-04",
        "period": "morning",
        "starts_at": "09:00:00",
        "ends_at": "12:00:00",
        "post_id": world.post_three.pk,
        "post": "3号窗口受理岗",
        "staff_ids": [],
        "staff": [],
        "basis": "gap",
        "gap": True,
        "gap_reason": "all_absent",
        "description": "空岗：A角与B角均不在岗；张一请假、李二请假",
    }
    held = next(cell for cell in body["cells"] if cell["post_id"] == world.post_four.pk)
    assert (held["staff"], held["basis"]) == (["王三"], "a")


def test_coverage_days_are_bounded(world, client_for) -> None:
    response = client_for(world.supervisor).get(f"/api/duty/coverage?site_id={world.site.pk}&days=400")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_days"


def test_leave_asked_and_approved_through_the_api(world, client_for, clock) -> None:
    response = post_json(
        client_for(world.a_three),
        "/api/duty/leaves",
        {
            "starts_on": "2026-03-04",
            "ends_on": "2026-03-04",
            "kind": "annual",
            "reason": "年休假",
            "substitute_id": world.b_three.pk,
            "handover_note": "在办事项已交接",
            "handover_items": ["王某退休审批"],
        },
    )
    assert response.status_code == 201
    leave_id = response.json()["id"]
    approved = post_json(
        client_for(world.supervisor), f"/api/duty/leaves/{leave_id}/approve", {"note": "同意"}
    )
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["approved_by_id"]) == ("approved", world.supervisor.pk)
    again = post_json(client_for(world.supervisor), f"/api/duty/leaves/{leave_id}/reject", {"reason": "重复"})
    assert again.status_code == 409
    assert again.json()["detail"] == "该请假当前为“已批准”，不能改为“已驳回”。"


def test_bad_leave_input_through_the_api_changes_nothing(
    world, other_site_clerk, client_for, clock, unchanged
) -> None:
    check = unchanged()
    client = client_for(world.a_three)
    backwards = post_json(
        client,
        "/api/duty/leaves",
        {
            "starts_on": "2026-03-05",
            "ends_on": "2026-03-04",
            "kind": "personal",
            "reason": "x",
            "substitute_id": world.b_three.pk,
            "handover_note": "x",
        },
    )
    assert backwards.status_code == 400
    assert backwards.json() == {
        "code": "dates_out_of_order",
        "detail": "结束日期（2026-03-04）不能早于开始日期（2026-03-05）。",
        "field": "ends_on",
    }
    foreign = post_json(
        client,
        "/api/duty/leaves",
        {
            "starts_on": "2026-03-04",
            "ends_on": "2026-03-04",
            "kind": "personal",
            "reason": "x",
            "substitute_id": other_site_clerk.pk,
            "handover_note": "x",
        },
    )
    assert (foreign.status_code, foreign.json()["code"]) == (400, "substitute_other_site")
    malformed = post_json(client, "/api/duty/leaves", {"starts_on": "昨天"})
    assert (malformed.status_code, malformed.json()["code"]) == (400, "invalid_input")
    check()
    assert Leave.objects.filter(status=LeaveStatus.REQUESTED).count() == 0
