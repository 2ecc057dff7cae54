"""`servicehall demo`: a believable centre from the seeds, loaded once, never overwriting what exists."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import password_validation
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicehall.accounts.models import RoleGrant, User
from servicehall.accounts.roles import ADMINISTRATOR_POSTS, Role
from servicehall.audit.actions import verify
from servicehall.audit.models import AuditRecord
from servicehall.lib.identity import validate_mobile_phone, validate_resident_id
from servicehall.operations.demo import DEMO_PASSWORD, STAFF, base32_secret, load_demo_centre
from servicehall.sites.models import Department, OpeningPeriod, Site, SiteLevel, Window, WindowPost
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        "sites": Site.objects.count(),
        "departments": Department.objects.count(),
        "windows": Window.objects.count(),
        "window_posts": WindowPost.objects.count(),
        "opening_periods": OpeningPeriod.objects.count(),
        "staff": User.objects.count(),
        "role_grants": RoleGrant.objects.count(),
        "totp_devices": TOTPDevice.objects.count(),
        "audit_records": AuditRecord.objects.count(),
    }


def test_demo_loads_the_documented_centre() -> None:
    # Given an empty database, when the demo centre is loaded
    load_demo_centre()
    # Then it has the city centre, two 镇街 centres and two 村居 stations of seed 002
    levels = dict(Site.objects.values_list("code", "level"))
    assert levels == {
        "ZS-CITY": SiteLevel.CITY,
        "ZS-SANJIAO": SiteLevel.TOWN,
        "ZS-DONGQU": SiteLevel.TOWN,
        "ZS-SANJIAO-GUANGMING": SiteLevel.VILLAGE,
        "ZS-SANJIAO-JIEMIN": SiteLevel.VILLAGE,
    }
    assert Site.objects.get(code="ZS-CITY").name == "中山市政务服务中心"
    assert Site.objects.get(code="ZS-SANJIAO-JIEMIN").parent.code == "ZS-SANJIAO"
    assert counts() == {
        "sites": 5,
        "departments": 14,
        "windows": 28,
        "window_posts": 38,
        "opening_periods": 51,
        "staff": 39,
        "role_grants": 44,
        "totp_devices": 3,
        "audit_records": 1,
    }
    assert Department.objects.filter(site__code="ZS-CITY").count() == 9
    city_windows = Window.objects.filter(site__code="ZS-CITY")
    assert city_windows.count() == 18
    assert list(city_windows.filter(is_supervisor_window=True).values_list("number", flat=True)) == [1]
    assert set(WindowPost.objects.filter(window__site__code="ZS-CITY").values_list("kind", flat=True)) >= {
        "guide",
        "pre_review",
        "comprehensive",
        "tidal",
        "caring",
        "cannot_get_done",
        "complaint",
    }
    assert Window.objects.filter(site__code="ZS-SANJIAO").count() == 4
    assert Window.objects.filter(site__code="ZS-DONGQU").count() == 3


def test_demo_opening_hours_have_morning_afternoon_and_city_saturday_duty() -> None:
    load_demo_centre()
    city_hours = [
        (period.weekday, f"{period.starts_at:%H:%M}-{period.ends_at:%H:%M}")
        for period in OpeningPeriod.objects.filter(site__code="ZS-CITY")
    ]
    assert city_hours == [
        *[(weekday, hours) for weekday in range(1, 6) for hours in ("09:00-12:00", "13:30-17:30")],
        (6, "09:00-12:00"),
    ]
    assert OpeningPeriod.objects.filter(site__code="ZS-DONGQU").count() == 10
    assert not OpeningPeriod.objects.filter(site__code="ZS-DONGQU", weekday=6).exists()


def test_every_role_is_held_and_the_three_administrator_posts_by_different_people() -> None:
    load_demo_centre()
    assert set(RoleGrant.objects.values_list("role", flat=True)) == set(Role.values)
    administrators = {
        role: list(RoleGrant.objects.filter(role=role).values_list("user__username", flat=True))
        for role in ADMINISTRATOR_POSTS
    }
    assert administrators == {
        Role.SYSTEM_ADMINISTRATOR: ["he.jun"],
        Role.SECURITY_ADMINISTRATOR: ["liang.min"],
        Role.AUDIT_ADMINISTRATOR: ["zhou.yan"],
    }


def test_each_administrator_has_one_confirmed_authenticator() -> None:
    load_demo_centre()
    devices = TOTPDevice.objects.filter(confirmed=True).order_by("user__username")
    assert [device.user.username for device in devices] == ["he.jun", "liang.min", "zhou.yan"]
    assert len({device.key for device in devices}) == 3


def test_loading_twice_changes_nothing() -> None:
    # Given a loaded demo centre
    first = load_demo_centre()
    before = counts()
    # When it is loaded again
    second = load_demo_centre()
    # Then nothing is created and no audit record is added
    assert first.created_anything
    assert not second.created_anything
    assert counts() == before
    assert AuditRecord.objects.filter(action="operations.demo_loaded").count() == 1
    assert verify().intact


def test_existing_rows_are_never_overwritten() -> None:
    # Given an operator's own city centre under the demo code, and an account with a demo username
    SiteFactory(code="ZS-CITY", name="本地自建中心")
    load_demo_centre()
    User.objects.filter(username="wang.qiang").update(full_name="王改名")
    # When the demo is loaded again
    load_demo_centre()
    # Then the operator's values stand
    assert Site.objects.get(code="ZS-CITY").name == "本地自建中心"
    assert User.objects.get(username="wang.qiang").full_name == "王改名"


def test_demo_passwords_pass_the_policy_and_are_not_expired() -> None:
    load_demo_centre()
    users = list(User.objects.filter(username__in=[demo.username for demo in STAFF]))
    assert len(users) == 39
    for user in users:
        password_validation.validate_password(DEMO_PASSWORD, user)
        assert user.check_password(DEMO_PASSWORD)
        assert not user.password_expired()


def test_demo_personal_data_is_valid() -> None:
    load_demo_centre()
    for resident_id, mobile_phone in User.objects.values_list("resident_id", "mobile_phone"):
        assert validate_resident_id(resident_id) == resident_id
        assert resident_id.startswith("4420")
        assert validate_mobile_phone(mobile_phone) == mobile_phone
    assert User.objects.values("staff_number").distinct().count() == 39


def test_demo_command_prints_the_logins_and_is_idempotent() -> None:
    # When the command runs twice
    first = StringIO()
    call_command("demo", stdout=first)
    second = StringIO()
    call_command("demo", stdout=second)
    # Then the second run says nothing changed and both print the login sheet
    assert "已载入演示中心" in first.getvalue()
    assert "演示中心已存在，未作改动" in second.getvalue()
    assert AuditRecord.objects.filter(action="operations.demo_loaded").count() == 1
    sheet = second.getvalue()
    assert "Hall#2026demo" in sheet
    for username in ("wang.qiang", "chen.jing", "li.na", "he.jun", "liang.min", "zhou.yan"):
        assert username in sheet
    for device in TOTPDevice.objects.filter(confirmed=True).select_related("user"):
        assert (
            f"{base32_secret(device)}  或运行 / or run: .venv/bin/servicehall demo-otp {device.user.username}"
            in sheet
        )
    assert (
        "建议先试 / suggested logins: 窗口受理员 wang.qiang，窗口负责人 chen.jing，咨询导办员 li.na，审计管理员 zhou.yan"
        in sheet
    )
    assert "好差评与差评整改的演示数据在三角镇：窗口负责人 lai.zhihong" in sheet
    # And no personal number is printed
    for resident_id, mobile_phone in User.objects.values_list("resident_id", "mobile_phone"):
        assert resident_id not in sheet
        assert mobile_phone not in sheet


def test_demo_command_is_refused_outside_the_local_demo(settings) -> None:
    settings.IS_LOCAL = False
    with pytest.raises(CommandError) as refusal:
        call_command("demo", stdout=StringIO())
    assert refusal.value.returncode == 2
    assert str(refusal.value).startswith("演示数据只能载入本地演示环境")
    assert Site.objects.count() == 0
