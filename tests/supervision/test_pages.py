"""Supervision pages: a permission matrix per endpoint, nothing changed for refused users, no complainant identity."""

from __future__ import annotations

from typing import Any

import pytest

from servicehall.audit.models import AuditRecord
from servicehall.supervision import actions
from servicehall.supervision.models import Complaint, ComplaintEvent, TierProposal, Violation
from tests.supervision.conftest import register

pytestmark = pytest.mark.django_db

PERSONAS = ["clerk", "other_site_clerk", "supervisor", "anonymous"]


@pytest.fixture
def persona_client(request, client_for, citizen_client) -> Any:
    def make(name: str) -> Any:
        return citizen_client if name == "anonymous" else client_for(request.getfixturevalue(name))

    return make


@pytest.fixture
def complaint(handler, town_site, window):
    return register(handler, town_site)


@pytest.fixture
def proposal(supervisor, clerk):
    for reference in ("a", "b"):
        actions.record_violation(
            site=clerk.site,
            kind="overdue",
            source="red_card",
            source_reference=reference,
            description="超时",
            staff=clerk,
        )
    return TierProposal.objects.get()


PAGE_MATRIX = {
    "/supervision/complaints/": [403, 403, 200, 302],
    "/supervision/complaints/new/": [403, 403, 200, 302],
    "/supervision/complaints/{complaint}/": [403, 403, 200, 302],
    "/supervision/inspections/": [403, 403, 200, 302],
    "/supervision/inspections/new/": [403, 403, 200, 302],
    "/supervision/record/": [200, 200, 200, 302],
    "/supervision/record/{clerk}/": [403, 403, 200, 302],
    "/supervision/violations/new/": [403, 403, 200, 302],
    "/supervision/appeals/": [403, 403, 200, 302],
    "/supervision/escalations/": [403, 403, 200, 302],
    "/supervision/surveys/": [403, 403, 200, 302],
    "/supervision/public/complaint/": [200, 200, 200, 200],
    "/supervision/public/lookup/": [200, 200, 200, 200],
}


@pytest.mark.parametrize("page", list(PAGE_MATRIX))
@pytest.mark.parametrize("index", range(len(PERSONAS)), ids=PERSONAS)
def test_page_permission_matrix(page, index, persona_client, complaint, clerk, proposal) -> None:
    response = persona_client(PERSONAS[index]).get(page.format(complaint=complaint.pk, clerk=clerk.pk))
    assert response.status_code == PAGE_MATRIX[page][index]
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/")


def test_another_sites_supervisor_gets_404_for_this_sites_complaint_and_record(
    client_for, other_supervisor, complaint, clerk
) -> None:
    client = client_for(other_supervisor)
    assert client.get(f"/supervision/complaints/{complaint.pk}/").status_code == 404
    assert client.get(f"/supervision/record/{clerk.pk}/").status_code == 404


ACT_MATRIX = [403, 403, 302, 302]


@pytest.mark.parametrize("index", range(len(PERSONAS)), ids=PERSONAS)
def test_investigate_permission_matrix_and_nothing_changed_for_refused(
    index, persona_client, complaint
) -> None:
    persona = PERSONAS[index]
    events = ComplaintEvent.objects.count()
    audits = AuditRecord.objects.exclude(action="access.denied").count()
    response = persona_client(persona).post(
        f"/supervision/complaints/{complaint.pk}/act/", {"action": "investigate"}
    )
    assert response.status_code == ACT_MATRIX[index]
    complaint.refresh_from_db()
    if persona == "supervisor":
        assert complaint.status == "investigating"
    else:
        assert response.status_code != 302 or response["Location"].startswith("/accounts/login/")
        assert complaint.status == "received"
        assert ComplaintEvent.objects.count() == events
        assert AuditRecord.objects.exclude(action="access.denied").count() == audits


MANUAL_MATRIX = [403, 403, 302, 302]


@pytest.mark.parametrize("index", range(len(PERSONAS)), ids=PERSONAS)
def test_manual_violation_permission_matrix(index, persona_client, clerk) -> None:
    persona = PERSONAS[index]
    response = persona_client(persona).post(
        "/supervision/violations/new/",
        {"staff": clerk.pk, "kind": "overdue", "points": "1", "description": "超时未办结"},
    )
    assert response.status_code == MANUAL_MATRIX[index]
    assert Violation.objects.count() == (1 if persona == "supervisor" else 0)


DECIDE_MATRIX = [403, 403, 302, 302]


@pytest.mark.parametrize("index", range(len(PERSONAS)), ids=PERSONAS)
def test_escalation_decision_permission_matrix(index, persona_client, proposal) -> None:
    persona = PERSONAS[index]
    response = persona_client(persona).post(
        f"/supervision/escalations/{proposal.pk}/decide/", {"decision": "accept", "reason": "屡次超时"}
    )
    assert response.status_code == DECIDE_MATRIX[index]
    proposal.refresh_from_db()
    assert proposal.status == ("accepted" if persona == "supervisor" else "pending")


def test_a_violation_for_another_sites_staff_through_the_page_is_a_400_and_nothing_changes(
    client_for, supervisor, other_site_clerk
) -> None:
    response = client_for(supervisor).post(
        "/supervision/violations/new/",
        {"staff": other_site_clerk.pk, "kind": "overdue", "points": "1", "description": "超时"},
    )
    assert response.status_code == 400
    assert "不属于您管理的场所" in response.content.decode()
    assert Violation.objects.count() == 0


def test_bad_complaint_input_through_the_page_is_a_400_and_nothing_changes(client_for, supervisor) -> None:
    client = client_for(supervisor)
    empty = client.post("/supervision/complaints/new/", {"channel": "desk", "content": ""})
    past = client.post(
        "/supervision/complaints/new/", {"channel": "desk", "content": "态度差", "deadline": "2020-01-01"}
    )
    assert (empty.status_code, past.status_code) == (400, 400)
    assert "投诉内容不能为空。" in empty.content.decode()
    assert "办理期限不能早于今天。" in past.content.decode()
    assert Complaint.objects.count() == 0


def test_a_transition_out_of_order_through_the_page_is_a_400(client_for, supervisor, complaint) -> None:
    response = client_for(supervisor).post(
        f"/supervision/complaints/{complaint.pk}/act/", {"action": "reply", "reply": "好"}
    )
    assert response.status_code == 400
    complaint.refresh_from_db()
    assert complaint.status == "received"


def test_the_handler_sees_the_complainant_masked(client_for, supervisor, complaint) -> None:
    page = client_for(supervisor).get(f"/supervision/complaints/{complaint.pk}/").content.decode()
    assert "张*" in page
    assert "139****5678" in page
    assert "张投诉" not in page
    assert "13912345678" not in page


def test_the_accused_never_sees_who_complained(client_for, handler, town_site, supervisor, clerk) -> None:
    # Given an upheld complaint against a supervisor who also handles complaints
    complaint = register(handler, town_site, accused_staff=supervisor)
    actions.start_investigation(handler, complaint)
    actions.conclude_complaint(handler, complaint, "upheld", "批评教育。")
    client = client_for(supervisor)
    # Then the complaint is absent from their list and its pages answer 404
    assert complaint.number not in client.get("/supervision/complaints/").content.decode()
    assert client.get(f"/supervision/complaints/{complaint.pk}/").status_code == 404
    assert (
        client.post(
            f"/supervision/complaints/{complaint.pk}/act/", {"action": "reply", "reply": "x"}
        ).status_code
        == 404
    )
    # And their own discipline record shows the violation without the complainant's name or phone
    record = client.get("/supervision/record/").content.decode()
    assert "投诉" in record
    assert "批评教育" in record
    for identity in ("张投诉", "张*", "13912345678", "139****5678"):
        assert identity not in record
    complaint.refresh_from_db()
    assert complaint.status == "disposed"


def test_staff_appeal_through_their_record_page(client_for, supervisor, clerk) -> None:
    violation = actions.record_manual_violation(supervisor, clerk, "late_or_early_leave", "迟到")
    client = client_for(clerk)
    assert client.post(f"/supervision/violations/{violation.pk}/appeal/", {"reason": ""}).status_code == 400
    assert (
        client.post(f"/supervision/violations/{violation.pk}/appeal/", {"reason": "已请假"}).status_code
        == 302
    )
    assert (
        client_for(supervisor)
        .post(f"/supervision/violations/{violation.pk}/appeal/", {"reason": "代申诉"})
        .status_code
        == 404
    )
    appeal = violation.appeals.get()
    response = client_for(supervisor).post(
        f"/supervision/appeals/{appeal.pk}/decide/", {"decision": "upheld", "reason": "属实"}
    )
    assert response.status_code == 302
    violation.refresh_from_db()
    assert violation.status == "dismissed"
