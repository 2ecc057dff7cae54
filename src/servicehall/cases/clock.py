"""The case clock (限时办结制, seed 000): the time source, and due dates from working days consumed.

Conventions, shared with ``workdays``: a period starting on day d counts from the next working day (the
acceptance day and the day the clock resumes do not count; the day it stops does). A due date D means
"by the end of D"; a case is overdue from the day after D.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from servicehall.workdays import service as workdays

_frozen: list[dt.datetime] = []


def now() -> dt.datetime:
    """The current time; tests and the demo loader set it with ``frozen``."""
    return _frozen[-1] if _frozen else timezone.now()


def today() -> dt.date:
    return timezone.localdate(now())


@contextmanager
def frozen(moment: dt.datetime) -> Iterator[None]:
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    _frozen.append(moment)
    try:
        yield
    finally:
        _frozen.pop()


def yellow_working_days() -> int:
    """Working days before the due date at which a case turns yellow (configurable, default 2)."""
    return int(getattr(settings, "SERVICEHALL_CASES_YELLOW_WORKING_DAYS", 2))


def yellow_share_of_limit() -> float:
    """Or this share of the case's limit, whichever warns earlier (default 20%)."""
    return float(getattr(settings, "SERVICEHALL_CASES_YELLOW_SHARE", 0.2))


@dataclass(frozen=True)
class Due:
    date: dt.date
    provisional: bool


def due_after(start: dt.date, remaining: int, previous: dt.date | None) -> Due:
    """The due date when ``remaining`` working days are left and counting starts after ``start``.

    With nothing left the case was due when its days ran out: that is the previous due date (never
    later than the day the clock stopped), or ``start`` itself for a same-day 即办件.
    """
    if remaining >= 1:
        answer = workdays.add(start, remaining)
        return Due(answer.date, answer.provisional)
    return Due(previous if previous is not None else start, False)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]; never negative."""
    return max(0, workdays.between(start, end).count)


def yellow_threshold(limit_days: int) -> int:
    return max(yellow_working_days(), math.floor(limit_days * yellow_share_of_limit()))


def yellow_from(due: dt.date, threshold: int) -> dt.date:
    """The first day on which at most ``threshold`` working days are left before ``due``.

    Working days left on day t are those in (t, due]; walking back from ``due`` adds day t itself each
    step, so the walk stops at the earliest t that still has no more than ``threshold`` left.
    """
    day = due
    left = 0
    while True:
        gained = 1 if workdays.is_working_day(day) else 0
        if left + gained > threshold:
            return day
        left += gained
        day -= dt.timedelta(days=1)
        if (due - day).days > 400:
            return day


def working_days_left(due: dt.date, on: dt.date) -> int:
    """Working days in (on, due]: 0 on the due date itself, negative once overdue."""
    return workdays.between(on, due).count
