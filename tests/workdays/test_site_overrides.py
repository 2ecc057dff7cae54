"""Local closures: a site's own calendar overrides (台风停办), entered or imported, winning at that site only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.test import Client

from servicehall.accounts.models import User
from servicehall.accounts.roles import Role
from servicehall.audit.models import AuditRecord
from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.workdays import actions, service
from servicehall.workdays.calendar import DateAnswer
from servicehall.workdays.models import CalendarOverride, PublishedYear
from tests.conftest import make_staff

MONDAY = dt.date(2025, 11, 17)
TYPHOON_TUESDAY = dt.date(2025, 11, 18)
NATIONAL_DAY_SWAP_SUNDAY = dt.date(2025, 9, 28)  # 国庆调休: a Sunday worked nationally

pytestmark = pytest.mark.django_db


@pytest.fixture
def town_administrator(town_site: Any) -> User:
    """A centre administrator of one town: the other town is outside their scope."""
    return make_staff(town_site, Role.CENTRE_ADMINISTRATOR, username="town_admin", full_name="吴镇管")


def typhoon(day: dt.date = TYPHOON_TUESDAY, name: str = "台风停办") -> actions.OverrideRow:
    return actions.OverrideRow(day, False, name, "台风红色预警")


def rows_now() -> list[tuple[Any, ...]]:
    return list(
        CalendarOverride.objects.order_by("date", F("site_id").asc(nulls_first=True)).values_list(
            "date", "site__code", "is_working_day", "name"
        )
    )


def workdays_audit() -> list[str]:
    return list(
        AuditRecord.objects.filter(action__startswith="workdays.")
        .order_by("id")
        .values_list("action", flat=True)
    )


def run_on_commit(django_capture_on_commit_callbacks: Any, action: Callable[[], Any]) -> Any:
    with django_capture_on_commit_callbacks(execute=True):
        return action()


# The calendar at a site -----------------------------------------------------------------------------


def test_a_local_closure_counts_at_that_site_only(
    centre_administrator, town_site, other_town_site, django_capture_on_commit_callbacks
) -> None:
    # Given the town closed for a typhoon on Tuesday
    run_on_commit(
        django_capture_on_commit_callbacks,
        lambda: actions.set_override(centre_administrator, typhoon(), site=town_site),
    )
    # Then one working day after Monday is Wednesday at the town, Tuesday anywhere else
    assert service.add(MONDAY, 1, site=town_site) == DateAnswer(dt.date(2025, 11, 19), False)
    assert service.add(MONDAY, 1, site=other_town_site) == DateAnswer(TYPHOON_TUESDAY, False)
    assert service.add(MONDAY, 1) == DateAnswer(TYPHOON_TUESDAY, False)
    assert service.between(MONDAY, dt.date(2025, 11, 21), site=town_site.pk).count == 3
    assert service.is_working_day(TYPHOON_TUESDAY, site=town_site) is False
    assert service.is_working_day(TYPHOON_TUESDAY) is True


def test_a_site_without_local_overrides_shares_the_national_index(
    centre_administrator, town_site, other_town_site, django_capture_on_commit_callbacks
) -> None:
    run_on_commit(
        django_capture_on_commit_callbacks,
        lambda: actions.set_override(centre_administrator, typhoon(), site=town_site),
    )
    national = service.current_calendar()
    assert service.current_calendar(other_town_site) is national
    assert service.current_calendar(None) is national
    town = service.current_calendar(town_site)
    assert town is not national
    # And it is built once, not per question
    assert service.current_calendar(town_site.pk) is town


def test_national_overrides_hold_at_every_site_and_local_ones_win(
    centre_administrator, town_site, django_capture_on_commit_callbacks
) -> None:
    # Given a national holiday on Tuesday and, at the town, a closure on the 调休 Sunday
    run_on_commit(
        django_capture_on_commit_callbacks,
        lambda: actions.set_override(centre_administrator, typhoon(name="全国停办")),
    )
    run_on_commit(
        django_capture_on_commit_callbacks,
        lambda: actions.set_override(centre_administrator, typhoon(NATIONAL_DAY_SWAP_SUNDAY), site=town_site),
    )
    # Then the national holiday counts at the town too, and the town's closure wins over the 调休
    assert service.is_working_day(TYPHOON_TUESDAY, site=town_site) is False
    assert service.is_working_day(NATIONAL_DAY_SWAP_SUNDAY) is True
    assert service.is_working_day(NATIONAL_DAY_SWAP_SUNDAY, site=town_site) is False


def test_removing_the_local_closure_restores_the_national_answer(
    centre_administrator, town_site, django_capture_on_commit_callbacks
) -> None:
    run_on_commit(
        django_capture_on_commit_callbacks,
        lambda: actions.set_override(centre_administrator, typhoon(), site=town_site),
    )
    run_on_commit(
        django_capture_on_commit_callbacks,
        lambda: actions.remove_override(centre_administrator, TYPHOON_TUESDAY, site=town_site),
    )
    assert service.add(MONDAY, 1, site=town_site) == DateAnswer(TYPHOON_TUESDAY, False)
    assert service.current_calendar(town_site) is service.current_calendar()
    assert workdays_audit() == ["workdays.override_set", "workdays.override_removed"]


# Entering and importing ------------------------------------------------------------------------------


def test_the_same_day_can_be_national_and_local(centre_administrator, town_site) -> None:
    actions.set_override(centre_administrator, typhoon(name="全国"))
    actions.set_override(centre_administrator, typhoon(name="本镇"), site=town_site)
    actions.set_override(centre_administrator, typhoon(name="本镇（改）"), site=town_site)
    assert rows_now() == [
        (TYPHOON_TUESDAY, None, False, "全国"),
        (TYPHOON_TUESDAY, "TOWN-A", False, "本镇（改）"),
    ]
    audit = AuditRecord.objects.filter(action="workdays.override_set").order_by("id").last()
    assert audit.site_id == town_site.pk
    assert audit.after["site"] == "TOWN-A"
    assert audit.before == {"is_working_day": False, "name": "本镇", "note": "台风红色预警"}


def test_removing_a_local_day_leaves_the_national_one(centre_administrator, town_site) -> None:
    actions.set_override(centre_administrator, typhoon(name="全国"))
    actions.set_override(centre_administrator, typhoon(name="本镇"), site=town_site)
    actions.remove_override(centre_administrator, TYPHOON_TUESDAY, site=town_site)
    assert rows_now() == [(TYPHOON_TUESDAY, None, False, "全国")]
    with pytest.raises(ActionRefused) as refusal:
        actions.remove_override(centre_administrator, TYPHOON_TUESDAY, site=town_site)
    assert refusal.value.message == "该日期没有调整记录。"


def test_a_site_outside_the_scope_does_not_exist(town_administrator: User, other_town_site) -> None:
    before, audit_before = rows_now(), workdays_audit()
    with pytest.raises(NotFound):
        actions.set_override(town_administrator, typhoon(), site=other_town_site)
    with pytest.raises(NotFound):
        actions.import_site_overrides(town_administrator, other_town_site, [typhoon()])
    assert rows_now() == before
    assert workdays_audit() == audit_before


def test_the_national_notice_keeps_local_closures(centre_administrator, town_site) -> None:
    # Given a local closure and a national override in 2027
    actions.set_override(centre_administrator, typhoon(dt.date(2027, 3, 2)), site=town_site)
    actions.set_override(centre_administrator, typhoon(dt.date(2027, 3, 3), name="旧全国"))
    # When 2027's national schedule is published
    actions.publish_year(
        centre_administrator, 2027, [actions.OverrideRow(dt.date(2027, 1, 1), False, "元旦")], "国办发明电"
    )
    # Then the national override is replaced and the town's closure stays
    assert rows_now() == [
        (dt.date(2027, 1, 1), None, False, "元旦"),
        (dt.date(2027, 3, 2), "TOWN-A", False, "台风停办"),
    ]
    assert PublishedYear.objects.filter(year=2027).exists()


def test_importing_local_closures_replaces_those_dates_and_keeps_the_rest(
    centre_administrator, town_site
) -> None:
    actions.set_override(centre_administrator, typhoon(dt.date(2025, 11, 18), name="旧"), site=town_site)
    actions.set_override(centre_administrator, typhoon(dt.date(2025, 12, 1), name="维修"), site=town_site)
    rows = actions.parse_schedule(
        "日期,类型,名称,说明\n2025-11-18,休息,台风停办,\n2025-11-19,休息,台风停办,\n".encode(), "town.csv"
    )
    assert actions.import_site_overrides(centre_administrator, town_site, rows) == 2
    assert rows_now() == [
        (dt.date(2025, 11, 18), "TOWN-A", False, "台风停办"),
        (dt.date(2025, 11, 19), "TOWN-A", False, "台风停办"),
        (dt.date(2025, 12, 1), "TOWN-A", False, "维修"),
    ]
    audit = AuditRecord.objects.get(action="workdays.site_overrides_imported")
    assert audit.before == {"replaced": 1}
    assert audit.after["dates"] == ["2025-11-18", "2025-11-19"]
    # No year is marked published by a local import
    assert not PublishedYear.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("日期,类型,名称\n2025-11-18,休息,台风\n2025-11-18,休息,台风\n", "第 3 行：日期 2025-11-18 重复。"),
        ("日期,类型,名称\n2025-02-30,休息,台风\n", "第 2 行第 1 列：无效日期 2025-02-30。"),
        ("日期,类型,名称\n2025-11-18,休息,\n", "第 2 行：请填写名称（如“春节”“调休上班”“台风停办”）。"),
        ("日期,类型,名称\n", "没有可导入的日期。"),
    ],
)
def test_a_bad_local_file_imports_nothing(centre_administrator, town_site, text, message) -> None:
    actions.set_override(centre_administrator, typhoon(dt.date(2025, 12, 1), name="维修"), site=town_site)
    before, audit_before = rows_now(), workdays_audit()
    with pytest.raises(ActionRefused) as refusal:
        actions.import_site_overrides(
            centre_administrator, town_site, actions.parse_schedule(text.encode(), "town.csv")
        )
    assert refusal.value.message == message
    assert refusal.value.status == 400
    assert rows_now() == before
    assert workdays_audit() == audit_before


# The page -------------------------------------------------------------------------------------------


@pytest.fixture
def administrator_client(client_for: Callable[[User], Client], centre_administrator: User) -> Client:
    return client_for(centre_administrator)


def test_the_page_enters_and_shows_a_sites_local_closure(administrator_client: Client, town_site) -> None:
    response = administrator_client.post(
        "/calendar/overrides/",
        {"site": town_site.pk, "date": "2025-11-18", "is_working_day": "0", "name": "台风停办", "note": ""},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/calendar/?year=2025&site={town_site.pk}"
    assert rows_now() == [(TYPHOON_TUESDAY, "TOWN-A", False, "台风停办")]
    page = administrator_client.get(f"/calendar/?year=2025&site={town_site.pk}").content.decode()
    assert "三角镇便民服务中心本年度的本地调整" in page
    assert '<td class="day-holiday" title="2025-11-18 台风停办">18</td>' in page
    national = administrator_client.get("/calendar/?year=2025").content.decode()
    assert "本年度调整（全部场所）" in national
    assert "本年度没有调整，使用正式数据。" in national


def test_the_page_removes_a_local_closure(
    administrator_client: Client, centre_administrator, town_site
) -> None:
    actions.set_override(centre_administrator, typhoon(name="全国"))
    actions.set_override(centre_administrator, typhoon(name="本镇"), site=town_site)
    response = administrator_client.post(
        "/calendar/overrides/remove/", {"date": "2025-11-18", "site": town_site.pk}
    )
    assert response.status_code == 302
    assert rows_now() == [(TYPHOON_TUESDAY, None, False, "全国")]


def test_the_page_imports_a_sites_local_closures(administrator_client: Client, town_site) -> None:
    upload = SimpleUploadedFile(
        "town.csv", "2025-11-18,休息,台风停办,\n".encode("utf-8-sig"), content_type="text/csv"
    )
    response = administrator_client.post("/calendar/import/site/", {"site": town_site.pk, "file": upload})
    assert response.status_code == 302
    assert rows_now() == [(TYPHOON_TUESDAY, "TOWN-A", False, "台风停办")]


def test_a_town_administrator_cannot_touch_another_towns_calendar(
    client_for: Callable[[User], Client], town_administrator: User, other_town_site
) -> None:
    client = client_for(town_administrator)
    before, audit_before = rows_now(), workdays_audit()
    assert client.get(f"/calendar/?year=2025&site={other_town_site.pk}").status_code == 404
    response = client.post(
        "/calendar/overrides/",
        {"site": other_town_site.pk, "date": "2025-11-18", "is_working_day": "0", "name": "台风停办"},
    )
    assert response.status_code == 400
    assert "服务场所不存在或不在您的管理范围内。" in response.content.decode()
    upload = SimpleUploadedFile("town.csv", "2025-11-18,休息,台风停办,\n".encode(), content_type="text/csv")
    response = client.post("/calendar/import/site/", {"site": other_town_site.pk, "file": upload})
    assert response.status_code == 400
    assert client.post("/calendar/overrides/remove/", {"date": "2025-11-18", "site": "x"}).status_code == 404
    assert rows_now() == before
    assert workdays_audit() == audit_before
