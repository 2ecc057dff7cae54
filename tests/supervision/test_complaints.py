"""Complaints: the flow 受理 → 调查 → 处置 → 反馈 → 归档, its one dispatcher, deadlines and violations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from servicehall.audit.models import AuditRecord
from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.supervision import actions
from servicehall.supervision.models import (
    COMPLAINT_TRANSITIONS,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    Violation,
)
from servicehall.workdays.service import add
from tests.supervision.conftest import register, upheld_complaint

pytestmark = pytest.mark.django_db


def test_a_registered_complaint_is_received_with_a_ten_working_day_deadline(handler, town_site) -> None:
    complaint = register(handler, town_site)
    assert complaint.status == ComplaintStatus.RECEIVED
    assert complaint.deadline == add(timezone.localdate(complaint.received_at), 10).date
    assert complaint.number.startswith("TS")
    assert list(complaint.events.values_list("action", "to_status")) == [("register", "received")]
    audit = AuditRecord.objects.get(action="supervision.complaint_registered")
    assert "张投诉" not in str(audit.after)
    assert "13912345678" not in str(audit.after)
    assert audit.object_label == complaint.number


def test_the_whole_flow_stamps_each_step_and_keeps_a_timeline(handler, town_site, clerk) -> None:
    complaint = register(handler, town_site, accused_staff=clerk)
    actions.start_investigation(handler, complaint)
    actions.add_investigation_note(handler, complaint, "调阅监控录像，询问当事人。")
    actions.conclude_complaint(handler, complaint, "not_upheld", "经核实，材料要求已一次性告知。")
    actions.reply_to_complainant(handler, complaint, "经调查，情况不属实，感谢您的监督。")
    actions.file_complaint(handler, complaint, "已归档")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.FILED
    assert all(
        getattr(complaint, stamp) is not None
        for stamp in ("investigation_started_at", "disposed_at", "replied_at", "filed_at")
    )
    assert list(complaint.events.values_list("action", flat=True)) == [
        "register",
        "to_investigating",
        "note",
        "to_disposed",
        "to_replied",
        "to_filed",
    ]
    assert complaint.handler == handler
    assert Violation.objects.count() == 0  # 不属实 records nothing


@pytest.mark.parametrize(
    ("status", "target"),
    [
        ("received", "disposed"),
        ("received", "filed"),
        ("investigating", "replied"),
        ("disposed", "investigating"),
        ("filed", "received"),
    ],
)
def test_the_dispatcher_refuses_every_pair_outside_the_table(handler, town_site, status, target) -> None:
    complaint = register(handler, town_site)
    Complaint.objects.filter(pk=complaint.pk).update(status=status)
    complaint.refresh_from_db()
    assert (status, target) not in COMPLAINT_TRANSITIONS
    events = ComplaintEvent.objects.count()
    with pytest.raises(ActionRefused) as refused:
        actions._transition(complaint, handler, target)
    assert refused.value.code == "invalid_transition"
    complaint.refresh_from_db()
    assert complaint.status == status
    assert ComplaintEvent.objects.count() == events


def test_replying_before_the_conclusion_is_refused_and_nothing_changes(handler, town_site) -> None:
    complaint = register(handler, town_site)
    with pytest.raises(ActionRefused):
        actions.reply_to_complainant(handler, complaint, "已处理")
    complaint.refresh_from_db()
    assert (complaint.status, complaint.reply) == ("received", "")


def test_a_complaint_with_no_content_is_refused(handler, town_site) -> None:
    with pytest.raises(ActionRefused) as refused:
        register(handler, town_site, content="   ")
    assert refused.value.message == "投诉内容不能为空。"
    assert Complaint.objects.count() == 0


def test_a_deadline_in_the_past_is_refused(handler, town_site) -> None:
    with pytest.raises(ActionRefused) as refused:
        register(handler, town_site, deadline=timezone.localdate() - dt.timedelta(days=1))
    assert refused.value.message == "办理期限不能早于今天。"
    assert Complaint.objects.count() == 0
    complaint = register(handler, town_site)
    with pytest.raises(ActionRefused):
        actions.change_deadline(handler, complaint, timezone.localdate() - dt.timedelta(days=3), "延期")
    complaint.refresh_from_db()
    assert complaint.deadline == add(timezone.localdate(complaint.received_at), 10).date


def test_a_12345_transfer_needs_its_ticket_number(handler, town_site) -> None:
    with pytest.raises(ActionRefused) as refused:
        register(handler, town_site, channel="hotline_12345")
    assert refused.value.field == "hotline_reference"
    complaint = register(handler, town_site, channel="hotline_12345", hotline_reference="ZS2026120600123")
    assert complaint.get_channel_display() == "12345 转办"


@pytest.mark.parametrize("conclusion", ["upheld", "partly_upheld"])
def test_an_upheld_complaint_against_a_staff_member_records_a_violation(
    handler, town_site, clerk, conclusion
) -> None:
    complaint = upheld_complaint(handler, town_site, clerk, conclusion)
    violation = Violation.objects.get()
    assert (violation.staff, violation.source, violation.source_reference) == (
        clerk,
        "complaint",
        complaint.number,
    )
    assert "张投诉" not in violation.description
    assert "139" not in violation.description


def test_the_accused_cannot_handle_or_open_their_own_complaint(handler, town_site, supervisor) -> None:
    complaint = register(handler, town_site, accused_staff=supervisor)
    with pytest.raises(NotFound):
        actions.start_investigation(supervisor, complaint)
    complaint.refresh_from_db()
    assert complaint.status == "received"


def test_a_handler_of_another_site_cannot_act(handler, town_site, other_supervisor) -> None:
    complaint = register(handler, town_site)
    with pytest.raises(NotFound):
        actions.start_investigation(other_supervisor, complaint)
    complaint.refresh_from_db()
    assert complaint.status == "received"
