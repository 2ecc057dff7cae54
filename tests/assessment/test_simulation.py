"""The history simulator: deterministic, holidays and 调休 respected, idempotent, the story it tells."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Avg, Count, F, Q

from servicehall.assessment.simulation import SLOW_CLERKS, bad_week, simulate
from servicehall.audit.models import AuditRecord
from servicehall.feedback.models import Grade, Rating
from servicehall.operations.demo import load_demo_centre
from servicehall.queueing import demo as queueing_demo
from servicehall.queueing.models import Ticket, VisitEvent
from servicehall.workdays import service as workdays

pytestmark = pytest.mark.django_db

NATIONAL_DAY = dt.date(2026, 10, 5)  # a Monday inside the 国庆 holiday
END = dt.date(2026, 10, 16)


@pytest.fixture
def centre() -> None:
    load_demo_centre()
    queueing_demo.load_demo(io.StringIO())
    workdays.invalidate()


def _swapped_saturday() -> dt.date:
    calendar = workdays.current_calendar()
    return next(
        day
        for day in sorted(calendar.data.working_weekends)
        if dt.date(2026, 9, 1) <= day <= END and day.weekday() == 5
    )


def _run(days: int = 17, seed: int = 7, scale: float = 0.2) -> Any:
    return simulate(days, END, seed, scale, io.StringIO(), rollup=False)


def test_holidays_and_swapped_saturday(centre: None) -> None:
    assert not workdays.is_working_day(NATIONAL_DAY)
    _run()
    assert not Ticket.objects.filter(service_date=NATIONAL_DAY).exists()
    assert Ticket.objects.filter(service_date=_swapped_saturday()).exists()
    assert Ticket.objects.filter(service_date=dt.date(2026, 10, 12)).exists()


def test_deterministic_and_idempotent(centre: None) -> None:
    first = _run()
    assert first.rows["tickets"] > 100
    picture = list(
        Ticket.objects.order_by("site_id", "service_date", "category_id", "sequence").values_list(
            "number", "issued_at", "finished_at", "clerk_id"
        )
    )
    events = VisitEvent.objects.count()
    again = _run()
    assert again.total_rows == 0
    assert again.days_filled == 0
    assert VisitEvent.objects.count() == events
    assert AuditRecord.objects.filter(action="assessment.history_simulated").count() == 1
    assert picture == list(
        Ticket.objects.order_by("site_id", "service_date", "category_id", "sequence").values_list(
            "number", "issued_at", "finished_at", "clerk_id"
        )
    )


def test_slow_clerks_are_slower_and_bad_week_is_worse(centre: None) -> None:
    simulate(40, END, 3, 0.4, io.StringIO(), rollup=False)
    served = Ticket.objects.filter(finished_at__isnull=False).annotate(
        minutes=F("finished_at") - F("started_at")
    )
    slow = served.filter(clerk__username__in=SLOW_CLERKS).aggregate(m=Avg("minutes"))["m"]
    others = served.exclude(clerk__username__in=SLOW_CLERKS).aggregate(m=Avg("minutes"))["m"]
    assert slow > others * 1.4
    first = END - dt.timedelta(days=39)
    monday, sunday = bad_week(first, END)

    def bad_share(ratings: Any) -> float:
        counts = ratings.aggregate(total=Count("id"), bad=Count("id", filter=Q(grade=Grade.BAD)))
        return counts["bad"] / counts["total"]

    inside = Rating.objects.filter(rated_at__date__range=(monday, sunday))
    outside = Rating.objects.exclude(rated_at__date__range=(monday, sunday))
    assert bad_share(inside) > bad_share(outside) * 2


@pytest.mark.parametrize(
    "arguments",
    [["--days", "0"], ["--days", "-3"], ["--scale", "0"], ["--end", "2026-13-01"]],
)
def test_command_refuses_bad_input(centre: None, arguments: list[str]) -> None:
    with pytest.raises(CommandError) as error:
        call_command("simulate", *arguments, stdout=io.StringIO())
    assert error.value.returncode == 2
    assert not Ticket.objects.filter(service_date__lt=dt.date.today()).exists()
