"""Logging in: success and failure are audited, repeated failures lock the account for a while."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from servicehall.accounts.models import User
from servicehall.audit.actions import verify
from servicehall.audit.models import AuditOutcome, AuditRecord
from tests.accounts.conftest import FULL_PHONE, FULL_RESIDENT_ID, audit_actions, log_in

WRONG_PASSWORD = "Not-The-Password-1"


def test_right_password_logs_in_and_is_audited(clerk: User) -> None:
    # Given a clerk at the login page
    client = Client()
    # When they log in with their own password
    response = log_in(client, "clerk")
    # Then they are sent to the workbench, the login is audited and the chain holds
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    login = AuditRecord.objects.get(action="accounts.login")
    assert login.actor == clerk
    assert login.outcome == AuditOutcome.SUCCESS
    assert login.object_id == str(clerk.pk)
    assert verify().intact


def test_wrong_password_is_refused_with_a_clear_message_and_audited(clerk: User) -> None:
    client = Client()
    response = log_in(client, "clerk", WRONG_PASSWORD)
    assert response.status_code == 400
    assert "登录名或密码错误" in response.content.decode()
    assert client.get("/").status_code == 302
    failure = AuditRecord.objects.get(action="accounts.login_failed")
    assert failure.outcome == AuditOutcome.FAILED
    assert failure.actor is None
    assert failure.actor_label == "clerk"
    assert failure.object_id == str(clerk.pk)
    assert failure.after == {"failed_login_count": 1}
    clerk.refresh_from_db()
    assert clerk.failed_login_count == 1
    assert clerk.locked_until is None
    assert audit_actions(action__startswith="accounts.") == ["accounts.login_failed"]


@pytest.mark.parametrize(
    ("typed", "shown"),
    [(FULL_RESIDENT_ID, "4420**********123X"), (FULL_PHONE, "138****5678")],
)
def test_unknown_username_is_audited_without_the_personal_number_it_may_be(
    db: None, typed: str, shown: str
) -> None:
    # Given someone types their 身份证号 or phone number into the login name field
    response = log_in(Client(), typed)
    # Then the failure is audited with the number masked, and the full number is stored nowhere
    assert response.status_code == 400
    assert "登录名或密码错误" in response.content.decode()
    failure = AuditRecord.objects.get(action="accounts.login_failed")
    assert failure.actor_label == "未知账户"
    assert failure.object_type == "accounts.user"
    assert failure.object_id == ""
    assert failure.object_label == shown
    for audit_record in AuditRecord.objects.all():
        assert typed not in str(audit_record.hashed_fields())


def test_unknown_and_wrong_password_answers_are_identical(clerk: User) -> None:
    wrong_password = log_in(Client(), "clerk", WRONG_PASSWORD)
    unknown_user = log_in(Client(), "nobody-here", WRONG_PASSWORD)
    assert wrong_password.status_code == unknown_user.status_code == 400
    assert "登录名或密码错误" in unknown_user.content.decode()


def test_five_failures_lock_the_account_for_thirty_minutes(clerk: User, settings) -> None:
    assert settings.SERVICEHALL_LOCKOUT_THRESHOLD == 5
    assert settings.SERVICEHALL_LOCKOUT_MINUTES == 30
    client = Client()
    started = timezone.now()
    # When the wrong password is typed five times
    for attempt in range(5):
        response = log_in(client, "clerk", WRONG_PASSWORD)
        assert response.status_code == 400, attempt
        assert "登录名或密码错误" in response.content.decode()
    finished = timezone.now()
    # Then the account is locked for 30 minutes and the lock is audited
    clerk.refresh_from_db()
    assert started + timedelta(minutes=30) <= clerk.locked_until <= finished + timedelta(minutes=30)
    assert clerk.failed_login_count == 0
    assert audit_actions(action__startswith="accounts.") == ["accounts.login_failed"] * 5 + [
        "accounts.locked"
    ]
    locked = AuditRecord.objects.get(action="accounts.locked")
    assert locked.outcome == AuditOutcome.DENIED
    assert locked.object_id == str(clerk.pk)
    # And even the right password is now refused with the lock message
    response = log_in(client, "clerk")
    assert response.status_code == 400
    body = response.content.decode()
    assert "账户已锁定，请 30 分钟后再试或联系安全管理员。" in body
    assert client.get("/").status_code == 302
    refused = AuditRecord.objects.get(action="accounts.login_refused_locked")
    assert refused.outcome == AuditOutcome.DENIED
    assert refused.object_id == str(clerk.pk)
    assert not AuditRecord.objects.filter(action="accounts.login").exists()
    assert verify().intact


def test_four_failures_then_success_resets_the_count(clerk: User) -> None:
    client = Client()
    for _attempt in range(4):
        log_in(client, "clerk", WRONG_PASSWORD)
    assert log_in(client, "clerk").status_code == 302
    clerk.refresh_from_db()
    assert clerk.failed_login_count == 0
    assert clerk.locked_until is None


def test_lock_expires_after_the_configured_minutes(clerk: User, monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client()
    for _attempt in range(5):
        log_in(client, "clerk", WRONG_PASSWORD)
    locked_at = timezone.now()
    # Twenty-nine minutes later it is still locked
    monkeypatch.setattr(timezone, "now", lambda: locked_at + timedelta(minutes=29))
    response = log_in(client, "clerk")
    assert response.status_code == 400
    assert "账户已锁定，请 1 分钟后再试" in response.content.decode()
    # Thirty-one minutes later the right password works again and the lock is cleared
    monkeypatch.setattr(timezone, "now", lambda: locked_at + timedelta(minutes=31))
    assert log_in(client, "clerk").status_code == 302
    clerk.refresh_from_db()
    assert clerk.locked_until is None
    assert audit_actions(action="accounts.login") == ["accounts.login"]


def test_a_lock_in_the_past_no_longer_applies(clerk: User) -> None:
    User.objects.filter(pk=clerk.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert log_in(Client(), "clerk").status_code == 302


def test_threshold_and_minutes_follow_the_settings(clerk: User, settings) -> None:
    settings.SERVICEHALL_LOCKOUT_THRESHOLD = 3
    settings.SERVICEHALL_LOCKOUT_MINUTES = 10
    client = Client()
    for _attempt in range(2):
        log_in(client, "clerk", WRONG_PASSWORD)
    clerk.refresh_from_db()
    assert clerk.locked_until is None
    before_third = timezone.now()
    log_in(client, "clerk", WRONG_PASSWORD)
    clerk.refresh_from_db()
    assert (
        before_third + timedelta(minutes=10) <= clerk.locked_until <= timezone.now() + timedelta(minutes=10)
    )
    response = log_in(client, "clerk")
    assert response.status_code == 400
    assert "账户已锁定，请 10 分钟后再试" in response.content.decode()


def test_locking_ends_a_session_already_open(clerk: User, client_for) -> None:
    client = client_for(clerk)
    assert client.get("/").status_code == 200
    User.objects.filter(pk=clerk.pk).update(locked_until=timezone.now() + timedelta(minutes=30))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_inactive_account_cannot_log_in(clerk: User) -> None:
    User.objects.filter(pk=clerk.pk).update(is_active=False)
    client = Client()
    response = log_in(client, "clerk")
    assert response.status_code == 400
    assert "登录名或密码错误" in response.content.decode()
    assert client.get("/").status_code == 302
    assert not AuditRecord.objects.filter(action="accounts.login").exists()
    assert audit_actions(action__startswith="accounts.") == ["accounts.login_failed"]


def test_deactivation_ends_a_session_already_open(clerk: User, client_for) -> None:
    client = client_for(clerk)
    User.objects.filter(pk=clerk.pk).update(is_active=False)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "target",
    ["https://evil.example", "//evil.example/", "https:evil.example", "http://testserver.evil.example/"],
)
def test_next_pointing_elsewhere_is_ignored(clerk: User, target: str) -> None:
    client = Client()
    page = client.get("/accounts/login/", {"next": target})
    assert page.status_code == 200
    assert '<input type="hidden" name="next" value="/">' in page.content.decode()
    response = log_in(client, "clerk", next=target)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_next_within_the_site_is_followed(clerk: User) -> None:
    response = log_in(Client(), "clerk", next="/accounts/profile/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"


def test_logged_in_person_visiting_login_goes_to_the_workbench(clerk: User, client_for) -> None:
    response = client_for(clerk).get("/accounts/login/", {"next": "https://evil.example"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_logout_is_a_post_and_is_audited(clerk: User, client_for) -> None:
    client = client_for(clerk)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302
    assert audit_actions(action="accounts.logout", actor=clerk) == ["accounts.logout"]


def test_login_form_needs_a_csrf_token(clerk: User) -> None:
    client = Client(enforce_csrf_checks=True)
    response = log_in(client, "clerk")
    assert response.status_code == 403
    assert not AuditRecord.objects.filter(action__startswith="accounts.").exists()


def test_login_pages_are_never_cached(db: None) -> None:
    response = Client().get("/accounts/login/")
    assert "no-store" in response["Cache-Control"]
