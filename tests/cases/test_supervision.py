"""电子监察: green / yellow / red, and a sweep that records each yellow warning and red card once."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from servicehall.audit.models import AuditRecord
from servicehall.cases import actions
from servicehall.cases.models import Case, CaseEvent, Notification, SupervisionCard
from servicehall.cases.supervise import Colour, colour_counts, colour_of, supervise
from servicehall.supervision.models import Violation
from tests.cases.conftest import all_received, check_of, fresh, person


def accepted(clerk, item, at, day, name="张三丰"):
    with at(day):
        case = actions.open_case(clerk, item, person(name=name))
        actions.accept(clerk, case, case.version, updates=all_received(case))
    return fresh(case)


def test_colours_follow_the_working_days_left(clerk, committed_item, at) -> None:
    # A 5-day case accepted 09-25 is due 10-09 and turns yellow on 09-29 (two working days left)
    case = accepted(clerk, committed_item, at, "2025-09-25")
    with at("2025-09-26"):
        assert colour_of(case) == Colour.GREEN
    with at("2025-09-29"):
        assert colour_of(case) == Colour.YELLOW
    with at("2025-10-09"):
        assert colour_of(case) == Colour.YELLOW
    with at("2025-10-10"):
        assert colour_of(case) == Colour.RED


def test_twenty_percent_of_a_long_limit_warns_earlier_than_two_days(clerk, committed_item, at) -> None:
    committed_item.committed_limit_days = 20
    committed_item.save()
    case = accepted(clerk, committed_item, at, "2025-09-25")
    # 20 days from 09-25 end on 10-29; 20% is 4 days, so yellow from 10-23 (10-24, 10-27, 10-28, 10-29 left)
    assert case.committed_due.isoformat() == "2025-10-29"
    assert case.yellow_from.isoformat() == "2025-10-23"


@override_settings(SERVICEHALL_CASES_YELLOW_WORKING_DAYS=3)
def test_the_yellow_threshold_is_configurable(clerk, committed_item, at) -> None:
    case = accepted(clerk, committed_item, at, "2025-09-25")
    assert case.yellow_from.isoformat() == "2025-09-28"


def test_the_sweep_records_each_card_once_and_notifies_the_handler_and_the_window_supervisor(
    clerk, supervisor, committed_item, at
) -> None:
    early = accepted(clerk, committed_item, at, "2025-09-18", name="早受理")
    late = accepted(clerk, committed_item, at, "2025-09-25", name="晚受理")
    fresh_case = accepted(clerk, committed_item, at, "2025-10-09", name="新受理")
    # When the sweep runs on 09-29: the early case (due 09-25) is red, the late one yellow, the new one not yet open
    with at("2025-09-29", "08:00"):
        result = supervise()
    assert (result.red_cards, result.yellow_cards, result.violations) == (1, 1, 1)
    assert (fresh(early).card_level, fresh(late).card_level, fresh(fresh_case).card_level) == (2, 1, 0)
    # Then each card is recorded with the due date it missed or approaches
    assert sorted(SupervisionCard.objects.values_list("case__number", "level", "due_date")) == sorted(
        [(early.number, 2, early.committed_due), (late.number, 1, late.committed_due)]
    )
    # And the responsible clerk and the 窗口负责人 are both told
    assert sorted(Notification.objects.values_list("recipient_id", "kind")) == sorted(
        [
            (clerk.pk, "red_card"),
            (supervisor.pk, "red_card"),
            (clerk.pk, "yellow_card"),
            (supervisor.pk, "yellow_card"),
        ]
    )
    assert Notification.objects.get(recipient=clerk, kind="red_card").message == (
        f"红牌督办：办件 {early.number} 已超过承诺办结期限 2025-09-25。"
    )
    # And the red card opens a 超时 violation against the clerk
    violation = Violation.objects.get()
    assert (violation.kind, violation.source, violation.source_reference, violation.staff) == (
        "overdue",
        "red_card",
        f"case:{early.number}",
        clerk,
    )
    # And each card is in the case's history
    assert sorted(
        CaseEvent.objects.filter(action__in=["red_card", "yellow_card"]).values_list("case_id", "action")
    ) == [
        (early.pk, "red_card"),
        (late.pk, "yellow_card"),
    ]
    audits = AuditRecord.objects.filter(action="cases.supervised").count()
    # When it runs again the same day, nothing new is recorded, not even an audit line
    with at("2025-09-29", "08:05"):
        again = supervise()
    assert again.recorded_anything is False
    assert SupervisionCard.objects.count() == 2
    assert Notification.objects.count() == 4
    assert Violation.objects.count() == 1
    assert AuditRecord.objects.filter(action="cases.supervised").count() == audits == 1
    # When the yellow case runs out, it gets its red card, once (the new case, due 10-15, is still green)
    with at("2025-10-10"):
        later = supervise()
        assert (later.red_cards, later.yellow_cards) == (1, 0)
        assert supervise().recorded_anything is False
    assert SupervisionCard.objects.filter(case=late).count() == 2


def test_a_case_that_jumps_straight_to_red_gets_only_a_red_card(clerk, committed_item, at) -> None:
    case = accepted(clerk, committed_item, at, "2025-09-18")
    with at("2025-10-20"):
        result = supervise()
    assert (result.red_cards, result.yellow_cards) == (1, 0)
    assert list(SupervisionCard.objects.values_list("case_id", "level")) == [(case.pk, 2)]


def test_a_stopped_clock_does_not_turn_red(clerk, committed_item, at) -> None:
    case = accepted(clerk, committed_item, at, "2025-09-25")
    with at("2025-09-26"):
        actions.request_supplement(
            clerk,
            case,
            case.version,
            updates=[actions.MaterialUpdate(check_of(case, "申请表").pk, "defective", defect="未签名")],
        )
    with at("2025-10-20"):
        assert supervise().recorded_anything is False
        assert colour_of(fresh(case)) == Colour.PAUSED


def test_colour_counts_for_the_board(clerk, committed_item, at) -> None:
    accepted(clerk, committed_item, at, "2025-09-18", name="甲")
    accepted(clerk, committed_item, at, "2025-09-25", name="乙")
    accepted(clerk, committed_item, at, "2025-09-28", name="丙")
    with at("2025-09-28"):
        actions.open_case(clerk, committed_item, person(name="丁"))
    with at("2025-09-29"):
        assert colour_counts(Case.objects.all()) == {"red": 1, "yellow": 1, "green": 1, "paused": 1}


def test_the_management_command_prints_the_result(clerk, committed_item, at) -> None:
    accepted(clerk, committed_item, at, "2025-09-18")
    output = StringIO()
    with at("2025-09-29"):
        call_command("supervise", "--json", stdout=output)
    result = json.loads(output.getvalue())
    assert (result["red_cards"], result["yellow_cards"], result["violations"]) == (1, 0, 1)
    output = StringIO()
    with at("2025-09-29"):
        call_command("supervise", stdout=output)
    assert output.getvalue().startswith("电子监察巡查完成 / sweep done: 黄牌 yellow 0，红牌 red 0，")


@pytest.mark.django_db(transaction=True)
def test_the_sweep_is_atomic_per_batch(clerk, committed_item, at, monkeypatch) -> None:
    # Given the violation step fails halfway
    accepted(clerk, committed_item, at, "2025-09-18")
    from servicehall.cases import supervise as module

    def broken(entries):
        raise RuntimeError("数据库故障")

    monkeypatch.setattr(module, "record_violations", broken)
    with at("2025-09-29"), pytest.raises(RuntimeError):
        supervise()
    # Then the claim was rolled back with it, and the next run records the card
    assert Case.objects.get().card_level == 0
    assert SupervisionCard.objects.count() == 0
    monkeypatch.undo()
    with at("2025-09-29"):
        assert supervise().red_cards == 1
