"""GET /audit/export.csv: the filtered list as UTF-8 CSV with a BOM, streamed, and itself audited."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from django.utils import timezone

from servicehall.accounts.roles import Role
from servicehall.audit.actions import record
from servicehall.audit.models import AuditRecord
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

HEADER = [
    "时间",
    "链",
    "序号",
    "操作人",
    "服务场所",
    "操作",
    "操作代码",
    "结果",
    "对象类型",
    "对象编号",
    "对象",
    "变更前",
    "变更后",
    "渠道",
    "来源地址",
    "本条哈希",
]
REFUSED_PERSONAS = [
    "clerk",
    "other_site_clerk",
    "supervisor",
    "centre_administrator",
    "system_administrator",
    "security_administrator",
]


@pytest.fixture
def trail(town_site, other_town_site, clerk) -> dict[str, AuditRecord]:
    return {
        "town": record(
            "accounts.staff_updated",
            actor=clerk,
            site=town_site,
            before={"full_name": "李受理"},
            after={"full_name": "李受理（窗口）"},
        ),
        "other_town": record("sites.window_created", site=other_town_site),
        "centre": record("accounts.login_failed", outcome="failed", actor_label="未知账户"),
    }


def exported(response: Any) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8")[1:])))


def audit_snapshot() -> list[tuple[int, str]]:
    return list(AuditRecord.objects.order_by("id").values_list("id", "action"))


def test_the_auditor_exports_the_filtered_list_as_utf8_csv_with_a_bom(
    client_for, audit_administrator, town_site, city_site, trail
) -> None:
    # When the auditor exports the accounts.* records
    response = client_for(audit_administrator).get("/audit/export.csv", {"action": "accounts."})
    # Then a CSV attachment streams back, newest first, with labels, codes and payloads
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    assert response["Cache-Control"] == "no-store"
    rows = exported(response)
    assert rows[0] == HEADER
    centre, town = trail["centre"], trail["town"]
    assert [row[0] for row in rows[1:]] == [
        timezone.localtime(entry.occurred_at).strftime("%Y-%m-%d %H:%M:%S") for entry in (centre, town)
    ]
    assert [row[1:] for row in rows[1:]] == [
        [
            "0",
            "1",
            "未知账户",
            "",
            "登录失败",
            "accounts.login_failed",
            "失败",
            "",
            "",
            "",
            "",
            "",
            "system",
            "",
            centre.record_hash,
        ],
        [
            str(town_site.pk),
            "1",
            "clerk（李受理）",
            "三角镇便民服务中心",
            "修改工作人员信息",
            "accounts.staff_updated",
            "成功",
            "",
            "",
            "",
            '{"full_name": "李受理"}',
            '{"full_name": "李受理（窗口）"}',
            "system",
            "",
            town.record_hash,
        ],
    ]
    # And the export is audited with its filters and row count, in the auditor's chain
    exports = AuditRecord.objects.filter(action="audit.exported")
    assert [(entry.actor_id, entry.site_id, entry.outcome, entry.after) for entry in exports] == [
        (
            audit_administrator.pk,
            city_site.pk,
            "success",
            {
                "filters": {
                    "actor": "",
                    "action": "accounts.",
                    "outcome": "",
                    "site_id": None,
                    "date_from": None,
                    "date_to": None,
                },
                "row_count": 2,
            },
        )
    ]


def test_an_unfiltered_export_holds_everything_in_scope_but_not_its_own_record(
    client_for, audit_administrator, trail
) -> None:
    rows = exported(client_for(audit_administrator).get("/audit/export.csv"))
    assert [row[6] for row in rows[1:]] == [
        "accounts.login_failed",
        "sites.window_created",
        "accounts.staff_updated",
    ]
    assert AuditRecord.objects.get(action="audit.exported").after == {"filters": {}, "row_count": 3}


def test_a_town_auditor_exports_only_their_own_site(client_for, town_site, trail) -> None:
    town_auditor = make_staff(
        town_site, Role.AUDIT_ADMINISTRATOR, username="town_auditor", full_name="吴镇审"
    )
    rows = exported(client_for(town_auditor).get("/audit/export.csv"))
    assert [row[6] for row in rows[1:]] == ["accounts.staff_updated"]


def test_cells_a_spreadsheet_would_run_as_formulas_are_defused(
    client_for, audit_administrator, town_site
) -> None:
    # Given labels chosen by a user that start like spreadsheet formulas
    record(
        "test.formula",
        site=town_site,
        actor_label='=HYPERLINK("http://evil")',
        object_label="+1-2",
        object_id="@SUM(A1)",
    )
    rows = exported(client_for(audit_administrator).get("/audit/export.csv", {"action": "test.formula"}))
    # Then they are written as text
    assert (rows[1][3], rows[1][9], rows[1][10]) == ('\'=HYPERLINK("http://evil")', "'@SUM(A1)", "'+1-2")


def test_personal_data_in_payloads_is_masked_in_the_export(
    client_for, audit_administrator, town_site
) -> None:
    record("test.personal", site=town_site, after={"note": "电话 13812345678"})
    rows = exported(client_for(audit_administrator).get("/audit/export.csv", {"action": "test.personal"}))
    assert rows[1][12] == '{"note": "电话 138****5678"}'


def test_an_invalid_date_range_is_a_400_and_nothing_is_exported_or_recorded(
    client_for, audit_administrator, trail
) -> None:
    before = audit_snapshot()
    response = client_for(audit_administrator).get(
        "/audit/export.csv", {"date_from": "2026-03-05", "date_to": "2026-03-01"}
    )
    assert response.status_code == 400
    assert "起始日期不能晚于截止日期。" in response.content.decode()
    assert audit_snapshot() == before


@pytest.mark.parametrize("persona", REFUSED_PERSONAS)
def test_staff_without_the_audit_post_cannot_export(request, client_for, trail, persona: str) -> None:
    user = request.getfixturevalue(persona)
    before = audit_snapshot()
    response = client_for(user).get("/audit/export.csv")
    assert response.status_code == 403
    new = AuditRecord.objects.exclude(id__in=[identifier for identifier, _ in before])
    assert [(entry.action, entry.outcome, entry.actor_id, entry.after) for entry in new] == [
        (
            "access.denied",
            "denied",
            user.pk,
            {"reason": "missing_capability", "capability": "audit.view", "path": "/audit/export.csv"},
        )
    ]


def test_a_citizen_cannot_export(citizen_client: Client, trail) -> None:
    before = audit_snapshot()
    response = citizen_client.get("/audit/export.csv")
    assert response.status_code == 302
    assert audit_snapshot() == before


def test_the_list_page_links_to_the_export_with_the_same_filters(
    client_for, audit_administrator, trail
) -> None:
    page = client_for(audit_administrator).get("/audit/", {"action": "accounts.", "outcome": "failed"})
    assert 'href="/audit/export.csv?action=accounts.&amp;outcome=failed"' in page.content.decode()
