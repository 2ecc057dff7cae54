"""The rules of an item and of a site's disclosure, each with its exact message; refusals change nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from servicehall.accounts.roles import Role
from servicehall.audit.models import AuditRecord
from servicehall.catalog import actions
from servicehall.catalog.models import (
    Fee,
    ItemWindow,
    Material,
    ProcessStep,
    ServiceItem,
    ServicePledge,
    SiteDisclosure,
)
from servicehall.lib.errors import ActionRefused, NotFound, PermissionRefused
from tests.catalog.conftest import fee, item_data, material
from tests.conftest import make_staff
from tests.factories import UserFactory

PDF = b"%PDF-1.4\n%sample\n"


def catalog_audit_count() -> int:
    return AuditRecord.objects.filter(action__startswith="catalog.").count()


def refused_errors(actor: Any, data: actions.ItemData) -> dict[str, str]:
    items_before, audit_before = ServiceItem.objects.count(), catalog_audit_count()
    with pytest.raises(actions.CatalogInputRefused) as refusal:
        actions.create_item(actor, data)
    assert refusal.value.status == 400
    assert ServiceItem.objects.count() == items_before
    assert catalog_audit_count() == audit_before
    return refusal.value.errors


# ---------------------------------------------------------------------------------------------
# Creating


def test_create_item_saves_fields_nested_lists_and_an_audit_record(
    centre_administrator, department, window
) -> None:
    # Given a complete 承诺件 with a fee
    data = item_data(department, [window], is_free=False, fees=[fee()], deemed_approval_on_timeout=True)
    # When the centre administrator creates it
    item = actions.create_item(centre_administrator, data)
    # Then the item, its materials in order, fee, steps and window are stored
    item.refresh_from_db()
    assert (item.code, item.name, item.site_id, item.department_id) == (
        "RS-001",
        "失业保险金申领",
        department.site_id,
        department.pk,
    )
    assert (item.statutory_limit_days, item.committed_limit_days, item.deemed_approval_on_timeout) == (
        20,
        5,
        True,
    )
    assert list(Material.objects.filter(item=item).values_list("position", "name", "form", "copies")) == [
        (1, "居民身份证", "original", 1),
        (2, "失业登记证明", "copy", 2),
    ]
    assert list(Fee.objects.filter(item=item).values_list("name", "amount", "legal_basis")) == [
        ("工本费", Decimal("10.00"), "粤价〔2020〕1号")
    ]
    assert list(ProcessStep.objects.filter(item=item).values_list("position", "name")) == [
        (1, "受理"),
        (2, "审核"),
    ]
    assert list(ItemWindow.objects.filter(item=item).values_list("window_id", "site_id")) == [
        (window.pk, window.site_id)
    ]
    audit = AuditRecord.objects.get(action="catalog.item_created")
    assert audit.actor == centre_administrator
    assert audit.after["code"] == "RS-001"
    assert [entry["name"] for entry in audit.after["materials"]] == ["居民身份证", "失业登记证明"]
    assert audit.after["windows"] == [f"{window.site.code}#3"]


def test_immediate_item_may_have_zero_limits(centre_administrator, department) -> None:
    item = actions.create_item(
        centre_administrator,
        item_data(department, item_type="immediate", statutory_limit_days=0, committed_limit_days=0),
    )
    assert (item.item_type, item.statutory_limit_days, item.committed_limit_days) == ("immediate", 0, 0)


def test_immediate_item_may_have_a_statutory_limit_but_is_done_on_the_spot(
    centre_administrator, department
) -> None:
    item = actions.create_item(
        centre_administrator,
        item_data(department, item_type="immediate", statutory_limit_days=20, committed_limit_days=0),
    )
    assert (item.statutory_limit_days, item.committed_limit_days) == (20, 0)


@pytest.mark.parametrize(
    ("overrides", "key", "message"),
    [
        ({"statutory_limit_days": -1}, "statutory_limit_days", "法定办结时限不能为负数。"),
        ({"committed_limit_days": -3}, "committed_limit_days", "承诺办结时限不能为负数。"),
        (
            {"committed_limit_days": 0},
            "committed_limit_days",
            "承诺件的承诺办结时限至少为 1 个工作日，只有即办件可以为 0。",
        ),
        (
            {"item_type": "reported", "statutory_limit_days": 10, "committed_limit_days": 0},
            "committed_limit_days",
            "上报件的承诺办结时限至少为 1 个工作日，只有即办件可以为 0。",
        ),
        (
            {"statutory_limit_days": 3, "committed_limit_days": 5},
            "committed_limit_days",
            "承诺办结时限（5 个工作日）不能超过法定办结时限（3 个工作日）。",
        ),
        (
            {"item_type": "immediate", "statutory_limit_days": 5, "committed_limit_days": 2},
            "committed_limit_days",
            "即办件当场办结，承诺办结时限应为 0。",
        ),
        ({"statutory_limit_days": 1000}, "statutory_limit_days", "法定办结时限不能超过 999 个工作日。"),
        ({"statutory_limit_days": "二十"}, "statutory_limit_days", "法定办结时限必须是整数（工作日）。"),
        ({"item_type": "urgent"}, "item_type", "办件类型无效，应为即办件、承诺件、联办件或上报件。"),
        ({"code": ""}, "code", "事项编码不能为空。"),
        ({"code": "RS 001"}, "code", "事项编码只能包含字母、数字、连字符和下划线，且以字母或数字开头。"),
        ({"code": "-RS001"}, "code", "事项编码只能包含字母、数字、连字符和下划线，且以字母或数字开头。"),
        ({"code": "社保001"}, "code", "事项编码只能包含字母、数字、连字符和下划线，且以字母或数字开头。"),
        ({"code": "A" * 41}, "code", "事项编码不能超过 40 个字符。"),
        ({"name": "   "}, "name", "事项名称不能为空。"),
        ({"name": "失业\x00保险"}, "name", "事项名称不能包含控制字符。"),
        ({"conditions": "条" * 10_000}, "conditions", "受理条件不能超过 2000 个字符。"),
        ({"legal_basis": "法" * 2001}, "legal_basis", "设定依据不能超过 2000 个字符。"),
        ({"department_id": None}, "department", "请选择实施部门。"),
        ({"department_id": 999_999}, "department", "实施部门不存在或不在您的管理范围内。"),
        ({"delivery_at_window": False}, "delivery", "至少选择一种送达方式。"),
        ({"fees": [fee()]}, "is_free", "已标记“不收费”的事项不能有收费项目。"),
        ({"is_free": False}, "is_free", "收费事项至少要有一个收费项目；不收费请勾选“不收费”。"),
        (
            {"materials": [material("户口簿", is_mandatory=False, is_deferrable=True)]},
            "materials.0.is_deferrable",
            "容缺只适用于必需材料：非必需材料不能标记为可容缺。",
        ),
        ({"materials": [material("户口簿", copies=0)]}, "materials.0.copies", "份数必须是 1 到 99 的整数。"),
        (
            {"materials": [material("户口簿", copies=100)]},
            "materials.0.copies",
            "份数必须是 1 到 99 的整数。",
        ),
        ({"materials": [material("")]}, "materials.0.name", "材料名称不能为空。"),
        (
            {"materials": [material("户口簿", form="scan")]},
            "materials.0.form",
            "材料形式无效，应为原件、复印件、原件和复印件或电子材料。",
        ),
        (
            {"materials": [material("户口簿", notes="注" * 501)]},
            "materials.0.notes",
            "要求说明不能超过 500 个字符。",
        ),
        (
            {"materials": [material(f"材料{number}") for number in range(51)]},
            "materials",
            "申请材料不能超过 50 项。",
        ),
        (
            {"is_free": False, "fees": [fee(amount="0")]},
            "fees.0.amount",
            "金额必须是大于 0 的数字，最多两位小数。",
        ),
        (
            {"is_free": False, "fees": [fee(amount="-5")]},
            "fees.0.amount",
            "金额必须是大于 0 的数字，最多两位小数。",
        ),
        (
            {"is_free": False, "fees": [fee(amount="1.005")]},
            "fees.0.amount",
            "金额必须是大于 0 的数字，最多两位小数。",
        ),
        (
            {"is_free": False, "fees": [fee(amount="100000000")]},
            "fees.0.amount",
            "金额不能超过 99999999.99 元。",
        ),
        ({"is_free": False, "fees": [fee(legal_basis=" ")]}, "fees.0.legal_basis", "收费依据不能为空。"),
        ({"steps": [actions.StepData("")]}, "steps.0.name", "环节名称不能为空。"),
        ({"window_ids": [999_999]}, "windows.0.window", "窗口不存在、已停用或不在您的管理范围内。"),
    ],
)
def test_each_rule_refuses_with_its_own_message_and_creates_nothing(
    centre_administrator, department, overrides, key, message
) -> None:
    errors = refused_errors(centre_administrator, item_data(department, **overrides))
    assert errors == {key: message}


def test_zero_limits_of_a_joint_item_are_refused_both(
    centre_administrator, department, second_department
) -> None:
    data = item_data(
        department,
        item_type="joint",
        statutory_limit_days=0,
        committed_limit_days=0,
        joint_department_ids=[second_department.pk],
    )
    assert refused_errors(centre_administrator, data) == {
        "statutory_limit_days": "联办件的法定办结时限至少为 1 个工作日，只有即办件可以为 0。",
        "committed_limit_days": "联办件的承诺办结时限至少为 1 个工作日，只有即办件可以为 0。",
    }


def test_a_duplicate_code_is_refused_whatever_its_case(centre_administrator, item, department) -> None:
    errors = refused_errors(centre_administrator, item_data(department, code="rs-001"))
    assert errors == {"code": "事项编码 rs-001 已被使用。"}


def test_every_broken_rule_is_reported_at_once(centre_administrator, department) -> None:
    data = item_data(
        department,
        name="",
        statutory_limit_days=3,
        committed_limit_days=5,
        delivery_at_window=False,
        materials=[material("户口簿", copies=0), material("", is_mandatory=False, is_deferrable=True)],
    )
    with pytest.raises(actions.CatalogInputRefused) as refusal:
        actions.create_item(centre_administrator, data)
    assert refusal.value.lines() == [
        "事项名称不能为空。",
        "承诺办结时限（5 个工作日）不能超过法定办结时限（3 个工作日）。",
        "至少选择一种送达方式。",
        "申请材料第 1 项：份数必须是 1 到 99 的整数。",
        "申请材料第 2 项：材料名称不能为空。",
        "申请材料第 2 项：容缺只适用于必需材料：非必需材料不能标记为可容缺。",
    ]
    assert refusal.value.message == "事项名称不能为空。"


def test_department_outside_the_scope_is_refused(town_administrator, other_department) -> None:
    errors = refused_errors(town_administrator, item_data(other_department))
    assert errors == {"department": "实施部门不存在或不在您的管理范围内。"}


def test_inactive_department_cannot_take_a_new_item(centre_administrator, department) -> None:
    department.is_active = False
    department.save()
    errors = refused_errors(centre_administrator, item_data(department))
    assert errors == {"department": "实施部门已停用，不能再分配事项。"}


def test_inactive_window_or_window_outside_the_scope_is_refused(
    town_administrator, department, window, other_window
) -> None:
    window.is_active = False
    window.save()
    errors = refused_errors(
        town_administrator, item_data(department, window_ids=[window.pk, other_window.pk])
    )
    assert errors == {
        "windows.0.window": "窗口不存在、已停用或不在您的管理范围内。",
        "windows.1.window": "窗口不存在、已停用或不在您的管理范围内。",
    }


def test_a_window_of_another_site_in_scope_may_handle_the_item(
    centre_administrator, department, other_window
) -> None:
    item = actions.create_item(centre_administrator, item_data(department, [other_window]))
    assert list(ItemWindow.objects.filter(item=item).values_list("site_id", flat=True)) == [
        other_window.site_id
    ]


@pytest.mark.parametrize("persona", ["clerk", "supervisor", "system_administrator", "audit_administrator"])
def test_only_catalogue_managers_create_items(request, persona, department) -> None:
    actor = request.getfixturevalue(persona)
    with pytest.raises(PermissionRefused):
        actions.create_item(actor, item_data(department))
    assert ServiceItem.objects.count() == 0
    assert catalog_audit_count() == 0


# ---------------------------------------------------------------------------------------------
# Updating


def item_state(item: ServiceItem) -> dict[str, Any]:
    item = ServiceItem.objects.get(pk=item.pk)
    picture = actions.item_picture(item)
    picture["updated_at"] = item.updated_at
    return picture


def test_update_replaces_fields_and_every_nested_list(
    centre_administrator, item, department, second_window
) -> None:
    data = item_data(
        department,
        [second_window],
        name="失业保险金申领（线下）",
        materials=[material("社会保障卡", form="original_and_copy", copies=3)],
        steps=[actions.StepData("办结", "当场出具")],
        is_free=False,
        fees=[fee("证书费", "5.50", "国家发展改革委文件")],
    )
    actions.update_item(centre_administrator, item, data)
    picture = actions.item_picture(ServiceItem.objects.get(pk=item.pk))
    assert picture["name"] == "失业保险金申领（线下）"
    assert [(entry["position"], entry["name"], entry["copies"]) for entry in picture["materials"]] == [
        (1, "社会保障卡", 3)
    ]
    assert picture["fees"] == [{"name": "证书费", "amount": "5.50", "legal_basis": "国家发展改革委文件"}]
    assert picture["steps"] == [{"position": 1, "name": "办结", "description": "当场出具"}]
    assert picture["windows"] == [f"{second_window.site.code}#5"]
    audit = AuditRecord.objects.get(action="catalog.item_updated")
    assert audit.before["name"] == "失业保险金申领"
    assert [entry["name"] for entry in audit.before["materials"]] == ["居民身份证", "失业登记证明"]
    assert audit.after["name"] == "失业保险金申领（线下）"


def test_continued_materials_keep_their_rows_when_reordered(centre_administrator, item, department) -> None:
    # Given the item's two materials
    identity, registration = item.materials.order_by("position")
    # When an update swaps them, renames one (by its id) and adds a third
    data = item_data(
        department,
        materials=[
            material("失业登记证明", copies=2),
            material("居民身份证（原件）", previous_id=identity.pk),
            material("银行卡"),
        ],
    )
    actions.update_item(centre_administrator, item, data)
    # Then the continued materials are the same rows at their new positions, so links to them hold
    rows = list(item.materials.order_by("position").values_list("pk", "position", "name"))
    assert rows[:2] == [(registration.pk, 1, "失业登记证明"), (identity.pk, 2, "居民身份证（原件）")]
    assert rows[2][1:] == (3, "银行卡")
    assert rows[2][0] not in {identity.pk, registration.pk}


def test_a_bad_material_row_leaves_the_whole_item_unchanged(centre_administrator, item, department) -> None:
    # Given the stored item
    before, audit_before = item_state(item), catalog_audit_count()
    # When an update renames it, drops its window and brings one good and one bad material
    data = item_data(
        department,
        [],
        name="新名称",
        materials=[material("户口簿"), material("照片", copies=-1)],
    )
    with pytest.raises(actions.CatalogInputRefused) as refusal:
        actions.update_item(centre_administrator, item, data)
    # Then nothing of it was written: not the name, not the materials, not the windows
    assert refusal.value.errors == {"materials.1.copies": "份数必须是 1 到 99 的整数。"}
    assert item_state(item) == before
    assert catalog_audit_count() == audit_before


def test_a_database_failure_midway_rolls_the_item_back(
    centre_administrator, item, department, monkeypatch
) -> None:
    before = item_state(item)

    def failing_bulk_create(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ProcessStep.objects, "bulk_create", failing_bulk_create)
    with pytest.raises(RuntimeError):
        actions.update_item(centre_administrator, item, item_data(department, [], name="新名称"))
    assert item_state(item) == before


def test_update_keeps_its_own_code_and_refuses_another_items_code(
    centre_administrator, item, department
) -> None:
    other = actions.create_item(centre_administrator, item_data(department, code="RS-002"))
    actions.update_item(centre_administrator, item, item_data(department, code="RS-001"))
    with pytest.raises(actions.CatalogInputRefused) as refusal:
        actions.update_item(centre_administrator, other, item_data(department, code="RS-001"))
    assert refusal.value.errors == {"code": "事项编码 RS-001 已被使用。"}
    assert ServiceItem.objects.get(pk=other.pk).code == "RS-002"


def test_update_of_an_item_outside_the_scope_is_not_found(
    town_administrator, centre_administrator, other_department
) -> None:
    foreign = actions.create_item(centre_administrator, item_data(other_department, code="MZ-001"))
    before = item_state(foreign)
    with pytest.raises(NotFound):
        actions.update_item(
            town_administrator, foreign, item_data(other_department, code="MZ-001", name="改")
        )
    assert item_state(foreign) == before


# ---------------------------------------------------------------------------------------------
# Publishing


def test_publish_and_unpublish_are_audited_and_repeating_changes_nothing(centre_administrator, item) -> None:
    actions.set_item_published(centre_administrator, item, False)
    actions.set_item_published(centre_administrator, item, False)
    assert ServiceItem.objects.get(pk=item.pk).is_published is False
    actions.set_item_published(centre_administrator, item, True)
    assert ServiceItem.objects.get(pk=item.pk).is_published is True
    assert list(
        AuditRecord.objects.filter(action__in=["catalog.item_published", "catalog.item_unpublished"])
        .order_by("pk")
        .values_list("action", "before", "after")
    ) == [
        ("catalog.item_unpublished", {"is_published": True}, {"is_published": False}),
        ("catalog.item_published", {"is_published": False}, {"is_published": True}),
    ]


def test_clerk_cannot_unpublish(clerk, item) -> None:
    with pytest.raises(PermissionRefused):
        actions.set_item_published(clerk, item, False)
    assert ServiceItem.objects.get(pk=item.pk).is_published is True


# ---------------------------------------------------------------------------------------------
# Sample files


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def test_upload_sample_stores_the_file_under_media_root(centre_administrator, item, settings) -> None:
    first = item.materials.get(position=1)
    stored = actions.upload_material_sample(centre_administrator, first, upload("申请表.pdf", PDF))
    assert stored.sample_file.name.startswith("catalog/samples/")
    assert stored.sample_file.name.endswith(".pdf")
    assert (settings.MEDIA_ROOT / stored.sample_file.name).read_bytes() == PDF
    audit = AuditRecord.objects.filter(action="catalog.item_updated").latest("pk")
    assert audit.after == {"material": "居民身份证", "sample_file": stored.sample_file.name}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "申请表.exe",
            b"MZ\x90\x00",
            "样表文件只能是 PDF、Word（doc/docx）、Excel（xls/xlsx）、JPG 或 PNG。",
        ),
        ("申请表.html", b"<html>", "样表文件只能是 PDF、Word（doc/docx）、Excel（xls/xlsx）、JPG 或 PNG。"),
        ("申请表.pdf", b"MZ\x90\x00 not a pdf", "文件内容与扩展名 .pdf 不符。"),
        ("申请表.pdf", b"%PDF" + b"0" * (5 * 1024 * 1024), "样表文件不能超过 5 MB。"),
        ("申请表.pdf", b"", "样表文件是空的。"),
    ],
)
def test_upload_sample_refuses_bad_files(
    centre_administrator, item, settings, name, content, message
) -> None:
    first = item.materials.get(position=1)
    with pytest.raises(ActionRefused) as refusal:
        actions.upload_material_sample(centre_administrator, first, upload(name, content))
    assert refusal.value.message == message
    assert Material.objects.get(pk=first.pk).sample_file.name == ""
    assert not (settings.MEDIA_ROOT / "catalog" / "samples").exists() or not any(
        (settings.MEDIA_ROOT / "catalog" / "samples").iterdir()
    )


def test_samples_follow_their_material_through_an_update_and_orphans_are_removed(
    centre_administrator, item, department, django_capture_on_commit_callbacks
) -> None:
    identity, registration = item.materials.order_by("position")
    kept = actions.upload_material_sample(
        centre_administrator, identity, upload("a.pdf", PDF)
    ).sample_file.name
    dropped = actions.upload_material_sample(
        centre_administrator, registration, upload("b.png", b"\x89PNG\r\n\x1a\n..")
    ).sample_file.name
    data = item_data(
        department, materials=[material("身份证（更名）", previous_id=identity.pk), material("新材料")]
    )
    with django_capture_on_commit_callbacks(execute=True):
        actions.update_item(centre_administrator, item, data)
    assert list(item.materials.order_by("position").values_list("name", "sample_file")) == [
        ("身份证（更名）", kept),
        ("新材料", ""),
    ]
    assert default_storage.exists(kept)
    assert not default_storage.exists(dropped)


# ---------------------------------------------------------------------------------------------
# Pledges and disclosure


def test_save_pledges_replaces_the_list_in_order(centre_administrator, town_site, clerk) -> None:
    pledges = [
        actions.PledgeData("unit", "一次性告知，限时办结。"),
        actions.PledgeData("personal", "微笑服务。", clerk.pk),
        actions.PledgeData("unit", "不收一分钱。"),
        actions.PledgeData("collective", "全科室不推诿。"),
    ]
    actions.save_pledges(centre_administrator, town_site, pledges)
    actions.save_pledges(centre_administrator, town_site, pledges[:3])
    assert list(
        ServicePledge.objects.filter(site=town_site)
        .order_by("kind", "position")
        .values_list("kind", "position", "staff_id", "text")
    ) == [
        ("personal", 1, clerk.pk, "微笑服务。"),
        ("unit", 1, None, "一次性告知，限时办结。"),
        ("unit", 2, None, "不收一分钱。"),
    ]
    audits = AuditRecord.objects.filter(action="catalog.pledges_saved").order_by("pk")
    assert audits.count() == 2
    assert len(audits[1].before["pledges"]) == 4
    assert len(audits[1].after["pledges"]) == 3


@pytest.mark.parametrize(
    ("pledge", "key", "message"),
    [
        (actions.PledgeData("personal", "微笑服务。"), "pledges.0.staff", "个人承诺须选择承诺人。"),
        (actions.PledgeData("unit", ""), "pledges.0.text", "承诺内容不能为空。"),
        (actions.PledgeData("unit", "诺" * 501), "pledges.0.text", "承诺内容不能超过 500 个字符。"),
        (
            actions.PledgeData("rank", "诺"),
            "pledges.0.kind",
            "承诺类型无效，应为单位承诺、集体承诺或个人承诺。",
        ),
    ],
)
def test_bad_pledges_are_refused(centre_administrator, town_site, pledge, key, message) -> None:
    with pytest.raises(actions.CatalogInputRefused) as refusal:
        actions.save_pledges(centre_administrator, town_site, [pledge])
    assert refusal.value.errors == {key: message}
    assert ServicePledge.objects.count() == 0


def test_personal_pledge_must_be_made_by_active_staff_of_the_site(
    centre_administrator, town_site, other_site_clerk, clerk
) -> None:
    retired = UserFactory(site=town_site, is_active=False)
    for staff_id in (other_site_clerk.pk, retired.pk):
        with pytest.raises(actions.CatalogInputRefused) as refusal:
            actions.save_pledges(
                centre_administrator, town_site, [actions.PledgeData("personal", "诺", staff_id)]
            )
        assert refusal.value.errors == {"pledges.0.staff": "承诺人须为本场所在职的工作人员。"}
    with pytest.raises(actions.CatalogInputRefused) as refusal:
        actions.save_pledges(centre_administrator, town_site, [actions.PledgeData("unit", "诺", clerk.pk)])
    assert refusal.value.errors == {"pledges.0.staff": "单位承诺和集体承诺不填写承诺人。"}
    assert ServicePledge.objects.count() == 0


def test_save_disclosure_creates_then_updates_with_audit(centre_administrator, town_site) -> None:
    actions.save_disclosure(centre_administrator, town_site, "意见箱在一楼大厅", "")
    disclosure = actions.save_disclosure(centre_administrator, town_site, "12345 热线", "请带齐材料")
    assert (disclosure.complaint_channels, disclosure.service_notice) == ("12345 热线", "请带齐材料")
    audits = list(AuditRecord.objects.filter(action="catalog.disclosure_saved").order_by("pk"))
    assert audits[0].before is None
    assert audits[1].before == {"complaint_channels": "意见箱在一楼大厅", "service_notice": ""}
    assert audits[1].after == {"complaint_channels": "12345 热线", "service_notice": "请带齐材料"}


def test_disclosure_too_long_is_refused(centre_administrator, town_site) -> None:
    with pytest.raises(actions.CatalogInputRefused) as refusal:
        actions.save_disclosure(centre_administrator, town_site, "投" * 10_000, "")
    assert refusal.value.errors == {"complaint_channels": "投诉渠道不能超过 2000 个字符。"}
    assert not SiteDisclosure.objects.exists()


def test_site_outside_the_scope_is_not_found_for_pledges(town_administrator, other_town_site) -> None:
    with pytest.raises(NotFound):
        actions.save_pledges(town_administrator, other_town_site, [])
    with pytest.raises(NotFound):
        actions.save_disclosure(town_administrator, other_town_site, "x", "")
    assert catalog_audit_count() == 0


def test_supervisor_cannot_save_pledges(town_site) -> None:
    supervisor = make_staff(town_site, Role.WINDOW_SUPERVISOR, username="another_supervisor")
    with pytest.raises(PermissionRefused):
        actions.save_pledges(supervisor, town_site, [actions.PledgeData("unit", "诺")])
    assert ServicePledge.objects.count() == 0
