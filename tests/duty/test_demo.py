"""The duty demo: loaded on top of the demo centre, idempotent, and the board shows one red gap next week."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.utils import timezone

from servicehall.duty.coverage import coverage, substitute_for
from servicehall.duty.demo import load_demo
from servicehall.duty.models import (
    Assignment,
    Leave,
    LeaveStatus,
    Post,
    Qualification,
    RosterException,
    RosterPattern,
)
from servicehall.operations.demo import load_demo_centre
from servicehall.sites.models import Site

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Post, Assignment, Qualification, RosterPattern, RosterException, Leave)
    }


def test_the_demo_is_idempotent_and_shows_a_gap_next_week() -> None:
    # Given the demo centre
    load_demo_centre()
    # When the duty demo is loaded twice
    first = StringIO()
    load_demo(first)
    after_first = counts()
    second = StringIO()
    load_demo(second)
    # Then the second run creates nothing
    assert counts() == after_first
    assert "无新增 / nothing new" in second.getvalue()
    assert after_first["Post"] == 22
    assert after_first["Leave"] == 1
    # And every post has one A角 and a B角, every holder qualified
    city = Site.objects.get(code="ZS-CITY")
    today = timezone.localdate()
    report = coverage(city, today)
    assert report.warnings == {}
    # And next week has exactly one red gap, at 7号窗口, one morning
    gaps = [cell for cell in report.gaps if cell.post_id is not None]
    assert len(gaps) == 1
    assert report.post_label(gaps[0].post_id).startswith("7号窗口")
    assert gaps[0].day > today
    # And the approved leave has its substitute
    leave = Leave.objects.get()
    assert leave.status == LeaveStatus.APPROVED
    assert substitute_for(leave.staff, leave.starts_on).username == "jian.hui"
    assert leave.starts_on - today <= dt.timedelta(days=14)


def test_without_the_demo_centre_the_duty_demo_says_so() -> None:
    output = StringIO()
    load_demo(output)
    assert output.getvalue().startswith("岗位值守演示数据需要先载入演示中心")
    assert counts()["Post"] == 0
