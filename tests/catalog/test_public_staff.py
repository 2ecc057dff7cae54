"""工作人员身份公开: the public page of who is on duty today at each window — no login, nothing personal."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from servicehall.accounts.roles import Role
from servicehall.catalog import actions
from servicehall.duty.models import AssignmentRole, Post, RosterPattern
from servicehall.duty.public import on_duty
from servicehall.queueing.models import WindowState, WindowStatus
from servicehall.sites.models import PostKind
from servicehall.workdays import actions as workdays_actions
from servicehall.workdays import service as workdays_service
from tests.catalog.conftest import item_data
from tests.conftest import make_staff
from tests.duty.conftest import at, give_role, leave_for, open_town, qualify
from tests.factories import WindowFactory

MONDAY = dt.date(2026, 3, 2)
SUNDAY = dt.date(2026, 3, 8)


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The clock: Monday 2026-03-02 10:00 in Shanghai unless a test moves it."""
    clock = SimpleNamespace(moment=at(MONDAY, 10))
    monkeypatch.setattr(timezone, "now", lambda: clock.moment)
    return clock


@pytest.fixture
def hall(town_site: Any, window: Any, now: SimpleNamespace) -> SimpleNamespace:
    """Windows 3 and 4 with a reception post each: 张一 A / 李二 B at 3, 王三 A / 赵四 B at 4."""
    open_town(town_site)
    window_four = WindowFactory(site=town_site, number=4, name="医保窗口")
    posts = []
    for number, target in ((3, window), (4, window_four)):
        posts.append(
            Post.objects.create(
                site=town_site,
                window=target,
                kind=PostKind.RECEPTION,
                name=f"{number}号窗口受理岗",
                required_qualification=PostKind.RECEPTION,
            )
        )
    people = {}
    for username, full_name, staff_number in (
        ("zhang.yi", "张一", "SJ0101"),
        ("li.er", "李二", "SJ0102"),
        ("wang.san", "王三", "SJ0103"),
        ("zhao.si", "赵四", "SJ0104"),
    ):
        people[username] = make_staff(
            town_site,
            Role.WINDOW_CLERK,
            username=username,
            full_name=full_name,
            staff_number=staff_number,
            mobile_phone="13912345678",
            resident_id="44200019900307001X",
        )
        qualify(people[username])
    give_role(posts[0], people["zhang.yi"], AssignmentRole.A)
    give_role(posts[0], people["li.er"], AssignmentRole.B)
    give_role(posts[1], people["wang.san"], AssignmentRole.A)
    give_role(posts[1], people["zhao.si"], AssignmentRole.B)
    return SimpleNamespace(
        site=town_site, window_three=window, window_four=window_four, posts=posts, **people
    )


def page(client: Client, site: Any) -> str:
    response = client.get(f"/guide/sites/{site.pk}/staff/")
    assert response.status_code == 200
    return response.content.decode()


def cards(body: str) -> list[tuple[str, str]]:
    """(window heading, person name) in page order."""
    found = []
    for heading, section in re.findall(r"<h2 id=\"window-\d+\">([^<]+)</h2>(.*?)</section>", body, re.S):
        for name in re.findall(r'<p class="staff-name"><strong>([^<]+)</strong>', section):
            found.append((heading.strip(), name))
    return found


def test_anyone_sees_who_the_schedule_puts_at_each_window(citizen_client: Client, hall) -> None:
    # Given the A角 of both windows on duty on a Monday, when a citizen without login opens the page
    body = page(citizen_client, hall.site)
    # Then each window lists its A角 with staff number, post and the day's periods
    assert cards(body) == [("3号窗口 社保综合窗口", "张一"), ("4号窗口 医保窗口", "王三")]
    assert "SJ0101" in body
    assert "SJ0103" in body
    assert "3号窗口受理岗" in body
    assert "上午、下午" in body
    assert "2026-03-02" in body
    # And the B角, who are not needed, are not listed
    assert "李二" not in body
    assert "赵四" not in body


def test_no_phone_number_or_identity_number_is_shown(citizen_client: Client, hall) -> None:
    body = page(citizen_client, hall.site)
    assert "13912345678" not in body
    assert "139****5678" not in body
    assert "44200019900307001X" not in body
    assert "zhang.yi" not in body  # the login name is not public either


def test_staff_on_leave_are_hidden_and_their_named_substitute_is_shown(citizen_client: Client, hall) -> None:
    # Given 张一 on approved leave today with 赵四 named as 替岗人员 (赵四 is B角 of window 4, free today)
    leave_for(hall.__dict__["zhang.yi"], MONDAY, substitute=hall.__dict__["zhao.si"])
    body = page(citizen_client, hall.site)
    # Then window 3 shows 赵四 as 替岗, and 张一 is not on the page at all
    assert cards(body) == [("3号窗口 社保综合窗口", "赵四"), ("4号窗口 医保窗口", "王三")]
    assert "张一" not in body
    assert '<span class="tag">替岗</span>' in body


def test_without_a_named_substitute_the_b_role_stands_in(citizen_client: Client, hall) -> None:
    leave_for(hall.__dict__["wang.san"], MONDAY)
    body = page(citizen_client, hall.site)
    assert cards(body) == [("3号窗口 社保综合窗口", "张一"), ("4号窗口 医保窗口", "赵四")]
    assert "王三" not in body
    assert '<span class="tag">B角顶岗</span>' in body


def test_a_requested_but_unapproved_leave_changes_nothing(citizen_client: Client, hall) -> None:
    leave_for(hall.__dict__["zhang.yi"], MONDAY, status="requested")
    assert cards(page(citizen_client, hall.site))[0] == ("3号窗口 社保综合窗口", "张一")


def test_roster_and_lunch_duty_are_shown_by_period(hall) -> None:
    # Given 李二 rostered for lunch duty at window 3 on Mondays
    RosterPattern.objects.create(
        site=hall.site,
        post=hall.posts[0],
        staff=hall.__dict__["li.er"],
        weekday=1,
        period="lunch",
        valid_from=MONDAY,
    )
    board = on_duty(hall.site, MONDAY)
    window_three = board.windows[0]
    assert [(person.full_name, person.period_labels, person.basis) for person in window_three.people] == [
        ("张一", ["上午", "下午"], "a"),
        ("李二", ["午间值班"], "roster"),
    ]


def test_on_a_closed_day_the_page_says_so(citizen_client: Client, hall, now) -> None:
    now.moment = at(SUNDAY, 10)
    body = page(citizen_client, hall.site)
    assert "本场所今日不办公。" in body
    assert cards(body) == []


def test_live_window_state_marks_at_window_and_paused(citizen_client: Client, hall) -> None:
    # Given 张一 signed in and paused at window 3, and 李二 (not scheduled there) signed in at window 4
    WindowState.objects.create(
        site=hall.site,
        window=hall.window_three,
        clerk=hall.__dict__["zhang.yi"],
        status=WindowStatus.PAUSED,
        since=timezone.now(),
    )
    WindowState.objects.create(
        site=hall.site,
        window=hall.window_four,
        clerk=hall.__dict__["li.er"],
        status=WindowStatus.SERVING,
        since=timezone.now(),
    )
    body = page(citizen_client, hall.site)
    # Then 张一 is marked 暂停服务, 王三 (scheduled, not signed in) has no live mark, and 李二 is listed 在岗
    assert cards(body) == [
        ("3号窗口 社保综合窗口", "张一"),
        ("4号窗口 医保窗口", "王三"),
        ("4号窗口 医保窗口", "李二"),
    ]
    assert '<strong>张一</strong> <span class="tag tag-warn">暂停服务</span>' in body
    assert "<strong>王三</strong></p>" in body
    assert '<strong>李二</strong> <span class="tag">在岗</span>' in body


def test_a_closed_window_state_shows_no_live_mark(citizen_client: Client, hall) -> None:
    WindowState.objects.create(
        site=hall.site,
        window=hall.window_three,
        clerk=hall.__dict__["zhang.yi"],
        status=WindowStatus.CLOSED,
        since=timezone.now(),
    )
    body = page(citizen_client, hall.site)
    assert "<strong>张一</strong></p>" in body


def test_an_inactive_or_unknown_site_is_not_found(citizen_client: Client, hall, other_town_site) -> None:
    other_town_site.is_active = False
    other_town_site.save()
    assert citizen_client.get(f"/guide/sites/{other_town_site.pk}/staff/").status_code == 404
    assert citizen_client.get("/guide/sites/999999/staff/").status_code == 404


def test_inactive_windows_are_left_out(citizen_client: Client, hall) -> None:
    hall.window_four.is_active = False
    hall.window_four.save()
    assert cards(page(citizen_client, hall.site)) == [("3号窗口 社保综合窗口", "张一")]


def test_the_page_costs_the_same_queries_for_many_windows(
    citizen_client: Client, hall, django_assert_max_num_queries
) -> None:
    # Given twenty more windows each with an A角
    for number in range(10, 30):
        extra_window = WindowFactory(site=hall.site, number=number, name=f"窗口{number}")
        post = Post.objects.create(
            site=hall.site,
            window=extra_window,
            kind=PostKind.RECEPTION,
            name=f"{number}号窗口受理岗",
            required_qualification=PostKind.RECEPTION,
        )
        person = make_staff(hall.site, Role.WINDOW_CLERK, username=f"extra{number}")
        qualify(person)
        give_role(post, person, AssignmentRole.A)
    # Then the page still runs a fixed handful of queries and lists all 22 windows
    with django_assert_max_num_queries(14):
        body = page(citizen_client, hall.site)
    assert len(cards(body)) == 22


def test_linked_from_the_site_page_the_site_list_and_the_guide(
    citizen_client: Client, hall, centre_administrator, department
) -> None:
    actions.create_item(centre_administrator, item_data(department, [hall.window_three]))
    link = f'href="/guide/sites/{hall.site.pk}/staff/"'
    assert link in citizen_client.get(f"/guide/sites/{hall.site.pk}/").content.decode()
    assert link in citizen_client.get("/guide/sites/").content.decode()
    assert link in citizen_client.get("/guide/RS-001/").content.decode()


def test_a_local_closure_of_the_site_closes_the_page(
    citizen_client: Client, hall, centre_administrator, django_capture_on_commit_callbacks
) -> None:
    workdays_service.invalidate()
    with django_capture_on_commit_callbacks(execute=True):
        workdays_actions.set_override(
            centre_administrator, workdays_actions.OverrideRow(MONDAY, False, "台风停办"), site=hall.site
        )
    try:
        assert "本场所今日不办公。" in page(citizen_client, hall.site)
    finally:
        workdays_service.invalidate()
