"""Hostile input on the login, staff and role forms and the API: never a 500, never a change, always escaped.

The test client re-raises any exception a view lets escape, so "no 500" is also checked by every
request below completing at all.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from servicehall.accounts.models import User
from servicehall.accounts.roles import Role
from servicehall.audit.models import AuditRecord
from tests.accounts.conftest import assert_nothing_changed, log_in, state

SQL_INJECTION = "' OR 1=1 --"
SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
LONG = "长" * 10_000
HOSTILE = [SQL_INJECTION, SCRIPT, LONG, "\x00", "１２３", "%00", "../../etc/passwd", "{{ 7*7 }}"]


@pytest.mark.parametrize("value", HOSTILE)
def test_login_form_survives_hostile_usernames_and_passwords(clerk: User, value: str) -> None:
    client = Client()
    before_user = User.objects.filter(pk=clerk.pk).values().get()
    for username, password in [(value, value), ("clerk", value), (value, "Window#Service2026")]:
        response = log_in(client, username, password)
        assert response.status_code == 400, (username[:20], password[:20])
        body = response.content.decode()
        assert SCRIPT not in body
        if value == "{{ 7*7 }}" and username == value:
            assert 'value="{{ 7*7 }}"' in body
    assert client.get("/").status_code == 302
    assert not AuditRecord.objects.filter(action="accounts.login").exists()
    after_user = User.objects.filter(pk=clerk.pk).values().get()
    # Only the failure counter may move (the wrong password for "clerk"); nothing else about the account.
    assert {key for key in before_user if before_user[key] != after_user[key]} <= {"failed_login_count"}


def test_script_in_the_username_is_escaped_on_the_login_page(db: None) -> None:
    response = log_in(Client(), SCRIPT)
    body = response.content.decode()
    assert SCRIPT not in body
    assert f'value="{ESCAPED_SCRIPT}"' in body


def test_sql_injection_in_the_username_matches_nobody(clerk: User) -> None:
    response = log_in(Client(), SQL_INJECTION, SQL_INJECTION)
    assert response.status_code == 400
    failure = AuditRecord.objects.get(action="accounts.login_failed")
    assert failure.object_label == SQL_INJECTION
    assert failure.object_id == ""


@pytest.fixture
def manager_client(centre_administrator: User, client_for) -> Client:
    return client_for(centre_administrator)


def staff_payload(site: Any, /, **overrides: Any) -> dict[str, Any]:
    return {
        "username": "safe_name",
        "full_name": "安全姓名",
        "staff_number": "H0001",
        "site": site.pk,
        "rank": 2,
        "password": "Initial#Pass2026",
        "is_active": "on",
        **overrides,
    }


@pytest.mark.parametrize(
    "field",
    [
        "username",
        "full_name",
        "staff_number",
        "mobile_phone",
        "resident_id",
        "site",
        "rank",
        "department",
        "password",
    ],
)
@pytest.mark.parametrize("value", [SQL_INJECTION, SCRIPT, LONG, "\x00"])
def test_staff_create_refuses_hostile_fields_without_change(
    manager_client: Client, town_site, field: str, value: str
) -> None:
    payload = staff_payload(town_site, **{field: value})
    before = state()
    response = manager_client.post("/accounts/staff/new/", payload)
    body = response.content.decode()
    if response.status_code == 302:
        # A name or a password may legitimately hold these characters; they are stored as typed, never run.
        assert field in ("full_name", "password")
        assert value in (SQL_INJECTION, SCRIPT)
        created = User.objects.get(username="safe_name")
        assert created.full_name == value if field == "full_name" else created.check_password(value)
        assert value not in body
        detail = manager_client.get(response["Location"]).content.decode()
        listing = manager_client.get("/accounts/staff/").content.decode()
        for page in (detail, listing):
            assert SCRIPT not in page
        if field == "full_name" and value == SCRIPT:
            assert ESCAPED_SCRIPT in detail
        return
    assert response.status_code == 400
    assert SCRIPT not in body
    assert_nothing_changed(before)


@pytest.mark.parametrize(
    "field", ["username", "full_name", "staff_number", "mobile_phone", "resident_id", "site", "rank"]
)
@pytest.mark.parametrize("value", [SQL_INJECTION, SCRIPT, LONG])
def test_staff_edit_refuses_hostile_fields_without_change(
    manager_client: Client, clerk: User, field: str, value: str
) -> None:
    payload = {
        "username": clerk.username,
        "full_name": clerk.full_name,
        "staff_number": clerk.staff_number,
        "site": clerk.site_id,
        "rank": clerk.rank,
        "mobile_phone": clerk.masked_mobile_phone,
        "resident_id": clerk.masked_resident_id,
        "is_active": "on",
        field: value,
    }
    before = state()
    response = manager_client.post(f"/accounts/staff/{clerk.pk}/edit/", payload)
    if response.status_code == 302:
        assert field == "full_name"
        clerk.refresh_from_db()
        assert clerk.full_name == value
        assert SCRIPT not in manager_client.get(response["Location"]).content.decode()
        return
    assert response.status_code == 400
    assert SCRIPT not in response.content.decode()
    assert_nothing_changed(before)


@pytest.mark.parametrize("role", [SQL_INJECTION, SCRIPT, LONG, "\x00", "", "SECURITY_ADMINISTRATOR"])
@pytest.mark.parametrize("action", ["grant", "revoke"])
def test_role_forms_refuse_hostile_roles_without_change(
    security_administrator: User, clerk: User, client_for, role: str, action: str
) -> None:
    client = client_for(security_administrator)
    before = state()
    response = client.post(f"/accounts/staff/{clerk.pk}/roles/{action}/", {"role": role})
    assert response.status_code == 400
    expected = "NUL" if "\x00" in role else "请选择有效的角色。"
    assert expected in response.content.decode()
    assert SCRIPT not in response.content.decode()
    assert_nothing_changed(before)


@pytest.mark.parametrize(
    ("persona", "method", "path"),
    [
        ("centre_administrator", "get", "/accounts/staff/999999/"),
        ("centre_administrator", "get", "/accounts/staff/abc/"),
        ("centre_administrator", "get", "/accounts/staff/-1/"),
        ("centre_administrator", "get", "/accounts/staff/1.5/"),
        ("centre_administrator", "get", "/accounts/staff/%27%20OR%201=1%20--/"),
        ("centre_administrator", "get", "/accounts/staff/999999/edit/"),
        ("centre_administrator", "get", "/accounts/staff/abc/edit/"),
        ("centre_administrator", "post", "/accounts/staff/999999/edit/"),
        ("supervisor", "get", "/accounts/staff/999999/"),
        ("supervisor", "post", "/accounts/staff/999999/reveal/mobile_phone/"),
        ("supervisor", "post", "/accounts/staff/abc/reveal/mobile_phone/"),
        ("security_administrator", "post", "/accounts/staff/999999/roles/grant/"),
        ("security_administrator", "post", "/accounts/staff/999999/roles/revoke/"),
        ("security_administrator", "post", "/accounts/staff/999999/unlock/"),
        ("security_administrator", "post", "/accounts/staff/999999/password/"),
        ("security_administrator", "post", "/accounts/staff/abc/roles/grant/"),
    ],
)
def test_invalid_ids_are_a_plain_404(
    clients: dict[str, Client], persona: str, method: str, path: str
) -> None:
    client = clients[persona]
    before = state()
    data = {"role": Role.GUIDE, "password": "Temporary#Pass2026"} if method == "post" else None
    response = getattr(client, method)(path, data)
    assert response.status_code == 404
    assert "页面不存在，或不在您的权限范围内。" in response.content.decode()
    assert_nothing_changed(before)


@pytest.mark.parametrize(
    "path", ["/accounts/staff/99999999999999999999999/", "/api/staff/99999999999999999999999/reveal"]
)
def test_ids_beyond_the_database_integer_range_are_not_a_500(
    centre_administrator: User, client_for, path: str
) -> None:
    client = client_for(centre_administrator)
    if path.startswith("/api/"):
        response = client.post(path, {"field": "mobile_phone"}, content_type="application/json")
    else:
        response = client.get(path)
    assert response.status_code == 404


def test_api_staff_query_with_a_nul_byte_is_a_clear_400(supervisor: User, client_for) -> None:
    response = client_for(supervisor).get("/api/staff", {"query": "\x00"})
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_reveal_of_an_unknown_field_is_refused(personal_staff: User, supervisor: User, client_for) -> None:
    client = client_for(supervisor)
    before = state()
    for field in ["password", "username", SCRIPT.replace("/", ""), "mobile_phone%00"]:
        response = client.post(f"/accounts/staff/{personal_staff.pk}/reveal/{field}/")
        assert response.status_code == 400
        expected = "NUL" if field.endswith("%00") else "字段无效。"
        assert expected in response.content.decode()
    assert_nothing_changed(before)
    assert not AuditRecord.objects.filter(action="personal_data.revealed").exists()


@pytest.mark.parametrize(
    "body",
    [
        {"field": 5},
        {"field": "password"},
        {"field": None},
        {"field": ["mobile_phone"]},
        {"field": SQL_INJECTION},
        {"field": LONG},
        {},
        {"other": "mobile_phone"},
    ],
)
def test_api_reveal_refuses_wrong_types_with_invalid_input(
    personal_staff: User, supervisor: User, client_for, body: dict
) -> None:
    client = client_for(supervisor)
    before = state()
    response = client.post(f"/api/staff/{personal_staff.pk}/reveal", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert response.json()["detail"] == "输入格式不正确 / Invalid input."
    assert_nothing_changed(before)
    assert not AuditRecord.objects.filter(action="personal_data.revealed").exists()


@pytest.mark.parametrize("raw", ["not json", "{", '"mobile_phone"', "[]", ""])
def test_api_reveal_refuses_a_body_that_is_not_a_json_object(
    personal_staff: User, supervisor: User, client_for, raw: str
) -> None:
    response = client_for(supervisor).post(
        f"/api/staff/{personal_staff.pk}/reveal", raw, content_type="application/json"
    )
    assert response.status_code == 400
    assert not AuditRecord.objects.filter(action="personal_data.revealed").exists()


def test_api_reveal_of_an_unknown_person_is_404(supervisor: User, client_for) -> None:
    client = client_for(supervisor)
    response = client.post(
        "/api/staff/999999/reveal", {"field": "mobile_phone"}, content_type="application/json"
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "query", [{"query": SQL_INJECTION}, {"query": SCRIPT}, {"query": LONG}, {"site_id": "abc"}]
)
def test_api_staff_filters_survive_hostile_queries(
    supervisor: User, clerk: User, client_for, query: dict
) -> None:
    response = client_for(supervisor).get("/api/staff", query)
    if "site_id" in query:
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_input"
        return
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize(
    "query",
    [
        {"query": SQL_INJECTION},
        {"query": SCRIPT},
        {"query": LONG},
        {"query": "\x00"},
        {"site": "abc"},
        {"page": "abc"},
        {"role": SCRIPT},
        {"page": "-1"},
    ],
)
def test_staff_list_search_survives_hostile_queries(
    supervisor: User, clerk: User, client_for, query: dict
) -> None:
    response = client_for(supervisor).get("/accounts/staff/", query)
    # A NUL character is refused at the door (web.middleware); everything else is searched safely.
    assert response.status_code == (400 if any("\x00" in value for value in query.values()) else 200)
    assert SCRIPT not in response.content.decode()


def test_profile_refuses_an_unknown_language(clerk: User, client_for) -> None:
    client = client_for(clerk)
    before = state()
    for language in ["xx", SCRIPT, LONG, ""]:
        response = client.post("/accounts/profile/", {"language": language})
        assert response.status_code == 400
        assert SCRIPT not in response.content.decode()
    assert_nothing_changed(before)


@pytest.mark.parametrize("token", [SQL_INJECTION, SCRIPT, LONG, "\x00\x00\x00\x00\x00\x00", "１２３４５６"])
def test_two_factor_form_survives_hostile_codes(system_administrator: User, token: str) -> None:
    client = Client()
    log_in(client, "sysadmin")
    client.get("/accounts/two-factor/")
    response = client.post("/accounts/two-factor/", {"token": token})
    assert response.status_code == 400
    assert SCRIPT not in response.content.decode()
    assert client.get("/")["Location"].startswith("/accounts/two-factor/")
