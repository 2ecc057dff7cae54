"""Escalation: the system proposes a heavier tier, a person decides; both recorded and audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from servicehall.audit.models import AuditRecord
from servicehall.lib.errors import ActionRefused
from servicehall.supervision import actions
from servicehall.supervision.actions import record_violation
from servicehall.supervision.models import TierProposal, Violation
from tests.supervision.conftest import upheld_complaint

pytestmark = pytest.mark.django_db


def late(clerk, reference: str, days_ago: int = 0):
    violation, _created = record_violation(
        site=clerk.site,
        kind="late_or_early_leave",
        source="attendance",
        source_reference=reference,
        description="迟到",
        staff=clerk,
        occurred_at=timezone.now() - dt.timedelta(days=days_ago),
    )
    return violation


def test_a_tier_one_kind_repeated_within_twelve_months_proposes_tier_two(clerk) -> None:
    first = late(clerk, "2026-03-02", days_ago=200)
    assert TierProposal.objects.count() == 0
    second = late(clerk, "2026-12-01")
    proposal = TierProposal.objects.get()
    assert (proposal.rule, proposal.kind, proposal.proposed_tier, proposal.status) == (
        "repeated_tier_one",
        "late_or_early_leave",
        2,
        "pending",
    )
    assert set(proposal.evidence.all()) == {first, second}
    assert AuditRecord.objects.filter(action="supervision.escalation_proposed").count() == 1


def test_a_repeat_older_than_the_window_proposes_nothing(clerk) -> None:
    late(clerk, "2025-10-01", days_ago=400)
    late(clerk, "2026-12-01")
    assert TierProposal.objects.count() == 0


def test_the_window_is_configurable(clerk, settings) -> None:
    settings.SERVICEHALL_ESCALATION_WINDOW_DAYS = 30
    late(clerk, "a", days_ago=60)
    late(clerk, "b")
    assert TierProposal.objects.count() == 0


def test_a_pending_proposal_is_not_proposed_twice(clerk) -> None:
    late(clerk, "a", days_ago=10)
    late(clerk, "b", days_ago=5)
    late(clerk, "c")
    assert TierProposal.objects.count() == 1


def test_three_upheld_complaints_propose_tier_three(handler, town_site, clerk) -> None:
    upheld_complaint(handler, town_site, clerk)
    upheld_complaint(handler, town_site, clerk, "partly_upheld")
    assert not TierProposal.objects.filter(rule="repeated_complaints").exists()
    upheld_complaint(handler, town_site, clerk)
    proposal = TierProposal.objects.get(rule="repeated_complaints")
    assert (proposal.proposed_tier, proposal.get_rule_display()) == (3, "12 个月内多次受到投诉")
    assert proposal.evidence.count() == 3


def test_accepting_records_the_decision_and_a_tier_two_violation(clerk, supervisor) -> None:
    late(clerk, "a", days_ago=10)
    late(clerk, "b")
    proposal = TierProposal.objects.get()
    actions.decide_proposal(supervisor, proposal, accept=True, reason="一月内两次迟到，经批评教育仍未改正。")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == ("accepted", supervisor)
    resulting = proposal.resulting_violation
    assert (resulting.kind, resulting.tier, resulting.source) == (
        "uncorrected_after_criticism",
        2,
        "escalation",
    )
    audit = AuditRecord.objects.get(action="supervision.escalation_decided")
    assert audit.after["status"] == "accepted"
    # The same repeat is not proposed again after acceptance.
    late(clerk, "c")
    assert TierProposal.objects.filter(status="pending").count() == 0


def test_rejecting_needs_a_reason_and_records_it(clerk, supervisor) -> None:
    late(clerk, "a", days_ago=10)
    late(clerk, "b")
    proposal = TierProposal.objects.get()
    with pytest.raises(ActionRefused):
        actions.decide_proposal(supervisor, proposal, accept=False, reason="")
    proposal.refresh_from_db()
    assert proposal.status == "pending"
    actions.decide_proposal(supervisor, proposal, accept=False, reason="因交通管制迟到，情有可原。")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decision_reason, proposal.resulting_violation) == (
        "rejected",
        "因交通管制迟到，情有可原。",
        None,
    )
    assert Violation.objects.filter(source="escalation").count() == 0


def test_a_supervisor_of_another_site_cannot_decide(clerk, other_supervisor) -> None:
    late(clerk, "a", days_ago=10)
    late(clerk, "b")
    proposal = TierProposal.objects.get()
    with pytest.raises(ActionRefused):
        actions.decide_proposal(other_supervisor, proposal, accept=True, reason="x")
    proposal.refresh_from_db()
    assert proposal.status == "pending"


def test_a_dismissed_violation_does_not_count(clerk, supervisor) -> None:
    first = late(clerk, "a", days_ago=10)
    Violation.objects.filter(pk=first.pk).update(status="dismissed")
    late(clerk, "b")
    assert TierProposal.objects.count() == 0


def test_bulk_recording_also_proposes(clerk) -> None:
    entries = [
        actions.ViolationEntry(
            site_id=clerk.site_id,
            kind="overdue",
            source="red_card",
            source_reference=f"case:{number}",
            description="超时",
            staff_id=clerk.pk,
        )
        for number in (1, 2)
    ]
    assert actions.record_violations(entries) == 2
    assert TierProposal.objects.get().kind == "overdue"
