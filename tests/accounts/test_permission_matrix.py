"""Every accounts URL and API endpoint, for every persona: the exact answer, and for refused writes, no change.

The target is a window clerk at the supervisor's own town site (三角镇), holding a role to revoke and
locked so that unlocking has something to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from servicehall.accounts.models import User
from servicehall.accounts.roles import Role
from servicehall.audit.models import AuditRecord
from tests.accounts.conftest import PERSONAS, assert_nothing_changed, state
from tests.conftest import make_staff

ANONYMOUS, CLERK, OTHER_CLERK, SUPERVISOR, CENTRE, SYSTEM, SECURITY, AUDIT = PERSONAS
STAFF = [CLERK, OTHER_CLERK, SUPERVISOR, CENTRE, SYSTEM, SECURITY, AUDIT]


def answers(default: int, anonymous: int, **special: int) -> dict[str, int]:
    """The status per persona: ``default`` for staff unless named in ``special``."""
    table = dict.fromkeys(STAFF, default)
    table[ANONYMOUS] = anonymous
    table.update(special)
    return table


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    expected: dict[str, int]
    data: dict[str, Any] = field(default_factory=dict)
    json: bool = False
    # The audit action a permitted write leaves behind.
    success_action: str = ""

    @property
    def writes(self) -> bool:
        return self.method == "post" and self.path not in {"/accounts/logout/"}


CASES = {
    "login": Case("get", "/accounts/login/", answers(302, 200)),
    "logout": Case("post", "/accounts/logout/", answers(302, 302)),
    "two_factor": Case("get", "/accounts/two-factor/", answers(302, 302)),
    "password": Case("get", "/accounts/password/", answers(200, 302)),
    "profile": Case("get", "/accounts/profile/", answers(200, 302)),
    "staff_list": Case(
        "get",
        "/accounts/staff/",
        answers(
            403,
            302,
            supervisor=200,
            centre_administrator=200,
            system_administrator=200,
            security_administrator=200,
        ),
    ),
    "staff_create_form": Case(
        "get", "/accounts/staff/new/", answers(403, 302, centre_administrator=200, system_administrator=200)
    ),
    "staff_create": Case(
        "post",
        "/accounts/staff/new/",
        answers(403, 302, centre_administrator=302, system_administrator=302),
        data={"NEW": True},
        success_action="accounts.staff_created",
    ),
    "staff_detail": Case(
        "get",
        "/accounts/staff/{target}/",
        answers(
            403,
            302,
            supervisor=200,
            centre_administrator=200,
            system_administrator=200,
            security_administrator=200,
        ),
    ),
    "staff_edit_form": Case(
        "get",
        "/accounts/staff/{target}/edit/",
        answers(403, 302, centre_administrator=200, system_administrator=200),
    ),
    "staff_edit": Case(
        "post",
        "/accounts/staff/{target}/edit/",
        answers(403, 302, centre_administrator=302, system_administrator=302),
        data={"EDIT": True},
        success_action="accounts.staff_updated",
    ),
    "reveal": Case(
        "post",
        "/accounts/staff/{target}/reveal/mobile_phone/",
        answers(403, 302, supervisor=200, centre_administrator=200),
        success_action="personal_data.revealed",
    ),
    "role_grant": Case(
        "post",
        "/accounts/staff/{target}/roles/grant/",
        answers(403, 302, security_administrator=302),
        data={"role": Role.PRE_REVIEWER},
        success_action="accounts.role_granted",
    ),
    "role_revoke": Case(
        "post",
        "/accounts/staff/{target}/roles/revoke/",
        answers(403, 302, security_administrator=302),
        data={"role": Role.GUIDE},
        success_action="accounts.role_revoked",
    ),
    "unlock": Case(
        "post",
        "/accounts/staff/{target}/unlock/",
        answers(403, 302, security_administrator=302),
        success_action="accounts.unlocked",
    ),
    "reset_password": Case(
        "post",
        "/accounts/staff/{target}/password/",
        answers(403, 302, security_administrator=302),
        data={"password": "Temporary#Pass2026"},
        success_action="accounts.password_reset",
    ),
    "api_me": Case("get", "/api/me", answers(200, 401)),
    "api_staff": Case(
        "get",
        "/api/staff",
        answers(
            403,
            401,
            supervisor=200,
            centre_administrator=200,
            system_administrator=200,
            security_administrator=200,
        ),
    ),
    "api_reveal": Case(
        "post",
        "/api/staff/{target}/reveal",
        answers(403, 401, supervisor=200, centre_administrator=200),
        data={"field": "mobile_phone"},
        json=True,
        success_action="personal_data.revealed",
    ),
}


@pytest.fixture
def target(town_site: Any) -> User:
    person = make_staff(
        town_site, Role.WINDOW_CLERK, Role.GUIDE, username="target", full_name="目标人", staff_number="Z0001"
    )
    User.objects.filter(pk=person.pk).update(locked_until=timezone.now() + timedelta(minutes=30))
    person.refresh_from_db()
    return person


def body_for(case: Case, target: User) -> dict[str, Any]:
    if case.data.get("NEW"):
        return {
            "username": "brand_new",
            "full_name": "新人",
            "staff_number": "N0099",
            "site": target.site_id,
            "rank": 2,
            "password": "Initial#Pass2026",
            "is_active": "on",
        }
    if case.data.get("EDIT"):
        return {
            "username": target.username,
            "full_name": "目标人改",
            "staff_number": target.staff_number,
            "site": target.site_id,
            "rank": target.rank,
            "mobile_phone": target.masked_mobile_phone,
            "resident_id": target.masked_resident_id,
            "is_active": "on",
        }
    return case.data


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", list(CASES))
def test_permission_matrix(clients: dict[str, Client], target: User, name: str, persona: str) -> None:
    case = CASES[name]
    client = clients[persona]
    path = case.path.format(target=target.pk)
    body = body_for(case, target)
    before = state()
    denials_before = AuditRecord.objects.filter(action="access.denied").count()
    if case.method == "get":
        response = client.get(path)
    elif case.json:
        response = client.post(path, body, content_type="application/json")
    else:
        response = client.post(path, body)
    expected = case.expected[persona]
    assert response.status_code == expected, (name, persona, response.status_code)
    denials = AuditRecord.objects.filter(action="access.denied").count() - denials_before
    if expected in (401, 403) or (expected == 302 and persona == ANONYMOUS and case.method == "post"):
        if case.writes:
            assert_nothing_changed(before)
        assert denials == (1 if expected == 403 else 0)
    elif case.success_action:
        assert AuditRecord.objects.filter(action=case.success_action).count() == 1
        assert denials == 0
    if expected == 302 and persona == ANONYMOUS and name != "logout":
        assert response["Location"].startswith("/accounts/login/")
