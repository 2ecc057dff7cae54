"""TOTP second factor: required for the three administrator posts, optional for everyone else."""

from __future__ import annotations

import base64

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicehall.accounts.models import User
from servicehall.audit.models import AuditOutcome, AuditRecord
from tests.accounts.conftest import audit_actions, log_in, totp_token, wrong_token

ADMINISTRATOR_POSTS = ["system_administrator", "security_administrator", "audit_administrator"]
GATED_PAGES = ["/", "/accounts/profile/", "/accounts/staff/", "/accounts/password/", "/sites/"]


@pytest.fixture
def administrator(request: pytest.FixtureRequest) -> User:
    return request.getfixturevalue(request.param)


def password_only(user: User) -> Client:
    client = Client()
    assert log_in(client, user.username).status_code == 302
    return client


def pending_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=False)


def enrol(client: Client, user: User) -> TOTPDevice:
    assert client.get("/accounts/two-factor/").status_code == 200
    device = pending_device(user)
    assert client.post("/accounts/two-factor/", {"token": totp_token(device)}).status_code == 302
    device.refresh_from_db()
    return device


@pytest.mark.parametrize("administrator", ADMINISTRATOR_POSTS, indirect=True)
def test_administrator_posts_reach_nothing_before_the_second_factor(administrator: User) -> None:
    client = password_only(administrator)
    for page in GATED_PAGES:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith("/accounts/two-factor/"), page
    api = client.get("/api/me")
    assert api.status_code == 403
    assert api.json() == {
        "code": "two_factor_required",
        "detail": "请先完成双因素认证 / Two-factor verification required.",
    }
    assert (
        client.post(
            "/api/staff/1/reveal", {"field": "mobile_phone"}, content_type="application/json"
        ).status_code
        == 403
    )


@pytest.mark.parametrize("administrator", ADMINISTRATOR_POSTS, indirect=True)
def test_enrolment_shows_a_qr_code_and_secret_then_a_right_code_lets_them_in(administrator: User) -> None:
    client = password_only(administrator)
    page = client.get("/accounts/two-factor/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body
    device = pending_device(administrator)
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    shown = body.split('data-testid="totp-secret">', 1)[1].split("<", 1)[0]
    assert shown.replace(" ", "") == secret
    assert "no-store" in page["Cache-Control"]
    # When they type the code their authenticator shows
    response = client.post("/accounts/two-factor/", {"token": totp_token(device)})
    # Then the device is confirmed, they are verified, and the enrolment is audited
    assert response.status_code == 302
    assert response["Location"] == "/"
    device.refresh_from_db()
    assert device.confirmed
    for page_path in ["/", "/accounts/profile/", "/accounts/password/", "/sites/"]:
        assert client.get(page_path).status_code == 200, page_path
    assert client.get("/api/me").status_code == 200
    assert audit_actions(action="accounts.two_factor_enrolled", actor=administrator) == [
        "accounts.two_factor_enrolled"
    ]


def test_enrolment_returns_to_the_page_first_asked_for(system_administrator: User) -> None:
    client = password_only(system_administrator)
    response = client.get("/accounts/staff/")
    assert response["Location"] == "/accounts/two-factor/?next=%2Faccounts%2Fstaff%2F"
    page = client.get(response["Location"])
    assert '<input type="hidden" name="next" value="/accounts/staff/">' in page.content.decode()
    device = pending_device(system_administrator)
    answer = client.post(response["Location"], {"token": totp_token(device), "next": "/accounts/staff/"})
    assert answer["Location"] == "/accounts/staff/"


def test_a_wrong_enrolment_code_is_refused_and_counts_toward_lockout(security_administrator: User) -> None:
    client = password_only(security_administrator)
    client.get("/accounts/two-factor/")
    device = pending_device(security_administrator)
    response = client.post("/accounts/two-factor/", {"token": wrong_token(device)})
    assert response.status_code == 400
    assert "验证码不正确" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    security_administrator.refresh_from_db()
    assert security_administrator.failed_login_count == 1
    failure = AuditRecord.objects.get(action="accounts.two_factor_failed")
    assert failure.outcome == AuditOutcome.FAILED
    assert failure.after == {"failed_login_count": 1}
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("token", ["", "12345", "1234567", "abcdef", "12 456"])
def test_malformed_codes_are_refused(audit_administrator: User, token: str) -> None:
    client = password_only(audit_administrator)
    client.get("/accounts/two-factor/")
    response = client.post("/accounts/two-factor/", {"token": token})
    assert response.status_code == 400
    assert not TOTPDevice.objects.filter(user=audit_administrator, confirmed=True).exists()


def test_a_later_login_verifies_with_the_enrolled_device(audit_administrator: User) -> None:
    first = password_only(audit_administrator)
    device = enrol(first, audit_administrator)
    first.post("/accounts/logout/")
    # Given a later login with the password
    client = password_only(audit_administrator)
    assert client.get("/")["Location"].startswith("/accounts/two-factor/")
    page = client.get("/accounts/two-factor/")
    body = page.content.decode()
    assert "请输入身份验证器中显示的 6 位验证码。" in body
    assert "<svg" not in body
    assert not TOTPDevice.objects.filter(user=audit_administrator, confirmed=False).exists()
    # A code already used is refused (no replay); the next code from the app is accepted
    assert client.post("/accounts/two-factor/", {"token": totp_token(device)}).status_code == 400
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=None, throttling_failure_count=0
    )
    response = client.post("/accounts/two-factor/", {"token": totp_token(device, steps_ahead=1)})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert audit_actions(action="accounts.two_factor_verified") == ["accounts.two_factor_verified"]
    audit_administrator.refresh_from_db()
    assert audit_administrator.failed_login_count == 0


def test_a_right_code_straight_after_a_wrong_one_waits_for_the_back_off(system_administrator: User) -> None:
    client = password_only(system_administrator)
    device = enrol(client, system_administrator)
    client.post("/accounts/logout/")
    client = password_only(system_administrator)
    assert client.post("/accounts/two-factor/", {"token": wrong_token(device)}).status_code == 400
    response = client.post("/accounts/two-factor/", {"token": totp_token(device, steps_ahead=1)})
    assert response.status_code == 400
    assert "尝试过于频繁" in response.content.decode()
    system_administrator.refresh_from_db()
    assert system_administrator.failed_login_count == 1


def test_five_wrong_codes_lock_the_account_and_end_the_session(system_administrator: User, settings) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    client = password_only(system_administrator)
    device = enrol(client, system_administrator)
    client.post("/accounts/logout/")
    client = password_only(system_administrator)
    for attempt in range(4):
        response = client.post("/accounts/two-factor/", {"token": wrong_token(device)})
        assert response.status_code == 400, attempt
    response = client.post("/accounts/two-factor/", {"token": wrong_token(device)})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    system_administrator.refresh_from_db()
    assert system_administrator.is_locked()
    assert audit_actions(action__in=["accounts.two_factor_failed", "accounts.locked"]) == [
        "accounts.two_factor_failed"
    ] * 5 + ["accounts.locked"]
    assert client.get("/").status_code == 302
    refused = log_in(Client(), "sysadmin")
    assert refused.status_code == 400
    assert "账户已锁定" in refused.content.decode()


def test_anonymous_visitors_are_sent_to_login(citizen_client: Client) -> None:
    response = citizen_client.get("/accounts/two-factor/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


def test_a_clerk_without_two_factor_is_not_enrolled_by_visiting_the_page(clerk: User, client_for) -> None:
    response = client_for(clerk).get("/accounts/two-factor/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not TOTPDevice.objects.filter(user=clerk).exists()


def profile(client: Client, two_factor: bool, language: str = "zh-hans"):
    data = {"language": language}
    if two_factor:
        data["two_factor_opt_in"] = "on"
    return client.post("/accounts/profile/", data)


def test_a_clerk_can_switch_two_factor_on_and_must_then_verify(clerk: User) -> None:
    client = password_only(clerk)
    response = profile(client, two_factor=True)
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.two_factor_opt_in
    setting = AuditRecord.objects.get(action="accounts.two_factor_setting")
    assert setting.before == {"two_factor_opt_in": False}
    assert setting.after == {"two_factor_opt_in": True}
    # From now on the clerk must enrol before anything else
    assert client.get("/")["Location"].startswith("/accounts/two-factor/")
    device = enrol(client, clerk)
    assert device.confirmed
    assert client.get("/").status_code == 200
    # And at the next login the second factor is asked for
    client.post("/accounts/logout/")
    later = password_only(clerk)
    assert later.get("/")["Location"].startswith("/accounts/two-factor/")
    assert (
        later.post("/accounts/two-factor/", {"token": totp_token(device, steps_ahead=1)}).status_code == 302
    )
    assert later.get("/").status_code == 200


def test_a_clerk_can_switch_two_factor_off_again(clerk: User) -> None:
    client = password_only(clerk)
    profile(client, two_factor=True)
    enrol(client, clerk)
    response = profile(client, two_factor=False)
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert not clerk.two_factor_opt_in
    assert not TOTPDevice.objects.filter(user=clerk).exists()
    client.post("/accounts/logout/")
    assert password_only(clerk).get("/").status_code == 200


@pytest.mark.parametrize("administrator", ADMINISTRATOR_POSTS, indirect=True)
def test_an_administrator_cannot_switch_two_factor_off(administrator: User, client_for) -> None:
    client = client_for(administrator)
    page = client.get("/accounts/profile/").content.decode()
    assert 'name="two_factor_opt_in" id="id_two_factor_opt_in" checked' in page
    devices = list(TOTPDevice.objects.filter(user=administrator).values_list("pk", flat=True))
    response = profile(client, two_factor=False, language="en")
    assert response.status_code == 400
    assert "必须使用双因素认证，不能关闭" in response.content.decode()
    administrator.refresh_from_db()
    assert administrator.two_factor_required
    assert administrator.language == "zh-hans"
    assert list(TOTPDevice.objects.filter(user=administrator).values_list("pk", flat=True)) == devices
    assert not AuditRecord.objects.filter(
        action__in=["accounts.two_factor_setting", "accounts.language_changed"]
    ).exists()


def test_an_administrator_who_also_opted_in_still_cannot_switch_off(
    system_administrator: User, client_for
) -> None:
    User.objects.filter(pk=system_administrator.pk).update(two_factor_opt_in=True)
    response = profile(client_for(system_administrator), two_factor=False)
    assert response.status_code == 400
    system_administrator.refresh_from_db()
    assert system_administrator.two_factor_opt_in
