"""Demo duty data for the demo centre of operations/demo.py: posts with A/B roles, training, roster, leave, a gap.

Everything goes through duty.actions as the demo supervisors would do it, so the demo obeys the rules
it shows (先培训、后上岗, one A角 per post, a free qualified 替岗人员). Loading is idempotent: rows are
looked up by natural keys (site code, post name, username) and only what is missing is created; the
dated examples (next week's leave and the deliberate gap) are created again only once they have passed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TextIO

from django.utils import timezone

from servicehall.accounts.models import User
from servicehall.duty import actions
from servicehall.duty.coverage import day_plan
from servicehall.duty.models import (
    Assignment,
    AssignmentRole,
    Leave,
    LeaveKind,
    LeaveStatus,
    PeriodKind,
    Post,
    Qualification,
    RosterException,
    RosterExceptionKind,
    RosterPattern,
    TrainingSession,
)
from servicehall.lib.errors import ActionRefused
from servicehall.sites.models import PostKind, Site, Window

CITY_CODE = "ZS-CITY"
SANJIAO_CODE = "ZS-SANJIAO"
TRAINING_TOPIC = "窗口业务、服务礼仪与工作纪律岗前培训（演示）"
LEAVE_REASON = "参加子女学校家长会（演示）"
GAP_REASON = "潮汐岗高峰支援（演示：户政窗口因此空岗）"

# (site code, window number, post kind, A角 username, B角 usernames)
POSTS: tuple[tuple[str, int, PostKind, str, tuple[str, ...]], ...] = (
    (CITY_CODE, 1, PostKind.GUIDE, "chen.jing", ("li.na",)),
    (CITY_CODE, 2, PostKind.GUIDE, "li.na", ("tan.xiaoyu",)),
    (CITY_CODE, 3, PostKind.PRE_REVIEW, "wu.ting", ("lin.hao",)),
    (CITY_CODE, 4, PostKind.COMPREHENSIVE, "lin.hao", ("cai.meiling",)),
    (CITY_CODE, 5, PostKind.RECEPTION, "wang.qiang", ("jian.hui",)),
    (CITY_CODE, 6, PostKind.RECEPTION, "zheng.lihua", ("yang.fang",)),
    (CITY_CODE, 7, PostKind.RECEPTION, "luo.zhiming", ("mai.yingshan",)),
    (CITY_CODE, 8, PostKind.RECEPTION, "mai.yingshan", ("deng.jianhua",)),
    (CITY_CODE, 9, PostKind.RECEPTION, "deng.jianhua", ("luo.zhiming",)),
    (CITY_CODE, 10, PostKind.RECEPTION, "su.wenjie", ("ye.qing",)),
    (CITY_CODE, 11, PostKind.RECEPTION, "liu.yang", ("gan.shuyi",)),
    (CITY_CODE, 12, PostKind.RECEPTION, "zhang.lei", ("ou.jiahao",)),
    (CITY_CODE, 13, PostKind.RECEPTION, "yang.fang", ("zheng.lihua",)),
    (CITY_CODE, 14, PostKind.RECEPTION, "ouyang.ming", ("ou.jiahao",)),
    (CITY_CODE, 15, PostKind.TIDAL, "ou.jiahao", ("cai.meiling",)),
    (CITY_CODE, 16, PostKind.CARING, "tan.xiaoyu", ("li.na",)),
    (CITY_CODE, 17, PostKind.CANNOT_GET_DONE, "cai.meiling", ("chen.jing",)),
    (CITY_CODE, 18, PostKind.COMPLAINT, "lu.hong", ("cai.meiling",)),
    (SANJIAO_CODE, 1, PostKind.GUIDE, "lai.zhihong", ("chen.yuting",)),
    (SANJIAO_CODE, 2, PostKind.COMPREHENSIVE, "huang.xiaoling", ("mo.jiawei",)),
    (SANJIAO_CODE, 3, PostKind.RECEPTION, "mo.jiawei", ("peng.guoqiang",)),
    (SANJIAO_CODE, 4, PostKind.RECEPTION, "peng.guoqiang", ("huang.xiaoling",)),
)
# (site code, window number, username, weekday, period): Saturday duty and the guide desk's rotation
# (seed 002 §6.2.3 配置2人轮流，并制定轮流排班表; seed 003 12 周六值班).
ROSTER: tuple[tuple[str, int, str, int, PeriodKind], ...] = (
    (CITY_CODE, 2, "li.na", 6, PeriodKind.SATURDAY),
    (CITY_CODE, 4, "lin.hao", 6, PeriodKind.SATURDAY),
    (CITY_CODE, 6, "zheng.lihua", 6, PeriodKind.SATURDAY),
    (CITY_CODE, 2, "tan.xiaoyu", 2, PeriodKind.MORNING),
    (CITY_CODE, 2, "tan.xiaoyu", 4, PeriodKind.MORNING),
)
SUPERVISORS = {CITY_CODE: "chen.jing", SANJIAO_CODE: "lai.zhihong"}
TRAINER = "huang.wei"


def load_demo(stdout: TextIO) -> None:
    """Create whatever part of the duty demo is missing and say what was created."""
    sites = {site.code: site for site in Site.objects.filter(code__in=[CITY_CODE, SANJIAO_CODE])}
    usernames = {username for *_, username, _bees in POSTS} | {name for *_, bees in POSTS for name in bees}
    usernames |= set(SUPERVISORS.values()) | {TRAINER}
    people = {user.username: user for user in User.objects.filter(username__in=usernames, is_active=True)}
    missing = sorted(usernames - set(people))
    if set(sites) != {CITY_CODE, SANJIAO_CODE} or missing:
        stdout.write(
            "岗位值守演示数据需要先载入演示中心 / load the demo centre first"
            + (f"（缺少 / missing: {', '.join(missing)}）" if missing else "")
            + "\n"
        )
        return
    today = timezone.localdate()
    created: dict[str, int] = {}

    def count(name: str, amount: int = 1) -> None:
        created[name] = created.get(name, 0) + amount

    for site in sites.values():
        _train(site, people, today, count)
    posts = _posts(sites, people, today, count)
    _roster(sites, posts, people, today, count)
    _leave_next_week(posts, people, today, count, stdout)
    _deliberate_gap(posts, people, today, count, stdout)
    summary = "，".join(f"{name} {amount}" for name, amount in created.items()) or "无新增 / nothing new"
    stdout.write(f"岗位值守演示数据 / duty demo: {summary}\n")


def _site_staff(site: Site, people: dict[str, User]) -> list[User]:
    names = {username for code, _n, _k, username, _b in POSTS if code == site.code}
    names |= {name for code, _n, _k, _a, bees in POSTS if code == site.code for name in bees}
    return [people[name] for name in sorted(names)]


def _train(site: Site, people: dict[str, User], today: dt.date, count: Any) -> None:
    """One passed pre-posting training per site, a month ago, qualifying for every demo post kind."""
    trainer = people[TRAINER]
    kinds = sorted({str(kind) for code, _n, kind, _a, _b in POSTS if code == site.code})
    session = TrainingSession.objects.filter(site=site, topic=TRAINING_TOPIC).first()
    if session is None:
        session = actions.create_training_session(
            trainer,
            site,
            actions.TrainingData(today - dt.timedelta(days=30), TRAINING_TOPIC, kinds, 365, "中心综合科"),
        )
        count("培训 / training")
    for person in _site_staff(site, people):
        if not Qualification.objects.filter(
            attendance__session=session, staff=person, revoked_at__isnull=True
        ).exists():
            actions.record_training_result(trainer, session, person, True, "理论与实操考核合格")
            count("资质 / qualified staff")


def _posts(
    sites: dict[str, Site], people: dict[str, User], today: dt.date, count: Any
) -> dict[tuple[str, int], Post]:
    posts: dict[tuple[str, int], Post] = {}
    for code, number, kind, a_role, b_roles in POSTS:
        site = sites[code]
        supervisor = people[SUPERVISORS[code]]
        window = Window.objects.filter(site=site, number=number).first()
        if window is None:
            continue
        name = f"{number}号窗口 {window.name}"[:100]
        post = Post.objects.filter(site=site, name=name).first()
        if post is None:
            post = actions.create_post(supervisor, site, actions.PostData(name, kind, window))
            count("岗位 / posts")
        posts[(code, number)] = post
        for username, role in [(a_role, AssignmentRole.A), *((b, AssignmentRole.B) for b in b_roles)]:
            person = people[username]
            if Assignment.objects.filter(post=post, staff=person, role=role).exists():
                continue
            try:
                actions.assign(supervisor, post, person, role, today)
                count("A/B角 / roles")
            except ActionRefused:
                continue  # an operator changed the roles; leave their arrangement alone
    return posts


def _roster(
    sites: dict[str, Site],
    posts: dict[tuple[str, int], Post],
    people: dict[str, User],
    today: dt.date,
    count: Any,
) -> None:
    for code, number, username, weekday, period in ROSTER:
        post = posts.get((code, number))
        if post is None:
            continue
        person = people[username]
        if RosterPattern.objects.filter(post=post, staff=person, weekday=weekday, period=period).exists():
            continue
        try:
            actions.add_roster_pattern(people[SUPERVISORS[code]], post, person, weekday, period, today)
            count("排班 / roster patterns")
        except ActionRefused:
            continue


def _next_week_working_days(site: Site, today: dt.date) -> list[dt.date]:
    monday = today + dt.timedelta(days=7 - today.weekday())
    days = [monday + dt.timedelta(days=offset) for offset in range(5)]
    return [day for day in days if (plan := day_plan(site, day)) is not None and not plan.is_saturday_duty]


def _leave_next_week(
    posts: dict[tuple[str, int], Post], people: dict[str, User], today: dt.date, count: Any, stdout: TextIO
) -> None:
    """王强 (A角 of 5号窗口) takes two days next week; his B角 简慧 stands in (seed 000 AB岗工作制度 2)."""
    staff, substitute = people["wang.qiang"], people["jian.hui"]
    if (
        Leave.objects.filter(staff=staff, reason=LEAVE_REASON, ends_on__gte=today)
        .exclude(status__in=[LeaveStatus.REJECTED, LeaveStatus.CANCELLED])
        .exists()
    ):
        return
    days = _next_week_working_days(staff.site, today)[1:3]
    if not days:
        return
    try:
        leave = actions.request_leave(
            staff,
            actions.LeaveData(
                starts_on=days[0],
                ends_on=days[-1],
                kind=LeaveKind.PERSONAL,
                reason=LEAVE_REASON,
                substitute=substitute,
                handover_note="在办的 2 件失业保险金申领已移交简慧，材料在 5 号窗口左侧文件柜。",
                handover_items=[
                    "陈某失业保险金申领（待补银行卡复印件）",
                    "刘某社保关系转移（已受理，待审核）",
                ],
            ),
        )
        actions.approve_leave(people[SUPERVISORS[CITY_CODE]], leave, note="同意，简慧替岗")
        count("已批准请假 / approved leave")
    except ActionRefused as refusal:
        stdout.write(f"演示请假未创建 / demo leave skipped: {refusal.message}\n")


def _deliberate_gap(
    posts: dict[tuple[str, int], Post], people: dict[str, User], today: dt.date, count: Any, stdout: TextIO
) -> None:
    """罗志明 (A角 of 7号窗口) is sent to the 潮汐岗 one morning next week; his B角 holds 8号窗口, so 户政 is
    empty — the red cell the board shows until the supervisor fills it."""
    tidal, person = posts.get((CITY_CODE, 15)), people["luo.zhiming"]
    if (
        tidal is None
        or RosterException.objects.filter(staff=person, reason=GAP_REASON, date__gte=today).exists()
    ):
        return
    days = _next_week_working_days(tidal.site, today)
    if not days:
        return
    day = days[min(3, len(days) - 1)]
    try:
        actions.add_roster_exception(
            people[SUPERVISORS[CITY_CODE]],
            tidal,
            person,
            day,
            PeriodKind.MORNING,
            RosterExceptionKind.ADD,
            GAP_REASON,
        )
        count("排班调整（空岗示例） / roster change (gap)")
    except ActionRefused as refusal:
        stdout.write(f"演示空岗未创建 / demo gap skipped: {refusal.message}\n")
