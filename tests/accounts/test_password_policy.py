"""Password rules (等保 2.0 level 3): length, character classes, common and look-alike passwords, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from servicehall.accounts.models import User
from servicehall.accounts.roles import Role
from servicehall.audit.models import AuditRecord
from tests.accounts.conftest import audit_actions, log_in
from tests.conftest import make_staff
from tests.factories import TEST_PASSWORD

NEW_PASSWORD = "Counter!Service2027"


def change(client: Client, new: str, old: str = TEST_PASSWORD, confirm: str | None = None, **query: str):
    path = "/accounts/password/"
    if query:
        path += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return client.post(
        path,
        {"old_password": old, "new_password": new, "confirm_password": new if confirm is None else confirm},
    )


@pytest.fixture
def liu(town_site) -> User:
    return make_staff(town_site, Role.WINDOW_CLERK, username="liuxiaoming", full_name="刘晓明")


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("Ab1!xyz", "密码至少须 8 位。"),
        ("onlylowercaseletters", "密码须包含小写字母、大写字母、数字、符号中的至少 3 类。"),
        ("lowercase123", "密码须包含小写字母、大写字母、数字、符号中的至少 3 类。"),
        ("Password1", "密码过于常见，容易被猜中。"),
        ("Liuxiaoming1!", "密码与登录名过于相似。"),
        ("12345678901234", "密码不能全为数字。"),
    ],
)
def test_weak_passwords_are_refused_with_a_clear_chinese_message(
    liu: User, client_for, new_password: str, message: str
) -> None:
    client = client_for(liu)
    changed_at = liu.password_changed_at
    response = change(client, new_password)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "This password" not in body
    liu.refresh_from_db()
    assert liu.check_password(TEST_PASSWORD)
    assert liu.password_changed_at == changed_at
    assert not AuditRecord.objects.filter(action="accounts.password_changed").exists()


def test_minimum_length_follows_the_settings(liu: User, client_for, settings) -> None:
    settings.SERVICEHALL_PASSWORD_MIN_LENGTH = 12
    settings.AUTH_PASSWORD_VALIDATORS = [
        {
            "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
            "OPTIONS": {"min_length": 12},
        }
    ]
    response = change(client_for(liu), "Short!Pass1")
    assert response.status_code == 400
    assert "密码至少须 12 位。" in response.content.decode()
    assert "至少 12 位" in client_for(liu).get("/accounts/password/").content.decode()


@pytest.mark.parametrize(
    ("old", "new", "confirm", "message"),
    [
        ("Wrong-Old-Password1", NEW_PASSWORD, NEW_PASSWORD, "原密码不正确。"),
        (TEST_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "两次输入的新密码不一致。"),
        (TEST_PASSWORD, TEST_PASSWORD, TEST_PASSWORD, "新密码不能与原密码相同。"),
    ],
)
def test_other_refusals_change_nothing(
    clerk: User, client_for, old: str, new: str, confirm: str, message: str
) -> None:
    response = change(client_for(clerk), new, old=old, confirm=confirm)
    assert response.status_code == 400
    assert message in response.content.decode()
    clerk.refresh_from_db()
    assert clerk.check_password(TEST_PASSWORD)
    assert not AuditRecord.objects.filter(action="accounts.password_changed").exists()


def test_changing_the_password_records_when_and_keeps_the_session(clerk: User, client_for) -> None:
    client = client_for(clerk)
    before = timezone.now()
    response = change(client, NEW_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    clerk.refresh_from_db()
    assert clerk.check_password(NEW_PASSWORD)
    assert before <= clerk.password_changed_at <= timezone.now()
    assert audit_actions(action="accounts.password_changed", actor=clerk) == ["accounts.password_changed"]
    assert client.get("/").status_code == 200
    assert log_in(Client(), "clerk", NEW_PASSWORD).status_code == 302


EXPIRED_PAGES = ["/", "/accounts/profile/", "/accounts/staff/", "/sites/"]


def test_expired_password_sends_every_page_to_the_change_form(supervisor: User, client_for) -> None:
    # Given a supervisor whose password was last changed 91 days ago
    User.objects.filter(pk=supervisor.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    client = client_for(supervisor)
    # Then every page sends them to /accounts/password/, and the API refuses with password_expired
    for page in EXPIRED_PAGES:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith("/accounts/password/"), page
    assert client.get("/accounts/staff/")["Location"] == "/accounts/password/?next=%2Faccounts%2Fstaff%2F"
    api = client.get("/api/me")
    assert api.status_code == 403
    assert api.json()["code"] == "password_expired"
    htmx = client.get("/accounts/staff/", headers={"HX-Request": "true"})
    assert htmx.status_code == 204
    assert htmx["HX-Redirect"] == "/accounts/password/"
    form = client.get("/accounts/password/")
    assert form.status_code == 200
    assert "密码已过期或为初始密码，请先设置新密码。" in form.content.decode()
    # When they choose a new password, they are taken back to where they were going
    response = change(client, NEW_PASSWORD, next="/accounts/staff/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/staff/"
    for page in EXPIRED_PAGES:
        assert client.get(page).status_code == 200, page
    assert client.get("/api/me").status_code == 200


def test_password_changed_89_days_ago_is_still_valid(clerk: User, client_for) -> None:
    User.objects.filter(pk=clerk.pk).update(password_changed_at=timezone.now() - timedelta(days=89))
    assert client_for(clerk).get("/").status_code == 200


def test_maximum_age_follows_the_settings(clerk: User, client_for, settings) -> None:
    settings.SERVICEHALL_PASSWORD_MAX_AGE_DAYS = 30
    User.objects.filter(pk=clerk.pk).update(password_changed_at=timezone.now() - timedelta(days=31))
    assert client_for(clerk).get("/")["Location"].startswith("/accounts/password/")


def test_a_new_account_must_choose_its_own_password_at_first_login(
    centre_administrator: User, town_site, client_for
) -> None:
    # Given a centre administrator creates an account with an initial password
    response = client_for(centre_administrator).post(
        "/accounts/staff/new/",
        {
            "username": "newcomer",
            "full_name": "新同事",
            "staff_number": "N0001",
            "site": town_site.pk,
            "rank": 2,
            "password": "Initial#Pass2026",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    newcomer = User.objects.get(username="newcomer")
    assert newcomer.password_changed_at is None
    # When the newcomer logs in, every page sends them to choose a password first
    client = Client()
    assert log_in(client, "newcomer", "Initial#Pass2026").status_code == 302
    assert client.get("/")["Location"].startswith("/accounts/password/")
    assert client.get("/api/me").json()["code"] == "password_expired"
    assert change(client, NEW_PASSWORD, old="Initial#Pass2026").status_code == 302
    assert client.get("/").status_code == 403  # no role granted yet: no workbench, but not the password form
    newcomer.refresh_from_db()
    assert newcomer.password_changed_at is not None


def test_a_reset_password_must_be_changed_at_next_login(
    clerk: User, security_administrator: User, client_for
) -> None:
    response = client_for(security_administrator).post(
        f"/accounts/staff/{clerk.pk}/password/", {"password": "Temporary#Pass2026"}
    )
    assert response.status_code == 302
    assert audit_actions(action="accounts.password_reset") == ["accounts.password_reset"]
    client = Client()
    assert log_in(client, "clerk", "Temporary#Pass2026").status_code == 302
    assert client.get("/")["Location"].startswith("/accounts/password/")


def test_a_weak_reset_password_is_refused(clerk: User, security_administrator: User, client_for) -> None:
    response = client_for(security_administrator).post(
        f"/accounts/staff/{clerk.pk}/password/", {"password": "clerk"}
    )
    assert response.status_code == 400
    assert "密码至少须 8 位。" in response.content.decode()
    clerk.refresh_from_db()
    assert clerk.check_password(TEST_PASSWORD)
