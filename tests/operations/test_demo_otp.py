"""`servicehall demo-otp`: a convenience of the local demo only."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicehall.operations.demo import load_demo_centre

pytestmark = pytest.mark.django_db


def test_demo_otp_prints_a_code_that_verifies(settings) -> None:
    # Given the local demo with its administrators
    settings.IS_LOCAL = True
    load_demo_centre()
    # When the auditor's current code is asked for
    output = StringIO()
    call_command("demo-otp", "zhou.yan", stdout=output, stderr=StringIO())
    code = output.getvalue().strip()
    # Then it is six digits that the auditor's authenticator accepts
    assert len(code) == 6
    assert code.isdigit()
    device = TOTPDevice.objects.get(user__username="zhou.yan", confirmed=True)
    assert device.verify_token(code) is True


def test_demo_otp_is_refused_outside_the_local_demo(settings) -> None:
    settings.IS_LOCAL = False
    load_demo_centre()
    output = StringIO()
    with pytest.raises(CommandError) as refusal:
        call_command("demo-otp", "zhou.yan", stdout=output)
    assert refusal.value.returncode == 2
    assert str(refusal.value).startswith("demo-otp 只能在本地演示环境使用")
    assert output.getvalue() == ""


def test_demo_otp_for_an_unknown_account_or_one_without_authenticator(settings) -> None:
    settings.IS_LOCAL = True
    load_demo_centre()
    with pytest.raises(CommandError) as unknown:
        call_command("demo-otp", "nobody", stdout=StringIO())
    assert unknown.value.returncode == 1
    assert str(unknown.value) == "未找到该登录名的账户 / no account with that username"
    with pytest.raises(CommandError) as without_device:
        call_command("demo-otp", "wang.qiang", stdout=StringIO())
    assert without_device.value.returncode == 1
    assert str(without_device.value) == "该账户未绑定身份验证器 / that account has no confirmed authenticator"
