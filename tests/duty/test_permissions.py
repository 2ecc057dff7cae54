"""Every persona against every duty page and endpoint: the exact status, and for refusals no change.

Supervisors (窗口负责人, town) and the centre administrator (city, whose scope includes the town) manage
duty; only the centre administrator manages training; every staff member checks in, asks for leave and
sees whom they stand in for; a member of the public reaches nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client

from servicehall.accounts.roles import Role
from servicehall.duty.models import AssignmentRole, CheckInSlot, LeaveStatus, PeriodKind, TrainingSession
from servicehall.sites.models import PostKind
from tests.conftest import make_staff
from tests.duty.conftest import (
    MONDAY,
    at,
    audit_actions_after,
    duty_rows,
    give_role,
    last_audit_id,
    leave_for,
    qualify,
)

pytestmark = pytest.mark.django_db

PERSONAS = [
    "citizen",
    "clerk",
    "other_site_clerk",
    "supervisor",
    "centre_administrator",
    "system_administrator",
    "security_administrator",
    "audit_administrator",
]
STAFF = set(PERSONAS) - {"citizen"}
MANAGERS = {"supervisor", "centre_administrator"}
TRAINERS = {"centre_administrator"}
AT_THE_TOWN = {"clerk", "supervisor"}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    url: Callable[[Any], str]
    allowed: frozenset[str]
    payload: Callable[[Any], Any] = lambda world: None
    success: int = 200
    audit_action: str = ""
    # Personas that pass the capability check but whose request the rules refuse (no change)
    refused: dict[str, int] = field(default_factory=dict)

    @property
    def is_api(self) -> bool:
        return self.name.startswith("api")


def _town(world: Any) -> str:
    return f"?site={world.site.pk}"


READS = [
    Endpoint("coverage board", "get", lambda w: f"/duty/board/{_town(w)}", frozenset(MANAGERS)),
    Endpoint("posts", "get", lambda w: f"/duty/posts/{_town(w)}", frozenset(MANAGERS)),
    Endpoint("post editor", "get", lambda w: f"/duty/posts/{w.post_three.pk}/", frozenset(MANAGERS)),
    Endpoint("roster", "get", lambda w: f"/duty/roster/{_town(w)}", frozenset(MANAGERS)),
    Endpoint("leave queue", "get", lambda w: f"/duty/leave/queue/{_town(w)}", frozenset(MANAGERS)),
    Endpoint(
        "emergency leave form", "get", lambda w: f"/duty/leave/emergency/{_town(w)}", frozenset(MANAGERS)
    ),
    Endpoint("attendance board", "get", lambda w: f"/duty/attendance/{_town(w)}", frozenset(MANAGERS)),
    Endpoint("my check-ins", "get", lambda w: "/duty/check-in/", frozenset(STAFF)),
    Endpoint("my leave", "get", lambda w: "/duty/leave/", frozenset(STAFF)),
    Endpoint(
        "substitute candidates",
        "get",
        lambda w: "/duty/leave/candidates/?starts_on=2026-03-04&ends_on=2026-03-04",
        frozenset(STAFF),
    ),
    Endpoint("substitution", "get", lambda w: "/duty/substitution/", frozenset(STAFF)),
    Endpoint("training", "get", lambda w: f"/duty/training/{_town(w)}", frozenset(TRAINERS)),
    Endpoint("training detail", "get", lambda w: f"/duty/training/{w.session.pk}/", frozenset(TRAINERS)),
    Endpoint("qualifications", "get", lambda w: f"/duty/qualifications/{_town(w)}", frozenset(TRAINERS)),
]

WRITES = [
    Endpoint(
        "create post",
        "post",
        lambda w: f"/duty/posts/{_town(w)}",
        frozenset(MANAGERS),
        lambda w: {"site": w.site.pk, "name": "导办台", "kind": PostKind.GUIDE, "is_active": "on"},
        302,
        "duty.post_created",
    ),
    Endpoint(
        "update post",
        "post",
        lambda w: f"/duty/posts/{w.post_three.pk}/",
        frozenset(MANAGERS),
        lambda w: {
            "name": "3号窗口综合受理岗",
            "kind": PostKind.RECEPTION,
            "window": w.window_three.pk,
            "is_active": "on",
        },
        302,
        "duty.post_updated",
    ),
    Endpoint(
        "assign B role",
        "post",
        lambda w: f"/duty/posts/{w.post_four.pk}/assign/",
        frozenset(MANAGERS),
        lambda w: {"staff": w.spare.pk, "role": AssignmentRole.B, "valid_from": "2026-03-02"},
        302,
        "duty.assignment_created",
    ),
    Endpoint(
        "end B role",
        "post",
        lambda w: f"/duty/assignments/{w.spare_b_role.pk}/end/",
        frozenset(MANAGERS),
        lambda w: {"last_day": "2026-03-31"},
        302,
        "duty.assignment_ended",
    ),
    Endpoint(
        "add roster pattern",
        "post",
        lambda w: f"/duty/roster/{_town(w)}",
        frozenset(MANAGERS),
        lambda w: {
            "site": w.site.pk,
            "form": "pattern",
            "post": w.post_three.pk,
            "staff": w.b_three.pk,
            "weekday": 1,
            "period": PeriodKind.LUNCH,
            "valid_from": "2026-03-02",
        },
        302,
        "duty.roster_pattern_created",
    ),
    Endpoint(
        "approve leave",
        "post",
        lambda w: f"/duty/leave/{w.pending.pk}/approve/",
        frozenset(MANAGERS),
        lambda w: {"substitute": w.spare.pk},
        302,
        "duty.leave_approved",
    ),
    Endpoint(
        "reject leave",
        "post",
        lambda w: f"/duty/leave/{w.pending.pk}/reject/",
        frozenset(MANAGERS),
        lambda w: {"reason": "人手不足"},
        302,
        "duty.leave_rejected",
    ),
    Endpoint(
        "record emergency leave",
        "post",
        lambda w: f"/duty/leave/emergency/{_town(w)}",
        frozenset(MANAGERS),
        lambda w: {
            "site": w.site.pk,
            "staff": w.a_four.pk,
            "starts_on": "2026-03-02",
            "ends_on": "2026-03-02",
            "reason": "突发急病",
        },
        302,
        "duty.emergency_leave_recorded",
    ),
    Endpoint(
        "correct check-in",
        "post",
        lambda w: f"/duty/attendance/{_town(w)}",
        frozenset(MANAGERS),
        lambda w: {
            "site": w.site.pk,
            "date": "2026-03-02",
            "staff": w.a_three.pk,
            "slot": CheckInSlot.MORNING_IN,
            "time": "08:40",
            "reason": "考勤机故障",
        },
        302,
        "duty.check_in_corrected",
    ),
    Endpoint(
        "check in",
        "post",
        lambda w: "/duty/check-in/",
        frozenset(STAFF),
        lambda w: {"slot": CheckInSlot.MORNING_IN},
        302,
        "duty.checked_in",
        # Their own sites are not open in this world: told so on the page, nothing recorded
        refused=dict.fromkeys(STAFF - AT_THE_TOWN, 302),
    ),
    Endpoint(
        "request leave",
        "post",
        lambda w: "/duty/leave/",
        frozenset(STAFF),
        lambda w: {
            "starts_on": "2026-03-04",
            "ends_on": "2026-03-04",
            "kind": "personal",
            "reason": "家中有事",
            "substitute": w.spare.pk,
            "handover_note": "已交接",
        },
        302,
        "duty.leave_requested",
        # 钱六 is not their colleague: the form refuses the substitute
        refused=dict.fromkeys(STAFF - AT_THE_TOWN, 400),
    ),
    Endpoint(
        "start away",
        "post",
        lambda w: "/duty/away/",
        frozenset(STAFF),
        lambda w: {"action": "start", "whereabouts": "档案室"},
        302,
        "duty.away_started",
    ),
    Endpoint(
        "create training",
        "post",
        lambda w: f"/duty/training/{_town(w)}",
        frozenset(TRAINERS),
        lambda w: {
            "site": w.site.pk,
            "date": "2026-03-01",
            "topic": "岗前培训",
            "post_kinds": [PostKind.GUIDE],
            "validity_days": 365,
        },
        302,
        "duty.training_session_created",
    ),
    Endpoint(
        "record training result",
        "post",
        lambda w: f"/duty/training/{w.session.pk}/",
        frozenset(TRAINERS),
        lambda w: {"staff": w.b_four.pk, "passed": "1"},
        302,
        "duty.training_result_recorded",
    ),
    Endpoint(
        "enter qualification",
        "post",
        lambda w: f"/duty/qualifications/{_town(w)}",
        frozenset(TRAINERS),
        lambda w: {
            "site": w.site.pk,
            "staff": w.b_four.pk,
            "post_kind": PostKind.GUIDE,
            "valid_from": "2026-03-01",
            "valid_until": "2027-02-28",
            "note": "证书 2026-001",
        },
        302,
        "duty.qualification_entered",
    ),
]

API = [
    Endpoint(
        "api check in",
        "post",
        lambda w: "/api/duty/check-ins",
        frozenset(STAFF),
        lambda w: {"slot": CheckInSlot.MORNING_IN},
        201,
        "duty.checked_in",
        refused=dict.fromkeys(STAFF - AT_THE_TOWN, 400),
    ),
    Endpoint(
        "api coverage",
        "get",
        lambda w: f"/api/duty/coverage?site_id={w.site.pk}&start=2026-03-02&days=28",
        frozenset(MANAGERS),
    ),
    Endpoint(
        "api request leave",
        "post",
        lambda w: "/api/duty/leaves",
        frozenset(STAFF),
        lambda w: {
            "starts_on": "2026-03-04",
            "ends_on": "2026-03-04",
            "kind": "personal",
            "reason": "家中有事",
            "substitute_id": w.spare.pk,
            "handover_note": "已交接",
        },
        201,
        "duty.leave_requested",
        refused=dict.fromkeys(STAFF - AT_THE_TOWN, 400),
    ),
    Endpoint(
        "api approve leave",
        "post",
        lambda w: f"/api/duty/leaves/{w.pending.pk}/approve",
        frozenset(MANAGERS),
        lambda w: {"substitute_id": w.spare.pk, "note": "同意"},
        200,
        "duty.leave_approved",
    ),
    Endpoint(
        "api reject leave",
        "post",
        lambda w: f"/api/duty/leaves/{w.pending.pk}/reject",
        frozenset(MANAGERS),
        lambda w: {"reason": "人手不足"},
        200,
        "duty.leave_rejected",
    ),
]


@pytest.fixture
def matrix_world(
    world,
    clock,
    clerk,
    other_site_clerk,
    centre_administrator,
    system_administrator,
    security_administrator,
    audit_administrator,
):
    """The duty world at Monday 08:45, with a free qualified 钱六, a pending leave and a training session."""
    clock.set(at(MONDAY, 8, 45))
    world.spare = make_staff(world.site, Role.WINDOW_CLERK, username="qian.liu", full_name="钱六")
    qualify(world.spare)
    world.spare_b_role = give_role(world.post_three, world.spare, AssignmentRole.B)
    world.pending = leave_for(
        world.a_three, dt.date(2026, 3, 4), substitute=world.spare, status=LeaveStatus.REQUESTED
    )
    world.session = TrainingSession.objects.create(
        site=world.site, date=dt.date(2026, 3, 1), topic="岗前培训", post_kinds=[PostKind.GUIDE]
    )
    return world


def client_of(persona: str, request: pytest.FixtureRequest, client_for: Any) -> Client:
    if persona == "citizen":
        return request.getfixturevalue("citizen_client")
    return client_for(request.getfixturevalue(persona))


def send(client: Client, endpoint: Endpoint, world: Any) -> Any:
    url = endpoint.url(world)
    if endpoint.method == "get":
        return client.get(url)
    payload = endpoint.payload(world)
    if endpoint.is_api:
        return client.post(url, data=json.dumps(payload), content_type="application/json")
    return client.post(url, payload)


def expected_status(persona: str, endpoint: Endpoint) -> int:
    if persona == "citizen":
        return 401 if endpoint.is_api else 302
    if persona not in endpoint.allowed:
        return 403
    return endpoint.refused.get(persona, endpoint.success)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", READS + WRITES + API, ids=lambda endpoint: endpoint.name)
def test_permission_matrix(persona, endpoint, matrix_world, request, client_for) -> None:
    # Given the persona's client and a picture of every duty row
    client = client_of(persona, request, client_for)
    before = duty_rows()
    last = last_audit_id()
    # When they use the endpoint
    response = send(client, endpoint, matrix_world)
    # Then the status is exactly as the matrix says
    status = expected_status(persona, endpoint)
    assert response.status_code == status, response.content.decode()[:400]
    if persona == "citizen" and not endpoint.is_api:
        assert response["Location"].startswith("/accounts/login/")
    changes_allowed = (
        persona in endpoint.allowed and persona not in endpoint.refused and endpoint.method != "get"
    )
    if not changes_allowed:
        # And a refusal or a read changed nothing; staff refused for want of a capability are audited
        assert duty_rows() == before
        expected_audit = ["access.denied"] if status == 403 else []
        assert audit_actions_after(last) == expected_audit
    else:
        # And a permitted write is recorded once, under its own action code
        assert duty_rows() != before
        assert audit_actions_after(last) == [endpoint.audit_action]


@pytest.mark.parametrize(
    "url",
    [
        lambda w: f"/duty/posts/{w.post_three.pk}/",
        lambda w: f"/duty/board/?site={w.site.pk}",
        lambda w: f"/api/duty/coverage?site_id={w.site.pk}",
    ],
    ids=["post editor", "board", "api coverage"],
)
def test_a_supervisor_of_another_site_finds_nothing(url, matrix_world, other_town_site, client_for) -> None:
    outsider = make_staff(other_town_site, Role.WINDOW_SUPERVISOR, username="outsider")
    last = last_audit_id()
    response = client_for(outsider).get(url(matrix_world))
    assert response.status_code == 404
    assert audit_actions_after(last) == ["access.denied"]


def test_a_supervisor_of_another_site_cannot_approve(matrix_world, other_town_site, client_for) -> None:
    outsider = make_staff(other_town_site, Role.WINDOW_SUPERVISOR, username="outsider")
    before = duty_rows()
    response = client_for(outsider).post(
        f"/api/duty/leaves/{matrix_world.pending.pk}/approve", data="{}", content_type="application/json"
    )
    assert response.status_code == 404
    assert duty_rows() == before
