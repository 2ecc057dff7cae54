"""The duty pages as the supervisor, the staff member and the training administrator use them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from servicehall.accounts.roles import Role
from servicehall.audit.models import AuditRecord
from servicehall.duty.models import (
    Assignment,
    AssignmentRole,
    AwayRecord,
    CheckIn,
    CheckInSlot,
    Leave,
    LeaveStatus,
    PeriodKind,
    Post,
    Qualification,
    RosterPattern,
    TrainingSession,
)
from servicehall.duty.presenters import gaps_for_home
from servicehall.sites.models import PostKind
from tests.conftest import make_staff
from tests.duty.conftest import MONDAY, at, leave_for, qualify

pytestmark = pytest.mark.django_db

WEDNESDAY = dt.date(2026, 3, 4)


def page(response) -> str:
    return response.content.decode()


def test_the_board_shows_four_weeks_and_gaps_in_red(world, client_for, clock) -> None:
    # Given 张一 and 李二 both on leave on Wednesday
    leave_for(world.a_three, WEDNESDAY)
    leave_for(world.b_three, WEDNESDAY)
    # When the supervisor opens the board
    response = client_for(world.supervisor).get("/duty/board/")
    # Then it shows 28 day columns, the two posts, and the gap listed in red
    assert response.status_code == 200
    html = page(response)
    assert html.count('scope="col" class=') == 28
    assert "3号窗口受理岗" in html
    assert "4号窗口受理岗" in html
    assert 'class="duty-gap-alert" role="alert"' in html
    assert "03-04 上午 · 3号窗口受理岗：空岗：A角与B角均不在岗；张一请假、李二请假" in html
    assert 'class="duty-b duty-gap" title="2026-03-04 上午 空岗' in html


def test_the_supervisors_home_page_shows_the_gaps_in_red_until_filled(
    world, client_for, clock, clerk
) -> None:
    # Given both A and B of window 3 on leave on Wednesday
    leave_for(world.a_three, WEDNESDAY)
    leave_for(world.b_three, WEDNESDAY)
    # When the supervisor opens the workbench
    html = page(client_for(world.supervisor).get("/"))
    # Then the red warning is at the top of it, with a link to the board
    assert 'class="duty-gap-alert" role="alert"' in html
    assert "03-04 上午 · 3号窗口受理岗" in html
    assert f'href="/duty/board/?site={world.supervisor.site_id}"' in html
    # And a clerk's workbench has no such warning
    assert "duty-gap-alert" not in page(client_for(clerk).get("/"))


def test_the_board_day_detail_lists_every_post(world, client_for, clock) -> None:
    response = client_for(world.supervisor).get("/duty/board/?day=2026-03-03")
    html = page(response)
    assert 'id="day-detail"' in html
    assert "张一（A角）" in html
    assert "王三（A角）" in html


def test_the_home_warning_include(world, clock, supervisor, clerk) -> None:
    leave_for(world.a_three, WEDNESDAY)
    leave_for(world.b_three, WEDNESDAY)
    context = gaps_for_home(supervisor)
    # The supervisor sees the gaps of the next four weeks: Wednesday's two halves at window 3, and the
    # 20 lunch periods and 4 Saturdays the site opens without anyone rostered
    assert context["duty_gap_count"] == 26
    html = render_to_string("duty/_gaps_warning.html", context, request=RequestFactory().get("/"))
    assert "岗位空岗预警：未来四周有 26 个时段无人值守" in html
    assert "03-04 上午 · 3号窗口受理岗" in html
    # And a clerk sees nothing
    assert gaps_for_home(clerk)["duty_gap_count"] == 0
    assert render_to_string("duty/_gaps_warning.html", gaps_for_home(clerk)).strip() == ""


def test_posts_and_the_a_b_editor(world, client_for, clock) -> None:
    client = client_for(world.supervisor)
    assert "未设B角" not in page(client.get("/duty/posts/"))
    # Creating a post leads to its editor
    response = client.post(
        "/duty/posts/",
        {"name": "导办台", "kind": PostKind.GUIDE, "required_qualification": "", "is_active": "on"},
    )
    post = Post.objects.get(name="导办台")
    assert response.status_code == 302
    assert response["Location"] == f"/duty/posts/{post.pk}/"
    # Naming someone without guide training is refused on the form, with the reason
    refused = client.post(
        f"/duty/posts/{post.pk}/assign/", {"staff": world.b_three.pk, "role": "a", "valid_from": "2026-03-02"}
    )
    assert refused.status_code == 400
    assert "先培训、后上岗" in page(refused)
    assert not Assignment.objects.filter(post=post).exists()
    qualify(world.b_three, PostKind.GUIDE)
    done = client.post(
        f"/duty/posts/{post.pk}/assign/", {"staff": world.b_three.pk, "role": "a", "valid_from": "2026-03-02"}
    )
    assert done.status_code == 302
    assert Assignment.objects.get(post=post).role == AssignmentRole.A
    # Ending a window post's A角 without a successor is refused with a message, not an error page
    a_role = Assignment.objects.get(post=world.post_three, role=AssignmentRole.A)
    ended = client.post(f"/duty/assignments/{a_role.pk}/end/", {"last_day": "2026-03-10"}, follow=True)
    assert ended.status_code == 200
    assert "窗口岗位必须有A角（AB岗工作制度）：请直接指定新的A角，原A角将自动交接。" in page(ended)
    assert Assignment.objects.get(pk=a_role.pk).valid_to is None


def test_the_roster_page(world, client_for, clock) -> None:
    client = client_for(world.supervisor)
    response = client.post(
        "/duty/roster/",
        {
            "form": "pattern",
            "post": world.post_three.pk,
            "staff": world.b_three.pk,
            "weekday": 1,
            "period": PeriodKind.LUNCH,
            "valid_from": "2026-03-02",
        },
    )
    assert response.status_code == 302
    assert RosterPattern.objects.get().period == PeriodKind.LUNCH
    html = page(client.get("/duty/roster/"))
    assert "3号窗口受理岗 · 李二" in html
    exception = client.post(
        "/duty/roster/",
        {
            "form": "exception",
            "post": world.post_three.pk,
            "staff": world.b_three.pk,
            "date": "2026-03-09",
            "period": PeriodKind.LUNCH,
            "kind": "remove",
            "reason": "体检",
        },
    )
    assert exception.status_code == 302
    assert "体检" in page(client.get("/duty/roster/"))


def test_the_leave_form_lists_free_qualified_substitutes(world, client_for, clock) -> None:
    client = client_for(world.a_three)
    # The candidates fragment for Wednesday offers 李二 (B角, free), not 王三 (busy at window 4)
    fragment = page(
        client.get("/duty/leave/candidates/?starts_on=2026-03-04&ends_on=2026-03-04", HTTP_HX_REQUEST="true")
    )
    assert f'<option value="{world.b_three.pk}">李二' in fragment
    assert f'<option value="{world.a_four.pk}">' not in fragment
    assert "替岗人员 王三 在 2026-03-04 上午 已在“4号窗口受理岗”值守，没有空闲。" in fragment
    # Submitting the form creates the request
    response = client.post(
        "/duty/leave/",
        {
            "starts_on": "2026-03-04",
            "ends_on": "2026-03-04",
            "kind": "personal",
            "reason": "办理房产过户",
            "substitute": world.b_three.pk,
            "handover_note": "在办 2 件已交接",
            "handover_items": "王某社保转移\n李某退休审批",
        },
    )
    assert response.status_code == 302
    leave = Leave.objects.get()
    assert [item.description for item in leave.handover_items.all()] == ["王某社保转移", "李某退休审批"]
    # A bad request comes back with the message next to the field and nothing new
    bad = client.post(
        "/duty/leave/",
        {
            "starts_on": "2026-03-06",
            "ends_on": "2026-03-05",
            "kind": "personal",
            "reason": "x",
            "substitute": world.b_three.pk,
            "handover_note": "x",
        },
    )
    assert bad.status_code == 400
    assert "结束日期（2026-03-05）不能早于开始日期（2026-03-06）。" in page(bad)
    assert Leave.objects.count() == 1


def test_the_supervisor_queue_approves_and_rejects(world, client_for, clock) -> None:
    first = leave_for(world.a_three, WEDNESDAY, substitute=world.b_three, status=LeaveStatus.REQUESTED)
    second = leave_for(
        world.a_four, dt.date(2026, 3, 5), substitute=world.b_four, status=LeaveStatus.REQUESTED
    )
    client = client_for(world.supervisor)
    html = page(client.get("/duty/leave/queue/"))
    assert "张一" in html
    assert "王三" in html
    approved = client.post(
        f"/duty/leave/{first.pk}/approve/", {"substitute": world.b_three.pk, "note": "同意"}
    )
    assert approved.status_code == 302
    rejected = client.post(f"/duty/leave/{second.pk}/reject/", {"reason": "当天人手不足"})
    assert rejected.status_code == 302
    assert dict(Leave.objects.values_list("pk", "status")) == {first.pk: "approved", second.pk: "rejected"}


def test_emergency_leave_page(world, client_for, clock) -> None:
    clock.set(at(MONDAY, 9, 30))
    client = client_for(world.supervisor)
    assert client.get("/duty/leave/emergency/").status_code == 200
    response = client.post(
        "/duty/leave/emergency/",
        {
            "staff": world.a_three.pk,
            "starts_on": "2026-03-02",
            "ends_on": "2026-03-02",
            "reason": "突发急性肠胃炎",
        },
    )
    assert response.status_code == 302
    assert Leave.objects.get().kind == "emergency"


def test_my_check_ins_page_has_four_buttons_with_their_state(world, client_for, clock) -> None:
    clock.set(at(MONDAY, 8, 45))
    client = client_for(world.a_three)
    html = page(client.get("/duty/check-in/"))
    assert html.count('name="slot"') == 4
    assert "上午上班打卡" in html
    assert "下午下班打卡" in html
    response = client.post("/duty/check-in/", {"slot": CheckInSlot.MORNING_IN}, follow=True)
    assert "“上午上班”打卡成功：正常。" in page(response)
    assert "08:45 正常" in page(response)
    # A second press is refused with a message
    again = client.post("/duty/check-in/", {"slot": CheckInSlot.MORNING_IN}, follow=True)
    assert "您已打过“上午上班”卡（08:45）。" in page(again)
    assert CheckIn.objects.count() == 1


def test_away_from_post_start_and_return(world, client_for, clock) -> None:
    clock.set(at(MONDAY, 10))
    client = client_for(world.a_three)
    client.post("/duty/away/", {"action": "start", "whereabouts": ""})
    assert "未说明去向" in page(client.get("/duty/check-in/"))
    client.post("/duty/away/", {"action": "whereabouts", "whereabouts": "档案室"})
    clock.set(at(MONDAY, 10, 20))
    client.post("/duty/away/", {"action": "return"})
    away = AwayRecord.objects.get()
    assert (away.whereabouts, away.ended_at, away.flagged) == ("档案室", at(MONDAY, 10, 20), False)


def test_the_attendance_board_and_correction(world, client_for, clock) -> None:
    clock.set(at(MONDAY, 8, 56))
    client_for(world.a_three).post("/duty/check-in/", {"slot": CheckInSlot.MORNING_IN})
    clock.set(at(MONDAY, 10))
    client = client_for(world.supervisor)
    html = page(client.get("/duty/attendance/?date=2026-03-02"))
    assert "08:56 迟到" in html
    assert html.count('<tr><th scope="row"') == 4
    response = client.post(
        "/duty/attendance/",
        {
            "date": "2026-03-02",
            "staff": world.a_three.pk,
            "slot": CheckInSlot.MORNING_IN,
            "time": "08:45",
            "reason": "考勤机故障",
        },
    )
    assert response.status_code == 302
    assert CheckIn.objects.get().status == "on_time"
    assert AuditRecord.objects.filter(action="duty.check_in_corrected").count() == 1
    # Without a reason the form says so
    refused = client.post(
        "/duty/attendance/",
        {
            "date": "2026-03-02",
            "staff": world.a_three.pk,
            "slot": CheckInSlot.MORNING_IN,
            "time": "08:45",
            "reason": "",
        },
    )
    assert refused.status_code == 400


def test_the_substitution_page(world, client_for, clock) -> None:
    leave = leave_for(world.a_three, WEDNESDAY, substitute=world.b_four)
    leave.handover_items.create(site=world.site, position=1, description="陈某退休审批")
    leave_for(world.a_four, dt.date(2026, 3, 5))
    html = page(client_for(world.b_four).get("/duty/substitution/"))
    assert "张一" in html
    assert "陈某退休审批" in html
    assert "2026-03-05" in html
    assert "B角顶岗" in html


def test_training_and_qualification_pages(world, centre_administrator, client_for, clock) -> None:
    newcomer = make_staff(world.site, Role.WINDOW_CLERK, full_name="新同事")
    client = client_for(centre_administrator)
    response = client.post(
        f"/duty/training/?site={world.site.pk}",
        {
            "site": world.site.pk,
            "date": "2026-03-01",
            "topic": "岗前培训",
            "post_kinds": [PostKind.GUIDE],
            "validity_days": 365,
            "trainer": "综合科",
        },
    )
    session = TrainingSession.objects.get()
    assert response.status_code == 302
    result = client.post(f"/duty/training/{session.pk}/", {"staff": newcomer.pk, "passed": "1", "note": ""})
    assert result.status_code == 302
    html = page(client.get(f"/duty/qualifications/?site={world.site.pk}"))
    assert "新同事" in html
    assert "咨询导办岗" in html
    qualification = Qualification.objects.get(staff=newcomer)
    client.post(f"/duty/qualifications/{qualification.pk}/revoke/", {"reason": "考核作弊"})
    assert Qualification.objects.get(pk=qualification.pk).revocation_reason == "考核作弊"


def test_the_board_page_query_count_does_not_grow_with_posts(world, client_for, clock) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from servicehall.duty.models import Post
    from tests.duty.conftest import give_role
    from tests.factories import WindowFactory

    client = client_for(world.supervisor)
    client.get("/duty/board/")
    with CaptureQueriesContext(connection) as small:
        client.get("/duty/board/")
    small_count = len(small)
    for number in range(10, 25):
        post = Post.objects.create(
            site=world.site,
            window=WindowFactory(site=world.site, number=number),
            kind=PostKind.RECEPTION,
            name=f"{number}号窗口",
            required_qualification=PostKind.RECEPTION,
        )
        person = make_staff(world.site, Role.WINDOW_CLERK)
        qualify(person)
        give_role(post, person, AssignmentRole.A)
        give_role(post, world.b_four, AssignmentRole.B)
    with CaptureQueriesContext(connection) as large:
        client.get("/duty/board/")
    assert len(large) == small_count


def test_the_duty_start_page_sends_each_to_their_page(world, clerk, client_for) -> None:
    assert client_for(world.supervisor).get("/duty/")["Location"] == "/duty/board/"
    assert client_for(clerk).get("/duty/")["Location"] == "/duty/check-in/"
