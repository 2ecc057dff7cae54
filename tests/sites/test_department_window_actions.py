"""Departments (进驻部门) and windows (窗口): per-site codes and numbers, posts, the one 1号窗口."""

from __future__ import annotations

import pytest

from servicehall.audit.actions import verify
from servicehall.audit.models import AuditRecord
from servicehall.lib.errors import NotFound, PermissionRefused
from servicehall.sites import actions
from servicehall.sites.actions import DepartmentData, SiteInputRefused, WindowData
from servicehall.sites.models import Department, PostKind, Window, WindowPost
from tests.factories import DepartmentFactory, WindowFactory, WindowPostFactory
from tests.sites.conftest import audit_actions_after, last_audit_id, site_rows

# ----------------------------------------------------------------------------- departments


def test_manager_adds_a_department_and_it_is_audited(centre_administrator, town_site) -> None:
    department = actions.create_department(
        centre_administrator, town_site, DepartmentData(code=" GA ", name=" 公安局 ")
    )
    department.refresh_from_db()
    assert (department.site_id, department.code, department.name, department.is_active) == (
        town_site.pk,
        "GA",
        "公安局",
        True,
    )
    audit = AuditRecord.objects.get(action="sites.department_created")
    assert audit.site_id == town_site.pk
    assert audit.object_type == "sites.department"
    assert audit.before is None
    assert audit.after == {"code": "GA", "name": "公安局", "is_active": True}
    assert verify().intact


def test_department_update_records_before_and_after(centre_administrator, department) -> None:
    actions.update_department(
        centre_administrator, department, DepartmentData(code="RSJ", name="人社局", is_active=False)
    )
    audit = AuditRecord.objects.get(action="sites.department_updated")
    assert audit.before == {"code": "RS", "name": "人力资源和社会保障局", "is_active": True}
    assert audit.after == {"code": "RSJ", "name": "人社局", "is_active": False}


def test_department_code_is_unique_per_site_only(centre_administrator, department, other_town_site) -> None:
    # Given department RS at town A
    # When RS is added at town A again (any case)
    with pytest.raises(SiteInputRefused) as refusal:
        actions.create_department(
            centre_administrator, department.site, DepartmentData(code="rs", name="人社")
        )
    # Then it is refused
    assert refusal.value.errors == {"code": "本场所已有编码为 rs 的部门。"}
    # But the same code at town B is fine
    other = actions.create_department(
        centre_administrator, other_town_site, DepartmentData(code="RS", name="人社")
    )
    assert other.site_id == other_town_site.pk


def test_department_keeps_its_own_code_on_update(centre_administrator, department) -> None:
    actions.update_department(
        centre_administrator, department, DepartmentData(code="RS", name="人社局", is_active=True)
    )
    department.refresh_from_db()
    assert department.name == "人社局"


def test_department_cannot_take_a_sibling_code(centre_administrator, department) -> None:
    sibling = DepartmentFactory(site=department.site, code="GA", name="公安")
    before = site_rows()
    with pytest.raises(SiteInputRefused) as refusal:
        actions.update_department(centre_administrator, sibling, DepartmentData(code="RS", name="公安"))
    assert refusal.value.errors == {"code": "本场所已有编码为 RS 的部门。"}
    assert site_rows() == before


@pytest.mark.parametrize(
    ("code", "name", "errors"),
    [
        ("", "公安", {"code": "编码不能为空。"}),
        ("GA", "", {"name": "名称不能为空。"}),
        ("GA", "名" * 10_000, {"name": "名称不能超过 100 个字符。"}),
        ("G A", "公安", {"code": "编码只能包含字母、数字、连字符和下划线，且以字母或数字开头。"}),
    ],
)
def test_department_shape(centre_administrator, town_site, code, name, errors) -> None:
    before = site_rows()
    with pytest.raises(SiteInputRefused) as refusal:
        actions.create_department(centre_administrator, town_site, DepartmentData(code=code, name=name))
    assert refusal.value.errors == errors
    assert site_rows() == before


def test_clerk_cannot_add_a_department(clerk, town_site) -> None:
    last = last_audit_id()
    with pytest.raises(PermissionRefused):
        actions.create_department(clerk, town_site, DepartmentData(code="GA", name="公安"))
    assert audit_actions_after(last) == ["access.denied"]
    assert not Department.objects.filter(code="GA").exists()


# ----------------------------------------------------------------------------- windows


def window_data(**changes: object) -> WindowData:
    fields: dict[str, object] = {"number": 5, "name": "出入境窗口", "posts": ["reception"]}
    fields.update(changes)
    return WindowData(**fields)  # type: ignore[arg-type]


def test_manager_adds_a_window_with_posts_and_it_is_audited(
    centre_administrator, town_site, department
) -> None:
    window = actions.create_window(
        centre_administrator,
        town_site,
        window_data(department=department, posts=["reception", "guide", "reception"]),
    )
    assert (window.site_id, window.number, window.name, window.department_id) == (
        town_site.pk,
        5,
        "出入境窗口",
        department.pk,
    )
    assert sorted(WindowPost.objects.filter(window=window).values_list("kind", "site_id")) == [
        ("guide", town_site.pk),
        ("reception", town_site.pk),
    ]
    audit = AuditRecord.objects.get(action="sites.window_created")
    assert audit.site_id == town_site.pk
    assert audit.object_type == "sites.window"
    assert audit.before is None
    assert audit.after == {
        "number": 5,
        "name": "出入境窗口",
        "department": department.pk,
        "is_supervisor_window": False,
        "is_active": True,
        "posts": ["guide", "reception"],
    }
    assert verify().intact


def test_window_update_replaces_the_posts_in_one_step(centre_administrator, window) -> None:
    # Given window 3 serving reception and back office
    WindowPostFactory(window=window, kind="reception")
    WindowPostFactory(window=window, kind="back_office")
    # When it is changed to serve complaints and the caring window only
    actions.update_window(
        centre_administrator,
        window,
        window_data(
            number=3, name="社保综合窗口", department=window.department, posts=["complaint", "caring"]
        ),
    )
    # Then the posts are exactly the new set, and the audit shows both sets
    assert sorted(window.posts.values_list("kind", flat=True)) == ["caring", "complaint"]
    audit = AuditRecord.objects.get(action="sites.window_updated")
    assert audit.before == {
        "number": 3,
        "name": "社保综合窗口",
        "department": window.department_id,
        "is_supervisor_window": False,
        "is_active": True,
        "posts": ["back_office", "reception"],
    }
    assert audit.after == {
        "number": 3,
        "name": "社保综合窗口",
        "department": window.department_id,
        "is_supervisor_window": False,
        "is_active": True,
        "posts": ["caring", "complaint"],
    }


@pytest.mark.parametrize("number", [0, 1000, -1, 10**20, "abc", "5", 5.0, True, None])
def test_window_number_is_an_integer_from_1_to_999(centre_administrator, town_site, number) -> None:
    before = site_rows()
    with pytest.raises(SiteInputRefused) as refusal:
        actions.create_window(centre_administrator, town_site, window_data(number=number))
    assert refusal.value.errors == {"number": "窗口号须为 1–999 的整数。"}
    assert site_rows() == before


@pytest.mark.parametrize("number", [1, 999])
def test_window_number_bounds_are_allowed(centre_administrator, town_site, number) -> None:
    assert actions.create_window(centre_administrator, town_site, window_data(number=number)).number == number


def test_window_number_is_unique_per_site_only(centre_administrator, window, other_town_site) -> None:
    with pytest.raises(SiteInputRefused) as refusal:
        actions.create_window(centre_administrator, window.site, window_data(number=3))
    assert refusal.value.errors == {"number": "本场所已有 3 号窗口。"}
    assert actions.create_window(centre_administrator, other_town_site, window_data(number=3)).number == 3


def test_window_cannot_take_a_sibling_number(centre_administrator, window) -> None:
    sibling = WindowFactory(site=window.site, number=4)
    before = site_rows()
    with pytest.raises(SiteInputRefused) as refusal:
        actions.update_window(centre_administrator, sibling, window_data(number=3))
    assert refusal.value.errors == {"number": "本场所已有 3 号窗口。"}
    assert site_rows() == before


def test_window_department_must_belong_to_the_same_site(
    centre_administrator, town_site, other_town_site
) -> None:
    foreign = DepartmentFactory(site=other_town_site, code="GA")
    with pytest.raises(SiteInputRefused) as refusal:
        actions.create_window(centre_administrator, town_site, window_data(department=foreign))
    assert refusal.value.errors == {"department": "部门不属于该服务场所。"}
    assert not Window.objects.exists()


def test_an_inactive_department_cannot_be_newly_assigned(centre_administrator, town_site) -> None:
    closed = DepartmentFactory(site=town_site, code="OLD", is_active=False)
    with pytest.raises(SiteInputRefused) as refusal:
        actions.create_window(centre_administrator, town_site, window_data(department=closed))
    assert refusal.value.errors == {"department": "该部门已停用，不能分配给窗口。"}


def test_unknown_post_kinds_are_refused(centre_administrator, town_site) -> None:
    with pytest.raises(SiteInputRefused) as refusal:
        actions.create_window(
            centre_administrator, town_site, window_data(posts=["reception", "janitor", "<b>"])
        )
    assert refusal.value.errors == {"posts": "岗位无效：janitor、<b>。"}
    assert not Window.objects.exists()


def test_every_post_kind_can_be_served(centre_administrator, town_site) -> None:
    window = actions.create_window(centre_administrator, town_site, window_data(posts=PostKind.values))
    assert sorted(window.posts.values_list("kind", flat=True)) == sorted(PostKind.values)


def test_only_one_supervisor_window_per_site(centre_administrator, town_site, other_town_site) -> None:
    # Given window 1 is the supervisor window of town A
    actions.create_window(
        centre_administrator, town_site, window_data(number=1, name="负责人窗口", is_supervisor_window=True)
    )
    # When a second supervisor window is added at town A
    before = site_rows()
    with pytest.raises(SiteInputRefused) as refusal:
        actions.create_window(
            centre_administrator, town_site, window_data(number=2, is_supervisor_window=True)
        )
    # Then it is refused and nothing changed
    assert refusal.value.errors == {"is_supervisor_window": "每个服务场所只能有一个负责人窗口（1号窗口）。"}
    assert site_rows() == before
    # But town B may have its own
    actions.create_window(
        centre_administrator, other_town_site, window_data(number=1, is_supervisor_window=True)
    )


def test_the_supervisor_window_can_be_edited_and_keep_its_mark(centre_administrator, town_site) -> None:
    window = actions.create_window(
        centre_administrator, town_site, window_data(number=1, is_supervisor_window=True)
    )
    actions.update_window(
        centre_administrator, window, window_data(number=1, name="1号负责人窗口", is_supervisor_window=True)
    )
    window.refresh_from_db()
    assert (window.name, window.is_supervisor_window) == ("1号负责人窗口", True)


def test_integrity_errors_become_a_clear_refusal(centre_administrator, window, monkeypatch) -> None:
    # Given the friendly pre-check is bypassed, as when another writer commits between check and insert
    def without_precheck(site, data, existing):
        return data, []

    monkeypatch.setattr(actions, "_clean_window_data", without_precheck)
    before = site_rows()
    last = last_audit_id()
    # When a duplicate number reaches the database
    with pytest.raises(SiteInputRefused) as refusal:
        actions.create_window(centre_administrator, window.site, window_data(number=3))
    # Then the unique constraint's error is turned into the same clear refusal, and nothing was kept
    assert refusal.value.errors == {"number": "本场所已有 3 号窗口。"}
    assert site_rows() == before
    assert audit_actions_after(last) == []


def test_second_supervisor_window_integrity_error_is_explained(
    centre_administrator, town_site, monkeypatch
) -> None:
    WindowFactory(site=town_site, number=1, is_supervisor_window=True)

    def without_precheck(site, data, existing):
        return data, []

    monkeypatch.setattr(actions, "_clean_window_data", without_precheck)
    with pytest.raises(SiteInputRefused) as refusal:
        actions.create_window(
            centre_administrator, town_site, window_data(number=2, is_supervisor_window=True)
        )
    assert refusal.value.errors == {"is_supervisor_window": "每个服务场所只能有一个负责人窗口（1号窗口）。"}


def test_out_of_scope_window_is_not_found(town_manager, other_town_site) -> None:
    foreign = WindowFactory(site=other_town_site, number=8)
    last = last_audit_id()
    with pytest.raises(NotFound):
        actions.update_window(town_manager, foreign, window_data(number=9))
    assert audit_actions_after(last) == ["access.denied"]
    foreign.refresh_from_db()
    assert foreign.number == 8
