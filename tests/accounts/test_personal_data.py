"""身份证号 and phone numbers: masked by default, revealed only to roles that need them, always audited,
never written to a log."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from servicehall.accounts.models import User
from servicehall.audit.models import AuditRecord
from tests.accounts.conftest import (
    FULL_PHONE,
    FULL_RESIDENT_ID,
    MASKED_PHONE,
    MASKED_RESIDENT_ID,
    assert_nothing_changed,
    audit_actions,
    state,
)


def test_the_staff_list_shows_masked_phones_only(personal_staff: User, supervisor: User, client_for) -> None:
    body = client_for(supervisor).get("/accounts/staff/").content.decode()
    assert MASKED_PHONE in body
    assert FULL_PHONE not in body
    assert FULL_RESIDENT_ID not in body


def test_the_staff_detail_shows_masked_phone_and_resident_id(
    personal_staff: User, supervisor: User, client_for
) -> None:
    response = client_for(supervisor).get(f"/accounts/staff/{personal_staff.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<dd id="reveal-mobile"><span class="mono">{MASKED_PHONE}</span>' in body
    assert f'<dd id="reveal-resident-id"><span class="mono">{MASKED_RESIDENT_ID}</span>' in body
    assert FULL_PHONE not in body
    assert FULL_RESIDENT_ID not in body
    assert f'hx-post="/accounts/staff/{personal_staff.pk}/reveal/mobile_phone/"' in body


def test_the_edit_form_and_profile_show_masked_values(
    personal_staff: User, centre_administrator: User, client_for
) -> None:
    edit = client_for(centre_administrator).get(f"/accounts/staff/{personal_staff.pk}/edit/").content.decode()
    assert f'value="{MASKED_PHONE}"' in edit
    assert f'value="{MASKED_RESIDENT_ID}"' in edit
    assert FULL_PHONE not in edit
    assert FULL_RESIDENT_ID not in edit
    own = client_for(personal_staff).get("/accounts/profile/").content.decode()
    assert MASKED_PHONE in own
    assert FULL_PHONE not in own


def test_a_role_without_the_reveal_capability_sees_no_reveal_button(
    personal_staff: User, security_administrator: User, client_for
) -> None:
    body = client_for(security_administrator).get(f"/accounts/staff/{personal_staff.pk}/").content.decode()
    assert "/reveal/" not in body
    assert MASKED_PHONE in body


@pytest.mark.parametrize(
    ("field", "value"), [("mobile_phone", FULL_PHONE), ("resident_id", FULL_RESIDENT_ID)]
)
def test_a_supervisor_reveals_the_full_value_and_it_is_audited(
    personal_staff: User, supervisor: User, client_for, field: str, value: str
) -> None:
    response = client_for(supervisor).post(f"/accounts/staff/{personal_staff.pk}/reveal/{field}/")
    assert response.status_code == 200
    # The full value replaces the masked value and the button: it cannot be "revealed" twice by accident.
    assert response.content.decode().strip() == (
        f'<span class="mono" data-revealed="true">{value}</span> <span class="muted">（已留痕）</span>'
    )
    assert "no-store" in response["Cache-Control"]
    revealed = AuditRecord.objects.get(action="personal_data.revealed")
    assert revealed.actor == supervisor
    assert revealed.object_id == str(personal_staff.pk)
    assert revealed.after == {"field": field}
    assert value not in str(revealed.hashed_fields())


@pytest.mark.parametrize(
    "actor", ["clerk", "system_administrator", "security_administrator", "audit_administrator"]
)
def test_roles_without_the_capability_cannot_reveal(
    request: pytest.FixtureRequest, personal_staff: User, client_for, actor: str
) -> None:
    client = client_for(request.getfixturevalue(actor))
    before = state()
    response = client.post(f"/accounts/staff/{personal_staff.pk}/reveal/mobile_phone/")
    assert response.status_code == 403
    assert FULL_PHONE not in response.content.decode()
    api = client.post(
        f"/api/staff/{personal_staff.pk}/reveal", {"field": "mobile_phone"}, content_type="application/json"
    )
    assert api.status_code == 403
    assert api.json() == {
        "code": "permission_denied",
        "detail": "您没有执行此操作的权限 / You do not have permission for this action.",
    }
    assert_nothing_changed(before)
    assert audit_actions() == ["access.denied", "access.denied"]


def test_reveal_is_a_post_only(personal_staff: User, supervisor: User, client_for) -> None:
    response = client_for(supervisor).get(f"/accounts/staff/{personal_staff.pk}/reveal/mobile_phone/")
    assert response.status_code == 405
    assert not AuditRecord.objects.filter(action="personal_data.revealed").exists()


def test_the_api_lists_masked_values_and_reveals_with_an_audit_record(
    personal_staff: User, centre_administrator: User, client_for
) -> None:
    client = client_for(centre_administrator)
    listing = client.get("/api/staff")
    assert listing.status_code == 200
    row = next(row for row in listing.json() if row["id"] == personal_staff.pk)
    assert row["mobile_phone_masked"] == MASKED_PHONE
    assert row["resident_id_masked"] == MASKED_RESIDENT_ID
    assert FULL_PHONE not in listing.content.decode()
    assert FULL_RESIDENT_ID not in listing.content.decode()
    answer = client.post(
        f"/api/staff/{personal_staff.pk}/reveal", {"field": "resident_id"}, content_type="application/json"
    )
    assert answer.status_code == 200
    assert answer.json() == {"field": "resident_id", "value": FULL_RESIDENT_ID}
    assert audit_actions(action="personal_data.revealed", actor=centre_administrator) == [
        "personal_data.revealed"
    ]


def test_full_values_never_reach_the_logs(
    personal_staff: User,
    supervisor: User,
    clerk: User,
    centre_administrator: User,
    town_site,
    client_for,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    # caplog listens first, before the console handler's redacting filter: the values must not be
    # logged at all, not merely be caught by the safety net. django.request does not propagate.
    for name in ("", "django.request", "django.security"):
        logger = logging.getLogger(name)
        caplog.set_level(logging.DEBUG, logger=name or None)
        others = [handler for handler in logger.handlers if handler is not caplog.handler]
        monkeypatch.setattr(logger, "handlers", [caplog.handler, *others])
    supervising = client_for(supervisor)
    clerking = client_for(clerk)
    managing = client_for(centre_administrator)
    staff_path = f"/accounts/staff/{personal_staff.pk}"
    supervising.get("/accounts/staff/")
    supervising.get(f"{staff_path}/")
    supervising.post(f"{staff_path}/reveal/mobile_phone/")
    supervising.post(f"{staff_path}/reveal/resident_id/")
    supervising.post(
        f"/api/staff/{personal_staff.pk}/reveal", {"field": "resident_id"}, content_type="application/json"
    )
    supervising.get("/api/staff")
    clerking.post(f"{staff_path}/reveal/mobile_phone/")
    clerking.post(
        f"/api/staff/{personal_staff.pk}/reveal", {"field": "mobile_phone"}, content_type="application/json"
    )
    Client().post("/accounts/login/", {"username": FULL_RESIDENT_ID, "password": FULL_PHONE})
    managing.get(f"{staff_path}/edit/")
    # A refused create and a refused edit that carry full values (duplicate phone/ID are fine, the name is not)
    managing.post(
        "/accounts/staff/new/",
        {
            "username": "bad name",
            "full_name": "新人",
            "staff_number": "X1",
            "site": town_site.pk,
            "rank": 2,
            "mobile_phone": "139 0000 1111",
            "resident_id": FULL_RESIDENT_ID,
            "password": "Initial#Pass2026",
        },
    )
    managing.post(
        f"{staff_path}/edit/",
        {
            "username": personal_staff.username,
            "full_name": personal_staff.full_name,
            "staff_number": personal_staff.staff_number,
            "site": town_site.pk,
            "rank": 2,
            "mobile_phone": "13900001111",
            "resident_id": "442000199003071234",
            "is_active": "on",
        },
    )
    assert caplog.records, "the refusals above are logged by django.request"
    for value in (FULL_PHONE, FULL_RESIDENT_ID, "13900001111", "139 0000 1111", "442000199003071234"):
        assert value not in caplog.text
        for audit_record in AuditRecord.objects.all():
            assert value not in str(audit_record.hashed_fields())
