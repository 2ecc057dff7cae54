"""The public 办事指南 and 服务承诺 pages: no login, everything a citizen needs, nothing personal."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from servicehall.catalog import actions
from servicehall.catalog.models import ServiceItem
from servicehall.catalog.public_views import qr_svg
from servicehall.sites.models import OpeningPeriod
from tests.catalog.conftest import fee, item_data, material
from tests.factories import DepartmentFactory

PDF = b"%PDF-1.4\n%sample\n"


def body_of(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def catalogue(
    centre_administrator, department, window, second_window, other_department, other_window
) -> dict[str, Any]:
    """A small catalogue: a fee-charging 承诺件, a free 即办件 at another town, and an unpublished item."""
    town_site = department.site
    town_site.address = "三角镇政务服务中心一楼"
    town_site.save()
    committed = actions.create_item(
        centre_administrator,
        item_data(
            department,
            [window, second_window],
            is_free=False,
            fees=[fee("证书工本费", "15.00", "粤发改价格〔2021〕12号")],
            deemed_approval_on_timeout=True,
            delivery_by_post=True,
            delivery_by_cabinet=True,
        ),
    )
    immediate = actions.create_item(
        centre_administrator,
        item_data(
            other_department,
            [other_window],
            code="MZ-010",
            name="婚姻登记记录证明",
            keywords="婚姻 证明",
            item_type="immediate",
            statutory_limit_days=0,
            committed_limit_days=0,
            materials=[material("户口簿", form="original")],
        ),
    )
    hidden = actions.create_item(
        centre_administrator,
        item_data(department, code="RS-999", name="内部试点事项", is_published=False),
    )
    return {"committed": committed, "immediate": immediate, "hidden": hidden}


def listed_codes(response: Any) -> list[str]:
    return re.findall(r'class="item-name" href="/guide/([A-Za-z0-9_-]+)/"', body_of(response))


def test_list_shows_published_items_to_anyone(citizen_client: Client, catalogue) -> None:
    response = citizen_client.get("/guide/")
    assert response.status_code == 200
    assert listed_codes(response) == ["MZ-010", "RS-001"]
    body = body_of(response)
    assert "共 2 项" in body
    assert "内部试点事项" not in body
    assert "即时办结" in body
    assert "5 个工作日" in body


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("失业", ["RS-001"]),
        ("婚姻", ["MZ-010"]),
        ("社保", ["RS-001"]),
        ("mz-010", ["MZ-010"]),
        ("试点", []),
        ("没有", []),
    ],
)
def test_list_search_by_name_keyword_or_code(citizen_client: Client, catalogue, query, codes) -> None:
    response = citizen_client.get("/guide/", {"q": query})
    assert response.status_code == 200
    assert listed_codes(response) == codes


def test_list_department_filter(citizen_client: Client, catalogue, other_department, department) -> None:
    assert listed_codes(citizen_client.get("/guide/", {"department": other_department.pk})) == ["MZ-010"]
    assert listed_codes(citizen_client.get("/guide/", {"department": department.pk, "q": "失业"})) == [
        "RS-001"
    ]
    body = body_of(citizen_client.get("/guide/"))
    assert f'<option value="{department.pk}">三角镇便民服务中心 · 人力资源和社会保障局</option>' in body


def test_list_is_paginated(citizen_client: Client, centre_administrator, department) -> None:
    for number in range(25):
        actions.create_item(
            centre_administrator, item_data(department, code=f"P-{number:03d}", name=f"事项{number}")
        )
    first = citizen_client.get("/guide/")
    assert len(listed_codes(first)) == 20
    second = citizen_client.get("/guide/", {"page": 2})
    assert listed_codes(second) == [f"P-{number:03d}" for number in range(20, 25)]
    assert "第 2 / 2 页" in body_of(second)


@pytest.mark.parametrize("params", [{"page": "x"}, {"page": "999"}, {"department": "abc"}, {"q": "%" * 500}])
def test_list_odd_parameters_still_answer(citizen_client: Client, catalogue, params) -> None:
    assert citizen_client.get("/guide/", params).status_code == 200


def test_detail_tells_everything_at_once(citizen_client: Client, catalogue, window, second_window) -> None:
    response = citizen_client.get("/guide/RS-001/")
    assert response.status_code == 200
    body = body_of(response)
    for expected in [
        "失业保险金申领",
        "事项编码 RS-001",
        "人力资源和社会保障局",
        "承诺件",
        "适用超时默认",
        "在本市参加失业保险并已办理失业登记。",
        "《失业保险条例》第十四条",
        "居民身份证",
        "失业登记证明",
        '<td data-label="形式">原件</td>',
        '<td data-label="形式">复印件</td>',
        '<td class="numeric" data-label="份数">2</td>',
        "必需 · 可容缺",
        "加盖公章",
        "证书工本费：<strong>15.00 元</strong>",
        "粤发改价格〔2021〕12号",
        "<strong>受理</strong>：窗口核对材料",
        "<strong>审核</strong>",
        "三角镇便民服务中心",
        "三角镇政务服务中心一楼",
        "3号窗口、5号窗口",
        "窗口领取",
        "邮寄送达",
        "24小时自助文件柜",
        "20 个工作日",
        "5 个工作日",
    ]:
        assert expected in body, expected


def test_detail_of_an_immediate_free_item(citizen_client: Client, catalogue) -> None:
    body = body_of(citizen_client.get("/guide/MZ-010/"))
    assert "<dt>承诺办结时限</dt><dd>即时办结</dd>" in body
    assert "<dt>法定办结时限</dt><dd>即时办结</dd>" in body
    assert "<p>不收费</p>" in body
    assert "适用超时默认" not in body
    assert "2号窗口" in body


def test_detail_carries_a_qr_code_of_its_own_address(citizen_client: Client, catalogue) -> None:
    body = body_of(citizen_client.get("/guide/RS-001/", HTTP_HOST="localhost"))
    svg = re.search(r"<svg[^>]*>.*?</svg>", body, re.S)
    assert svg is not None
    assert "<title>http://localhost/guide/RS-001/</title>" in svg.group(0)
    assert qr_svg("http://localhost/guide/RS-001/") in body


def test_detail_is_printable_on_a4(citizen_client: Client, catalogue) -> None:
    from django.contrib.staticfiles import finders

    body = body_of(citizen_client.get("/guide/RS-001/"))
    assert '<link rel="stylesheet" href="/static/catalog/catalog.css">' in body
    assert "window.print()" in body
    with open(finders.find("catalog/catalog.css"), encoding="utf-8") as stylesheet_file:
        stylesheet = stylesheet_file.read()
    assert "@media print" in stylesheet
    assert "size: A4" in stylesheet


@pytest.mark.parametrize(
    "path", ["/guide/RS-999/", "/guide/NO-SUCH/", "/guide/%E4%BA%8B/", "/guide/" + "A" * 500 + "/"]
)
def test_unpublished_or_unknown_items_are_not_found(citizen_client: Client, catalogue, path) -> None:
    response = citizen_client.get(path)
    assert response.status_code == 404
    assert "内部试点事项" not in body_of(response)


@pytest.mark.parametrize(("path", "params"), [("/guide/%00/", {}), ("/guide/", {"q": "失业\x00"})])
def test_nul_characters_are_refused_with_400(citizen_client: Client, catalogue, path, params) -> None:
    response = citizen_client.get(path, params)
    assert response.status_code == 400
    assert "NUL" in body_of(response)


def test_unpublishing_takes_the_page_down(citizen_client: Client, catalogue, centre_administrator) -> None:
    actions.set_item_published(centre_administrator, catalogue["committed"], False)
    assert citizen_client.get("/guide/RS-001/").status_code == 404
    assert listed_codes(citizen_client.get("/guide/")) == ["MZ-010"]


def test_sample_file_download(citizen_client: Client, catalogue, centre_administrator) -> None:
    first = catalogue["committed"].materials.get(position=1)
    actions.upload_material_sample(centre_administrator, first, SimpleUploadedFile("x.pdf", PDF))
    body = body_of(citizen_client.get("/guide/RS-001/"))
    assert '<a href="/guide/RS-001/materials/1/sample/">下载</a>' in body
    response = citizen_client.get("/guide/RS-001/materials/1/sample/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert citizen_client.get("/guide/RS-001/materials/2/sample/").status_code == 404
    actions.set_item_published(centre_administrator, catalogue["committed"], False)
    assert citizen_client.get("/guide/RS-001/materials/1/sample/").status_code == 404


def test_html_in_item_fields_is_shown_as_text(
    citizen_client: Client, centre_administrator, department
) -> None:
    actions.create_item(
        centre_administrator,
        item_data(
            department,
            code="X-1",
            name='<script>alert("办")</script>',
            conditions="<img src=x onerror=alert(1)>",
            materials=[material("<b>材料</b>")],
        ),
    )
    for path in ("/guide/", "/guide/X-1/", "/guide/?q=script"):
        body = body_of(citizen_client.get(path))
        assert "<script>alert" not in body
        assert "&lt;script&gt;alert(&quot;办&quot;)&lt;/script&gt;" in body
    detail = body_of(citizen_client.get("/guide/X-1/"))
    assert "<img src=x" not in detail
    assert "&lt;b&gt;材料&lt;/b&gt;" in detail


def test_site_page_shows_pledges_phone_channels_and_hours(
    citizen_client: Client, centre_administrator, town_site, clerk
) -> None:
    town_site.supervision_phone = "0760-12345"
    town_site.address = "三角镇政务服务中心一楼"
    town_site.save()
    OpeningPeriod.objects.create(site=town_site, weekday=1, starts_at="08:30", ends_at="12:00")
    actions.save_pledges(
        centre_administrator,
        town_site,
        [
            actions.PledgeData("unit", "一次性告知，限时办结。"),
            actions.PledgeData("collective", "全科室不推诿。"),
            actions.PledgeData("personal", "微笑服务，首问负责。", clerk.pk),
        ],
    )
    actions.save_disclosure(
        centre_administrator, town_site, "一楼大厅意见箱；网上投诉 www.example.gov.cn", "请带齐材料"
    )
    response = citizen_client.get(f"/guide/sites/{town_site.pk}/")
    assert response.status_code == 200
    body = body_of(response)
    groups = re.findall(r'<h3 style="[^"]*">([^<]+)</h3>', body)
    assert groups == ["单位承诺", "集体承诺", "个人承诺"]
    assert f"李受理（工号 {clerk.staff_number}）" in body
    assert "微笑服务，首问负责。" in body
    assert "<strong>0760-12345</strong>" in body
    assert "一楼大厅意见箱；网上投诉 www.example.gov.cn" in body
    assert "请带齐材料" in body
    assert "星期一 08:30–12:00" in body


def test_site_index_lists_active_sites_with_their_supervision_phone(
    citizen_client: Client, city_site, town_site, other_town_site
) -> None:
    other_town_site.is_active = False
    other_town_site.save()
    response = citizen_client.get("/guide/sites/")
    assert response.status_code == 200
    body = body_of(response)
    assert f'href="/guide/sites/{town_site.pk}/"' in body
    assert f'href="/guide/sites/{other_town_site.pk}/"' not in body
    assert "监督电话 0760-12345" in body
    assert 'href="/guide/sites/"' in body_of(citizen_client.get("/guide/"))


def test_site_page_of_an_unknown_or_inactive_site_is_not_found(
    citizen_client: Client, other_town_site
) -> None:
    other_town_site.is_active = False
    other_town_site.save()
    assert citizen_client.get(f"/guide/sites/{other_town_site.pk}/").status_code == 404
    assert citizen_client.get("/guide/sites/999999/").status_code == 404


def test_public_pages_show_no_personal_data_of_staff(
    citizen_client: Client, catalogue, centre_administrator, town_site, clerk, supervisor
) -> None:
    actions.save_pledges(
        centre_administrator,
        town_site,
        [actions.PledgeData("personal", "诺", clerk.pk), actions.PledgeData("personal", "诺", supervisor.pk)],
    )
    pages = ["/guide/", "/guide/RS-001/", "/guide/MZ-010/", "/guide/sites/", f"/guide/sites/{town_site.pk}/"]
    staff = [clerk, supervisor, centre_administrator]
    for path in pages:
        body = body_of(citizen_client.get(path))
        for person in staff:
            assert person.mobile_phone not in body, (path, "mobile")
            assert person.resident_id not in body, (path, "resident id")
            assert person.username not in body, (path, "login name")
        assert not re.search(r"1[3-9]\d{9}", body), path
        assert not re.search(r"\d{17}[\dXx]", body), path


def test_public_list_needs_few_queries_however_many_items(
    citizen_client: Client, centre_administrator, department, window, django_assert_max_num_queries
) -> None:
    for number in range(30):
        actions.create_item(centre_administrator, item_data(department, [window], code=f"Q-{number:03d}"))
    with django_assert_max_num_queries(6):
        citizen_client.get("/guide/", {"q": "失业", "department": department.pk})
    with django_assert_max_num_queries(7):
        citizen_client.get("/guide/Q-001/")


def test_department_filter_offers_only_departments_with_public_items(
    citizen_client: Client, catalogue, town_site
) -> None:
    empty = DepartmentFactory(site=town_site, code="ZZ", name="没有事项的部门")
    body = body_of(citizen_client.get("/guide/"))
    assert empty.name not in body
    assert ServiceItem.objects.published().count() == 2
