"""The JSON write endpoints: same actions as the pages, clear 4xx answers for anything wrong."""

from __future__ import annotations

import json
from datetime import time
from typing import Any

import pytest

from servicehall.audit.models import AuditRecord
from servicehall.sites.models import Department, OpeningPeriod, Site, Window
from tests.factories import DepartmentFactory, OpeningPeriodFactory, WindowFactory, WindowPostFactory
from tests.sites.conftest import audit_actions_after, last_audit_id, site_rows


@pytest.fixture
def api(client_for, system_administrator):
    client = client_for(system_administrator)

    def call(method: str, url: str, body: Any = None) -> Any:
        return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")

    return call


def test_create_site(api, city_site) -> None:
    response = api(
        "post",
        "/api/sites",
        {"code": "TOWN-C", "name": "南头镇便民服务中心", "level": "town", "parent_id": city_site.pk},
    )
    assert response.status_code == 201
    site = Site.objects.get(code="TOWN-C")
    assert response.json() == {
        "id": site.pk,
        "code": "TOWN-C",
        "name": "南头镇便民服务中心",
        "level": "town",
        "parent_id": city_site.pk,
        "supervision_phone": "",
        "is_active": True,
        "address": "",
        "service_phone": "",
    }
    audit = AuditRecord.objects.get(action="sites.site_created")
    assert audit.channel == "api"


def test_patch_site_changes_only_what_was_sent(api, town_site, city_site) -> None:
    response = api("patch", f"/api/sites/{town_site.pk}", {"name": "三角镇政务服务中心", "is_active": None})
    assert response.status_code == 200
    town_site.refresh_from_db()
    assert (town_site.name, town_site.code, town_site.parent_id, town_site.is_active) == (
        "三角镇政务服务中心",
        "TOWN-A",
        city_site.pk,
        True,
    )
    audit = AuditRecord.objects.get(action="sites.site_updated")
    assert (audit.before["name"], audit.after["name"]) == ("三角镇便民服务中心", "三角镇政务服务中心")


def test_patch_site_parent_null_means_no_parent(api, town_site) -> None:
    before = site_rows()
    response = api("patch", f"/api/sites/{town_site.pk}", {"parent_id": None})
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_site",
        "detail": "镇（街）便民服务中心和村（社区）便民服务站必须指定上级场所。",
        "field": "parent",
    }
    assert site_rows() == before


def test_create_department_and_patch_it(api, town_site) -> None:
    response = api("post", f"/api/sites/{town_site.pk}/departments", {"code": "GA", "name": "公安局"})
    assert response.status_code == 201
    department = Department.objects.get(code="GA")
    assert response.json() == {"id": department.pk, "code": "GA", "name": "公安局"}
    response = api("patch", f"/api/departments/{department.pk}", {"is_active": False})
    assert response.status_code == 200
    department.refresh_from_db()
    assert (department.name, department.is_active) == ("公安局", False)


def test_create_window(api, town_site, department) -> None:
    response = api(
        "post",
        f"/api/sites/{town_site.pk}/windows",
        {"number": 5, "name": "出入境窗口", "department_id": department.pk, "posts": ["reception", "guide"]},
    )
    assert response.status_code == 201
    window = Window.objects.get(number=5)
    assert response.json() == {
        "id": window.pk,
        "number": 5,
        "name": "出入境窗口",
        "department_id": department.pk,
        "is_supervisor_window": False,
        "is_active": True,
        "posts": ["guide", "reception"],
    }


def test_patch_window_keeps_posts_unless_sent(api, window) -> None:
    WindowPostFactory(window=window, kind="reception")
    response = api("patch", f"/api/windows/{window.pk}", {"name": "社保窗口"})
    assert response.status_code == 200
    assert response.json()["posts"] == ["reception"]
    response = api("patch", f"/api/windows/{window.pk}", {"posts": [], "department_id": None})
    assert response.status_code == 200
    assert (response.json()["posts"], response.json()["department_id"]) == ([], None)
    audit = AuditRecord.objects.filter(action="sites.window_updated").order_by("-pk").first()
    assert audit.before["posts"] == ["reception"]
    assert audit.after == {
        "number": 3,
        "name": "社保窗口",
        "department": None,
        "is_supervisor_window": False,
        "is_active": True,
        "posts": [],
    }


def test_replace_opening_hours(api, town_site) -> None:
    OpeningPeriodFactory(site=town_site, weekday=7)
    response = api(
        "put",
        f"/api/sites/{town_site.pk}/opening-hours",
        {
            "periods": [
                {"weekday": 1, "starts_at": "14:30", "ends_at": "17:30"},
                {"weekday": 1, "starts_at": "08:30", "ends_at": "12:00", "note": "上午"},
            ]
        },
    )
    assert response.status_code == 200
    assert response.json() == [
        {"weekday": 1, "starts_at": "08:30:00", "ends_at": "12:00:00", "note": "上午"},
        {"weekday": 1, "starts_at": "14:30:00", "ends_at": "17:30:00", "note": ""},
    ]
    assert OpeningPeriod.objects.filter(site=town_site).count() == 2


# ----------------------------------------------------------------------------- hostile input


def test_injection_strings_are_stored_verbatim_and_returned_as_data(api, town_site) -> None:
    name = "<img src=x onerror=alert(1)>'; DELETE FROM sites_window; --"
    response = api("post", f"/api/sites/{town_site.pk}/windows", {"number": 9, "name": name})
    assert response.status_code == 201
    assert response.json()["name"] == name
    assert response["Content-Type"].startswith("application/json")
    assert Window.objects.get(number=9).name == name


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("post", "/api/sites", {"code": "X", "name": "长" * 10_000, "level": "city"}, "name"),
        ("post", "/api/sites/{town}/departments", {"code": "GA", "name": "长" * 10_000}, "name"),
        ("post", "/api/sites/{town}/windows", {"number": 5, "name": "长" * 10_000}, "name"),
        ("patch", "/api/windows/{window}", {"name": "长" * 10_000}, "name"),
        ("patch", "/api/sites/{town}", {"name": "长" * 10_000}, "name"),
        ("post", "/api/sites/{town}/windows", {"number": 0, "name": "窗口"}, "number"),
        ("post", "/api/sites/{town}/windows", {"number": 1000, "name": "窗口"}, "number"),
        ("patch", "/api/windows/{window}", {"number": 1000}, "number"),
        ("post", "/api/sites/{town}/windows", {"number": 5, "name": "窗口", "posts": ["janitor"]}, "posts"),
        ("post", "/api/sites", {"code": "X\x00", "name": "市", "level": "city"}, "code"),
        ("patch", "/api/sites/{town}", {"level": "province"}, "level"),
    ],
)
def test_rule_violations_are_400_and_change_nothing(api, town_site, window, method, url, body, field) -> None:
    before = site_rows()
    last = last_audit_id()
    response = api(method, url.format(town=town_site.pk, window=window.pk), body)
    assert response.status_code == 400
    if any("\x00" in str(value) for value in body.values()):
        # NUL characters are refused at the door for every endpoint (web.middleware).
        assert "NUL" in response.json()["detail"]
    else:
        assert response.json()["field"] == field
    assert site_rows() == before
    assert audit_actions_after(last) == []


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/sites/{town}/windows", {"number": "abc", "name": "窗口"}),
        ("/api/sites/{town}/windows", {"number": 5}),
        ("/api/sites/{town}/windows", {"number": 5, "name": "窗口", "posts": "reception"}),
        ("/api/sites/{town}/windows", {"number": 5, "name": "窗口", "posts": ["guide"] * 33}),
        ("/api/sites", {"code": "X", "name": "市"}),
        ("/api/sites", "not json at all"),
    ],
)
def test_malformed_bodies_are_400(api, town_site, url, body) -> None:
    before = site_rows()
    response = api("post", url.format(town=town_site.pk), body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert site_rows() == before


def test_invalid_json_text_is_400(client_for, system_administrator, town_site) -> None:
    response = client_for(system_administrator).post(
        f"/api/sites/{town_site.pk}/windows", data="{number: 5", content_type="application/json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("periods", "message"),
    [
        (
            [
                {"weekday": 1, "starts_at": "08:30", "ends_at": "12:00"},
                {"weekday": 1, "starts_at": "11:00", "ends_at": "13:00"},
            ],
            "星期一 11:00–13:00 与 08:30–12:00 时段重叠。",
        ),
        (
            [{"weekday": 2, "starts_at": "17:00", "ends_at": "09:00"}],
            "星期二 17:00–09:00：开始时间必须早于结束时间。",
        ),
        ([{"weekday": 8, "starts_at": "09:00", "ends_at": "12:00"}], "星期须为 1（星期一）到 7（星期日）。"),
        (
            [{"weekday": 3, "starts_at": "21:00", "ends_at": "23:00"}],
            "星期三 21:00–23:00：办公时间须在 06:00 至 22:00 之间。",
        ),
        (
            [{"weekday": 3, "starts_at": "09:00+08:00", "ends_at": "12:00"}],
            "办公时间请填写当地时间，不带时区。",
        ),
    ],
)
def test_bad_opening_hours_are_400_and_keep_the_old_table(api, town_site, periods, message) -> None:
    OpeningPeriodFactory(site=town_site, weekday=1, starts_at=time(9), ends_at=time(12))
    before = site_rows()
    response = api("put", f"/api/sites/{town_site.pk}/opening-hours", {"periods": periods})
    assert response.status_code == 400
    assert response.json()["detail"] == message
    assert response.json()["code"] == "invalid_opening_hours"
    assert site_rows() == before


@pytest.mark.parametrize(
    "periods",
    [
        [{"weekday": 1, "starts_at": "25:00", "ends_at": "26:00"}],
        [{"weekday": "Monday", "starts_at": "09:00", "ends_at": "12:00"}],
        [{"weekday": 1, "starts_at": "09:00", "ends_at": "12:00"}] * 65,
    ],
)
def test_malformed_periods_are_400(api, town_site, periods) -> None:
    response = api("put", f"/api/sites/{town_site.pk}/opening-hours", {"periods": periods})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"


def test_department_of_another_site_is_refused(api, town_site, other_town_site) -> None:
    foreign = DepartmentFactory(site=other_town_site, code="GA")
    response = api(
        "post",
        f"/api/sites/{town_site.pk}/windows",
        {"number": 5, "name": "窗口", "department_id": foreign.pk},
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_window",
        "detail": "部门不属于该服务场所。",
        "field": "department_id",
    }


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("patch", "/api/sites/999999", {"name": "x"}),
        ("post", "/api/sites/999999/departments", {"code": "GA", "name": "x"}),
        ("patch", "/api/departments/999999", {"name": "x"}),
        ("post", "/api/sites/999999/windows", {"number": 5, "name": "x"}),
        ("patch", "/api/windows/999999", {"name": "x"}),
        ("put", "/api/sites/999999/opening-hours", {"periods": []}),
        ("post", "/api/sites", {"code": "V", "name": "x", "level": "village", "parent_id": 999999}),
    ],
)
def test_unknown_ids_are_404(api, town_site, method, url, body) -> None:
    before = site_rows()
    response = api(method, url, body)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert site_rows() == before


def test_window_number_taken_is_explained(api, window) -> None:
    WindowFactory(site=window.site, number=4)
    response = api("patch", f"/api/windows/{window.pk}", {"number": 4})
    assert response.status_code == 400
    assert response.json() == {"code": "invalid_window", "detail": "本场所已有 4 号窗口。", "field": "number"}
