"""The cases API: a permission matrix (personas × endpoints), the lifecycle through JSON, and 409 on lost updates."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from servicehall.audit.models import AuditRecord
from servicehall.cases import actions
from servicehall.cases.models import ApprovalTask, Case, CaseEvent, Inquiry
from tests.cases.conftest import APPLICANT_PHONE, all_received, fresh, person

PERSONAS = [
    "clerk",
    "other_site_clerk",
    "supervisor",
    "approver",
    "centre_administrator",
    "system_administrator",
    "security_administrator",
    "audit_administrator",
    "anonymous",
]


def call(client: Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    if method == "get":
        return client.get(path)
    return client.post(path, data=json.dumps(body or {}), content_type="application/json")


def state() -> tuple[Any, ...]:
    return (
        list(Case.objects.order_by("pk").values_list("pk", "state", "version", "is_green_channel")),
        Inquiry.objects.count(),
        CaseEvent.objects.count(),
        AuditRecord.objects.exclude(action="access.denied").count(),
    )


@pytest.fixture
def persona_client(request, client_for) -> Any:
    def make(name: str) -> Any:
        if name == "anonymous":
            return Client()
        return client_for(request.getfixturevalue(name))

    return make


@pytest.fixture
def draft_case(clerk, committed_item):
    return actions.open_case(clerk, committed_item, person())


def applicant_body(item) -> dict[str, Any]:
    return {
        "item_id": item.pk,
        "applicant": {
            "kind": "person",
            "name": "张三丰",
            "id_number": person().id_number,
            "phone": APPLICANT_PHONE,
        },
    }


# endpoint: (method, path, body builder, statuses per persona, whether it changes something)
MATRIX: dict[str, tuple[str, str, Any, list[int]]] = {
    "list": ("get", "/api/cases", None, [200, 200, 200, 200, 200, 403, 403, 403, 401]),
    "detail": ("get", "/api/cases/{case}", None, [200, 404, 200, 200, 200, 403, 403, 403, 401]),
    "open": ("post", "/api/cases", "applicant", [201, 201, 201, 403, 403, 403, 403, 403, 401]),
    "accept": ("post", "/api/cases/{case}/accept", "accept", [200, 404, 200, 403, 403, 403, 403, 403, 401]),
    "green": (
        "post",
        "/api/cases/{case}/green-channel",
        "green",
        [403, 404, 200, 403, 200, 403, 403, 403, 401],
    ),
    "inquiry": ("post", "/api/cases/inquiries", "inquiry", [201, 201, 201, 201, 201, 201, 201, 201, 401]),
    "matters": ("get", "/api/cases/my-matters", None, [200, 200, 200, 200, 200, 200, 200, 200, 401]),
    "tasks": ("get", "/api/cases/tasks/pending", None, [403, 403, 200, 200, 403, 403, 403, 403, 401]),
    "board": ("get", "/api/cases/supervision/board", None, [403, 403, 200, 403, 200, 403, 403, 403, 401]),
    "figures": ("get", "/api/cases/figures", None, [403, 403, 200, 403, 200, 403, 403, 403, 401]),
}


def body_for(kind: str | None, case: Case, item) -> dict[str, Any] | None:
    if kind == "applicant":
        return applicant_body(item)
    if kind == "accept":
        return {
            "version": 1,
            "materials": [
                {"check_id": check.pk, "status": "received"} for check in case.material_checks.all()
            ],
        }
    if kind == "green":
        return {"version": 1, "reason": "特事特办"}
    if kind == "inquiry":
        return {"channel": "phone", "asker_name": "欧阳娜娜", "question": "怎么办？"}
    return None


@pytest.mark.parametrize("endpoint", list(MATRIX))
@pytest.mark.parametrize("index", range(len(PERSONAS)), ids=PERSONAS)
def test_api_permission_matrix(endpoint, index, persona_client, draft_case, committed_item, approver) -> None:
    method, path, body_kind, statuses = MATRIX[endpoint]
    before = state()
    response = call(
        persona_client(PERSONAS[index]),
        method,
        path.format(case=draft_case.pk),
        body_for(body_kind, draft_case, committed_item),
    )
    assert response.status_code == statuses[index], response.content
    if response.status_code >= 400:
        # Refused: nothing changed; at most an access.denied record
        assert state() == before
        assert set(response.json()) >= {"code", "detail"}


def test_the_lifecycle_through_the_api(client_for, clerk, approver, committed_item, department, at) -> None:
    client = client_for(clerk)
    with at("2025-09-25"):
        created = call(client, "post", "/api/cases", applicant_body(committed_item)).json()
        assert (created["state"], created["version"], created["applicant_phone_masked"]) == (
            "draft",
            1,
            "138****5678",
        )
        assert "13812345678" not in json.dumps(created)
        case_id = created["id"]
        materials = [{"check_id": check["id"], "status": "received"} for check in created["materials"]]
        accepted = call(
            client, "post", f"/api/cases/{case_id}/accept", {"version": 1, "materials": materials}
        ).json()
        assert (accepted["state"], accepted["committed_due"], accepted["colour"]) == (
            "accepted",
            "2025-10-09",
            "green",
        )
        approval = call(
            client,
            "post",
            f"/api/cases/{case_id}/approval",
            {"version": 2, "mode": "parallel", "tasks": [{"department_id": department.pk, "limit_days": 3}]},
        ).json()
        task = approval["tasks"][0]
        assert (approval["state"], task["status"], task["due_date"]) == (
            "in_approval",
            "pending",
            "2025-09-29",
        )
        decided = call(
            client_for(approver),
            "post",
            f"/api/cases/tasks/{task['id']}/decide",
            {"version": 1, "approve": True},
        ).json()
        assert decided["status"] == "approved"
        done = call(
            client, "post", f"/api/cases/{case_id}/complete", {"version": 4, "result_text": "准予"}
        ).json()
        assert done["state"] == "completed"
        delivered = call(
            client,
            "post",
            f"/api/cases/{case_id}/deliver",
            {"version": 5, "method": "post", "tracking_number": "SF12345678"},
        ).json()
        assert (delivered["state"], delivered["delivery_method"]) == ("delivered", "post")
    assert [event["action"] for event in delivered["events"]] == [
        "open",
        "accept",
        "start_approval",
        "decide_task",
        "complete",
        "deliver",
    ]
    assert [notice["kind"] for notice in delivered["notices"]] == ["acceptance", "completion"]


def test_a_stale_version_is_409(client_for, clerk, second_clerk, draft_case) -> None:
    materials = [{"check_id": check.pk, "status": "received"} for check in draft_case.material_checks.all()]
    assert (
        call(
            client_for(clerk),
            "post",
            f"/api/cases/{draft_case.pk}/materials",
            {"version": 1, "materials": materials},
        ).status_code
        == 200
    )
    response = call(
        client_for(second_clerk),
        "post",
        f"/api/cases/{draft_case.pk}/refuse",
        {"version": 1, "reason": "x", "legal_basis": "y"},
    )
    assert response.status_code == 409
    assert response.json() == {
        "code": "case_changed",
        "detail": "办件已被他人更新，请刷新后重试。 / The case was changed by someone else; reload and retry.",
    }
    assert fresh(draft_case).state == "draft"


def test_a_bad_state_is_400_with_a_clear_message(client_for, clerk, draft_case) -> None:
    response = call(client_for(clerk), "post", f"/api/cases/{draft_case.pk}/complete", {"version": 1})
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_state",
        "detail": "办件当前状态为「收件待审」，不能执行「办结」。",
    }


def test_malformed_input_is_400(client_for, clerk, draft_case) -> None:
    response = call(
        client_for(clerk), "post", f"/api/cases/{draft_case.pk}/deliver", {"version": "x", "method": "drone"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"


def test_extension_and_supervisor_decision_through_the_api(
    client_for, clerk, supervisor, committed_item, at
) -> None:
    with at("2025-09-25"):
        case = actions.open_case(clerk, committed_item, person())
        actions.accept(clerk, case, 1, updates=all_received(case))
    created = call(
        client_for(clerk),
        "post",
        f"/api/cases/{case.pk}/extensions",
        {"version": 2, "days": 2, "reason": "需核查"},
    )
    assert created.status_code == 201
    refused = call(
        client_for(clerk), "post", f"/api/cases/extensions/{created.json()['id']}/decide", {"approve": True}
    )
    assert refused.status_code == 403
    decided = call(
        client_for(supervisor),
        "post",
        f"/api/cases/extensions/{created.json()['id']}/decide",
        {"approve": True},
    )
    assert (decided.status_code, decided.json()["status"]) == (200, "approved")
    assert fresh(case).extension_days == 2
    # And the case's history gives the decision's before and after
    events = call(client_for(supervisor), "get", f"/api/cases/{case.pk}").json()["events"]
    decision = next(event for event in events if event["action"] == "decide_extension")
    assert (decision["before"]["extension_days"], decision["after"]["extension_days"]) == (0, 2)
    # 10-10 and the 调休 Saturday 10-11 are the two extra working days
    assert (decision["before"]["committed_due"], decision["after"]["committed_due"]) == (
        "2025-10-09",
        "2025-10-11",
    )


def test_an_approver_of_another_department_gets_403_on_the_task(
    client_for, clerk, second_approver, committed_item, department
) -> None:
    case = actions.open_case(clerk, committed_item, person())
    actions.accept(clerk, case, 1, updates=all_received(case))
    actions.start_approval(clerk, case, 2, "parallel", [actions.TaskPlan(department.pk, 3)])
    task = ApprovalTask.objects.get()
    response = call(
        client_for(second_approver),
        "post",
        f"/api/cases/tasks/{task.pk}/decide",
        {"version": 1, "approve": True},
    )
    assert response.status_code == 403
    assert ApprovalTask.objects.get().status == "pending"
