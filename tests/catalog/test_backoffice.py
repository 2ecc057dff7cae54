"""Back-office pages of the 事项库: who may use them, and that the forms go through the actions."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from servicehall.audit.models import AuditRecord
from servicehall.catalog import actions, spreadsheet
from servicehall.catalog.models import ServiceItem, ServicePledge, SiteDisclosure
from tests.catalog.conftest import item_data

REFUSED_PERSONAS = [
    "clerk",
    "supervisor",
    "system_administrator",
    "security_administrator",
    "audit_administrator",
]


def catalogue_state() -> list[dict[str, Any]]:
    return [actions.item_picture(item) for item in ServiceItem.objects.order_by("code")]


def world_state() -> tuple[Any, ...]:
    """Everything a refused request might have changed."""
    return (
        catalogue_state(),
        list(ServicePledge.objects.values_list("site_id", "kind", "text")),
        list(SiteDisclosure.objects.values_list("site_id", "complaint_channels")),
        AuditRecord.objects.filter(action__startswith="catalog.").count(),
    )


def item_post(department: Any, windows: list[Any], **overrides: Any) -> dict[str, Any]:
    """What the item form posts: the fields, one material, one step, no fees."""
    data: dict[str, Any] = {
        "code": "RS-200",
        "name": "就业登记",
        "department": department.pk,
        "item_type": "committed",
        "statutory_limit_days": "10",
        "committed_limit_days": "3",
        "conditions": "",
        "legal_basis": "《就业服务与就业管理规定》",
        "keywords": "就业",
        "is_free": "on",
        "delivery_at_window": "on",
        "is_published": "on",
        "windows": [window.pk for window in windows],
        "materials-TOTAL_FORMS": "2",
        "materials-INITIAL_FORMS": "0",
        "materials-0-name": "居民身份证",
        "materials-0-form": "original",
        "materials-0-copies": "1",
        "materials-0-is_mandatory": "on",
        "materials-0-notes": "",
        "materials-0-ORDER": "2",
        "materials-1-name": "劳动合同",
        "materials-1-form": "copy",
        "materials-1-copies": "1",
        "materials-1-is_mandatory": "on",
        "materials-1-ORDER": "1",
        "fees-TOTAL_FORMS": "1",
        "fees-INITIAL_FORMS": "0",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "steps-0-name": "受理",
        "steps-0-description": "",
        "steps-0-ORDER": "1",
    }
    data.update(overrides)
    return data


@pytest.fixture
def pages(item, town_site, department, window) -> list[tuple[str, str, dict[str, Any]]]:
    """Every back-office endpoint with a request that would change something if allowed."""
    return [
        ("get", "/catalog/", {}),
        ("get", "/catalog/new/", {}),
        ("get", f"/catalog/items/{item.pk}/", {}),
        ("get", "/catalog/export.xlsx", {}),
        ("get", "/catalog/import/", {}),
        ("get", "/catalog/sites/", {}),
        ("get", f"/catalog/sites/{town_site.pk}/", {}),
        ("post", "/catalog/new/", item_post(department, [window])),
        ("post", f"/catalog/items/{item.pk}/", item_post(department, [window], code="RS-001", name="改名")),
        ("post", f"/catalog/items/{item.pk}/publish/", {"published": "0"}),
        ("post", "/catalog/import/", {"file": SimpleUploadedFile("a.xlsx", spreadsheet.write_workbook({}))}),
        (
            "post",
            f"/catalog/sites/{town_site.pk}/pledges/",
            {
                "pledges-TOTAL_FORMS": "1",
                "pledges-INITIAL_FORMS": "0",
                "pledges-0-kind": "unit",
                "pledges-0-text": "诺",
            },
        ),
        (
            "post",
            f"/catalog/sites/{town_site.pk}/disclosure/",
            {"complaint_channels": "x", "service_notice": ""},
        ),
    ]


def send(client: Client, method: str, path: str, data: dict[str, Any]) -> Any:
    for value in data.values():
        if hasattr(value, "seek"):
            value.seek(0)
    return getattr(client, method)(path, data)


def test_centre_administrator_may_use_every_page(client_for, centre_administrator, pages) -> None:
    client = client_for(centre_administrator)
    for method, path, data in pages:
        if method == "get":
            assert send(client, method, path, data).status_code == 200, path


@pytest.mark.parametrize("persona", REFUSED_PERSONAS)
def test_other_roles_are_refused_and_nothing_changes(request, client_for, persona, pages) -> None:
    client = client_for(request.getfixturevalue(persona))
    before = world_state()
    denied_before = AuditRecord.objects.filter(action="access.denied").count()
    for method, path, data in pages:
        response = send(client, method, path, data)
        assert response.status_code == 403, (persona, method, path)
        assert "您没有访问此页面的权限" in response.content.decode()
    assert world_state() == before
    assert AuditRecord.objects.filter(action="access.denied").count() == denied_before + len(pages)


def test_anonymous_visitors_are_sent_to_login_and_nothing_changes(citizen_client, pages) -> None:
    before = world_state()
    for method, path, data in pages:
        response = send(citizen_client, method, path, data)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/")
    assert world_state() == before


def test_another_sites_items_and_sites_do_not_exist_for_a_town_administrator(
    client_for, town_administrator, centre_administrator, other_department, other_town_site
) -> None:
    foreign = actions.create_item(centre_administrator, item_data(other_department, code="MZ-001"))
    client = client_for(town_administrator)
    before = world_state()
    for method, path, data in [
        ("get", f"/catalog/items/{foreign.pk}/", {}),
        ("post", f"/catalog/items/{foreign.pk}/", {"name": "改"}),
        ("post", f"/catalog/items/{foreign.pk}/publish/", {"published": "0"}),
        ("get", f"/catalog/sites/{other_town_site.pk}/", {}),
        ("post", f"/catalog/sites/{other_town_site.pk}/disclosure/", {"complaint_channels": "x"}),
        ("get", "/catalog/items/999999/", {}),
    ]:
        assert send(client, method, path, data).status_code == 404, path
    assert world_state() == before
    listing = client.get("/catalog/").content.decode()
    assert "MZ-001" not in listing
    book = load_workbook(io.BytesIO(client.get("/catalog/export.xlsx").content))
    assert [row[0] for row in book["事项"].iter_rows(min_row=2, values_only=True)] == []


def test_list_search_and_filters(client_for, centre_administrator, department, other_department) -> None:
    actions.create_item(centre_administrator, item_data(department, code="A-1", name="失业登记"))
    actions.create_item(
        centre_administrator,
        item_data(
            department,
            code="A-2",
            name="即办证明",
            item_type="immediate",
            statutory_limit_days=0,
            committed_limit_days=0,
        ),
    )
    hidden = actions.create_item(
        centre_administrator, item_data(other_department, code="B-1", name="婚姻登记")
    )
    actions.set_item_published(centre_administrator, hidden, False)
    client = client_for(centre_administrator)

    def codes(**params: Any) -> list[str]:
        body = client.get("/catalog/", params).content.decode()
        return [code for code in ("A-1", "A-2", "B-1") if f'<td class="mono">{code}</td>' in body]

    assert codes() == ["A-1", "A-2", "B-1"]
    assert codes(q="登记") == ["A-1", "B-1"]
    assert codes(department=other_department.pk) == ["B-1"]
    assert codes(type="immediate") == ["A-2"]
    assert codes(published="0") == ["B-1"]
    assert codes(published="1", q="a-") == ["A-1", "A-2"]
    assert client.get("/catalog/", {"q": "登记\x00"}).status_code == 400


def test_create_through_the_form(client_for, centre_administrator, department, window) -> None:
    response = client_for(centre_administrator).post("/catalog/new/", item_post(department, [window]))
    item = ServiceItem.objects.get(code="RS-200")
    assert response.status_code == 302
    assert response["Location"] == f"/catalog/items/{item.pk}/"
    # 序号 decides the order: 劳动合同 was numbered 1
    assert list(item.materials.values_list("position", "name")) == [(1, "劳动合同"), (2, "居民身份证")]
    assert list(item.item_windows.values_list("window_id", flat=True)) == [window.pk]
    assert AuditRecord.objects.filter(action="catalog.item_created", object_id=str(item.pk)).count() == 1


def test_form_shows_rule_messages_and_saves_nothing(
    client_for, centre_administrator, department, window
) -> None:
    post = item_post(
        department,
        [window],
        statutory_limit_days="3",
        committed_limit_days="5",
        **{"materials-1-is_mandatory": "", "materials-1-is_deferrable": "on"},
    )
    post.pop("materials-1-is_mandatory")
    response = client_for(centre_administrator).post("/catalog/new/", post)
    assert response.status_code == 400
    body = response.content.decode()
    assert "承诺办结时限（5 个工作日）不能超过法定办结时限（3 个工作日）。" in body
    assert "申请材料第 1 项：容缺只适用于必需材料：非必需材料不能标记为可容缺。" in body
    assert ServiceItem.objects.count() == 0


def test_form_refuses_ten_thousand_characters(client_for, centre_administrator, department, window) -> None:
    response = client_for(centre_administrator).post(
        "/catalog/new/", item_post(department, [window], name="名" * 10_000, conditions="条" * 10_000)
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "事项名称不能超过 200 个字符。" in body
    assert "受理条件不能超过 2000 个字符。" in body
    assert ServiceItem.objects.count() == 0


@pytest.mark.parametrize("code", ["RS 200", "<script>", "事项", "../etc"])
def test_form_refuses_invalid_codes(client_for, centre_administrator, department, window, code) -> None:
    response = client_for(centre_administrator).post(
        "/catalog/new/", item_post(department, [window], code=code)
    )
    assert response.status_code == 400
    assert "事项编码只能包含字母、数字、连字符和下划线，且以字母或数字开头。" in response.content.decode()
    assert ServiceItem.objects.count() == 0


def test_add_row_shows_one_more_row_and_saves_nothing(
    client_for, centre_administrator, department, window
) -> None:
    response = client_for(centre_administrator).post(
        "/catalog/new/", item_post(department, [window], add_row="materials")
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="materials-TOTAL_FORMS" value="3"' in body
    assert 'name="materials-2-name"' in body
    assert "autofocus" in body
    assert ServiceItem.objects.count() == 0


def test_edit_form_shows_and_saves_the_item(
    client_for, centre_administrator, item, department, window
) -> None:
    client = client_for(centre_administrator)
    page = client.get(f"/catalog/items/{item.pk}/").content.decode()
    assert 'value="失业登记证明"' in page
    assert 'name="materials-TOTAL_FORMS" value="3"' in page
    post = item_post(department, [window], code="RS-001", name="失业保险金申领（改）")
    response = client.post(f"/catalog/items/{item.pk}/", post)
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.name == "失业保险金申领（改）"
    assert list(item.materials.values_list("name", flat=True)) == ["劳动合同", "居民身份证"]


def test_deleted_and_blank_rows_are_not_saved(
    client_for, centre_administrator, item, department, window
) -> None:
    post = item_post(department, [window], code="RS-001", **{"materials-0-DELETE": "on"})
    post.update({"materials-TOTAL_FORMS": "3", "materials-2-form": "original", "materials-2-copies": "1"})
    client_for(centre_administrator).post(f"/catalog/items/{item.pk}/", post)
    assert list(item.materials.values_list("name", flat=True)) == ["劳动合同"]


def test_publish_toggle(client_for, centre_administrator, item) -> None:
    client = client_for(centre_administrator)
    response = client.post(f"/catalog/items/{item.pk}/publish/", {"published": "0", "next": "list"})
    assert response.status_code == 302
    assert response["Location"] == "/catalog/"
    assert ServiceItem.objects.get(pk=item.pk).is_published is False
    client.post(f"/catalog/items/{item.pk}/publish/", {"published": "1"})
    assert ServiceItem.objects.get(pk=item.pk).is_published is True


def test_sample_upload_and_download(client_for, centre_administrator, item) -> None:
    client = client_for(centre_administrator)
    first = item.materials.get(position=1)
    path = f"/catalog/items/{item.pk}/materials/{first.pk}/sample/"
    response = client.post(path, {"file": SimpleUploadedFile("申请表.pdf", b"%PDF-1.7 x")})
    assert response.status_code == 302
    download = client.get(path)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.7 x"
    refused = client.post(path, {"file": SimpleUploadedFile("病毒.exe", b"MZ")})
    assert refused.status_code == 400
    assert "样表文件只能是 PDF、Word（doc/docx）、Excel（xls/xlsx）、JPG 或 PNG。" in refused.content.decode()
    other_item = actions.create_item(centre_administrator, item_data(item.department, code="RS-002"))
    assert client.get(f"/catalog/items/{other_item.pk}/materials/{first.pk}/sample/").status_code == 404


def test_export_download(client_for, centre_administrator, item) -> None:
    response = client_for(centre_administrator).get("/catalog/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    assert load_workbook(io.BytesIO(response.content)).sheetnames == [
        "事项",
        "材料",
        "收费",
        "流程",
        "窗口",
        "协办部门",
    ]


def test_import_page_lists_all_errors_with_status_400(client_for, centre_administrator, department) -> None:
    content = spreadsheet.write_workbook(
        {
            "items": [
                [
                    "RS-1",
                    "事项",
                    "TOWN-A",
                    "RS",
                    "承诺件",
                    3,
                    5,
                    "否",
                    "",
                    "",
                    "是",
                    "是",
                    "否",
                    "否",
                    "",
                    "是",
                ]
            ],
            "materials": [["RS-1", "照片", "两", "原件", "是", "否", ""]],
        }
    )
    response = client_for(centre_administrator).post(
        "/catalog/import/", {"file": SimpleUploadedFile("清单.xlsx", content)}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "文件有 2 处错误，未导入任何内容" in body
    assert "<li>工作表 材料 第 2 行 第 C 列（份数）：必须是正整数</li>" in body
    assert ServiceItem.objects.count() == 0


def test_import_page_success_and_wrong_extension(client_for, centre_administrator, department) -> None:
    content = spreadsheet.write_workbook(
        {
            "items": [
                [
                    "RS-1",
                    "事项",
                    "TOWN-A",
                    "RS",
                    "承诺件",
                    3,
                    1,
                    "否",
                    "",
                    "",
                    "是",
                    "是",
                    "否",
                    "否",
                    "",
                    "是",
                ]
            ]
        }
    )
    client = client_for(centre_administrator)
    wrong = client.post("/catalog/import/", {"file": SimpleUploadedFile("清单.csv", content)})
    assert wrong.status_code == 400
    assert "请上传 .xlsx 格式的事项清单。" in wrong.content.decode()
    response = client.post("/catalog/import/", {"file": SimpleUploadedFile("清单.xlsx", content)})
    assert response.status_code == 302
    assert ServiceItem.objects.filter(code="RS-1").exists()


def test_pledge_and_disclosure_editors(client_for, centre_administrator, town_site, clerk) -> None:
    client = client_for(centre_administrator)
    page = client.get(f"/catalog/sites/{town_site.pk}/").content.decode()
    assert f"李受理（{clerk.staff_number}）" in page
    response = client.post(
        f"/catalog/sites/{town_site.pk}/pledges/",
        {
            "pledges-TOTAL_FORMS": "2",
            "pledges-INITIAL_FORMS": "0",
            "pledges-0-kind": "personal",
            "pledges-0-staff": clerk.pk,
            "pledges-0-text": "首问负责",
            "pledges-1-kind": "unit",
            "pledges-1-text": "限时办结",
        },
    )
    assert response.status_code == 302
    assert list(ServicePledge.objects.order_by("kind").values_list("kind", "staff_id", "text")) == [
        ("personal", clerk.pk, "首问负责"),
        ("unit", None, "限时办结"),
    ]
    refused = client.post(
        f"/catalog/sites/{town_site.pk}/pledges/",
        {
            "pledges-TOTAL_FORMS": "1",
            "pledges-INITIAL_FORMS": "0",
            "pledges-0-kind": "personal",
            "pledges-0-text": "诺",
        },
    )
    assert refused.status_code == 400
    assert "服务承诺第 1 项：个人承诺须选择承诺人。" in refused.content.decode()
    assert ServicePledge.objects.count() == 2
    saved = client.post(
        f"/catalog/sites/{town_site.pk}/disclosure/",
        {"complaint_channels": "意见箱", "service_notice": "须知"},
    )
    assert saved.status_code == 302
    too_long = client.post(
        f"/catalog/sites/{town_site.pk}/disclosure/",
        {"complaint_channels": "投" * 10_000, "service_notice": ""},
    )
    assert too_long.status_code == 400
    assert "投诉渠道不能超过 2000 个字符。" in too_long.content.decode()
    assert SiteDisclosure.objects.get(site=town_site).complaint_channels == "意见箱"
