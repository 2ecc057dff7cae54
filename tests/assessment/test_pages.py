"""The 监督考核 pages: who may open, compute, publish and configure, and that the refused change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from servicehall.accounts.roles import Role
from servicehall.assessment import actions
from servicehall.assessment.models import (
    AssessmentPeriod,
    DailyFigures,
    Dimension,
    PeriodStatus,
    Score,
    SubjectKind,
)
from tests.conftest import audit_count, make_staff, verified_client

APRIL_FIRST = dt.datetime(2025, 4, 1, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def after_march() -> Any:
    with mock.patch("django.utils.timezone.now", return_value=APRIL_FIRST):
        yield


def _figures(site: Any, staff: Any, good: int) -> None:
    DailyFigures.objects.create(
        site=site,
        date=dt.date(2025, 3, 10),
        subject_kind=SubjectKind.STAFF,
        subject_id=staff.pk,
        ratings=10,
        ratings_good=good,
        check_ins_expected=4,
        check_ins_normal=4,
    )


@pytest.fixture
def march(
    clerk: Any, other_site_clerk: Any, town_site: Any, other_town_site: Any, centre_administrator: Any
) -> Any:
    _figures(town_site, clerk, 9)
    _figures(other_town_site, other_site_clerk, 10)
    with mock.patch("django.utils.timezone.now", return_value=APRIL_FIRST):
        return actions.compute_period(centre_administrator, "month", 2025, 3, rebuild=False)


def _score_of(period: Any, staff: Any) -> Score:
    return Score.objects.get(period=period, subject_kind=SubjectKind.STAFF, subject_id=staff.pk)


def test_a_supervisor_sees_the_ranking_of_their_own_site_only(
    march: Any, supervisor: Any, clerk: Any, other_site_clerk: Any, other_town_site: Any
) -> None:
    page = verified_client(supervisor).get(reverse("assessment:period", args=[march.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert clerk.full_name in text
    assert other_site_clerk.full_name != clerk.full_name
    assert other_site_clerk.full_name not in text
    assert other_town_site.name not in text
    assert _score_of(march, clerk).subject_name in text


def test_a_supervisor_cannot_open_a_score_of_another_site(
    march: Any, supervisor: Any, other_site_clerk: Any
) -> None:
    score = _score_of(march, other_site_clerk)
    assert verified_client(supervisor).get(reverse("assessment:score", args=[score.pk])).status_code == 404


def test_a_clerk_sees_their_own_score_explained_and_nobody_elses(
    march: Any, clerk: Any, other_site_clerk: Any
) -> None:
    client = verified_client(clerk)
    own = _score_of(march, clerk)
    page = client.get(reverse("assessment:score", args=[own.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "好评率" in text
    assert "9 / 10" in text
    assert "得分 = 100 × 实际值 ÷ 目标值 98" in text
    assert client.get(reverse("assessment:mine")).status_code == 200
    assert (
        client.get(reverse("assessment:score", args=[_score_of(march, other_site_clerk).pk])).status_code
        == 404
    )
    assert client.get(reverse("assessment:period", args=[march.pk])).status_code == 403


@pytest.mark.parametrize("persona", ["clerk", "supervisor"])
def test_only_the_centre_administrator_computes_publishes_and_configures(
    request: pytest.FixtureRequest, persona: str, march: Any, after_march: None
) -> None:
    user = request.getfixturevalue(persona)
    client = verified_client(user)
    efficiency = Dimension.objects.get(code="efficiency")
    records = audit_count(action__startswith="assessment.")

    assert client.post(reverse("assessment:compute"), {"period": "2025-02"}).status_code == 403
    assert client.post(reverse("assessment:publish", args=[march.pk])).status_code == 403
    index = client.post(reverse("assessment:index_system"), {f"dimension-{efficiency.pk}-weight": "40"})
    assert index.status_code == 403

    assert AssessmentPeriod.objects.count() == 1
    march.refresh_from_db()
    assert march.status == PeriodStatus.DRAFT
    efficiency.refresh_from_db()
    assert efficiency.weight == 30
    assert audit_count(action__startswith="assessment.") == records


def test_the_administrator_publishes_an_ended_month(
    march: Any, centre_administrator: Any, after_march: None
) -> None:
    client = verified_client(centre_administrator)
    response = client.post(reverse("assessment:publish", args=[march.pk]))
    assert response.status_code == 302
    march.refresh_from_db()
    assert march.status == PeriodStatus.PUBLISHED
    again = client.post(reverse("assessment:compute"), {"period": "2025-03"})
    assert again.status_code == 400
    assert "已冻结" in again.content.decode()


@pytest.mark.parametrize("raw", ["2025-13", "abc", "", "<script>alert(1)</script>"])
def test_a_malformed_period_gets_a_clear_400(centre_administrator: Any, raw: str, after_march: None) -> None:
    response = verified_client(centre_administrator).post(reverse("assessment:compute"), {"period": raw})
    assert response.status_code == 400
    assert "考核期" in response.content.decode() or "月份" in response.content.decode()
    assert not AssessmentPeriod.objects.exists()


def test_weights_off_100_are_sent_back_with_the_typed_values(centre_administrator: Any) -> None:
    system = actions.install_default_system()
    efficiency = Dimension.objects.get(system=system, code="efficiency")
    response = verified_client(centre_administrator).post(
        reverse("assessment:index_system"), {f"dimension-{efficiency.pk}-weight": "45"}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "各维度权重之和应为 100%，现为 115%" in text
    assert 'value="45"' in text
    efficiency.refresh_from_db()
    assert efficiency.weight == 30


def test_the_index_system_page_lists_every_indicator_with_its_method(supervisor: Any) -> None:
    page = verified_client(supervisor).get(reverse("assessment:index_system"))
    assert page.status_code == 200
    text = page.content.decode()
    for name in ("及时办结率", "一次办结率", "好评率", "差评率", "考勤正常率", "明察暗访扣分", "违反十不准"):
        assert name in text
    assert "disabled" in text


def test_a_citizen_is_sent_to_the_login(citizen_client: Client, db: None) -> None:
    response = citizen_client.get(reverse("assessment:period_list"))
    assert response.status_code == 302
    assert "/accounts/login" in response["Location"]


def test_an_unknown_period_is_404(centre_administrator: Any) -> None:
    assert (
        verified_client(centre_administrator).get(reverse("assessment:period", args=[999])).status_code == 404
    )


def test_a_clerk_of_another_department_has_no_data_and_no_rank(
    march: Any, town_site: Any, centre_administrator: Any
) -> None:
    newcomer = make_staff(town_site, Role.WINDOW_CLERK, username="new", full_name="新人")
    assert not Score.objects.filter(subject_kind=SubjectKind.STAFF, subject_id=newcomer.pk).exists()
    page = verified_client(newcomer).get(reverse("assessment:mine"))
    assert "还没有您的考核得分" in page.content.decode()
