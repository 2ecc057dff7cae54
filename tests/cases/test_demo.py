"""The demo cases: a handful in different states, one yellow and one red; loading twice adds nothing."""

from __future__ import annotations

from io import StringIO

from servicehall.cases.demo import load_demo
from servicehall.cases.models import ApprovalTask, Case, Inquiry, Notice
from servicehall.cases.supervise import Colour, colour_of, supervise
from servicehall.operations.demo import load_demo_centre


def test_the_demo_has_cases_in_many_states_and_loads_idempotently(db) -> None:
    load_demo_centre()
    output = StringIO()
    load_demo(output)
    assert output.getvalue() == "已载入演示办件 / demo cases loaded: 11\n"
    states = dict(Case.objects.values_list("number", "state"))
    assert states == {
        "DEMO00000001": "draft",
        "DEMO00000002": "supplement_requested",
        "DEMO00000003": "accepted",
        "DEMO00000004": "accepted",
        "DEMO00000005": "in_approval",
        "DEMO00000006": "in_approval",
        "DEMO00000007": "accepted_deferred",
        "DEMO00000008": "delivered",
        "DEMO00000009": "completed",
        "DEMO00000010": "not_accepted",
    }
    colours = {case.number: colour_of(case) for case in Case.objects.all()}
    assert colours["DEMO00000004"] == Colour.YELLOW
    assert colours["DEMO00000005"] == Colour.RED
    assert colours["DEMO00000003"] == Colour.GREEN
    assert ApprovalTask.objects.filter(case__number="DEMO00000006", status="approved").count() == 1
    assert Inquiry.objects.get().status == "referred"
    counts = (Case.objects.count(), Notice.objects.count(), Inquiry.objects.count())
    # Loading again adds nothing and says nothing
    again = StringIO()
    load_demo(again)
    assert again.getvalue() == ""
    assert (Case.objects.count(), Notice.objects.count(), Inquiry.objects.count()) == counts
    # And the sweep finds the yellow and the red case
    result = supervise()
    assert (result.yellow_cards, result.red_cards, result.task_red_cards) == (1, 1, 1)


def test_without_the_demo_centre_nothing_is_loaded(db) -> None:
    output = StringIO()
    load_demo(output)
    assert (
        output.getvalue()
        == "演示办件：未找到演示中心或演示人员，跳过 / demo cases skipped: demo centre not loaded\n"
    )
    assert Case.objects.count() == 0
