"""A supervisor confirms a conduct finding: at or above the threshold, one violation for the staff member."""

from __future__ import annotations

from typing import Any

import pytest

from servicehall.accounts.roles import Role
from servicehall.audit.models import AuditRecord
from servicehall.conduct import actions
from servicehall.conduct.models import ConductFinding
from servicehall.conduct.signals import finding_confirmed
from servicehall.lib.errors import ActionRefused, NotFound, PermissionRefused
from servicehall.supervision.actions import record_conduct_violation
from servicehall.supervision.models import Violation
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

# 我不管 (cold.i_dont_care, 冷漠, severity 3) and 你找领导去 (shirk.go_to_the_boss, 推诿, severity 2).
SHIRKING_TRANSCRIPT = "员：下一个。\n民：请问养老保险怎么转移？\n员：我不管，你找领导去吧。\n"


def transcript_finding(supervisor: Any, clerk: Any, text: str = SHIRKING_TRANSCRIPT) -> ConductFinding:
    finding = actions.check_transcript(supervisor, text, subject=clerk).conduct_finding
    assert finding is not None
    return finding


def reply_finding(clerk: Any, text: str) -> ConductFinding:
    finding = actions.submit_reply(clerk, text, "测试").conduct_finding
    assert finding is not None
    return finding


def test_confirming_a_finding_records_one_violation_for_the_staff_member(supervisor, clerk) -> None:
    # given a transcript of the clerk's over the threshold (highest severity 3)
    finding = transcript_finding(supervisor, clerk)
    # when the supervisor confirms it
    outcome = actions.confirm_finding(supervisor, finding.pk)
    # then one violation is recorded against the clerk, at the clerk's site, linked to the finding
    violation = Violation.objects.get()
    assert (
        violation.staff,
        violation.site,
        violation.kind,
        violation.tier,
        violation.source,
        violation.source_reference,
        violation.status,
        violation.recorded_by,
        violation.occurred_at,
    ) == (
        clerk,
        clerk.site,
        "shirking_or_obstruction",
        2,
        "conduct",
        f"conduct_finding:{finding.pk}",
        "open",
        supervisor,
        finding.created_at,
    )
    assert violation.description == (
        f"文明用语检查发现 #{finding.pk}（服务对话，推诿、冷漠，最高严重程度 3）：3：我不管，你找领导去吧。"
    )
    # and the finding is confirmed and claimed, and says so
    finding.refresh_from_db()
    assert (finding.confirmed_by, finding.confirmation_result, finding.claimed_at) == (
        supervisor,
        "violation_recorded",
        finding.confirmed_at,
    )
    assert finding.confirmed_at is not None
    assert (outcome.newly_confirmed, outcome.violation, outcome.message) == (
        True,
        violation,
        "已确认检查发现，并为 李受理 登记了一条违规记录。",
    )


@pytest.mark.parametrize(
    ("text", "categories", "kind", "tier"),
    [
        ("少啰嗦。", ["顶撞/训斥"], "forbidden_language", 1),
        ("你识字吗？", ["讥讽"], "forbidden_language", 1),
        ("不知道，你问别人去。", ["推诿"], "shirking_or_obstruction", 2),
        ("没看见我正忙吗？别烦我。", ["冷漠"], "shirking_or_obstruction", 2),
        ("少啰嗦，不知道。", ["推诿", "顶撞/训斥"], "shirking_or_obstruction", 2),
    ],
)
def test_the_violation_kind_follows_the_finding_category(
    supervisor, clerk, text: str, categories: list[str], kind: str, tier: int
) -> None:
    # given a reply sent anyway with phrases of these categories
    finding = reply_finding(clerk, text)
    assert actions.finding_categories(finding) == categories
    # when it is confirmed, then the violation is 使用禁忌用语 or, for 推诿/冷落, the heavier 办事推诿、冷落、刁难
    actions.confirm_finding(supervisor, finding.pk)
    violation = Violation.objects.get()
    assert (violation.kind, violation.tier) == (kind, tier)


def test_confirming_twice_or_rerunning_the_hook_records_no_second_violation(supervisor, clerk) -> None:
    # given a confirmed finding
    finding = transcript_finding(supervisor, clerk)
    first = actions.confirm_finding(supervisor, finding.pk)
    confirmed_at = ConductFinding.objects.get().confirmed_at
    # when it is confirmed again
    second = actions.confirm_finding(supervisor, finding.pk)
    # then nothing changes and the page says so
    assert (second.newly_confirmed, second.violation, second.message) == (
        False,
        None,
        "该检查发现此前已确认，未重复登记违规。",
    )
    assert ConductFinding.objects.get().confirmed_at == confirmed_at
    # and when the hook is run again for the same finding, it answers with the same violation
    again = record_conduct_violation(ConductFinding, finding=finding, actor=supervisor, categories=["讥讽"])
    answers = finding_confirmed.send(sender=ConductFinding, finding=finding, actor=supervisor, categories=[])
    assert again == first.violation
    assert [answer for _receiver, answer in answers] == [first.violation]
    assert Violation.objects.count() == 1
    assert (
        AuditRecord.objects.filter(action="conduct.finding_confirmed").count(),
        AuditRecord.objects.filter(action="supervision.violation_recorded").count(),
    ) == (1, 1)


@pytest.mark.parametrize(
    ("minimum", "expected_violations", "expected_result"),
    [(2, 1, "violation_recorded"), (3, 0, "below_threshold")],
)
def test_the_threshold_is_the_highest_severity_at_or_above_the_setting(
    supervisor, clerk, settings, minimum: int, expected_violations: int, expected_result: str
) -> None:
    # given a finding of two severity-2 phrases (不知道, 问别人去): highest severity 2
    settings.SERVICEHALL_CONDUCT_VIOLATION_MIN_SEVERITY = minimum
    finding = reply_finding(clerk, "不知道，你问别人去。")
    assert finding.highest_severity == 2
    # when it is confirmed
    actions.confirm_finding(supervisor, finding.pk)
    # then a violation exactly when 2 reaches the setting
    finding.refresh_from_db()
    assert (Violation.objects.count(), finding.confirmation_result) == (expected_violations, expected_result)


def test_below_the_threshold_the_finding_is_confirmed_without_a_violation(
    supervisor, clerk, settings
) -> None:
    settings.SERVICEHALL_CONDUCT_VIOLATION_MIN_SEVERITY = 3
    finding = reply_finding(clerk, "不知道，你问别人去。")
    outcome = actions.confirm_finding(supervisor, finding.pk)
    finding.refresh_from_db()
    assert (Violation.objects.count(), finding.claimed_at, finding.confirmed_by) == (0, None, supervisor)
    assert outcome.message == "已确认检查发现；最高严重程度 2 低于登记违规的标准（3），未登记违规。"


def test_the_threshold_is_the_django_setting(settings) -> None:
    settings.SERVICEHALL_CONDUCT_VIOLATION_MIN_SEVERITY = 3
    assert actions.violation_min_severity() == 3
    settings.SERVICEHALL_CONDUCT_VIOLATION_MIN_SEVERITY = 1
    assert actions.violation_min_severity() == 1


def test_a_finding_without_a_known_staff_member_records_no_violation_and_says_so(
    supervisor, town_site
) -> None:
    # given a finding whose speaker could not be identified
    finding = ConductFinding.objects.create(
        site=town_site,
        staff=None,
        source="transcript",
        excerpt="3：我不管。",
        text_digest="0" * 64,
        rule_ids=["cold.i_dont_care"],
        finding_count=1,
        highest_severity=3,
    )
    # when it is confirmed
    outcome = actions.confirm_finding(supervisor, finding.pk)
    # then it is confirmed, no violation is recorded, and the outcome says why
    finding.refresh_from_db()
    assert (Violation.objects.count(), finding.confirmation_result, finding.claimed_at) == (
        0,
        "no_staff",
        None,
    )
    assert outcome.message == "已确认检查发现；未能确定说这些话的工作人员，未登记违规。"


def test_confirmation_is_audited(supervisor, clerk) -> None:
    finding = transcript_finding(supervisor, clerk)
    outcome = actions.confirm_finding(supervisor, finding.pk)
    audit = AuditRecord.objects.get(action="conduct.finding_confirmed")
    assert (audit.actor, audit.object_type, audit.object_id, audit.site_id) == (
        supervisor,
        "conduct.conductfinding",
        str(finding.pk),
        clerk.site_id,
    )
    assert (audit.before, audit.after) == (
        {"confirmed_at": None},
        {
            "result": "violation_recorded",
            "staff": clerk.pk,
            "highest_severity": 3,
            "minimum_severity": 2,
            "categories": ["推诿", "冷漠"],
            "violation": f"supervision.violation:{outcome.violation.pk}",
        },
    )
    assert AuditRecord.objects.get(action="supervision.violation_recorded").actor == supervisor


def test_a_clerk_is_refused_and_nothing_changes(client_for, supervisor, clerk) -> None:
    # given a finding, and a clerk who is no supervisor
    finding = transcript_finding(supervisor, clerk)
    audits = AuditRecord.objects.count()
    # when the clerk posts the confirmation, or calls the action
    response = client_for(clerk).post(f"/conduct/findings/{finding.pk}/confirm/")
    with pytest.raises(PermissionRefused):
        actions.confirm_finding(clerk, finding.pk)
    # then 403, and nothing but the two refusals is written
    finding.refresh_from_db()
    assert response.status_code == 403
    assert (finding.confirmed_at, finding.confirmation_result, Violation.objects.count()) == (None, "", 0)
    assert AuditRecord.objects.count() == audits + 2
    assert AuditRecord.objects.filter(action="access.denied").count() == 2


def test_a_supervisor_of_another_site_does_not_find_the_finding(supervisor, clerk, other_town_site) -> None:
    other_supervisor = make_staff(other_town_site, Role.WINDOW_SUPERVISOR, username="other_supervisor")
    finding = transcript_finding(supervisor, clerk)
    with pytest.raises(NotFound):
        actions.confirm_finding(other_supervisor, finding.pk)
    assert (ConductFinding.objects.get().confirmed_at, Violation.objects.count()) == (None, 0)


def test_a_supervisor_cannot_confirm_a_finding_about_themselves(supervisor) -> None:
    finding = reply_finding(supervisor, "少啰嗦。")
    with pytest.raises(ActionRefused) as refused:
        actions.confirm_finding(supervisor, finding.pk)
    assert (refused.value.code, ConductFinding.objects.get().confirmed_at, Violation.objects.count()) == (
        "own_finding",
        None,
        0,
    )


def test_a_failing_listener_rolls_the_confirmation_back(supervisor, clerk) -> None:
    # given a listener after supervision's that fails
    finding = transcript_finding(supervisor, clerk)

    def failing(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("listener failed")

    finding_confirmed.connect(failing, dispatch_uid="test.failing")
    try:
        with pytest.raises(RuntimeError):
            actions.confirm_finding(supervisor, finding.pk)
    finally:
        finding_confirmed.disconnect(dispatch_uid="test.failing")
    # then neither the confirmation nor the violation is kept
    assert (ConductFinding.objects.get().confirmed_at, Violation.objects.count()) == (None, 0)
    assert AuditRecord.objects.filter(action="conduct.finding_confirmed").count() == 0


def test_the_supervisor_confirms_from_the_findings_page(client_for, supervisor, clerk) -> None:
    # given a pending finding, the supervisor's page lists it with a confirm button
    finding = transcript_finding(supervisor, clerk)
    client = client_for(supervisor)
    page = client.get("/conduct/findings/").content.decode()
    assert f'action="/conduct/findings/{finding.pk}/confirm/"' in page
    assert "李受理" in page
    # when the button is pressed, then the violation is recorded and the page says so
    response = client.post(f"/conduct/findings/{finding.pk}/confirm/", follow=True)
    body = response.content.decode()
    assert response.redirect_chain == [("/conduct/findings/", 302)]
    assert "已确认检查发现，并为 李受理 登记了一条违规记录。" in body
    assert "没有待确认的检查发现。" in body
    assert "已登记违规" in body
    assert Violation.objects.get().staff == clerk


def test_the_findings_page_is_for_supervisors_only(client_for, clerk, supervisor) -> None:
    assert client_for(clerk).get("/conduct/findings/").status_code == 403
    assert 'href="/conduct/findings/"' not in client_for(clerk).get("/conduct/reply/").content.decode()
    assert 'href="/conduct/findings/"' in client_for(supervisor).get("/conduct/reply/").content.decode()
