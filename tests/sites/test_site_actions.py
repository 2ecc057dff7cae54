"""Creating and changing sites: the three levels of DB4420 §5.1, unique codes, no cycles, and the audit."""

from __future__ import annotations

import pytest

from servicehall.audit.actions import verify
from servicehall.audit.models import AuditRecord
from servicehall.lib.errors import NotFound, PermissionRefused
from servicehall.sites import actions
from servicehall.sites.actions import SiteData, SiteInputRefused
from servicehall.sites.models import Site, SiteLevel
from tests.factories import SiteFactory
from tests.sites.conftest import audit_actions_after, last_audit_id, site_rows


def town_data(parent: Site, **changes: object) -> SiteData:
    fields: dict[str, object] = {
        "code": "TOWN-C",
        "name": "南头镇便民服务中心",
        "level": SiteLevel.TOWN,
        "parent": parent,
        "address": "南头镇人民路 1 号",
        "service_phone": "0760-23100001",
        "supervision_phone": "0760-12345",
        "is_active": True,
    }
    fields.update(changes)
    return SiteData(**fields)  # type: ignore[arg-type]


def data_of(site: Site, **changes: object) -> SiteData:
    fields: dict[str, object] = {
        "code": site.code,
        "name": site.name,
        "level": site.level,
        "parent": site.parent,
        "address": site.address,
        "service_phone": site.service_phone,
        "supervision_phone": site.supervision_phone,
        "is_active": site.is_active,
    }
    fields.update(changes)
    return SiteData(**fields)  # type: ignore[arg-type]


def test_manager_creates_a_town_under_the_city_and_it_is_audited(centre_administrator, city_site) -> None:
    # Given a centre administrator at the city centre
    # When they create a town centre under it
    site = actions.create_site(centre_administrator, town_data(city_site))
    # Then the site exists with exactly what was given
    site.refresh_from_db()
    assert (site.code, site.name, site.level, site.parent_id) == (
        "TOWN-C",
        "南头镇便民服务中心",
        "town",
        city_site.pk,
    )
    # And one audit record on the new site's chain shows the full picture after
    audit = AuditRecord.objects.get(action="sites.site_created")
    assert audit.actor == centre_administrator
    assert audit.site_id == site.pk
    assert audit.object_type == "sites.site"
    assert audit.object_id == str(site.pk)
    assert audit.before is None
    assert audit.after == {
        "code": "TOWN-C",
        "name": "南头镇便民服务中心",
        "level": "town",
        "parent": city_site.pk,
        "address": "南头镇人民路 1 号",
        "service_phone": "0760-23100001",
        "supervision_phone": "0760-12345",
        "is_active": True,
    }
    assert verify().intact
    # And the creator's scope now includes the new site
    assert site.pk in centre_administrator.accessible_site_ids()


def test_update_records_before_and_after(system_administrator, town_site, city_site) -> None:
    # Given a town centre
    # When a system administrator renames it and sets its phones
    actions.update_site(
        system_administrator,
        town_site,
        data_of(town_site, name="三角镇政务服务中心", service_phone="0760-1", supervision_phone=""),
    )
    # Then the record holds both pictures
    audit = AuditRecord.objects.get(action="sites.site_updated")
    assert audit.before == {
        "code": "TOWN-A",
        "name": "三角镇便民服务中心",
        "level": "town",
        "parent": city_site.pk,
        "address": "",
        "service_phone": "",
        "supervision_phone": "0760-12345",
        "is_active": True,
    }
    assert audit.after == {
        "code": "TOWN-A",
        "name": "三角镇政务服务中心",
        "level": "town",
        "parent": city_site.pk,
        "address": "",
        "service_phone": "0760-1",
        "supervision_phone": "",
        "is_active": True,
    }
    town_site.refresh_from_db()
    assert town_site.name == "三角镇政务服务中心"


@pytest.mark.parametrize(
    ("level", "parent_name", "field", "message"),
    [
        ("city", "city", "parent", "市政务服务中心不能有上级场所。"),
        ("town", None, "parent", "镇（街）便民服务中心和村（社区）便民服务站必须指定上级场所。"),
        ("village", None, "parent", "镇（街）便民服务中心和村（社区）便民服务站必须指定上级场所。"),
        (
            "town",
            "town",
            "parent",
            "上级场所的层级不正确：镇（街）便民服务中心的上级应为市政务服务中心。",
        ),
        (
            "village",
            "city",
            "parent",
            "上级场所的层级不正确：村（社区）便民服务站的上级应为镇（街）便民服务中心。",
        ),
        ("province", "city", "level", "层级无效。"),
    ],
)
def test_level_and_parent_rules(
    centre_administrator, city_site, town_site, level, parent_name, field, message
) -> None:
    # Given the parent named by the case
    parent = {"city": city_site, "town": town_site, None: None}[parent_name]
    before = site_rows()
    # When a site of the given level is created under it
    with pytest.raises(SiteInputRefused) as refusal:
        actions.create_site(centre_administrator, town_data(parent, level=level))
    # Then it is refused with the rule's message, and nothing was written
    assert refusal.value.field == field
    assert refusal.value.message == message
    assert refusal.value.status == 400
    assert site_rows() == before
    assert AuditRecord.objects.filter(action__startswith="sites.").count() == 0


def test_code_is_unique_regardless_of_case(centre_administrator, city_site, town_site) -> None:
    with pytest.raises(SiteInputRefused) as refusal:
        actions.create_site(centre_administrator, town_data(city_site, code="town-a"))
    assert (refusal.value.field, refusal.value.message) == ("code", "编码已被其他服务场所使用。")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "编码不能为空。"),
        ("   ", "编码不能为空。"),
        ("A" * 33, "编码不能超过 32 个字符。"),
        ("TOWN C", "编码只能包含字母、数字、连字符和下划线，且以字母或数字开头。"),
        ("-TOWN", "编码只能包含字母、数字、连字符和下划线，且以字母或数字开头。"),
        ("镇", "编码只能包含字母、数字、连字符和下划线，且以字母或数字开头。"),
        ("T\x00", "编码不能包含控制字符。"),
    ],
)
def test_code_shape(centre_administrator, city_site, code, message) -> None:
    with pytest.raises(SiteInputRefused) as refusal:
        actions.create_site(centre_administrator, town_data(city_site, code=code))
    assert (refusal.value.field, refusal.value.message) == ("code", message)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "名称不能为空。"),
        ({"name": "镇" * 101}, "name", "名称不能超过 100 个字符。"),
        ({"name": "x" * 10_000}, "name", "名称不能超过 100 个字符。"),
        ({"name": "南头\x00镇"}, "name", "名称不能包含控制字符。"),
        ({"address": "路" * 201}, "address", "地址不能超过 200 个字符。"),
        ({"service_phone": "call me"}, "service_phone", "咨询电话只能包含数字、空格、加号、连字符和括号。"),
        ({"supervision_phone": "1" * 33}, "supervision_phone", "监督电话不能超过 32 个字符。"),
    ],
)
def test_text_fields_are_bounded(centre_administrator, city_site, changes, field, message) -> None:
    before = site_rows()
    with pytest.raises(SiteInputRefused) as refusal:
        actions.create_site(centre_administrator, town_data(city_site, **changes))
    assert refusal.value.errors == {field: message}
    assert site_rows() == before


def test_every_broken_rule_is_reported_at_once(centre_administrator, city_site) -> None:
    with pytest.raises(SiteInputRefused) as refusal:
        actions.create_site(centre_administrator, town_data(city_site, code="", name="", service_phone="abc"))
    assert refusal.value.errors == {
        "code": "编码不能为空。",
        "name": "名称不能为空。",
        "service_phone": "咨询电话只能包含数字、空格、加号、连字符和括号。",
    }


def test_a_site_cannot_become_its_own_parent(centre_administrator, town_site) -> None:
    before = site_rows()
    with pytest.raises(SiteInputRefused) as refusal:
        actions.update_site(centre_administrator, town_site, data_of(town_site, parent=town_site))
    assert (refusal.value.field, refusal.value.message) == (
        "parent",
        "不能把场所设为它自己或其下级场所的下级。",
    )
    assert site_rows() == before


def test_a_site_cannot_hang_below_its_own_descendant(centre_administrator, city_site, town_site) -> None:
    # Given a city with a town below it
    # When the city is made a town under that town
    with pytest.raises(SiteInputRefused) as refusal:
        actions.update_site(
            centre_administrator, city_site, data_of(city_site, level=SiteLevel.TOWN, parent=town_site)
        )
    # Then the cycle is refused before any level rule
    assert refusal.value.message == "不能把场所设为它自己或其下级场所的下级。"


def test_level_change_must_keep_children_valid(centre_administrator, city_site, town_site) -> None:
    # Given a town with a village below it
    village = SiteFactory(code="VIL-1", name="沙栏村便民服务站", level=SiteLevel.VILLAGE, parent=town_site)
    # When the town is turned into a village (its village would then hang below a village)
    other_town = SiteFactory(code="TOWN-Z", level=SiteLevel.TOWN, parent=city_site)
    with pytest.raises(SiteInputRefused) as refusal:
        actions.update_site(
            centre_administrator, town_site, data_of(town_site, level=SiteLevel.VILLAGE, parent=other_town)
        )
    # Then it is refused, naming the child
    assert refusal.value.errors == {"level": f"该场所有下级场所（{village.name}），不能改为此层级。"}


def test_deactivating_a_site_with_active_children_is_refused(
    centre_administrator, city_site, town_site
) -> None:
    before = site_rows()
    with pytest.raises(SiteInputRefused) as refusal:
        actions.update_site(centre_administrator, city_site, data_of(city_site, is_active=False))
    assert refusal.value.errors == {"is_active": "该场所还有启用中的下级场所，请先停用下级场所。"}
    assert site_rows() == before


def test_deactivating_children_first_then_the_parent_works(
    centre_administrator, city_site, town_site
) -> None:
    actions.update_site(centre_administrator, town_site, data_of(town_site, is_active=False))
    actions.update_site(centre_administrator, city_site, data_of(city_site, is_active=False))
    assert list(Site.objects.order_by("code").values_list("code", "is_active")) == [
        ("CITY", False),
        ("TOWN-A", False),
    ]


def test_an_active_site_cannot_be_created_under_an_inactive_parent(centre_administrator, city_site) -> None:
    closed_town = SiteFactory(code="TOWN-X", level=SiteLevel.TOWN, parent=city_site, is_active=False)
    with pytest.raises(SiteInputRefused) as refusal:
        actions.create_site(
            centre_administrator,
            town_data(closed_town, code="VIL-9", level=SiteLevel.VILLAGE),
        )
    assert refusal.value.errors == {"parent": "上级场所已停用，不能在其下启用场所。"}


def test_without_the_capability_nothing_happens_and_the_refusal_is_audited(clerk, city_site) -> None:
    before = site_rows()
    last = last_audit_id()
    with pytest.raises(PermissionRefused):
        actions.create_site(clerk, town_data(city_site))
    assert site_rows() == before
    assert audit_actions_after(last) == ["access.denied"]


def test_a_town_manager_cannot_create_a_city_centre(town_manager) -> None:
    last = last_audit_id()
    with pytest.raises(PermissionRefused) as refusal:
        actions.create_site(
            town_manager, SiteData(code="CITY-2", name="另一个市中心", level=SiteLevel.CITY, parent=None)
        )
    assert refusal.value.message == "只有市级管理员可以新建市政务服务中心。"
    assert audit_actions_after(last) == ["access.denied"]
    assert not Site.objects.filter(code="CITY-2").exists()


def test_a_city_manager_may_create_another_city_centre(system_administrator) -> None:
    site = actions.create_site(
        system_administrator, SiteData(code="CITY-2", name="另一个市中心", level=SiteLevel.CITY, parent=None)
    )
    assert site.parent_id is None


def test_hostile_text_is_stored_verbatim(centre_administrator, city_site) -> None:
    name = "'; DROP TABLE sites_site; -- <script>alert(1)</script>"
    site = actions.create_site(centre_administrator, town_data(city_site, name=name, address='" OR 1=1 --'))
    site.refresh_from_db()
    assert site.name == name
    assert site.address == '" OR 1=1 --'
    assert Site.objects.count() == 2


def test_out_of_scope_parent_is_not_found(town_manager, other_town_site) -> None:
    last = last_audit_id()
    with pytest.raises(NotFound):
        actions.create_site(
            town_manager,
            SiteData(code="VIL-B", name="外镇村", level=SiteLevel.VILLAGE, parent=other_town_site),
        )
    assert audit_actions_after(last) == ["access.denied"]
    assert not Site.objects.filter(code="VIL-B").exists()
