"""The management pages: forms that save, bad input shown again next to its field with 400, safe output."""

from __future__ import annotations

import re
from datetime import time

import pytest

from servicehall.audit.models import AuditRecord
from servicehall.sites.models import Department, OpeningPeriod, Site, Window
from tests.factories import OpeningPeriodFactory, WindowPostFactory
from tests.sites.conftest import audit_actions_after, last_audit_id, site_rows


@pytest.fixture
def manager_client(client_for, centre_administrator):
    return client_for(centre_administrator)


def field_error(body: str, message: str) -> bool:
    return f'<span class="error" role="alert">{message}</span>' in body


# ----------------------------------------------------------------------------- sites


def test_manager_creates_a_village_from_the_form(manager_client, town_site) -> None:
    # Given the new-site form opened from the town's page
    form = manager_client.get(f"/sites/new/?parent={town_site.pk}")
    assert form.status_code == 200
    assert f'<option value="{town_site.pk}" selected>' in form.content.decode()
    # When a village is submitted
    response = manager_client.post(
        "/sites/new/",
        {
            "code": "VIL-1",
            "name": "沙栏村便民服务站",
            "level": "village",
            "parent": town_site.pk,
            "address": "沙栏村",
            "service_phone": "0760-1",
            "supervision_phone": "",
            "is_active": "on",
        },
    )
    # Then the person lands on the new site's page, which shows it
    village = Site.objects.get(code="VIL-1")
    assert response.status_code == 302
    assert response["Location"] == f"/sites/{village.pk}/"
    assert (village.level, village.parent_id, village.is_active) == ("village", town_site.pk, True)
    page = manager_client.get(response["Location"])
    assert "沙栏村便民服务站" in page.content.decode()
    assert "已新建服务场所 沙栏村便民服务站。" in page.content.decode()


def test_site_form_shows_the_rule_next_to_the_field_with_400(manager_client, city_site, town_site) -> None:
    before = site_rows()
    last = last_audit_id()
    response = manager_client.post(
        "/sites/new/",
        {"code": "TOWN-A", "name": "重复编码", "level": "village", "parent": city_site.pk, "is_active": "on"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert field_error(body, "编码已被其他服务场所使用。")
    assert site_rows() == before
    assert audit_actions_after(last) == []


def test_site_form_reports_level_rule(manager_client, city_site) -> None:
    response = manager_client.post(
        "/sites/new/", {"code": "VIL-2", "name": "村站", "level": "village", "parent": city_site.pk}
    )
    assert response.status_code == 400
    assert field_error(
        response.content.decode(),
        "上级场所的层级不正确：村（社区）便民服务站的上级应为镇（街）便民服务中心。",
    )


def test_ten_thousand_character_name_is_a_400_not_a_crash(manager_client, city_site) -> None:
    before = site_rows()
    response = manager_client.post(
        "/sites/new/", {"code": "LONG", "name": "长" * 10_000, "level": "town", "parent": city_site.pk}
    )
    assert response.status_code == 400
    assert field_error(response.content.decode(), "名称不能超过 100 个字符。")
    assert site_rows() == before


def test_nul_character_is_a_400_not_a_crash(manager_client, city_site) -> None:
    response = manager_client.post(
        "/sites/new/", {"code": "NUL", "name": "南头\x00镇", "level": "town", "parent": city_site.pk}
    )
    assert response.status_code == 400
    assert not Site.objects.filter(code="NUL").exists()


def test_deactivating_a_parent_of_active_sites_is_explained(manager_client, city_site, town_site) -> None:
    response = manager_client.post(
        f"/sites/{city_site.pk}/edit/",
        {"code": "CITY", "name": city_site.name, "level": "city", "parent": ""},
    )
    assert response.status_code == 400
    assert field_error(response.content.decode(), "该场所还有启用中的下级场所，请先停用下级场所。")
    city_site.refresh_from_db()
    assert city_site.is_active is True


def test_html_in_names_is_escaped_everywhere(manager_client, city_site) -> None:
    # Given a site whose name is a script tag and whose address is an SQL fragment
    hostile = "<script>alert('x')</script>"
    response = manager_client.post(
        "/sites/new/",
        {
            "code": "EVIL",
            "name": hostile,
            "level": "town",
            "parent": city_site.pk,
            "address": "'; DROP TABLE sites_site; --",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    site = Site.objects.get(code="EVIL")
    # Then both are stored verbatim, the table still stands, and no page renders the tag
    assert (site.name, site.address) == (hostile, "'; DROP TABLE sites_site; --")
    assert Site.objects.count() == 2
    for url in ("/sites/", f"/sites/{site.pk}/", f"/sites/{site.pk}/edit/"):
        body = manager_client.get(url).content.decode()
        assert hostile not in body
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body


def test_unknown_ids_are_404_on_every_page(manager_client, town_site) -> None:
    for url in (
        "/sites/999999/",
        "/sites/999999/edit/",
        "/sites/999999/departments/new/",
        "/sites/departments/999999/edit/",
        "/sites/999999/windows/new/",
        "/sites/windows/999999/edit/",
        "/sites/999999/opening-hours/",
    ):
        assert manager_client.get(url).status_code == 404, url
        assert manager_client.post(url, {}).status_code == 404, url


# ----------------------------------------------------------------------------- departments


def test_department_add_and_edit(manager_client, town_site) -> None:
    response = manager_client.post(
        f"/sites/{town_site.pk}/departments/new/", {"code": "GA", "name": "公安局", "is_active": "on"}
    )
    assert response.status_code == 302
    department = Department.objects.get(site=town_site, code="GA")
    edit = manager_client.get(f"/sites/departments/{department.pk}/edit/")
    assert 'value="公安局"' in edit.content.decode()
    response = manager_client.post(
        f"/sites/departments/{department.pk}/edit/", {"code": "GA", "name": "公安分局"}
    )
    assert response.status_code == 302
    department.refresh_from_db()
    assert (department.name, department.is_active) == ("公安分局", False)
    assert list(AuditRecord.objects.filter(action__startswith="sites.").values_list("action", flat=True)) == [
        "sites.department_updated",
        "sites.department_created",
    ]


def test_department_duplicate_code_shows_400(manager_client, department) -> None:
    response = manager_client.post(
        f"/sites/{department.site_id}/departments/new/", {"code": "RS", "name": "又一个人社"}
    )
    assert response.status_code == 400
    assert field_error(response.content.decode(), "本场所已有编码为 RS 的部门。")


# ----------------------------------------------------------------------------- windows


def test_window_form_offers_every_post_kind_as_a_checkbox(manager_client, window) -> None:
    WindowPostFactory(window=window, kind="reception")
    body = manager_client.get(f"/sites/windows/{window.pk}/edit/").content.decode()
    assert len(re.findall(r'<input type="checkbox" name="posts"', body)) == 11
    assert re.search(r'<input type="checkbox" name="posts" value="reception"[^>]*checked', body)
    assert "“办不成事”反映窗口" in body


def test_window_add_with_posts(manager_client, town_site, department) -> None:
    response = manager_client.post(
        f"/sites/{town_site.pk}/windows/new/",
        {
            "number": "7",
            "name": "不动产窗口",
            "department": department.pk,
            "posts": ["reception", "caring"],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    window = Window.objects.get(site=town_site, number=7)
    assert sorted(window.posts.values_list("kind", flat=True)) == ["caring", "reception"]


def test_new_window_form_suggests_the_next_number(manager_client, window) -> None:
    body = manager_client.get(f"/sites/{window.site_id}/windows/new/").content.decode()
    assert re.search(r'name="number" value="4"', body)


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("0", "窗口号须为 1–999 的整数。"),
        ("1000", "窗口号须为 1–999 的整数。"),
        ("abc", "窗口号须为 1–999 的整数。"),
        ("", "请填写窗口号。"),
        ("3", "本场所已有 3 号窗口。"),
    ],
)
def test_bad_window_numbers_show_400(manager_client, window, number, message) -> None:
    before = site_rows()
    response = manager_client.post(
        f"/sites/{window.site_id}/windows/new/", {"number": number, "name": "新窗口", "is_active": "on"}
    )
    assert response.status_code == 400
    assert field_error(response.content.decode(), message)
    assert site_rows() == before


def test_unknown_post_kind_from_the_form_is_400(manager_client, town_site) -> None:
    response = manager_client.post(
        f"/sites/{town_site.pk}/windows/new/", {"number": "5", "name": "窗口", "posts": ["janitor"]}
    )
    assert response.status_code == 400
    assert not Window.objects.filter(number=5).exists()


def test_department_of_another_site_is_refused_on_the_form(
    manager_client, town_site, other_town_site
) -> None:
    foreign = Department.objects.create(site=other_town_site, code="GA", name="外镇公安")
    response = manager_client.post(
        f"/sites/{town_site.pk}/windows/new/", {"number": "5", "name": "窗口", "department": foreign.pk}
    )
    assert response.status_code == 400
    assert field_error(response.content.decode(), "部门不属于该服务场所。")


def test_second_supervisor_window_is_explained_on_the_form(manager_client, town_site) -> None:
    Window.objects.create(site=town_site, number=1, name="负责人窗口", is_supervisor_window=True)
    response = manager_client.post(
        f"/sites/{town_site.pk}/windows/new/", {"number": "2", "name": "窗口", "is_supervisor_window": "on"}
    )
    assert response.status_code == 400
    assert field_error(response.content.decode(), "每个服务场所只能有一个负责人窗口（1号窗口）。")


# ----------------------------------------------------------------------------- opening hours


def test_editor_shows_the_current_week_in_slots(manager_client, town_site) -> None:
    OpeningPeriodFactory(site=town_site, weekday=1, starts_at=time(14, 30), ends_at=time(17, 30))
    OpeningPeriodFactory(site=town_site, weekday=1, starts_at=time(8, 30), ends_at=time(12), note="上午")
    body = manager_client.get(f"/sites/{town_site.pk}/opening-hours/").content.decode()
    assert 'name="period-1-0-start" value="08:30"' in body
    assert 'name="period-1-0-note" value="上午"' in body
    assert 'name="period-1-1-start" value="14:30"' in body
    assert 'name="period-2-0-start" value=""' in body
    # Two slot rows (上午, 下午) are shown, and a third can be added
    assert "period-1-2-start" not in body
    assert 'name="add_row" value="2"' in body
    for label in ("星期一", "星期日", "开始时间", "结束时间"):
        assert label in body


def test_adding_a_row_keeps_what_was_typed_and_saves_nothing(manager_client, town_site) -> None:
    before = site_rows()
    last = last_audit_id()
    response = manager_client.post(
        f"/sites/{town_site.pk}/opening-hours/",
        {"period-3-0-start": "09:00", "period-3-0-end": "11:00", "add_row": "2"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="period-3-0-start" value="09:00"' in body
    assert re.search(r'name="period-1-2-start" value=""[^>]*autofocus', body)
    assert 'name="add_row" value="3"' in body
    assert site_rows() == before
    assert audit_actions_after(last) == []


def test_at_most_four_rows(manager_client, town_site) -> None:
    body = manager_client.post(f"/sites/{town_site.pk}/opening-hours/", {"add_row": "3"}).content.decode()
    assert "period-1-3-start" in body
    assert 'name="add_row"' not in body


def test_saving_the_week_from_the_editor(manager_client, town_site) -> None:
    OpeningPeriodFactory(site=town_site, weekday=7, starts_at=time(9), ends_at=time(12))
    response = manager_client.post(
        f"/sites/{town_site.pk}/opening-hours/",
        {
            "period-1-0-start": "08:30",
            "period-1-0-end": "12:00",
            "period-1-1-start": "14:30",
            "period-1-1-end": "17:30",
            "period-1-1-note": "下午",
            "period-6-2-start": "09:00",
            "period-6-2-end": "12:00",
            "period-6-2-note": "周六值班",
        },
    )
    assert response.status_code == 302
    assert list(
        OpeningPeriod.objects.filter(site=town_site)
        .order_by("weekday", "starts_at")
        .values_list("weekday", "starts_at", "ends_at", "note")
    ) == [
        (1, time(8, 30), time(12), ""),
        (1, time(14, 30), time(17, 30), "下午"),
        (6, time(9), time(12), "周六值班"),
    ]


@pytest.mark.parametrize(
    ("cells", "bad_cell", "message"),
    [
        (
            {"period-2-0-start": "12:00", "period-2-0-end": "09:00"},
            "period-2-0",
            "星期二 12:00–09:00：开始时间必须早于结束时间。",
        ),
        (
            {
                "period-2-0-start": "08:00",
                "period-2-0-end": "12:00",
                "period-2-1-start": "11:00",
                "period-2-1-end": "13:00",
            },
            "period-2-1",
            "星期二 11:00–13:00 与 08:00–12:00 时段重叠。",
        ),
        (
            {"period-4-0-start": "05:00", "period-4-0-end": "09:00"},
            "period-4-0",
            "星期四 05:00–09:00：办公时间须在 06:00 至 22:00 之间。",
        ),
        ({"period-5-0-start": "09:00"}, "period-5-0", "请按 时:分 填写开始和结束时间，例如 08:30。"),
        (
            {"period-5-1-start": "9点", "period-5-1-end": "12:00"},
            "period-5-1",
            "请按 时:分 填写开始和结束时间，例如 08:30。",
        ),
        ({"period-5-1-note": "只有说明"}, "period-5-1", "请填写开始和结束时间，或清空说明。"),
    ],
)
def test_bad_cells_are_marked_and_nothing_is_saved(
    manager_client, town_site, cells, bad_cell, message
) -> None:
    OpeningPeriodFactory(site=town_site)
    before = site_rows()
    response = manager_client.post(f"/sites/{town_site.pk}/opening-hours/", cells)
    assert response.status_code == 400
    body = response.content.decode()
    assert f'<span class="error" id="{bad_cell}-error" role="alert">{message}</span>' in body
    assert f'id="{bad_cell}-start"' in body
    assert re.search(rf'name="{bad_cell}-start"[^>]*aria-invalid="true"', body)
    assert site_rows() == before


def test_weekday_eight_in_the_form_is_ignored(manager_client, town_site) -> None:
    response = manager_client.post(
        f"/sites/{town_site.pk}/opening-hours/", {"period-8-0-start": "09:00", "period-8-0-end": "12:00"}
    )
    assert response.status_code == 302
    assert not OpeningPeriod.objects.filter(site=town_site).exists()
