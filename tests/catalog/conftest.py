"""Catalogue fixtures: a town with a department and two windows, and helpers to build item input."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from servicehall.accounts.models import User
from servicehall.accounts.roles import Role
from servicehall.catalog import actions
from servicehall.catalog.models import ServiceItem
from tests.conftest import make_staff
from tests.factories import DepartmentFactory, WindowFactory


@pytest.fixture(autouse=True)
def _media_in_temporary_directory(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def second_window(town_site: Any, department: Any) -> Any:
    return WindowFactory(site=town_site, number=5, name="综合受理窗口", department=department)


@pytest.fixture
def second_department(town_site: Any) -> Any:
    """A second department at the town: the 协办部门 of a 联办件."""
    return DepartmentFactory(site=town_site, code="SJ", name="市场监督管理局")


@pytest.fixture
def other_department(other_town_site: Any) -> Any:
    return DepartmentFactory(site=other_town_site, code="MZ", name="民政局")


@pytest.fixture
def other_window(other_town_site: Any, other_department: Any) -> Any:
    return WindowFactory(site=other_town_site, number=2, name="民政窗口", department=other_department)


@pytest.fixture
def town_administrator(town_site: Any) -> User:
    """A centre administrator of one town: the other town is outside their scope."""
    return make_staff(town_site, Role.CENTRE_ADMINISTRATOR, username="town_admin", full_name="吴镇管")


def material(name: str = "居民身份证", **fields: Any) -> actions.MaterialData:
    return actions.MaterialData(name=name, **fields)


def item_data(department: Any, windows: list[Any] | None = None, **overrides: Any) -> actions.ItemData:
    """A valid 承诺件 with two materials, two steps and its windows; any field can be overridden."""
    fields: dict[str, Any] = {
        "code": "RS-001",
        "name": "失业保险金申领",
        "department_id": department.pk,
        "item_type": "committed",
        "statutory_limit_days": 20,
        "committed_limit_days": 5,
        "conditions": "在本市参加失业保险并已办理失业登记。",
        "legal_basis": "《失业保险条例》第十四条",
        "keywords": "失业金 社保",
        "materials": [
            material("居民身份证", form="original", copies=1),
            material("失业登记证明", form="copy", copies=2, is_deferrable=True, notes="加盖公章"),
        ],
        "steps": [actions.StepData("受理", "窗口核对材料"), actions.StepData("审核", "")],
        "window_ids": [window.pk for window in windows or []],
    }
    fields.update(overrides)
    return actions.ItemData(**fields)


def fee(name: str = "工本费", amount: str = "10.00", legal_basis: str = "粤价〔2020〕1号") -> actions.FeeData:
    return actions.FeeData(name=name, amount=Decimal(amount), legal_basis=legal_basis)


@pytest.fixture
def item(centre_administrator: User, department: Any, window: Any) -> ServiceItem:
    return actions.create_item(centre_administrator, item_data(department, [window]))
