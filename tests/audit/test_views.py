"""The auditor's pages: /audit/, /audit/<id>/, POST /audit/verify/ — permissions, scope, filters, paging."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from servicehall.accounts.roles import Role
from servicehall.audit.actions import record
from servicehall.audit.models import AuditRecord
from tests.audit.helpers import raw_update, record_when
from tests.conftest import make_staff
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
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
    """An audit administrator posted at a town centre: sees that town's chain only."""
    return make_staff(town_site, Role.AUDIT_ADMINISTRATOR, username="town_auditor", full_name="吴镇审")


@pytest.fixture
def trail(town_site, other_town_site, city_site, clerk, other_site_clerk) -> dict[str, AuditRecord]:
    return {
        "town": record("accounts.staff_updated", actor=clerk, site=town_site, after={"full_name": "李受理"}),
        "other_town": record("accounts.staff_created", actor=other_site_clerk, site=other_town_site),
        "city": record("sites.site_updated", site=city_site),
        "centre": record("accounts.login_failed", outcome="failed", actor_label="未知账户"),
    }


def listed(response: Any) -> list[int]:
    return [entry.pk for entry in response.context["page"].object_list]


def audit_snapshot() -> list[tuple[int, str]]:
    return list(AuditRecord.objects.order_by("id").values_list("id", "action"))


# --- permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", REFUSED_PERSONAS)
@pytest.mark.parametrize(
    ("method", "path", "capability"),
    [
        ("get", "/audit/", "audit.view"),
        ("get", "/audit/{record_id}/", "audit.view"),
        ("post", "/audit/verify/", "audit.verify"),
    ],
)
def test_staff_without_the_audit_post_are_refused_and_the_refusal_is_audited(
    request, client_for, trail, persona: str, method: str, path: str, capability: str
) -> None:
    # Given a member of staff who is not an audit administrator
    user = request.getfixturevalue(persona)
    before = audit_snapshot()
    path = path.format(record_id=trail["town"].pk)
    # When they open the audit pages
    response = getattr(client_for(user), method)(path)
    # Then they get 403, and the only change is one access.denied record naming them
    assert response.status_code == 403
    assert "您没有访问此页面的权限。" in response.content.decode()
    new = AuditRecord.objects.exclude(id__in=[identifier for identifier, _ in before])
    assert [(entry.action, entry.outcome, entry.actor_id, entry.site_id, entry.after) for entry in new] == [
        (
            "access.denied",
            "denied",
            user.pk,
            user.site_id,
            {"reason": "missing_capability", "capability": capability, "path": path},
        )
    ]


@pytest.mark.parametrize(
    ("method", "path"), [("get", "/audit/"), ("get", "/audit/1/"), ("post", "/audit/verify/")]
)
def test_a_citizen_without_an_account_is_sent_to_log_in(
    citizen_client: Client, trail, method: str, path: str
) -> None:
    before = audit_snapshot()
    response = getattr(citizen_client, method)(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert audit_snapshot() == before


def test_verify_only_accepts_post(client_for, audit_administrator) -> None:
    before = audit_snapshot()
    assert client_for(audit_administrator).get("/audit/verify/").status_code == 405
    assert audit_snapshot() == before


# --- scope -------------------------------------------------------------------------------------


def test_a_city_level_auditor_sees_every_site_chain_and_the_centre_chain(
    client_for, audit_administrator, trail
) -> None:
    response = client_for(audit_administrator).get("/audit/")
    assert response.status_code == 200
    assert listed(response) == [trail[name].pk for name in ("centre", "city", "other_town", "town")]


def test_a_town_level_auditor_sees_only_their_own_sites_records(client_for, town_auditor, trail) -> None:
    response = client_for(town_auditor).get("/audit/")
    assert response.status_code == 200
    assert listed(response) == [trail["town"].pk]


def test_a_town_level_auditor_cannot_pick_another_site_in_the_filter(
    client_for, town_auditor, other_town_site, trail
) -> None:
    response = client_for(town_auditor).get("/audit/", {"site": other_town_site.pk})
    assert response.status_code == 400
    assert listed(response) == []


def test_the_detail_page_shows_one_record_with_its_label_and_code(
    client_for, audit_administrator, trail
) -> None:
    entry = trail["town"]
    response = client_for(audit_administrator).get(f"/audit/{entry.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["entry"] == entry
    assert '修改工作人员信息 <span class="muted mono">accounts.staff_updated</span>' in page
    assert entry.record_hash in page
    assert "clerk（李受理）" in page


@pytest.mark.parametrize("name", ["other_town", "city", "centre"])
def test_a_record_outside_the_auditors_scope_does_not_exist_for_them(
    client_for, town_auditor, town_site, trail, name: str
) -> None:
    # When a town auditor opens a record of another chain
    path = f"/audit/{trail[name].pk}/"
    before = audit_snapshot()
    response = client_for(town_auditor).get(path)
    # Then it is not found, and the attempt is audited as out of scope in their own chain
    assert response.status_code == 404
    new = AuditRecord.objects.exclude(id__in=[identifier for identifier, _ in before])
    assert [(entry.action, entry.outcome, entry.site_id, entry.after) for entry in new] == [
        ("access.denied", "denied", town_site.pk, {"reason": "out_of_scope", "capability": "", "path": path})
    ]


def test_a_record_that_does_not_exist_is_not_found_without_an_audit_record(
    client_for, audit_administrator, trail
) -> None:
    before = audit_snapshot()
    response = client_for(audit_administrator).get("/audit/999999/")
    assert response.status_code == 404
    assert audit_snapshot() == before


# --- filters and paging ------------------------------------------------------------------------


def test_filter_by_actor_matches_part_of_the_name(client_for, audit_administrator, trail) -> None:
    response = client_for(audit_administrator).get("/audit/", {"actor": "李受"})
    assert listed(response) == [trail["town"].pk]


def test_filter_by_action_prefix(client_for, audit_administrator, trail) -> None:
    client = client_for(audit_administrator)
    assert listed(client.get("/audit/", {"action": "accounts."})) == [
        trail["centre"].pk,
        trail["other_town"].pk,
        trail["town"].pk,
    ]
    assert listed(client.get("/audit/", {"action": "accounts.staff_created"})) == [trail["other_town"].pk]
    assert listed(client.get("/audit/", {"action": "staff"})) == []


def test_filter_by_outcome(client_for, audit_administrator, trail) -> None:
    response = client_for(audit_administrator).get("/audit/", {"outcome": "failed"})
    assert listed(response) == [trail["centre"].pk]


def test_an_unknown_outcome_is_a_bad_request(client_for, audit_administrator, trail) -> None:
    response = client_for(audit_administrator).get("/audit/", {"outcome": "maybe"})
    assert response.status_code == 400
    assert listed(response) == []


def test_filter_by_site(client_for, audit_administrator, other_town_site, trail) -> None:
    response = client_for(audit_administrator).get("/audit/", {"site": other_town_site.pk})
    assert listed(response) == [trail["other_town"].pk]


def test_filter_by_date_range_uses_the_centres_local_days(client_for, audit_administrator, town_site) -> None:
    # Given records late on 1 March, early on 2 March and on 3 March, Beijing time
    late_first = record_when(dt.datetime(2026, 3, 1, 23, 30, tzinfo=SHANGHAI), "test.first", site=town_site)
    early_second = record_when(dt.datetime(2026, 3, 2, 0, 10, tzinfo=SHANGHAI), "test.second", site=town_site)
    third = record_when(dt.datetime(2026, 3, 3, 12, 0, tzinfo=SHANGHAI), "test.third", site=town_site)
    client = client_for(audit_administrator)
    # Then a range covers whole local days at both ends
    assert listed(client.get("/audit/", {"date_from": "2026-03-02", "date_to": "2026-03-02"})) == [
        early_second.pk
    ]
    assert listed(client.get("/audit/", {"date_to": "2026-03-01"})) == [late_first.pk]
    assert listed(client.get("/audit/", {"date_from": "2026-03-02"})) == [third.pk, early_second.pk]
    assert listed(client.get("/audit/", {"date_from": "2026-03-01", "date_to": "2026-03-03"})) == [
        third.pk,
        early_second.pk,
        late_first.pk,
    ]


def test_a_from_date_after_the_to_date_is_a_bad_request_with_a_clear_message(
    client_for, audit_administrator, trail
) -> None:
    before = audit_snapshot()
    response = client_for(audit_administrator).get(
        "/audit/", {"date_from": "2026-03-05", "date_to": "2026-03-01"}
    )
    assert response.status_code == 400
    assert "起始日期不能晚于截止日期。" in response.content.decode()
    assert listed(response) == []
    assert audit_snapshot() == before


def test_filters_combine(client_for, audit_administrator, town_site, clerk, trail) -> None:
    refused = record("access.denied", actor=clerk, site=town_site, outcome="denied")
    response = client_for(audit_administrator).get(
        "/audit/", {"actor": "clerk", "outcome": "denied", "site": town_site.pk, "action": "access."}
    )
    assert listed(response) == [refused.pk]


def test_the_list_is_paged_fifty_at_a_time_newest_first_keeping_the_filters(
    client_for, audit_administrator, town_site
) -> None:
    # Given 51 records of one action and one of another
    written = [record("test.paged", site=town_site) for _ in range(51)]
    record("test.other", site=town_site)
    client = client_for(audit_administrator)
    # When the first and second pages of that action are opened
    first = client.get("/audit/", {"action": "test.paged"})
    second = client.get("/audit/", {"action": "test.paged", "page": 2})
    # Then 50 then 1, newest first, and the next-page link keeps the filter
    assert listed(first) == [entry.pk for entry in reversed(written[1:])]
    assert listed(second) == [written[0].pk]
    assert 'href="?action=test.paged&amp;page=2"' in first.content.decode()
    assert "第 1/2 页，共 51 条" in first.content.decode()


# --- verify ------------------------------------------------------------------------------------


def test_verify_from_the_page_reports_an_intact_trail_and_is_audited(
    client_for, audit_administrator, city_site, trail
) -> None:
    # When the auditor presses 校验完整性 (an htmx POST)
    response = client_for(audit_administrator).post("/audit/verify/", HTTP_HX_REQUEST="true")
    # Then the partial says the trail is intact
    assert response.status_code == 200
    assert "审计链完整：已校验 4 条链、4 条记录。" in response.content.decode()
    assert "<html" not in response.content.decode()
    # And the check is recorded in the auditor's own chain
    verified = AuditRecord.objects.get(action="audit.verified")
    assert (verified.actor_id, verified.site_id, verified.outcome, verified.after) == (
        audit_administrator.pk,
        city_site.pk,
        "success",
        {"records_checked": 4, "chains_checked": 4, "intact": True, "first_break": None},
    )


def test_verify_from_the_page_names_the_first_broken_record(
    client_for, audit_administrator, town_site, trail
) -> None:
    target = trail["town"]
    raw_update(target.pk, action="accounts.login")
    response = client_for(audit_administrator).post("/audit/verify/", HTTP_HX_REQUEST="true")
    described = f"链 {town_site.pk} 第 1 条（记录 id={target.pk}）：内容与哈希不符（记录被篡改）"
    assert response.status_code == 200
    assert f"审计链已被破坏：{described}" in response.content.decode()
    verified = AuditRecord.objects.get(action="audit.verified")
    assert (verified.outcome, verified.after["intact"], verified.after["first_break"]) == (
        "failed",
        False,
        described,
    )


def test_a_town_auditor_verifies_their_own_chain_only(
    client_for, town_auditor, other_town_site, trail
) -> None:
    # Given another site's chain is broken
    raw_update(trail["other_town"].pk, action="accounts.login")
    # When the town auditor verifies, then only their site's chain is checked, and it is intact
    response = client_for(town_auditor).post("/audit/verify/", HTTP_HX_REQUEST="true")
    assert "审计链完整：已校验 1 条链、1 条记录。" in response.content.decode()


# --- failed logins and refusals in the trail ---------------------------------------------------


def test_failed_logins_and_refused_accesses_appear_in_the_trail(
    client_for, audit_administrator, clerk, town_site
) -> None:
    # Given a wrong password for the clerk, a login attempt for an unknown account, and the clerk
    # trying the audit pages
    assert Client().post("/accounts/login/", {"username": "clerk", "password": "wrong"}).status_code == 400
    assert (
        Client().post("/accounts/login/", {"username": "nobody", "password": TEST_PASSWORD}).status_code
        == 400
    )
    client_for(clerk).get("/audit/")
    auditor = client_for(audit_administrator)
    # When the auditor lists failures and refusals
    failed = auditor.get("/audit/", {"outcome": "failed"})
    denied = auditor.get("/audit/", {"outcome": "denied"})
    # Then both failed logins and the refusal are there, with readable labels
    assert [(entry.action, entry.actor_label, entry.chain) for entry in failed.context["page"]] == [
        ("accounts.login_failed", "未知账户", 0),
        ("accounts.login_failed", "clerk", town_site.pk),
    ]
    assert [(entry.action, entry.actor_id) for entry in denied.context["page"]] == [
        ("access.denied", clerk.pk)
    ]
    assert '登录失败 <span class="muted mono">accounts.login_failed</span>' in failed.content.decode()
    assert '拒绝访问 <span class="muted mono">access.denied</span>' in denied.content.decode()
