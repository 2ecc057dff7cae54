"""三员分立: only the security administrator grants roles, never to themself, and the three posts never combine.
Row scoping: a town-level supervisor sees their own site's staff, a city-level administrator the whole tree."""

from __future__ import annotations

import pytest
from django.test import Client

from servicehall.accounts.models import RoleGrant, User
from servicehall.accounts.roles import Role
from servicehall.audit.models import AuditOutcome, AuditRecord
from tests.accounts.conftest import assert_nothing_changed, audit_actions, state
from tests.conftest import make_staff
from tests.factories import SiteFactory


def grant(client: Client, staff: User, role: str):
    return client.post(f"/accounts/staff/{staff.pk}/roles/grant/", {"role": role})


def revoke(client: Client, staff: User, role: str):
    return client.post(f"/accounts/staff/{staff.pk}/roles/revoke/", {"role": role})


def roles_of(staff: User) -> list[str]:
    return sorted(RoleGrant.objects.filter(user=staff).values_list("role", flat=True))


def test_security_administrator_grants_a_role_with_before_and_after(
    clerk: User, security_administrator: User, client_for
) -> None:
    response = grant(client_for(security_administrator), clerk, Role.PRE_REVIEWER)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/staff/{clerk.pk}/"
    assert roles_of(clerk) == ["pre_reviewer", "window_clerk"]
    new_grant = RoleGrant.objects.get(user=clerk, role=Role.PRE_REVIEWER)
    assert new_grant.granted_by == security_administrator
    assert new_grant.site == clerk.site
    granted = AuditRecord.objects.get(action="accounts.role_granted")
    assert granted.actor == security_administrator
    assert granted.object_id == str(clerk.pk)
    assert granted.before == {"roles": ["window_clerk"]}
    assert granted.after == {"roles": ["pre_reviewer", "window_clerk"]}


def test_security_administrator_revokes_a_role_with_before_and_after(
    clerk: User, security_administrator: User, client_for
) -> None:
    response = revoke(client_for(security_administrator), clerk, Role.WINDOW_CLERK)
    assert response.status_code == 302
    assert roles_of(clerk) == []
    revoked = AuditRecord.objects.get(action="accounts.role_revoked")
    assert revoked.before == {"roles": ["window_clerk"]}
    assert revoked.after == {"roles": []}


@pytest.mark.parametrize("change", [grant, revoke])
def test_nobody_changes_their_own_roles(security_administrator: User, client_for, change) -> None:
    client = client_for(security_administrator)
    before = state()
    role = Role.WINDOW_CLERK if change is grant else Role.SECURITY_ADMINISTRATOR
    response = change(client, security_administrator, role)
    assert response.status_code == 403
    assert "三员分立" in response.content.decode()
    assert_nothing_changed(before)
    denied = AuditRecord.objects.get(action="access.denied")
    assert denied.outcome == AuditOutcome.DENIED
    assert denied.after["reason"] == "self_grant"
    assert denied.object_id == str(security_administrator.pk)


@pytest.mark.parametrize(
    ("holder", "role"),
    [
        ("system_administrator", Role.SECURITY_ADMINISTRATOR),
        ("system_administrator", Role.AUDIT_ADMINISTRATOR),
        ("audit_administrator", Role.SYSTEM_ADMINISTRATOR),
        ("audit_administrator", Role.SECURITY_ADMINISTRATOR),
    ],
)
def test_the_three_administrator_posts_never_combine(
    request: pytest.FixtureRequest, security_administrator: User, client_for, holder: str, role: Role
) -> None:
    person = request.getfixturevalue(holder)
    client = client_for(security_administrator)
    before = state()
    response = grant(client, person, role)
    assert response.status_code == 400
    assert "系统管理员、安全管理员、审计管理员三个岗位不得由同一人兼任。" in response.content.decode()
    assert_nothing_changed(before)


def test_a_clerk_may_take_one_administrator_post_but_not_a_second(
    clerk: User, security_administrator: User, client_for
) -> None:
    client = client_for(security_administrator)
    assert grant(client, clerk, Role.AUDIT_ADMINISTRATOR).status_code == 302
    assert grant(client, clerk, Role.SYSTEM_ADMINISTRATOR).status_code == 400
    assert roles_of(clerk) == ["audit_administrator", "window_clerk"]


@pytest.mark.parametrize(
    "actor",
    ["clerk", "supervisor", "centre_administrator", "system_administrator", "audit_administrator"],
)
def test_only_the_security_administrator_grants_or_revokes(
    request: pytest.FixtureRequest, clerk: User, client_for, actor: str
) -> None:
    client = client_for(request.getfixturevalue(actor))
    target = make_staff(clerk.site, Role.GUIDE, username="target")
    before = state()
    assert grant(client, target, Role.PRE_REVIEWER).status_code == 403
    assert revoke(client, target, Role.GUIDE).status_code == 403
    assert_nothing_changed(before)
    assert audit_actions(action="access.denied") == ["access.denied", "access.denied"]


@pytest.mark.parametrize(
    ("role", "message", "change"),
    [
        (Role.WINDOW_CLERK, "该人员已拥有此角色。", grant),
        (Role.PRE_REVIEWER, "该人员没有此角色。", revoke),
        ("emperor", "请选择有效的角色。", grant),
        ("", "请选择有效的角色。", revoke),
    ],
)
def test_meaningless_grants_and_revokes_are_refused(
    clerk: User, security_administrator: User, client_for, role: str, message: str, change
) -> None:
    client = client_for(security_administrator)
    before = state()
    response = change(client, clerk, role)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert_nothing_changed(before)


def test_a_person_in_another_city_tree_is_out_of_reach(security_administrator: User, client_for) -> None:
    elsewhere = SiteFactory(code="CITY-2", name="别市政务服务中心")
    stranger = make_staff(elsewhere, Role.WINDOW_CLERK, username="stranger")
    client = client_for(security_administrator)
    before = state()
    response = grant(client, stranger, Role.PRE_REVIEWER)
    assert response.status_code == 404
    assert_nothing_changed(before)
    denied = AuditRecord.objects.get(action="access.denied")
    assert denied.after["reason"] == "out_of_scope"


def test_role_grants_move_with_the_person_to_a_new_site(
    clerk: User, other_town_site, centre_administrator: User, client_for
) -> None:
    client = client_for(centre_administrator)
    response = client.post(
        f"/accounts/staff/{clerk.pk}/edit/",
        {
            "username": clerk.username,
            "full_name": clerk.full_name,
            "staff_number": clerk.staff_number,
            "site": other_town_site.pk,
            "rank": clerk.rank,
            "mobile_phone": clerk.masked_mobile_phone,
            "resident_id": clerk.masked_resident_id,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert list(RoleGrant.objects.filter(user=clerk).values_list("site_id", flat=True)) == [
        other_town_site.pk
    ]


# Row scoping -------------------------------------------------------------------------------------


@pytest.fixture
def everyone(
    clerk,
    other_site_clerk,
    supervisor,
    centre_administrator,
    system_administrator,
    security_administrator,
    audit_administrator,
) -> dict[str, User]:
    elsewhere = SiteFactory(code="CITY-2", name="别市政务服务中心")
    return {
        "clerk": clerk,
        "other_site_clerk": other_site_clerk,
        "supervisor": supervisor,
        "centre_administrator": centre_administrator,
        "system_administrator": system_administrator,
        "security_administrator": security_administrator,
        "audit_administrator": audit_administrator,
        "stranger": make_staff(elsewhere, Role.WINDOW_CLERK, username="stranger", full_name="外市人"),
    }


def listed_names(client: Client) -> set[str]:
    body = client.get("/accounts/staff/").content.decode()
    return {person.full_name for person in User.objects.all() if f">{person.full_name}</a>" in body}


def test_a_town_supervisor_sees_only_their_own_site(everyone: dict[str, User], client_for) -> None:
    client = client_for(everyone["supervisor"])
    assert listed_names(client) == {"李受理", "陈负责"}
    api = client.get("/api/staff")
    assert api.status_code == 200
    assert {row["id"] for row in api.json()} == {everyone["clerk"].pk, everyone["supervisor"].pk}


def test_a_city_administrator_sees_the_whole_tree_but_not_another_city(
    everyone: dict[str, User], client_for
) -> None:
    client = client_for(everyone["centre_administrator"])
    in_tree = {name for name, person in everyone.items() if name != "stranger"}
    assert listed_names(client) == {everyone[name].full_name for name in in_tree}
    assert {row["id"] for row in client.get("/api/staff").json()} == {everyone[name].pk for name in in_tree}


@pytest.mark.parametrize("outsider", ["other_site_clerk", "centre_administrator", "stranger"])
def test_staff_outside_the_scope_do_not_exist_for_the_supervisor(
    everyone: dict[str, User], client_for, outsider: str
) -> None:
    client = client_for(everyone["supervisor"])
    person = everyone[outsider]
    for path in [f"/accounts/staff/{person.pk}/"]:
        response = client.get(path)
        assert response.status_code == 404
        assert "未找到该对象 / Not found." in response.content.decode()
        assert person.full_name not in response.content.decode()
    reveal = client.post(f"/accounts/staff/{person.pk}/reveal/mobile_phone/")
    assert reveal.status_code == 404
    api = client.post(
        f"/api/staff/{person.pk}/reveal", {"field": "mobile_phone"}, content_type="application/json"
    )
    assert api.status_code == 404
    denied = AuditRecord.objects.filter(action="access.denied").order_by("id")
    assert [record.after["reason"] for record in denied] == ["out_of_scope"] * 3
    assert {record.object_id for record in denied} == {str(person.pk)}
    assert not AuditRecord.objects.filter(action="personal_data.revealed").exists()


def test_search_filters_stay_inside_the_scope(everyone: dict[str, User], client_for) -> None:
    client = client_for(everyone["supervisor"])
    other_site = everyone["other_site_clerk"].site
    body = client.get("/accounts/staff/", {"site": other_site.pk, "query": "王外站"}).content.decode()
    assert ">王外站</a>" not in body
    assert {row["id"] for row in client.get("/api/staff", {"site_id": other_site.pk}).json()} == set()
