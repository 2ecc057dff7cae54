"""Every persona against every sites page and write endpoint: the exact status, and for refusals no change.

Managers are the roles with Capability.MANAGE_SITES (中心管理员, 系统管理员); everyone else who works
here may look at sites but never change them; a member of the public reaches nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from tests.sites.conftest import audit_actions_after, last_audit_id, site_rows

PERSONAS = [
    "citizen",
    "clerk",
    "other_site_clerk",
    "supervisor",
    "centre_administrator",
    "system_administrator",
    "security_administrator",
    "audit_administrator",
]
MANAGERS = {"centre_administrator", "system_administrator"}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    url: Callable[[dict[str, Any]], str]
    payload: Callable[[dict[str, Any]], Any] = lambda world: None
    success: int = 200
    audit_action: str = ""

    @property
    def is_api(self) -> bool:
        return self.name.startswith("api")

    @property
    def is_write(self) -> bool:
        return self.method != "get"


def _site_form(world: dict[str, Any], **changes: Any) -> dict[str, Any]:
    form = {"code": "TOWN-C", "name": "南头镇便民服务中心", "level": "town", "parent": world["city"].pk}
    form.update(is_active="on", **changes)
    return form


PAGE_READS = [
    Endpoint("site list", "get", lambda world: "/sites/"),
    Endpoint("new site form", "get", lambda world: "/sites/new/"),
    Endpoint("site edit form", "get", lambda world: f"/sites/{world['town'].pk}/edit/"),
    Endpoint("new department form", "get", lambda world: f"/sites/{world['town'].pk}/departments/new/"),
    Endpoint(
        "department edit form", "get", lambda world: f"/sites/departments/{world['department'].pk}/edit/"
    ),
    Endpoint("new window form", "get", lambda world: f"/sites/{world['town'].pk}/windows/new/"),
    Endpoint("window edit form", "get", lambda world: f"/sites/windows/{world['window'].pk}/edit/"),
    Endpoint("opening hours editor", "get", lambda world: f"/sites/{world['town'].pk}/opening-hours/"),
]
PAGE_WRITES = [
    Endpoint(
        "create site",
        "post",
        lambda world: "/sites/new/",
        lambda world: _site_form(world),
        302,
        "sites.site_created",
    ),
    Endpoint(
        "update site",
        "post",
        lambda world: f"/sites/{world['town'].pk}/edit/",
        lambda world: _site_form(world, code="TOWN-A", name="三角镇政务服务中心"),
        302,
        "sites.site_updated",
    ),
    Endpoint(
        "create department",
        "post",
        lambda world: f"/sites/{world['town'].pk}/departments/new/",
        lambda world: {"code": "GA", "name": "公安局", "is_active": "on"},
        302,
        "sites.department_created",
    ),
    Endpoint(
        "update department",
        "post",
        lambda world: f"/sites/departments/{world['department'].pk}/edit/",
        lambda world: {"code": "RS", "name": "人社局", "is_active": "on"},
        302,
        "sites.department_updated",
    ),
    Endpoint(
        "create window",
        "post",
        lambda world: f"/sites/{world['town'].pk}/windows/new/",
        lambda world: {
            "number": "5",
            "name": "出入境窗口",
            "department": world["department"].pk,
            "posts": ["reception", "guide"],
            "is_active": "on",
        },
        302,
        "sites.window_created",
    ),
    Endpoint(
        "update window",
        "post",
        lambda world: f"/sites/windows/{world['window'].pk}/edit/",
        lambda world: {"number": "3", "name": "社保窗口", "posts": ["reception"], "is_active": "on"},
        302,
        "sites.window_updated",
    ),
    Endpoint(
        "replace opening hours",
        "post",
        lambda world: f"/sites/{world['town'].pk}/opening-hours/",
        lambda world: {"period-1-0-start": "08:30", "period-1-0-end": "12:00", "period-1-0-note": ""},
        302,
        "sites.opening_hours_replaced",
    ),
]
API_WRITES = [
    Endpoint(
        "api create site",
        "post",
        lambda world: "/api/sites",
        lambda world: {
            "code": "TOWN-C",
            "name": "南头镇便民服务中心",
            "level": "town",
            "parent_id": world["city"].pk,
        },
        201,
        "sites.site_created",
    ),
    Endpoint(
        "api update site",
        "patch",
        lambda world: f"/api/sites/{world['town'].pk}",
        lambda world: {"name": "三角镇政务服务中心"},
        200,
        "sites.site_updated",
    ),
    Endpoint(
        "api create department",
        "post",
        lambda world: f"/api/sites/{world['town'].pk}/departments",
        lambda world: {"code": "GA", "name": "公安局"},
        201,
        "sites.department_created",
    ),
    Endpoint(
        "api update department",
        "patch",
        lambda world: f"/api/departments/{world['department'].pk}",
        lambda world: {"name": "人社局"},
        200,
        "sites.department_updated",
    ),
    Endpoint(
        "api create window",
        "post",
        lambda world: f"/api/sites/{world['town'].pk}/windows",
        lambda world: {"number": 5, "name": "出入境窗口", "posts": ["reception"]},
        201,
        "sites.window_created",
    ),
    Endpoint(
        "api update window",
        "patch",
        lambda world: f"/api/windows/{world['window'].pk}",
        lambda world: {"posts": ["guide"]},
        200,
        "sites.window_updated",
    ),
    Endpoint(
        "api replace opening hours",
        "put",
        lambda world: f"/api/sites/{world['town'].pk}/opening-hours",
        lambda world: {"periods": [{"weekday": 1, "starts_at": "08:30", "ends_at": "12:00"}]},
        200,
        "sites.opening_hours_replaced",
    ),
]


@pytest.fixture
def world(city_site, town_site, other_town_site, department, window) -> dict[str, Any]:
    return {"city": city_site, "town": town_site, "department": department, "window": window}


def client_of(persona: str, request: pytest.FixtureRequest, client_for: Any) -> Client:
    if persona == "citizen":
        return request.getfixturevalue("citizen_client")
    return client_for(request.getfixturevalue(persona))


def send(client: Client, endpoint: Endpoint, world: dict[str, Any]) -> Any:
    url = endpoint.url(world)
    payload = endpoint.payload(world)
    if endpoint.method == "get":
        return client.get(url)
    if endpoint.is_api:
        return getattr(client, endpoint.method)(
            url, data=json.dumps(payload), content_type="application/json"
        )
    return client.post(url, payload)


def expected_status(persona: str, endpoint: Endpoint) -> int:
    if persona == "citizen":
        return 401 if endpoint.is_api else 302
    if endpoint.name == "site list":
        return 200
    if persona not in MANAGERS:
        return 403
    return endpoint.success


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    "endpoint", PAGE_READS + PAGE_WRITES + API_WRITES, ids=lambda endpoint: endpoint.name
)
def test_permission_matrix(persona, endpoint, world, request, client_for) -> None:
    # Given the persona's client and a picture of every row
    client = client_of(persona, request, client_for)
    before = site_rows()
    last = last_audit_id()
    # When they use the endpoint
    response = send(client, endpoint, world)
    # Then the status is exactly as the matrix says
    status = expected_status(persona, endpoint)
    assert response.status_code == status, response.content.decode()[:500]
    if persona == "citizen" and not endpoint.is_api:
        assert response["Location"].startswith("/accounts/login/")
    if persona == "citizen" or status == 403:
        # And a refusal changed nothing; staff refusals are audited as access.denied, nothing else
        assert site_rows() == before
        assert audit_actions_after(last) == ([] if persona == "citizen" else ["access.denied"])
    elif endpoint.is_write:
        # And a manager's write is recorded once, under its own action code
        assert site_rows() != before
        assert audit_actions_after(last) == [endpoint.audit_action]
    else:
        assert site_rows() == before
        assert audit_actions_after(last) == []


@pytest.mark.parametrize("persona", PERSONAS[1:])
def test_site_detail_matrix(persona, world, request, client_for) -> None:
    # The clerk of another town does not see this town at all; everyone else here does.
    client = client_of(persona, request, client_for)
    last = last_audit_id()
    response = client.get(f"/sites/{world['town'].pk}/")
    if persona == "other_site_clerk":
        assert response.status_code == 404
        assert audit_actions_after(last) == ["access.denied"]
    else:
        assert response.status_code == 200
        assert audit_actions_after(last) == []


def test_citizen_is_sent_to_login_from_the_detail_page(world, citizen_client) -> None:
    response = citizen_client.get(f"/sites/{world['town'].pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


MANAGER_CONTROLS = ["新建场所"]
DETAIL_CONTROLS = ["编辑办公时间", "新增窗口", "编辑窗口", "新增部门", "编辑部门", "新建下级场所"]


@pytest.mark.parametrize("persona", PERSONAS[1:])
def test_only_managers_see_the_buttons(persona, world, request, client_for) -> None:
    client = client_of(persona, request, client_for)
    list_body = client.get("/sites/").content.decode()
    detail = client.get(f"/sites/{world['town'].pk}/")
    shown = persona in MANAGERS
    for label in MANAGER_CONTROLS:
        assert (label in list_body) is shown
    if detail.status_code == 200:
        body = detail.content.decode()
        for label in DETAIL_CONTROLS:
            assert (label in body) is shown, label
        assert (f'href="/sites/{world["town"].pk}/edit/"' in body) is shown
