"""The catalogue API: a staff session with the catalogue capability, scope, and the same rules as the pages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from servicehall.audit.models import AuditRecord
from servicehall.catalog import actions
from servicehall.catalog.models import ServiceItem
from tests.catalog.conftest import item_data

REFUSED_PERSONAS = [
    "clerk",
    "supervisor",
    "system_administrator",
    "security_administrator",
    "audit_administrator",
]


def item_body(department: Any, windows: list[Any], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": "RS-300",
        "name": "社保卡申领",
        "department_id": department.pk,
        "item_type": "committed",
        "statutory_limit_days": 10,
        "committed_limit_days": 5,
        "materials": [{"name": "居民身份证", "form": "original", "copies": 1}],
        "steps": [{"name": "受理"}],
        "window_ids": [window.pk for window in windows],
    }
    body.update(overrides)
    return body


def catalogue_state() -> tuple[Any, ...]:
    return (
        [actions.item_picture(item) for item in ServiceItem.objects.order_by("code")],
        AuditRecord.objects.filter(action__startswith="catalog.").count(),
    )


def call(client: Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    if method == "get":
        return client.get(path)
    return getattr(client, method)(path, data=json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def endpoints(item, department, window) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("get", "/api/catalog/items", None),
        ("get", "/api/catalog/items/RS-001", None),
        ("post", "/api/catalog/items", item_body(department, [window])),
        ("put", "/api/catalog/items/RS-001", item_body(department, [window], code="RS-001", name="改名")),
        ("post", "/api/catalog/items/RS-001/publish", {"is_published": False}),
    ]


def test_centre_administrator_reads_and_writes(client_for, centre_administrator, endpoints) -> None:
    client = client_for(centre_administrator)
    expected = [200, 200, 201, 200, 200]
    assert [call(client, *endpoint).status_code for endpoint in endpoints] == expected
    item = ServiceItem.objects.get(code="RS-001")
    assert (item.name, item.is_published) == ("改名", False)
    assert ServiceItem.objects.filter(code="RS-300").exists()


@pytest.mark.parametrize("persona", REFUSED_PERSONAS)
def test_other_roles_get_403_and_nothing_changes(request, client_for, persona, endpoints) -> None:
    client = client_for(request.getfixturevalue(persona))
    before = catalogue_state()
    for endpoint in endpoints:
        response = call(client, *endpoint)
        assert response.status_code == 403, endpoint
        assert response.json()["code"] == "permission_denied"
    assert catalogue_state() == before


def test_anonymous_gets_401_and_nothing_changes(citizen_client, endpoints) -> None:
    before = catalogue_state()
    for endpoint in endpoints:
        response = call(citizen_client, *endpoint)
        assert response.status_code == 401, endpoint
        assert response.json() == {"code": "not_authenticated", "detail": "请先登录 / Please log in."}
    assert catalogue_state() == before


def test_items_outside_the_scope_are_not_found(
    client_for, town_administrator, centre_administrator, other_department
) -> None:
    actions.create_item(centre_administrator, item_data(other_department, code="MZ-001"))
    client = client_for(town_administrator)
    before = catalogue_state()
    assert call(client, "get", "/api/catalog/items/MZ-001").status_code == 404
    assert (
        call(
            client, "put", "/api/catalog/items/MZ-001", item_body(other_department, [], code="MZ-001")
        ).status_code
        == 404
    )
    assert (
        call(client, "post", "/api/catalog/items/MZ-001/publish", {"is_published": False}).status_code == 404
    )
    assert call(client, "get", "/api/catalog/items").json() == {"count": 0, "items": []}
    assert catalogue_state() == before


def test_list_and_detail_bodies(client_for, centre_administrator, item, window) -> None:
    client = client_for(centre_administrator)
    listing = call(client, "get", "/api/catalog/items?q=失业&is_published=true").json()
    assert listing["count"] == 1
    assert listing["items"][0]["code"] == "RS-001"
    detail = call(client, "get", "/api/catalog/items/RS-001").json()
    assert [material["name"] for material in detail["materials"]] == ["居民身份证", "失业登记证明"]
    assert detail["windows"] == [
        {"id": window.pk, "site_id": window.site_id, "number": 3, "name": "社保综合窗口"}
    ]
    assert detail["steps"][0] == {"position": 1, "name": "受理", "description": "窗口核对材料"}


def test_create_reports_every_rule_and_creates_nothing(
    client_for, centre_administrator, department, window
) -> None:
    body = item_body(
        department,
        [window],
        statutory_limit_days=3,
        committed_limit_days=5,
        materials=[{"name": "照片", "copies": 2, "is_mandatory": False, "is_deferrable": True}],
    )
    response = call(client_for(centre_administrator), "post", "/api/catalog/items", body)
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_item",
        "detail": "承诺办结时限（5 个工作日）不能超过法定办结时限（3 个工作日）。",
        "field": "committed_limit_days",
        "errors": [
            {
                "field": "committed_limit_days",
                "message": "承诺办结时限（5 个工作日）不能超过法定办结时限（3 个工作日）。",
            },
            {
                "field": "materials.0.is_deferrable",
                "message": "申请材料第 1 项：容缺只适用于必需材料：非必需材料不能标记为可容缺。",
            },
        ],
    }
    assert ServiceItem.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "detail"),
    [
        ({"name": "名" * 10_000}, "name", "事项名称不能超过 200 个字符。"),
        ({"legal_basis": "法" * 10_000}, "legal_basis", "设定依据不能超过 2000 个字符。"),
        ({"code": "RS/300"}, "code", "事项编码只能包含字母、数字、连字符和下划线，且以字母或数字开头。"),
        ({"code": "RS-001"}, "code", "事项编码 RS-001 已被使用。"),
        ({"statutory_limit_days": -1}, "statutory_limit_days", "法定办结时限不能为负数。"),
        ({"name": "社保\x07卡"}, "name", "事项名称不能包含控制字符。"),
    ],
)
def test_hostile_or_bad_input_is_a_400(
    client_for, centre_administrator, item, department, window, overrides, field, detail
) -> None:
    before = catalogue_state()
    response = call(
        client_for(centre_administrator),
        "post",
        "/api/catalog/items",
        item_body(department, [window], **overrides),
    )
    assert response.status_code == 400
    assert (response.json()["field"], response.json()["detail"]) == (field, detail)
    assert catalogue_state() == before


def test_malformed_json_shapes_are_a_400(client_for, centre_administrator, department) -> None:
    client = client_for(centre_administrator)
    response = call(client, "post", "/api/catalog/items", {"code": "X", "statutory_limit_days": "many"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    too_many = item_body(department, [], materials=[{"name": f"材料{index}"} for index in range(51)])
    assert call(client, "post", "/api/catalog/items", too_many).status_code == 400
    assert ServiceItem.objects.count() == 0


def test_put_replaces_the_nested_lists(
    client_for, centre_administrator, item, department, second_window
) -> None:
    body = item_body(
        department,
        [second_window],
        code="RS-001",
        is_free=False,
        fees=[{"name": "工本费", "amount": "20.00", "legal_basis": "文件"}],
        materials=[],
        steps=[],
    )
    response = call(client_for(centre_administrator), "put", "/api/catalog/items/RS-001", body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["materials"] == []
    assert answer["fees"] == [{"name": "工本费", "amount": "20.00", "legal_basis": "文件"}]
    assert [window["number"] for window in answer["windows"]] == [5]


@pytest.mark.parametrize("code", ["NOPE", "A" * 300, "%E4%BA%8B", "..%5C..%5Cetc"])
def test_unknown_or_impossible_code_is_404(client_for, centre_administrator, code) -> None:
    response = call(client_for(centre_administrator), "get", f"/api/catalog/items/{code}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_nul_characters_anywhere_are_refused_with_400(
    client_for, centre_administrator, department, window
) -> None:
    client = client_for(centre_administrator)
    before = catalogue_state()
    for method, path, body in [
        ("get", "/api/catalog/items?q=%00", None),
        ("get", "/api/catalog/items/%00", None),
        ("post", "/api/catalog/items", item_body(department, [window], code="RS\x00300")),
        ("post", "/api/catalog/items", item_body(department, [window], name="社保\x00卡")),
    ]:
        response = call(client, method, path, body)
        assert response.status_code == 400, path
        assert "NUL" in response.json()["detail"]
    assert catalogue_state() == before
