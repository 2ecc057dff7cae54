"""Two people acting on one case at the same instant, and two sweeps at once: no lost update, no double card."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from servicehall.cases import actions, clock
from servicehall.cases.models import Case, CaseEvent, Notice, Notification, SupervisionCard
from servicehall.cases.supervise import supervise
from servicehall.lib.errors import ActionRefused, Conflict
from servicehall.supervision.models import Violation
from tests.cases.conftest import all_received, fresh, moment, person

pytestmark = [
    pytest.mark.postgresql_only,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="SQLite serialises all writers, so there is no race to test",
    ),
    pytest.mark.django_db(transaction=True),
]


def race(*calls: Any) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = []
    lock = threading.Lock()

    def run(call: Any) -> None:
        try:
            barrier.wait(timeout=10)
            outcome: Any = call()
        except ActionRefused as refusal:
            outcome = refusal
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_clerks_acting_at_once_one_wins_the_other_is_told(clerk, second_clerk, committed_item) -> None:
    case = actions.open_case(clerk, committed_item, person())
    actions.update_materials(clerk, case, 1, all_received(case))
    # When one accepts and the other refuses, both from version 2, at the same instant
    outcomes = race(
        lambda: actions.accept(clerk, case.pk, 2),
        lambda: actions.refuse(second_clerk, case.pk, 2, "材料不符合要求", "某条例"),
    )
    # Then exactly one succeeded and the other got 办件已被他人更新 (409)
    conflicts = [outcome for outcome in outcomes if isinstance(outcome, Conflict)]
    notices = [outcome for outcome in outcomes if isinstance(outcome, Notice)]
    assert len(conflicts) == 1
    assert len(notices) == 1
    assert conflicts[0].status == 409
    # And the case holds exactly the winner's change
    case = fresh(case)
    assert case.version == 3
    assert case.state == ("accepted" if notices[0].kind == "acceptance" else "not_accepted")
    assert Notice.objects.count() == 1
    assert CaseEvent.objects.filter(case=case).exclude(action__in=["open", "update_materials"]).count() == 1


def test_two_sweeps_at_once_record_each_card_once(clerk, supervisor, committed_item) -> None:
    with clock.frozen(moment("2025-09-18")):
        cases = []
        for index in range(30):
            case = actions.open_case(clerk, committed_item, person(name=f"申请人{index}"))
            actions.accept(clerk, case, 1, updates=all_received(case))
            cases.append(case)

    def sweep() -> Any:
        with clock.frozen(moment("2025-09-29")):
            return supervise()

    results = race(sweep, sweep)
    assert sum(result.red_cards for result in results) == 30
    assert SupervisionCard.objects.count() == 30
    assert Violation.objects.count() == 30
    assert Notification.objects.filter(kind="red_card").count() == 60
    assert set(Case.objects.values_list("card_level", flat=True)) == {2}
