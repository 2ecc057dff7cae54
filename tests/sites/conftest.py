"""Fixtures for the sites tests: a town-level manager, and a picture of every row this app owns."""

from __future__ import annotations

from typing import Any

import pytest

from servicehall.accounts.models import User
from servicehall.accounts.roles import Role
from servicehall.audit.models import AuditRecord
from servicehall.sites.models import Department, OpeningPeriod, Site, Window, WindowPost
from tests.conftest import make_staff


@pytest.fixture
def town_manager(town_site: Any) -> User:
    """A 系统管理员 posted at a town: manages the town and its villages, nothing beside it."""
    return make_staff(town_site, Role.SYSTEM_ADMINISTRATOR, username="town_sysadmin", full_name="吴镇管")


def site_rows() -> dict[str, list[dict[str, Any]]]:
    """Every row of the sites app, to prove a refused request changed nothing."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Site, Department, Window, WindowPost, OpeningPeriod)
    }


def audit_actions_after(last_id: int) -> list[str]:
    return list(AuditRecord.objects.filter(pk__gt=last_id).order_by("pk").values_list("action", flat=True))


def last_audit_id() -> int:
    return AuditRecord.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
