"""Several kiosks and windows at once: numbers unique and gapless, no ticket called twice, none lost.

Runs on both databases: PostgreSQL with real row locks and SKIP LOCKED, SQLite serialising writers with
IMMEDIATE transactions. The benchmark (bench/queueing.py) runs the same invariants at 20,000 tickets.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from servicehall.queueing import actions
from servicehall.queueing.models import EventKind, TicketStatus, VisitEvent
from tests.audit.conftest import migrated_sqlite_template, sqlite_var_directory  # noqa: F401  (fixtures)
from tests.audit.processes import operator_environment, python
from tests.queueing import concurrency_scenario
from tests.queueing.conftest import at

pytestmark = pytest.mark.django_db(transaction=True)

IS_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


EXPECTED = {
    "errors": [],
    "tickets": 60,
    "gapless": True,
    "called": 60,
    "distinct_called": 60,
    "call_events_per_ticket": [1],
    "tickets_with_call_event": 60,
    "still_waiting": 0,
}


@pytest.mark.skipif(not IS_POSTGRESQL, reason="SQLite runs the same scenario in a process of its own (below)")
def test_concurrent_kiosks_and_windows_keep_the_invariants_on_postgresql() -> None:
    # Given four kiosks and four windows; When they issue 60 tickets and call them all at once
    outcome = concurrency_scenario.run()
    # Then numbers are unique and gapless, every ticket was called exactly once, none is left
    assert outcome == EXPECTED


@pytest.mark.skipif(IS_POSTGRESQL, reason="PostgreSQL runs the scenario in this process (above)")
def test_concurrent_kiosks_and_windows_keep_the_invariants_on_sqlite(sqlite_var_directory: Path) -> None:  # noqa: F811
    # Given the deployment's SQLite settings (WAL, IMMEDIATE transactions) on a real database file
    environment = operator_environment(SERVICEHALL_VAR_DIR=str(sqlite_var_directory))
    # When the same scenario runs there with threads
    result = python(
        "import json\nfrom tests.queueing import concurrency_scenario\n"
        "print(json.dumps(concurrency_scenario.run()))",
        environment,
    )
    assert result.returncode == 0, result.stderr
    # Then the invariants hold there too
    assert json.loads(result.stdout.strip().splitlines()[-1]) == EXPECTED


SCRIPT = """
import datetime, os, sys, time
import django
django.setup()
from servicehall.queueing import actions
from servicehall.accounts.models import User
from servicehall.sites.models import Window
clerk = User.objects.get(pk=int(sys.argv[1]))
window = Window.objects.get(pk=int(sys.argv[2]))

def hang(ticket):
    print("updated", flush=True)
    time.sleep(60)

actions.call_next(clerk, window, now=datetime.datetime.fromisoformat(sys.argv[3]), after_update=hang)
"""


@pytest.mark.skipif(not IS_POSTGRESQL, reason="a second process needs a database it can share (PostgreSQL)")
def test_a_process_killed_in_the_middle_of_a_call_leaves_the_ticket_waiting(
    clerk, at_window, social_security
) -> None:
    # Given a waiting ticket
    ticket = actions.issue_ticket(None, social_security, now=at(9, 30))
    # When another process calls it and is killed after the UPDATE, before the commit
    database = settings.DATABASES["default"]
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    environment = dict(os.environ, DATABASE_URL=url, DJANGO_SETTINGS_MODULE="servicehall.config.settings")
    connections.close_all()
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(clerk.pk), str(at_window.pk), at(9, 31).isoformat()],
        cwd=Path(settings.PROJECT_DIRECTORY),
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.strip() == "updated"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    # Then the database rolled the call back: the ticket waits, no event, and the window can call it
    deadline = time.monotonic() + 10
    ticket.refresh_from_db()
    while ticket.status != TicketStatus.WAITING and time.monotonic() < deadline:
        time.sleep(0.1)
        ticket.refresh_from_db()
    assert (ticket.status, ticket.call_count) == (TicketStatus.WAITING, 0)
    assert not VisitEvent.objects.filter(ticket=ticket, kind=EventKind.CALLED).exists()
    assert actions.call_next(clerk, at_window, now=at(9, 32)).pk == ticket.pk
