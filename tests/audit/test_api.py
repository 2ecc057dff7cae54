"""GET /api/audit and POST /api/audit/verify: who may, what they see, and that refusals change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.test import Client

from servicehall.accounts.roles import Role
from servicehall.audit.actions import record
from servicehall.audit.models import AuditRecord
from tests.audit.helpers import raw_update, record_when
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

REFUSED_PERSONAS = [
    "clerk",
    "other_site_clerk",
    "supervisor",
    "centre_administrator",
    "system_administrator",
    "security_administrator",
]


@pytest.fixture
def town_auditor(town_site) -> Any:
    return make_staff(town_site, Role.AUDIT_ADMINISTRATOR, username="town_auditor", full_name="吴镇审")


@pytest.fixture
def trail(town_site, other_town_site, clerk) -> dict[str, AuditRecord]:
    return {
        "town": record("accounts.staff_updated", actor=clerk, site=town_site),
        "other_town": record("sites.window_created", site=other_town_site),
        "centre": record("accounts.login_failed", outcome="failed", actor_label="未知账户"),
    }


def audit_snapshot() -> list[tuple[int, str]]:
    return list(AuditRecord.objects.order_by("id").values_list("id", "action"))


def ids(response: Any) -> list[int]:
    return [item["id"] for item in response.json()]


@pytest.mark.parametrize("persona", REFUSED_PERSONAS)
@pytest.mark.parametrize(
    ("method", "path", "capability"),
    [("get", "/api/audit", "audit.view"), ("post", "/api/audit/verify", "audit.verify")],
)
def test_staff_without_the_audit_post_get_403_and_only_an_access_denied_record(
    request, client_for, trail, persona: str, method: str, path: str, capability: str
) -> None:
    user = request.getfixturevalue(persona)
    before = audit_snapshot()
    response = getattr(client_for(user), method)(path)
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "detail": "您没有执行此操作的权限 / You do not have permission for this action.",
    }
    new = AuditRecord.objects.exclude(id__in=[identifier for identifier, _ in before])
    assert [(entry.action, entry.outcome, entry.actor_id, entry.after) for entry in new] == [
        (
            "access.denied",
            "denied",
            user.pk,
            {"reason": "missing_capability", "capability": capability, "path": path},
        )
    ]


@pytest.mark.parametrize(("method", "path"), [("get", "/api/audit"), ("post", "/api/audit/verify")])
def test_without_a_session_the_api_answers_401_and_changes_nothing(
    citizen_client: Client, trail, method: str, path: str
) -> None:
    before = audit_snapshot()
    response = getattr(citizen_client, method)(path)
    assert response.status_code == 401
    assert response.json() == {"code": "not_authenticated", "detail": "请先登录 / Please log in."}
    assert audit_snapshot() == before


def test_the_city_auditor_lists_every_chain_newest_first(
    client_for, audit_administrator, town_site, trail
) -> None:
    response = client_for(audit_administrator).get("/api/audit")
    assert response.status_code == 200
    assert ids(response) == [trail["centre"].pk, trail["other_town"].pk, trail["town"].pk]
    town = response.json()[2]
    entry = trail["town"]
    assert town == {
        "id": entry.pk,
        "chain": town_site.pk,
        "sequence": 1,
        "occurred_at": DjangoJSONEncoder().default(entry.occurred_at),
        "actor_label": "clerk（李受理）",
        "site_id": town_site.pk,
        "action": "accounts.staff_updated",
        "outcome": "success",
        "object_type": "",
        "object_id": "",
        "object_label": "",
        "record_hash": entry.record_hash,
    }


def test_a_town_auditor_lists_only_their_site(client_for, town_auditor, trail) -> None:
    response = client_for(town_auditor).get("/api/audit")
    assert ids(response) == [trail["town"].pk]


def test_the_list_filters_by_action_prefix_time_and_limit(
    client_for, audit_administrator, town_site, trail
) -> None:
    old = record_when(
        dt.datetime(2026, 1, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), "accounts.logout", site=town_site
    )
    client = client_for(audit_administrator)
    assert ids(client.get("/api/audit", {"action": "accounts."})) == [
        trail["centre"].pk,
        trail["town"].pk,
        old.pk,
    ]
    assert old.pk not in ids(client.get("/api/audit", {"since": "2026-01-02T00:00:00+08:00"}))
    assert ids(client.get("/api/audit", {"limit": 2})) == [trail["centre"].pk, trail["other_town"].pk]


def test_an_unparseable_filter_is_a_400(client_for, audit_administrator, trail) -> None:
    response = client_for(audit_administrator).get("/api/audit", {"since": "yesterday"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"


def test_the_auditor_verifies_through_the_api_and_the_check_is_audited(
    client_for, audit_administrator, trail
) -> None:
    response = client_for(audit_administrator).post("/api/audit/verify")
    assert response.status_code == 200
    assert response.json() == {"intact": True, "records_checked": 3, "chains_checked": 3, "first_break": None}
    verified = AuditRecord.objects.get(action="audit.verified")
    assert (verified.actor_id, verified.outcome) == (audit_administrator.pk, "success")


def test_the_api_names_the_first_broken_record(client_for, audit_administrator, town_site, trail) -> None:
    raw_update(trail["town"].pk, action="accounts.logout")
    response = client_for(audit_administrator).post("/api/audit/verify")
    assert response.status_code == 200
    assert response.json() == {
        "intact": False,
        "records_checked": 2,
        "chains_checked": 3,
        "first_break": f"链 {town_site.pk} 第 1 条（记录 id={trail['town'].pk}）：内容与哈希不符（记录被篡改）",
    }
    assert AuditRecord.objects.get(action="audit.verified").outcome == "failed"
