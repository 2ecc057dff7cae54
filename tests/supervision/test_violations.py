"""Manual violations (same site only), discipline records and appeals."""

from __future__ import annotations

import pytest

from servicehall.audit.models import AuditRecord
from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.supervision import actions
from servicehall.supervision.actions import record_violation
from servicehall.supervision.models import Violation, ViolationAppeal

pytestmark = pytest.mark.django_db


def test_a_supervisor_records_a_violation_for_their_own_site(supervisor, clerk) -> None:
    violation = actions.record_manual_violation(
        supervisor, clerk, "forbidden_language", "对群众说“不知道”。", points=2
    )
    assert (violation.staff, violation.tier, violation.points, violation.source) == (clerk, 1, 2, "manual")


def test_a_violation_for_another_sites_staff_is_refused_and_nothing_changes(
    supervisor, other_site_clerk
) -> None:
    audits = AuditRecord.objects.count()
    with pytest.raises(ActionRefused) as refused:
        actions.record_manual_violation(supervisor, other_site_clerk, "overdue", "超时")
    assert refused.value.code == "other_site"
    assert "不属于您管理的场所" in refused.value.message
    assert Violation.objects.count() == 0
    assert AuditRecord.objects.count() == audits


def test_the_record_violation_signature_used_by_feedback_still_works(clerk) -> None:
    violation, created = record_violation(
        site=clerk.site,
        kind="shirking_or_obstruction",
        source="rating",
        source_reference="rating:1",
        description="差评核实属实",
        staff=clerk,
    )
    again, created_again = record_violation(
        site=clerk.site,
        kind="shirking_or_obstruction",
        source="rating",
        source_reference="rating:1",
        description="差评核实属实",
        staff=clerk,
    )
    assert (created, created_again, again.pk) == (True, False, violation.pk)


def test_an_upheld_appeal_dismisses_the_violation(supervisor, clerk) -> None:
    violation = actions.record_manual_violation(supervisor, clerk, "late_or_early_leave", "迟到 10 分钟")
    appeal = actions.appeal_violation(clerk, violation, "当日已请假，有审批记录。")
    with pytest.raises(ActionRefused):
        actions.appeal_violation(clerk, violation, "再次申诉")
    actions.decide_appeal(supervisor, appeal, upheld=True, reason="核实有请假记录。")
    violation.refresh_from_db()
    appeal.refresh_from_db()
    assert (appeal.status, violation.status) == ("upheld", "dismissed")
    assert AuditRecord.objects.filter(action="supervision.appeal_decided").count() == 1


def test_a_rejected_appeal_confirms_the_violation(supervisor, clerk) -> None:
    violation = actions.record_manual_violation(supervisor, clerk, "late_or_early_leave", "迟到 10 分钟")
    appeal = actions.appeal_violation(clerk, violation, "堵车")
    actions.decide_appeal(supervisor, appeal, upheld=False, reason="无正当理由。")
    violation.refresh_from_db()
    assert violation.status == "confirmed"


def test_only_the_staff_member_may_appeal_and_not_decide_their_own(supervisor, clerk) -> None:
    violation = actions.record_manual_violation(supervisor, clerk, "late_or_early_leave", "迟到")
    with pytest.raises(NotFound):
        actions.appeal_violation(supervisor, violation, "代为申诉")
    assert ViolationAppeal.objects.count() == 0
