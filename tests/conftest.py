"""Shared personas and helpers for the whole suite.

The personas (a clerk, a clerk of another site, a supervisor, the three administrator posts, a
citizen without an account) are the cast of every permission matrix.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

os.environ.setdefault("SERVICEHALL_DEPLOYMENT", "local")

import pytest  # noqa: E402
from django.test import Client  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from servicehall.accounts.models import User  # noqa: E402
from servicehall.accounts.roles import Role  # noqa: E402
from servicehall.audit.models import AuditRecord  # noqa: E402
from tests.factories import DepartmentFactory, SiteFactory, TownSiteFactory, UserFactory, WindowFactory  # noqa: E402


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _audit_guard_lifted_for_flush() -> Iterator[None]:
    """Transactional tests empty every table afterwards; the audit triggers must let that through."""
    from django.core.management.commands import flush

    from servicehall.audit.guard import maintenance

    original = flush.Command.handle

    def handle(self: Any, *args: Any, **options: Any) -> Any:
        with maintenance():
            return original(self, *args, **options)

    flush.Command.handle = handle
    yield
    flush.Command.handle = original


@pytest.fixture
def city_site(db: None) -> Any:
    return SiteFactory(code="CITY", name="中山市政务服务中心")


@pytest.fixture
def town_site(city_site: Any) -> Any:
    return TownSiteFactory(code="TOWN-A", name="三角镇便民服务中心", parent=city_site)


@pytest.fixture
def other_town_site(city_site: Any) -> Any:
    return TownSiteFactory(code="TOWN-B", name="黄圃镇便民服务中心", parent=city_site)


@pytest.fixture
def department(town_site: Any) -> Any:
    return DepartmentFactory(site=town_site, code="RS", name="人力资源和社会保障局")


@pytest.fixture
def window(town_site: Any, department: Any) -> Any:
    return WindowFactory(site=town_site, number=3, name="社保综合窗口", department=department)


def make_staff(site: Any, *roles: Role, **fields: Any) -> User:
    return UserFactory(site=site, roles=[str(role) for role in roles], **fields)


@pytest.fixture
def clerk(town_site: Any, department: Any) -> User:
    return make_staff(
        town_site, Role.WINDOW_CLERK, username="clerk", full_name="李受理", department=department
    )


@pytest.fixture
def other_site_clerk(other_town_site: Any) -> User:
    return make_staff(other_town_site, Role.WINDOW_CLERK, username="other_clerk", full_name="王外站")


@pytest.fixture
def supervisor(town_site: Any) -> User:
    return make_staff(town_site, Role.WINDOW_SUPERVISOR, username="supervisor", full_name="陈负责")


@pytest.fixture
def centre_administrator(city_site: Any) -> User:
    return make_staff(city_site, Role.CENTRE_ADMINISTRATOR, username="centre_admin", full_name="赵中心")


@pytest.fixture
def system_administrator(city_site: Any) -> User:
    return make_staff(city_site, Role.SYSTEM_ADMINISTRATOR, username="sysadmin", full_name="钱系统")


@pytest.fixture
def security_administrator(city_site: Any) -> User:
    return make_staff(city_site, Role.SECURITY_ADMINISTRATOR, username="secadmin", full_name="孙安全")


@pytest.fixture
def audit_administrator(city_site: Any) -> User:
    return make_staff(city_site, Role.AUDIT_ADMINISTRATOR, username="auditadmin", full_name="周审计")


@pytest.fixture
def citizen_client(db: None) -> Client:
    """A member of the public: no account, no session."""
    return Client()


def verified_client(user: User) -> Client:
    """A logged-in client whose second factor, where required, has been verified."""
    client = Client()
    client.force_login(user)
    if user.two_factor_required:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def client_for() -> Any:
    return verified_client


def audit_count(**filters: Any) -> int:
    return AuditRecord.objects.filter(**filters).count()
