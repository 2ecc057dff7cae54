"""Given a clerk, when they log in, then they reach the workbench and the login is audited."""

from __future__ import annotations

from django.test import Client

from servicehall.audit.actions import verify
from servicehall.audit.models import AuditRecord
from tests.factories import TEST_PASSWORD


def test_clerk_logs_in_and_sees_the_workbench(clerk) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"username": "clerk", "password": TEST_PASSWORD})
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert "李受理" in page.content.decode()
    assert AuditRecord.objects.filter(action="accounts.login", actor=clerk).count() == 1
    assert verify().intact
