"""Cases fixtures: items of each type, an approver per department, applicants, and a frozen clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from servicehall.accounts.models import Rank, User
from servicehall.accounts.roles import Role
from servicehall.cases import actions, clock
from servicehall.cases.models import Case, ItemCaseSetting
from servicehall.catalog.models import ItemType, Material, ProcessStep, ServiceItem
from servicehall.lib.identity import unified_social_credit_code_check_character
from tests.conftest import make_staff
from tests.factories import DepartmentFactory, resident_id

APPLICANT_PHONE = "13812345678"


@pytest.fixture(autouse=True)
def _fresh_calendar_and_cache() -> Iterator[None]:
    from servicehall.workdays import service

    service.invalidate()
    cache.clear()
    yield
    service.invalidate()
    cache.clear()


def moment(day: str, time: str = "10:00") -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(f"{day}T{time}"))


@pytest.fixture
def at() -> Callable[..., Any]:
    """``with at("2025-09-26"):`` runs the block as if it were that day (10:00 local time)."""
    return lambda day, time="10:00": clock.frozen(moment(day, time))


def credit_code(sequence: int = 1) -> str:
    first_seventeen = f"91442000MA{sequence:07d}"
    return first_seventeen + unified_social_credit_code_check_character(first_seventeen)


def person(**overrides: Any) -> actions.ApplicantData:
    fields = {"kind": "person", "name": "张三丰", "id_number": resident_id(7), "phone": APPLICANT_PHONE}
    fields.update(overrides)
    return actions.ApplicantData(**fields)


def organisation(**overrides: Any) -> actions.ApplicantData:
    fields = {
        "kind": "organisation",
        "name": "中山市三角镇某某电子有限公司",
        "id_number": credit_code(),
        "phone": "13900001111",
        "agent_name": "李经办",
    }
    fields.update(overrides)
    return actions.ApplicantData(**fields)


def make_item(department: Any, code: str, item_type: str = ItemType.COMMITTED, **fields: Any) -> ServiceItem:
    defaults = {
        "name": f"测试事项{code}",
        "statutory_limit_days": 20,
        "committed_limit_days": 5,
        "conditions": "在本市参加社会保险。",
        "legal_basis": "《社会保险法》",
        "delivery_at_window": True,
        "delivery_by_post": True,
        "delivery_by_cabinet": True,
    }
    defaults.update(fields)
    item = ServiceItem.objects.create(
        site=department.site, department=department, code=code, item_type=item_type, **defaults
    )
    ProcessStep.objects.create(site=item.site, item=item, position=1, name="受理")
    ProcessStep.objects.create(site=item.site, item=item, position=2, name="审核")
    return item


def add_materials(item: ServiceItem) -> None:
    Material.objects.create(site=item.site, item=item, position=1, name="居民身份证", form="original")
    Material.objects.create(
        site=item.site, item=item, position=2, name="申请表", form="original", notes="本人签名"
    )
    Material.objects.create(
        site=item.site, item=item, position=3, name="劳动合同", form="copy", copies=2, is_deferrable=True
    )
    Material.objects.create(site=item.site, item=item, position=4, name="近期照片", is_mandatory=False)


@pytest.fixture
def committed_item(department: Any) -> ServiceItem:
    item = make_item(department, "RS-100")
    add_materials(item)
    ItemCaseSetting.objects.create(site=item.site, item=item, statutory_extension_days=10)
    return item


@pytest.fixture
def immediate_item(department: Any) -> ServiceItem:
    item = make_item(department, "RS-200", ItemType.IMMEDIATE, statutory_limit_days=0, committed_limit_days=0)
    Material.objects.create(site=item.site, item=item, position=1, name="居民身份证")
    return item


@pytest.fixture
def second_department(town_site: Any) -> Any:
    return DepartmentFactory(site=town_site, code="SJ", name="市场监督管理局")


@pytest.fixture
def joint_item(department: Any) -> ServiceItem:
    item = make_item(
        department,
        "LB-300",
        ItemType.JOINT,
        statutory_limit_days=20,
        committed_limit_days=10,
        deemed_approval_on_timeout=True,
    )
    Material.objects.create(site=item.site, item=item, position=1, name="营业执照")
    return item


@pytest.fixture
def approver(town_site: Any, department: Any) -> User:
    return make_staff(
        town_site, Role.BACK_OFFICE_APPROVER, username="approver", full_name="简审批", department=department
    )


@pytest.fixture
def second_approver(town_site: Any, second_department: Any) -> User:
    return make_staff(
        town_site,
        Role.BACK_OFFICE_APPROVER,
        username="approver2",
        full_name="叶审批",
        department=second_department,
    )


@pytest.fixture
def second_clerk(town_site: Any, department: Any) -> User:
    return make_staff(
        town_site,
        Role.WINDOW_CLERK,
        username="clerk2",
        full_name="黄受理",
        department=department,
        rank=Rank.CLERK,
    )


def all_received(case: Case) -> list[actions.MaterialUpdate]:
    return [actions.MaterialUpdate(check.pk, "received") for check in case.material_checks.all()]


def received_except(case: Case, *names: str) -> list[actions.MaterialUpdate]:
    return [
        actions.MaterialUpdate(check.pk, "missing" if check.name in names else "received")
        for check in case.material_checks.all()
    ]


def check_of(case: Case, name: str) -> Any:
    return case.material_checks.get(name=name)


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)
