"""The demo supervision data: complaints in several states, one inspection, one proposal; loading twice adds nothing."""

from __future__ import annotations

from io import StringIO

from servicehall.operations.demo import load_demo_centre
from servicehall.supervision.demo import load_demo
from servicehall.supervision.models import Complaint, Inspection, TierProposal, Violation


def test_the_demo_loads_idempotently(db) -> None:
    load_demo_centre()
    output = StringIO()
    load_demo(output)
    assert output.getvalue() == "已载入演示监督数据 / demo supervision data loaded: 6\n"
    assert sorted(Complaint.objects.values_list("status", flat=True)) == [
        "disposed",
        "filed",
        "investigating",
        "received",
    ]
    assert Inspection.objects.get().total_deduction == 3
    proposal = TierProposal.objects.get()
    assert (proposal.staff.username, proposal.kind, proposal.proposed_tier) == (
        "mo.jiawei",
        "late_or_early_leave",
        2,
    )
    counts = (
        Complaint.objects.count(),
        Inspection.objects.count(),
        Violation.objects.count(),
        TierProposal.objects.count(),
    )
    again = StringIO()
    load_demo(again)
    assert again.getvalue() == ""
    assert (
        Complaint.objects.count(),
        Inspection.objects.count(),
        Violation.objects.count(),
        TierProposal.objects.count(),
    ) == counts


def test_without_the_demo_centre_nothing_is_loaded(db) -> None:
    output = StringIO()
    load_demo(output)
    assert output.getvalue() == ""
    assert Complaint.objects.count() == 0
