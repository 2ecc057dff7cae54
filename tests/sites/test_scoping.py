"""A manager posted at a town manages the town and its villages; a sibling town does not exist for them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from servicehall.sites.models import Site, SiteLevel
from tests.factories import DepartmentFactory, SiteFactory, WindowFactory
from tests.sites.conftest import audit_actions_after, last_audit_id, site_rows


@pytest.fixture
def sibling(other_town_site) -> dict[str, Any]:
    return {
        "site": other_town_site,
        "department": DepartmentFactory(site=other_town_site, code="GA"),
        "window": WindowFactory(site=other_town_site, number=8),
    }


def sibling_requests(sibling: dict[str, Any], city_site: Site) -> list[tuple[str, str, Any]]:
    site, department, window = sibling["site"].pk, sibling["department"].pk, sibling["window"].pk
    return [
        ("get", f"/sites/{site}/", None),
        ("get", f"/sites/{site}/edit/", None),
        (
            "post",
            f"/sites/{site}/edit/",
            {"code": "TOWN-B", "name": "改名", "level": "town", "parent": city_site.pk},
        ),
        ("post", f"/sites/{site}/departments/new/", {"code": "NEW", "name": "新部门"}),
        ("post", f"/sites/departments/{department}/edit/", {"code": "GA", "name": "改名"}),
        ("post", f"/sites/{site}/windows/new/", {"number": "9", "name": "新窗口"}),
        ("post", f"/sites/windows/{window}/edit/", {"number": "8", "name": "改名"}),
        ("post", f"/sites/{site}/opening-hours/", {"period-1-0-start": "09:00", "period-1-0-end": "12:00"}),
        ("patch", f"/api/sites/{site}", {"name": "改名"}),
        ("post", f"/api/sites/{site}/departments", {"code": "NEW", "name": "新部门"}),
        ("patch", f"/api/departments/{department}", {"name": "改名"}),
        ("post", f"/api/sites/{site}/windows", {"number": 9, "name": "新窗口"}),
        ("patch", f"/api/windows/{window}", {"name": "改名"}),
        ("put", f"/api/sites/{site}/opening-hours", {"periods": []}),
        ("post", "/api/sites", {"code": "VIL-B", "name": "外镇村", "level": "village", "parent_id": site}),
    ]


def test_town_manager_cannot_touch_a_sibling_town(town_manager, sibling, city_site, client_for) -> None:
    client = client_for(town_manager)
    for method, url, body in sibling_requests(sibling, city_site):
        before = site_rows()
        last = last_audit_id()
        if url.startswith("/api/"):
            response = getattr(client, method)(url, data=json.dumps(body), content_type="application/json")
        else:
            response = getattr(client, method)(url, body or {})
        assert response.status_code == 404, (method, url)
        assert site_rows() == before, url
        assert audit_actions_after(last) == ["access.denied"], url


def test_town_manager_sees_only_their_subtree(
    town_manager, city_site, town_site, other_town_site, client_for
) -> None:
    village = SiteFactory(code="VIL-1", name="沙栏村便民服务站", level=SiteLevel.VILLAGE, parent=town_site)
    body = client_for(town_manager).get("/sites/").content.decode()
    assert f'href="/sites/{town_site.pk}/"' in body
    assert f'href="/sites/{village.pk}/"' in body
    assert f'href="/sites/{other_town_site.pk}/"' not in body
    assert f'href="/sites/{city_site.pk}/"' not in body


def test_town_manager_cannot_reach_the_city_either(town_manager, city_site, client_for) -> None:
    client = client_for(town_manager)
    assert client.get(f"/sites/{city_site.pk}/edit/").status_code == 404
    response = client.patch(
        f"/api/sites/{city_site.pk}", data=json.dumps({"name": "x"}), content_type="application/json"
    )
    assert response.status_code == 404


def test_town_manager_manages_their_own_town_and_its_villages(town_manager, town_site, client_for) -> None:
    client = client_for(town_manager)
    # A village under their town
    response = client.post(
        "/sites/new/",
        {"code": "VIL-1", "name": "沙栏村便民服务站", "level": "village", "parent": town_site.pk},
    )
    assert response.status_code == 302
    village = Site.objects.get(code="VIL-1")
    # A window at that village
    response = client.post(
        f"/api/sites/{village.pk}/windows",
        data=json.dumps({"number": 1, "name": "综合窗口", "is_supervisor_window": True}),
        content_type="application/json",
    )
    assert response.status_code == 201
    # Their own town's details, keeping its parent (which they cannot otherwise choose)
    edit = client.get(f"/sites/{town_site.pk}/edit/")
    assert edit.status_code == 200
    response = client.post(
        f"/sites/{town_site.pk}/edit/",
        {
            "code": "TOWN-A",
            "name": "三角镇便民服务中心",
            "level": "town",
            "parent": town_site.parent_id,
            "address": "三角镇",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    town_site.refresh_from_db()
    assert town_site.address == "三角镇"


def test_town_manager_cannot_hang_their_town_under_another_city(town_manager, town_site, client_for) -> None:
    other_city = SiteFactory(code="CITY-2", name="另一市中心")
    before = site_rows()
    response = client_for(town_manager).patch(
        f"/api/sites/{town_site.pk}",
        data=json.dumps({"parent_id": other_city.pk}),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert site_rows() == before


def test_town_manager_form_offers_only_their_subtree_as_parents(
    town_manager, client_for, other_town_site
) -> None:
    body = client_for(town_manager).get("/sites/new/").content.decode()
    assert "三角镇便民服务中心" in body
    assert other_town_site.name not in body
