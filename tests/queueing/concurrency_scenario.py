"""The concurrency scenario shared by the test (PostgreSQL: in process; SQLite: in a process of its own
on a real database file, since the in-memory test database's shared-cache locks ignore the busy timeout).

Four kiosks issue tickets at once, then four windows call until nothing is left; the answer is the
invariants as plain data.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

SHANGHAI = ZoneInfo("Asia/Shanghai")
ISSUE_AT = dt.datetime(2025, 3, 3, 9, 30, tzinfo=SHANGHAI)
CALL_AT = dt.datetime(2025, 3, 3, 9, 40, tzinfo=SHANGHAI)


def _run_all(targets: list[Any]) -> list[str]:
    errors: list[str] = []
    barrier = threading.Barrier(len(targets))

    def wrapped(target: Any) -> None:
        try:
            barrier.wait(timeout=30)
            target()
        except BaseException as error:
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=wrapped, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def run(kiosks: int = 4, tickets_per_kiosk: int = 15, window_count: int = 4) -> dict[str, Any]:
    from servicehall.accounts.models import RoleGrant, User
    from servicehall.lib.errors import ActionRefused
    from servicehall.queueing import actions
    from servicehall.queueing.models import (
        Category,
        CategoryWindow,
        EventKind,
        Ticket,
        TicketStatus,
        VisitEvent,
    )
    from servicehall.sites.models import OpeningPeriod, Site, SiteLevel, Window

    site = Site.objects.create(code="CONCURRENT", name="并发测试中心", level=SiteLevel.CITY)
    OpeningPeriod.objects.create(site=site, weekday=1, starts_at=dt.time(9), ends_at=dt.time(12))
    categories = [
        Category.objects.create(site=site, prefix="A", name="社保业务"),
        Category.objects.create(site=site, prefix="B", name="户政业务"),
    ]
    windows = [
        Window.objects.create(site=site, number=index + 1, name=f"窗口{index + 1}")
        for index in range(window_count)
    ]
    clerks = []
    for index, window in enumerate(windows):
        clerk = User.objects.create_user(
            f"concurrent{index}",
            "Window#Service2026",
            full_name=f"并发{index}",
            staff_number=f"C{index:04d}",
            site=site,
        )
        RoleGrant.objects.create(site=site, user=clerk, role="window_clerk")
        clerk.forget_cached_roles()
        clerks.append(clerk)
        for category in categories:
            CategoryWindow.objects.create(site=site, category=category, window=window)
        actions.sign_in(clerk, window, now=ISSUE_AT)

    def kiosk(index: int) -> Any:
        def issue_many() -> None:
            for number in range(tickets_per_kiosk):
                actions.issue_ticket(None, categories[(index + number) % 2], now=ISSUE_AT)

        return issue_many

    issue_errors = _run_all([kiosk(index) for index in range(kiosks)])
    called: list[str] = []
    lock = threading.Lock()

    def window_loop(index: int) -> Any:
        def call_until_empty() -> None:
            current = None
            while True:
                try:
                    ticket = actions.call_next(
                        clerks[index], windows[index], expected_current_id=current, now=CALL_AT
                    )
                except ActionRefused as refusal:
                    if refusal.code != "queue_empty":
                        raise
                    return
                current = ticket.pk
                with lock:
                    called.append(ticket.number)

        return call_until_empty

    call_errors = _run_all([window_loop(index) for index in range(window_count)])
    sequences = {
        category.prefix: sorted(Ticket.objects.filter(category=category).values_list("sequence", flat=True))
        for category in categories
    }
    call_events = Counter(
        VisitEvent.objects.filter(kind=EventKind.CALLED).values_list("ticket_id", flat=True)
    )
    return {
        "errors": issue_errors + call_errors,
        "tickets": Ticket.objects.filter(site=site).count(),
        "gapless": all(values == list(range(1, len(values) + 1)) for values in sequences.values()),
        "called": len(called),
        "distinct_called": len(set(called)),
        "call_events_per_ticket": sorted(set(call_events.values())),
        "tickets_with_call_event": len(call_events),
        "still_waiting": Ticket.objects.filter(site=site, status=TicketStatus.WAITING).count(),
    }
