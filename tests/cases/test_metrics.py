"""The figures of the seeds from the case history: 及时办结率, 一次办结率, average working days, 补正 per case."""

from __future__ import annotations

import pytest

from servicehall.cases import actions, metrics
from servicehall.cases.models import CaseEvent
from tests.cases.conftest import all_received, check_of, fresh, person, received_except


def finish(clerk, supervisor, case, at, day):
    with at(day):
        actions.decide_case(supervisor, case, fresh(case).version, True, "")
        actions.complete(clerk, case, fresh(case).version)


@pytest.fixture
def history(clerk, second_clerk, supervisor, committed_item, at):
    """Three cases: on time in one visit; on time after one 补正 (two visits); late."""
    with at("2025-09-25"):
        one = actions.open_case(clerk, committed_item, person(name="甲"))
        actions.accept(clerk, one, 1, updates=all_received(one))
        two = actions.open_case(clerk, committed_item, person(name="乙"))
        actions.request_supplement(clerk, two, 1, updates=received_except(two, "劳动合同"))
    with at("2025-09-26"):
        actions.receive_supplement(
            clerk, two, 2, [actions.MaterialUpdate(check_of(two, "劳动合同").pk, "received")]
        )
        actions.accept(clerk, two, 3)
        three = actions.open_case(second_clerk, committed_item, person(name="丙"))
        actions.accept(second_clerk, three, 1, updates=all_received(three))
    finish(clerk, supervisor, one, at, "2025-09-29")
    finish(clerk, supervisor, two, at, "2025-10-09")
    finish(second_clerk, supervisor, three, at, "2025-10-20")
    return one, two, three


def test_overall_figures(history) -> None:
    report = metrics.report()
    overall = report.overall
    assert (overall.completed, overall.on_time, overall.one_visit, overall.supplements) == (3, 2, 2, 1)
    # 09-26, 09-28 (调休), 09-29; then 09-28..10-09 (holiday skipped); then twelve working days to 10-20
    assert overall.working_days_total == 3 + 4 + 12
    assert overall.as_dict() == {
        "completed": 3,
        "on_time": 2,
        "on_time_rate": 0.6667,
        "one_visit": 2,
        "one_visit_rate": 0.6667,
        "average_working_days": 6.3333,
        "supplements": 1,
        "supplements_per_case": 0.3333,
        "meets_on_time_target": False,
    }


def test_figures_per_clerk_department_and_site(history, clerk, second_clerk, department, town_site) -> None:
    report = metrics.report()
    assert (report.by_clerk[clerk.pk].completed, report.by_clerk[clerk.pk].on_time_rate) == (2, 1.0)
    assert report.by_clerk[clerk.pk].meets_on_time_target is True
    assert (report.by_clerk[second_clerk.pk].completed, report.by_clerk[second_clerk.pk].on_time_rate) == (
        1,
        0.0,
    )
    assert report.by_department[department.pk].completed == 3
    assert report.by_site[town_site.pk].one_visit == 2
    labelled = report.labelled()
    assert [name for name, _figures in labelled["clerk"]] == sorted([str(clerk), str(second_clerk)])
    assert [name for name, _figures in labelled["site"]] == ["三角镇便民服务中心"]


def test_figures_are_recomputed_from_history_and_respect_period_and_scope(history, other_town_site) -> None:
    import datetime as dt

    from django.utils import timezone

    start = timezone.make_aware(dt.datetime(2025, 10, 1))
    assert metrics.report(start=start).overall.completed == 2
    assert metrics.report(site_ids=[other_town_site.pk]).overall.completed == 0
    assert CaseEvent.objects.filter(action="complete").count() == 3


def test_no_completions_give_no_rates(db) -> None:
    overall = metrics.report().overall
    assert (
        overall.on_time_rate,
        overall.one_visit_rate,
        overall.average_working_days,
        overall.meets_on_time_target,
    ) == (
        None,
        None,
        None,
        None,
    )
