"""Two managers adding window 5 to the same site at the same moment: one wins, one is told why."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from servicehall.audit.actions import verify
from servicehall.audit.models import AuditRecord
from servicehall.lib.errors import ActionRefused
from servicehall.sites import actions
from servicehall.sites.actions import WindowData
from servicehall.sites.models import Window

pytestmark = [
    pytest.mark.postgresql_only,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="SQLite serialises all writers, so there is no race to test",
    ),
    pytest.mark.django_db(transaction=True),
]


def test_two_managers_create_window_five_at_once(
    centre_administrator, system_administrator, town_site
) -> None:
    # Given two managers ready at the same instant
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def add_window(actor: Any, name: str) -> None:
        try:
            barrier.wait(timeout=10)
            window = actions.create_window(actor, town_site, WindowData(number=5, name=name))
            outcome: Any = window
        except ActionRefused as refusal:
            outcome = refusal
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [
        threading.Thread(target=add_window, args=(centre_administrator, "甲窗口")),
        threading.Thread(target=add_window, args=(system_administrator, "乙窗口")),
    ]
    # When both create window 5
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # Then exactly one succeeded and the other was refused with a clear message
    assert len(outcomes) == 2
    windows = [outcome for outcome in outcomes if isinstance(outcome, Window)]
    refusals = [outcome for outcome in outcomes if isinstance(outcome, ActionRefused)]
    assert len(windows) == 1
    assert len(refusals) == 1
    assert refusals[0].status == 400
    assert refusals[0].field == "number"
    assert refusals[0].message == "本场所已有 5 号窗口。"
    # And the database holds one window 5 and one audit record of its creation
    assert list(Window.objects.filter(site=town_site).values_list("number", "name")) == [(5, windows[0].name)]
    assert AuditRecord.objects.filter(action="sites.window_created").count() == 1
    assert verify().intact
