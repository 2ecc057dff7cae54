"""The duty test world: a town centre open Monday–Saturday with lunch duty, two window posts with A/B roles.

The clock is set to Monday 2026-03-02 08:00 in Asia/Shanghai unless a test moves it; 2026 is covered
by the official calendar (2026-02-14 is a 调休 Saturday, 2026-02-15–23 the Spring Festival).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from servicehall.accounts.roles import Role
from servicehall.audit.models import AuditRecord
from servicehall.duty.models import (
    Assignment,
    AssignmentRole,
    AwayRecord,
    CheckIn,
    HandoverItem,
    Leave,
    LeaveEvent,
    LeaveKind,
    LeaveStatus,
    Post,
    Qualification,
    QualificationSource,
    RosterException,
    RosterPattern,
    TrainingAttendance,
    TrainingSession,
)
from servicehall.sites.models import OpeningPeriod, PostKind
from servicehall.supervision.models import Violation
from tests.conftest import make_staff
from tests.factories import WindowFactory

ZONE = dt.timezone(dt.timedelta(hours=8))
MONDAY = dt.date(2026, 3, 2)
YEAR_START = dt.date(2026, 1, 1)
YEAR_END = dt.date(2026, 12, 31)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZONE)


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, moment: dt.datetime) -> None:
        self.moment = moment
        monkeypatch.setattr(timezone, "now", lambda: self.moment)

    def set(self, moment: dt.datetime) -> None:
        self.moment = moment


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch, at(MONDAY, 8))


def open_town(site: Any) -> None:
    """Monday–Friday 09:00–12:00, lunch duty 12:00–13:30, 13:30–17:30; Saturday duty 09:00–12:00."""
    periods = []
    for weekday in range(1, 6):
        periods += [
            OpeningPeriod(site=site, weekday=weekday, starts_at=dt.time(9), ends_at=dt.time(12)),
            OpeningPeriod(site=site, weekday=weekday, starts_at=dt.time(12), ends_at=dt.time(13, 30)),
            OpeningPeriod(site=site, weekday=weekday, starts_at=dt.time(13, 30), ends_at=dt.time(17, 30)),
        ]
    periods.append(OpeningPeriod(site=site, weekday=6, starts_at=dt.time(9), ends_at=dt.time(12)))
    OpeningPeriod.objects.bulk_create(periods)


def qualify(
    staff: Any, kind: str = PostKind.RECEPTION, start: dt.date = YEAR_START, end: dt.date = YEAR_END
) -> Qualification:
    return Qualification.objects.create(
        site_id=staff.site_id,
        staff=staff,
        post_kind=kind,
        valid_from=start,
        valid_until=end,
        source=QualificationSource.ENTERED,
        note="测试证书",
    )


def give_role(
    post: Post, staff: Any, role: str, start: dt.date = YEAR_START, end: dt.date | None = None
) -> Assignment:
    return Assignment.objects.create(
        site_id=post.site_id, post=post, staff=staff, role=role, valid_from=start, valid_to=end
    )


def leave_for(
    staff: Any,
    first: dt.date,
    last: dt.date | None = None,
    *,
    substitute: Any = None,
    status: str = LeaveStatus.APPROVED,
    kind: str = LeaveKind.PERSONAL,
) -> Leave:
    return Leave.objects.create(
        site_id=staff.site_id,
        staff=staff,
        starts_on=first,
        ends_on=last or first,
        kind=kind,
        reason="家中有事",
        status=status,
        substitute=substitute,
        handover_note="在办事项已交接",
    )


@pytest.fixture
def world(town_site: Any, window: Any, supervisor: Any) -> SimpleNamespace:
    """Two reception posts at windows 3 and 4; 张一 A and 李二 B of window 3, 王三 A and 赵四 B of window 4."""
    open_town(town_site)
    window_four = WindowFactory(site=town_site, number=4, name="社保窗口")
    post_three = Post.objects.create(
        site=town_site,
        window=window,
        kind=PostKind.RECEPTION,
        name="3号窗口受理岗",
        required_qualification=PostKind.RECEPTION,
    )
    post_four = Post.objects.create(
        site=town_site,
        window=window_four,
        kind=PostKind.RECEPTION,
        name="4号窗口受理岗",
        required_qualification=PostKind.RECEPTION,
    )
    a_three = make_staff(town_site, Role.WINDOW_CLERK, username="zhang.yi", full_name="张一")
    b_three = make_staff(town_site, Role.WINDOW_CLERK, username="li.er", full_name="李二")
    a_four = make_staff(town_site, Role.WINDOW_CLERK, username="wang.san", full_name="王三")
    b_four = make_staff(town_site, Role.WINDOW_CLERK, username="zhao.si", full_name="赵四")
    for person in (a_three, b_three, a_four, b_four):
        qualify(person)
    give_role(post_three, a_three, AssignmentRole.A)
    give_role(post_three, b_three, AssignmentRole.B)
    give_role(post_four, a_four, AssignmentRole.A)
    give_role(post_four, b_four, AssignmentRole.B)
    return SimpleNamespace(
        site=town_site,
        window_three=window,
        window_four=window_four,
        post_three=post_three,
        post_four=post_four,
        a_three=a_three,
        b_three=b_three,
        a_four=a_four,
        b_four=b_four,
        supervisor=supervisor,
    )


DUTY_MODELS = (
    Post,
    Assignment,
    TrainingSession,
    TrainingAttendance,
    Qualification,
    RosterPattern,
    RosterException,
    Leave,
    LeaveEvent,
    HandoverItem,
    CheckIn,
    AwayRecord,
    Violation,
)


def duty_rows() -> dict[str, list[dict[str, Any]]]:
    """Every row of the duty tables (and violations), to prove a refused request changed nothing."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in DUTY_MODELS}


def last_audit_id() -> int:
    return AuditRecord.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def audit_actions_after(last_id: int) -> list[str]:
    return list(AuditRecord.objects.filter(pk__gt=last_id).order_by("pk").values_list("action", flat=True))


@pytest.fixture
def unchanged() -> Callable[[], Callable[[], None]]:
    """Take a picture now; calling the result asserts that no row changed and nothing but refusals was audited."""

    def take() -> Callable[[], None]:
        before = duty_rows()
        last = last_audit_id()

        def check() -> None:
            assert duty_rows() == before
            assert set(audit_actions_after(last)) <= {"access.denied"}

        return check

    return take
