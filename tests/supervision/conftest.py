"""Supervision fixtures: a complaint handler, a social supervisor, complaints in the flow, a fresh cache."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from servicehall.accounts.roles import Role
from servicehall.supervision import actions
from servicehall.supervision.models import ComplaintChannel
from tests.conftest import make_staff


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    from servicehall.workdays import service

    service.invalidate()
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def handler(town_site: Any) -> Any:
    return make_staff(town_site, Role.COMPLAINT_HANDLER, username="handler", full_name="卢投诉")


@pytest.fixture
def social_supervisor(town_site: Any) -> Any:
    return make_staff(town_site, Role.SOCIAL_SUPERVISOR, username="social", full_name="谢监督")


@pytest.fixture
def other_supervisor(other_town_site: Any) -> Any:
    return make_staff(
        other_town_site, Role.WINDOW_SUPERVISOR, username="other_supervisor", full_name="黄外站"
    )


def register(actor: Any, site: Any, **fields: Any) -> Any:
    data = {
        "site": site,
        "content": "窗口工作人员态度生硬，未一次性告知所需材料。",
        "channel": ComplaintChannel.DESK,
        "complainant_name": "张投诉",
        "complainant_phone": "13912345678",
    } | fields
    complaint, _code = actions.register_complaint(actor, actions.ComplaintData(**data))
    return complaint


def upheld_complaint(actor: Any, site: Any, accused: Any, conclusion: str = "upheld") -> Any:
    complaint = register(actor, site, accused_staff=accused)
    actions.start_investigation(actor, complaint)
    return actions.conclude_complaint(actor, complaint, conclusion, "批评教育，责令整改。")
