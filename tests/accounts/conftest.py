"""Helpers for the accounts tests: logging in as a person would, TOTP codes, and "nothing changed" checks."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicehall.accounts.models import RoleGrant, User
from servicehall.accounts.roles import Role
from servicehall.audit.models import AuditRecord
from tests.conftest import make_staff
from tests.factories import TEST_PASSWORD

FULL_PHONE = "13812345678"
MASKED_PHONE = "138****5678"
FULL_RESIDENT_ID = "44200019900307123X"
MASKED_RESIDENT_ID = "4420**********123X"
# Same first 17 digits, wrong check character (GB 11643 MOD 11-2 gives X).
RESIDENT_ID_WITH_WRONG_CHECK_DIGIT = "442000199003071234"
CHECK_DIGIT_MESSAGE = "身份证号校验位错误"

PERSONAS = [
    "anonymous",
    "clerk",
    "other_site_clerk",
    "supervisor",
    "centre_administrator",
    "system_administrator",
    "security_administrator",
    "audit_administrator",
]


def log_in(client: Client, username: str, password: str = TEST_PASSWORD, **extra: str) -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password, **extra})


def totp_token(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or ``steps_ahead`` periods of 30 s later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_token(device: TOTPDevice) -> str:
    accepted = {totp_token(device, steps) for steps in range(-2, 3)}
    return next(f"{number:06d}" for number in range(1000) if f"{number:06d}" not in accepted)


def audit_actions(**filters: Any) -> list[str]:
    return list(AuditRecord.objects.filter(**filters).order_by("id").values_list("action", flat=True))


def state() -> dict[str, Any]:
    """Everything an accounts write could change, except refusals recorded as access.denied."""
    return {
        "users": list(User.objects.order_by("pk").values()),
        "grants": list(RoleGrant.objects.order_by("pk").values("user_id", "role", "site_id")),
        "devices": list(TOTPDevice.objects.order_by("pk").values("user_id", "confirmed", "key")),
        "audit": list(
            AuditRecord.objects.exclude(action="access.denied").order_by("pk").values_list("pk", flat=True)
        ),
    }


def assert_nothing_changed(before: dict[str, Any]) -> None:
    after = state()
    for part in before:
        assert after[part] == before[part], part


@pytest.fixture
def personal_staff(town_site: Any, department: Any) -> User:
    """A clerk at the supervisor's site whose phone and 身份证号 are known in full."""
    return make_staff(
        town_site,
        Role.WINDOW_CLERK,
        username="zhangmin",
        full_name="张敏",
        staff_number="A0001",
        department=department,
        mobile_phone=FULL_PHONE,
        resident_id=FULL_RESIDENT_ID,
    )


@pytest.fixture
def clients(
    client_for: Any,
    citizen_client: Client,
    clerk: User,
    other_site_clerk: User,
    supervisor: User,
    centre_administrator: User,
    system_administrator: User,
    security_administrator: User,
    audit_administrator: User,
) -> dict[str, Client]:
    """One logged-in client per persona (second factor verified where required), plus the public."""
    people = {
        "clerk": clerk,
        "other_site_clerk": other_site_clerk,
        "supervisor": supervisor,
        "centre_administrator": centre_administrator,
        "system_administrator": system_administrator,
        "security_administrator": security_administrator,
        "audit_administrator": audit_administrator,
    }
    return {"anonymous": citizen_client, **{name: client_for(person) for name, person in people.items()}}
