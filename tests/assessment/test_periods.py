# ruff: noqa: F811  (fixtures imported from tests/queueing are used as parameters)
"""Daily figures from real history, scores of a period, publishing and freezing, the pages and who may see them.

The hall of tests/queueing: Monday 3 March 2025 at the town site, window 3 calls 社保业务 (A).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest

from servicehall.accounts.roles import Role
from servicehall.assessment import actions, rollup
from servicehall.assessment.models import (
    AssessmentPeriod,
    DailyFigures,
    Dimension,
    HourlyArrivals,
    Indicator,
    PeriodStatus,
    Score,
    SubjectKind,
)
from servicehall.feedback import actions as feedback
from servicehall.lib.errors import ActionRefused, PermissionRefused
from servicehall.supervision.actions import record_violation
from servicehall.supervision.models import ViolationKind, ViolationSource
from tests.conftest import audit_count, make_staff
from tests.feedback.conftest import serve
from tests.queueing.conftest import (  # noqa: F401  (fixtures)
    MONDAY,
    _fresh_caches,
    at,
    at_window,
    opening_hours,
    social_security,
    window_four,
    window_six,
)

APRIL_FIRST = dt.datetime(2025, 4, 1, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def after_march() -> Any:
    """Today is 1 April 2025: March has ended and can be published."""
    with mock.patch("django.utils.timezone.now", return_value=APRIL_FIRST):
        yield


@pytest.fixture
def march_history(clerk: Any, at_window: Any, social_security: Any, town_site: Any) -> dict[str, Any]:
    """Three citizens served at window 3 on Monday 3 March; two rate 非常满意, one 不满意; one 禁语 finding."""
    tickets = [serve(clerk, at_window, social_security, minute) for minute in (0, 10, 20)]
    for ticket, level in zip(tickets, (5, 5, 2), strict=True):
        token = feedback.issue_token_for_ticket(ticket, now=at(9, 40))
        reasons = ["attitude"] if level <= 2 else []
        feedback.rate(token.key, level=level, reasons=reasons, channel="qr_code", now=at(9, 45))
    record_violation(
        site=town_site,
        kind=ViolationKind.FORBIDDEN_LANGUAGE,
        source=ViolationSource.CONDUCT,
        source_reference="test-1",
        description="使用禁忌用语",
        staff=clerk,
        occurred_at=at(11),
    )
    return {"tickets": tickets}


def _figures(kind: str, subject_id: int) -> DailyFigures:
    return DailyFigures.objects.get(date=MONDAY, subject_kind=kind, subject_id=subject_id)


def test_a_day_is_rolled_up_from_the_history_of_every_app(
    march_history: dict, clerk: Any, at_window: Any, town_site: Any, department: Any, social_security: Any
) -> None:
    rollup.rebuild_day(town_site.pk, MONDAY)

    staff = _figures(SubjectKind.STAFF, clerk.pk)
    # serve(): issued 9:mm, called 9:mm+1, started +2, finished +7 → wait 60 s, service 300 s each
    assert (staff.tickets_called, staff.wait_seconds, staff.tickets_served, staff.service_seconds) == (
        3,
        180,
        3,
        900,
    )
    assert staff.served_within_target == 3
    assert (staff.ratings, staff.ratings_good, staff.ratings_bad) == (3, 2, 1)
    assert staff.conduct_findings == 1
    window_row = _figures(SubjectKind.WINDOW, at_window.pk)
    assert (window_row.tickets_served, window_row.ratings, window_row.conduct_findings) == (3, 3, 0)
    assert _figures(SubjectKind.DEPARTMENT, department.pk).conduct_findings == 1
    assert _figures(SubjectKind.SITE, town_site.pk).arrivals == 3
    hour = HourlyArrivals.objects.get(site=town_site, date=MONDAY, hour=9, category=social_security)
    assert (hour.arrivals, hour.tickets_served, hour.service_seconds) == (3, 3, 900)


def test_rebuilding_a_day_is_idempotent(march_history: dict, town_site: Any) -> None:
    rollup.rebuild_day(town_site.pk, MONDAY)
    first = sorted(DailyFigures.objects.values_list("subject_kind", "subject_id", "ratings", "wait_seconds"))
    rollup.rebuild_day(town_site.pk, MONDAY)
    assert (
        sorted(DailyFigures.objects.values_list("subject_kind", "subject_id", "ratings", "wait_seconds"))
        == first
    )


def test_a_period_scores_ranks_and_explains(
    march_history: dict, clerk: Any, town_site: Any, centre_administrator: Any, after_march: None
) -> None:
    newcomer = make_staff(town_site, Role.WINDOW_CLERK, username="newcomer", full_name="新同事")

    period = actions.compute_period(centre_administrator, "month", 2025, 3)

    score = Score.objects.get(period=period, subject_kind=SubjectKind.STAFF, subject_id=clerk.pk)
    attitude = next(item for item in score.explanation()["dimensions"] if item["code"] == "attitude")
    good_rate = next(item for item in attitude["indicators"] if item["code"] == "good_rate")
    assert (good_rate["numerator"], good_rate["denominator"], good_rate["value"]) == (2, 3, "66.67")
    conduct = next(item for item in attitude["indicators"] if item["code"] == "conduct")
    assert (conduct["value"], conduct["score"]) == ("1.00", "80.00")
    assert score.total is not None
    assert score.rank == 1
    # The newcomer never served: no row, so no score and no division by zero.
    assert not Score.objects.filter(
        period=period, subject_id=newcomer.pk, subject_kind=SubjectKind.STAFF
    ).exists()
    assert period.status == PeriodStatus.DRAFT
    assert audit_count(action="assessment.compute_period") == 1


def test_a_late_rating_is_counted_when_a_draft_is_recomputed(
    clerk: Any,
    at_window: Any,
    social_security: Any,
    town_site: Any,
    centre_administrator: Any,
    after_march: None,
) -> None:
    ticket = serve(clerk, at_window, social_security, 0)
    period = actions.compute_period(centre_administrator, "month", 2025, 3)
    assert (
        Score.objects.get(period=period, subject_kind="staff", subject_id=clerk.pk).details["counters"][
            "ratings"
        ]
        == 0
    )

    token = feedback.issue_token_for_ticket(ticket, now=at(9, 40))
    feedback.rate(token.key, level=5, channel="qr_code", now=at(9, 45, dt.date(2025, 3, 4)))
    actions.compute_period(centre_administrator, "month", 2025, 3)

    counters = Score.objects.get(period=period, subject_kind="staff", subject_id=clerk.pk).details["counters"]
    assert counters["ratings"] == 1


def test_publishing_freezes_the_period(
    march_history: dict,
    clerk: Any,
    at_window: Any,
    social_security: Any,
    centre_administrator: Any,
    after_march: None,
) -> None:
    period = actions.compute_period(centre_administrator, "month", 2025, 3)
    period = actions.publish_period(centre_administrator, period)
    frozen = {(row.subject_kind, row.subject_id): row.total for row in period.scores.all()}
    assert period.status == PeriodStatus.PUBLISHED
    assert period.index_snapshot["dimensions"][0]["code"] == "efficiency"

    # More history for March arrives and the weights change; the published numbers stay.
    serve(clerk, at_window, social_security, 40)
    efficiency = Dimension.objects.get(code="efficiency")
    with pytest.raises(ActionRefused) as refusal:
        actions.compute_period(centre_administrator, "month", 2025, 3)
    assert refusal.value.code == "period_frozen"
    with pytest.raises(ActionRefused):
        actions.publish_period(centre_administrator, period)
    assert {(row.subject_kind, row.subject_id): row.total for row in period.scores.all()} == frozen
    assert efficiency.weight == 30


def test_a_month_not_yet_ended_cannot_be_published(centre_administrator: Any, town_site: Any) -> None:
    with mock.patch("django.utils.timezone.now", return_value=dt.datetime(2025, 3, 20, 2, tzinfo=dt.UTC)):
        period = actions.compute_period(centre_administrator, "month", 2025, 3)
        with pytest.raises(ActionRefused) as refusal:
            actions.publish_period(centre_administrator, period)
    assert refusal.value.code == "period_not_ended"
    period.refresh_from_db()
    assert period.status == PeriodStatus.DRAFT


def test_a_future_period_is_refused(centre_administrator: Any) -> None:
    with mock.patch("django.utils.timezone.now", return_value=APRIL_FIRST), pytest.raises(ActionRefused):
        actions.compute_period(centre_administrator, "month", 2025, 5)
    assert not AssessmentPeriod.objects.exists()


def test_weights_not_summing_to_100_are_refused_and_nothing_changes(centre_administrator: Any) -> None:
    system = actions.install_default_system()
    efficiency = Dimension.objects.get(system=system, code="efficiency")
    on_time = Indicator.objects.get(dimension=efficiency, code="on_time")
    before = audit_count()

    with pytest.raises(ActionRefused) as refusal:
        actions.configure_system(
            centre_administrator,
            system,
            {f"dimension-{efficiency.pk}-weight": "35", f"indicator-{on_time.pk}-target": "90"},
        )

    assert refusal.value.code == "weights_not_100"
    assert "100%" in refusal.value.message
    efficiency.refresh_from_db()
    on_time.refresh_from_db()
    assert (efficiency.weight, on_time.target) == (30, Decimal("95.00"))
    assert audit_count() == before


def test_a_valid_change_is_saved_and_audited(centre_administrator: Any) -> None:
    system = actions.install_default_system()
    on_time = Indicator.objects.get(dimension__system=system, code="on_time")
    actions.configure_system(centre_administrator, system, {f"indicator-{on_time.pk}-target": "90"})
    on_time.refresh_from_db()
    assert on_time.target == Decimal("90.00")
    assert audit_count(action="assessment.configure_index_system") == 1


@pytest.mark.parametrize("raw", ["abc", "-5", "NaN", "1e9", "<script>"])
def test_bad_parameters_are_refused(centre_administrator: Any, raw: str) -> None:
    system = actions.install_default_system()
    on_time = Indicator.objects.get(dimension__system=system, code="on_time")
    with pytest.raises(ActionRefused):
        actions.configure_system(centre_administrator, system, {f"indicator-{on_time.pk}-target": raw})
    on_time.refresh_from_db()
    assert on_time.target == Decimal("95.00")


def test_only_managers_compute_or_configure(supervisor: Any, clerk: Any) -> None:
    system = actions.install_default_system()
    for actor in (supervisor, clerk):
        with pytest.raises(PermissionRefused):
            actions.compute_period(actor, "month", 2025, 3)
        with pytest.raises(PermissionRefused):
            actions.configure_system(actor, system, {})
    assert not AssessmentPeriod.objects.exists()


@pytest.mark.parametrize("raw", ["", "2025-13", "2025Q5", "20x5", "2025-1-1", "'; drop table"])
def test_malformed_periods_are_refused(raw: str) -> None:
    def parse_and_bound() -> None:
        kind, year, number = actions.parse_period(raw)
        actions.period_bounds(kind, year, number)

    with pytest.raises(ActionRefused):
        parse_and_bound()


def test_quarter_and_year_bounds() -> None:
    assert actions.period_bounds("quarter", 2025, 4) == (dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    assert actions.period_bounds("year", 2025, 1) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert actions.period_bounds("month", 2025, 2) == (dt.date(2025, 2, 1), dt.date(2025, 2, 28))


def test_bottom_of_two_consecutive_months_is_flagged(town_site: Any, centre_administrator: Any) -> None:
    """Three clerks ranked by 好评率 alone; the last one two months running is flagged."""
    clerks = [
        make_staff(town_site, Role.WINDOW_CLERK, username=f"c{n}", full_name=f"职员{n}") for n in range(4)
    ]
    for month in (1, 2):
        for position, staff in enumerate(clerks):
            DailyFigures.objects.create(
                site=town_site,
                date=dt.date(2025, month, 10),
                subject_kind=SubjectKind.STAFF,
                subject_id=staff.pk,
                ratings=10,
                ratings_good=10 - position,
            )
    with mock.patch("django.utils.timezone.now", return_value=APRIL_FIRST):
        january = actions.compute_period(centre_administrator, "month", 2025, 1, rebuild=False)
        february = actions.compute_period(centre_administrator, "month", 2025, 2, rebuild=False)
    january_last = Score.objects.get(period=january, subject_id=clerks[3].pk)
    assert january_last.details["bottom_in_month"] is True
    assert january_last.bottom_flag is False
    february_scores = {score.subject_id: score for score in february.scores.filter(subject_kind="staff")}
    assert february_scores[clerks[3].pk].bottom_flag is True
    assert february_scores[clerks[2].pk].bottom_flag is True
    assert february_scores[clerks[0].pk].bottom_flag is False
    assert [february_scores[staff.pk].rank for staff in clerks] == [1, 2, 3, 4]


def test_an_integrity_violation_disqualifies_from_nomination(
    town_site: Any, centre_administrator: Any
) -> None:
    star = make_staff(town_site, Role.WINDOW_CLERK, username="star", full_name="优秀")
    DailyFigures.objects.create(
        site=town_site,
        date=dt.date(2025, 1, 10),
        subject_kind=SubjectKind.STAFF,
        subject_id=star.pk,
        ratings=10,
        ratings_good=10,
        check_ins_expected=4,
        check_ins_normal=4,
        integrity_violations=1,
    )
    with mock.patch("django.utils.timezone.now", return_value=APRIL_FIRST):
        period = actions.compute_period(centre_administrator, "month", 2025, 1, rebuild=False)
    score = Score.objects.get(period=period, subject_id=star.pk)
    assert score.nominated is False
    assert "十不准" in score.disqualified_reason


def test_the_sweep_rebuilds_recent_days_once_and_then_leaves_them(town_site: Any, city_site: Any) -> None:
    from servicehall.assessment import sweeps
    from servicehall.assessment.models import RollupDay

    moment = dt.datetime(2025, 3, 20, 2, tzinfo=dt.UTC)
    first = sweeps.sweep(now=moment)
    # 11 days (the settling window and today) for each of the two sites
    assert first.rebuilt_days == 22
    assert RollupDay.objects.count() == 22
    with mock.patch("django.utils.timezone.now", return_value=moment):
        assert sweeps.sweep(now=moment + dt.timedelta(minutes=1)).rebuilt_days == 0
