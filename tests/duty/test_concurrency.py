"""Two supervisors approve, at the same instant, two leaves that name the same substitute for the same day."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from servicehall.accounts.roles import Role
from servicehall.audit.actions import verify
from servicehall.audit.models import AuditRecord
from servicehall.duty import actions
from servicehall.duty.models import Leave, LeaveStatus
from servicehall.lib.errors import ActionRefused
from tests.conftest import make_staff
from tests.duty.conftest import MONDAY, at, leave_for, qualify

pytestmark = [
    pytest.mark.postgresql_only,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="SQLite serialises all writers, so there is no race to test",
    ),
    pytest.mark.django_db(transaction=True),
]

WEDNESDAY = dt.date(2026, 3, 4)


def test_exactly_one_of_two_approvals_naming_one_substitute_succeeds(
    world, clock, centre_administrator
) -> None:
    # Given 张一 and 王三 each asked for Wednesday off, both naming 钱六, who is free and qualified
    clock.set(at(MONDAY, 9))
    spare = make_staff(world.site, Role.WINDOW_CLERK, username="qian.liu", full_name="钱六")
    qualify(spare)
    first = leave_for(world.a_three, WEDNESDAY, substitute=spare, status=LeaveStatus.REQUESTED)
    second = leave_for(world.a_four, WEDNESDAY, substitute=spare, status=LeaveStatus.REQUESTED)
    deputy = make_staff(world.site, Role.WINDOW_SUPERVISOR, username="deputy", full_name="副负责")
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def approve(actor: Any, leave: Leave) -> None:
        try:
            barrier.wait(timeout=10)
            outcome: Any = actions.approve_leave(actor, leave)
        except ActionRefused as refusal:
            outcome = refusal
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [
        threading.Thread(target=approve, args=(world.supervisor, first)),
        threading.Thread(target=approve, args=(deputy, second)),
    ]
    # When two supervisors approve at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # Then exactly one approval succeeded and the other was told why
    assert len(outcomes) == 2
    approved = [outcome for outcome in outcomes if isinstance(outcome, Leave)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, ActionRefused)]
    assert len(approved) == 1
    assert len(refused) == 1
    other = world.a_four if approved[0].staff_id == world.a_three.pk else world.a_three
    assert refused[0].field == "substitute"
    assert refused[0].message.startswith("替岗人员 钱六 在 2026-03-04 上午 已为 ")
    assert other.full_name not in refused[0].message
    # And the database holds one approved leave with 钱六, one still waiting, one approval audited
    assert sorted(Leave.objects.values_list("status", flat=True)) == [
        LeaveStatus.APPROVED,
        LeaveStatus.REQUESTED,
    ]
    assert AuditRecord.objects.filter(action="duty.leave_approved").count() == 1
    assert verify().intact
