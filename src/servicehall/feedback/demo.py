"""Demo 好差评 for the 三角镇 centre: services of the last working days, rated, and the 差评 in each state
of rectification (待核实 and overdue, 整改中, 待回访, 已办结), with one pending appeal.

Everything goes through the actions as the hall would: queueing issues, calls, serves and finishes each
service on its past working day (a day that has only these tickets, so today's waiting queue is not
touched), the token comes from the finished service, the citizen rates it then, and the supervisor
works the rectification tasks. Idempotent: nothing is loaded when a demo rating (marked in its comment)
already exists at the site, or when a window is occupied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TextIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from servicehall.accounts.models import User
from servicehall.feedback import actions
from servicehall.feedback.models import Rating, Rectification
from servicehall.lib.errors import ActionRefused
from servicehall.queueing import actions as queueing
from servicehall.queueing.models import Category, WindowState
from servicehall.sites.models import Site, Window
from servicehall.workdays import service as workdays

SANJIAO_CODE = "ZS-SANJIAO"
MARK = "（演示）"


@dataclass(frozen=True)
class DemoService:
    """One service and its rating; ``steps`` is how far the supervisor took the 差评's rectification."""

    window_number: int
    prefix: str
    clerk: str
    working_days_ago: int
    minute: int
    level: int
    comment: str
    reasons: tuple[str, ...] = ()
    phone: str = ""
    steps: tuple[str, ...] = ()
    appeal: str = ""


SERVICES: tuple[DemoService, ...] = (
    DemoService(2, "A", "huang.xiaoling", 1, 0, 5, "办事快，态度好"),
    DemoService(2, "A", "huang.xiaoling", 1, 10, 5, "一次性告知很清楚"),
    DemoService(3, "B", "mo.jiawei", 1, 0, 4, "整体满意"),
    DemoService(4, "C", "peng.guoqiang", 1, 0, 5, "户籍证明当场办好"),
    DemoService(2, "A", "huang.xiaoling", 2, 0, 3, "等候时间稍长"),
    DemoService(3, "B", "mo.jiawei", 2, 0, 5, "耐心解答社保问题"),
    DemoService(4, "C", "peng.guoqiang", 2, 10, 4, "满意"),
    # 差评, not yet verified: its 核实 deadline (one working day) has passed, red on the board.
    DemoService(
        3, "B", "mo.jiawei", 5, 10, 2, "材料要求前后说法不一，跑了两趟", ("one_time_notice",), "13800001101"
    ),
    # 差评 found justified, being rectified.
    DemoService(
        4,
        "C",
        "peng.guoqiang",
        3,
        20,
        1,
        "窗口人员语气生硬",
        ("attitude",),
        "13800001102",
        ("verify_justified",),
        appeal="当时群众情绪激动，本人已耐心解释，请调阅录像核实。",
    ),
    # 差评 justified and rectified; the 实名 citizen waits for the 回访.
    DemoService(
        2,
        "A",
        "huang.xiaoling",
        4,
        20,
        2,
        "办理太慢",
        ("efficiency",),
        "13800001103",
        ("verify_justified", "rectify"),
    ),
    # 差评 justified, rectified, called back and closed.
    DemoService(
        3,
        "B",
        "mo.jiawei",
        4,
        30,
        1,
        "等了一个小时没人叫号",
        ("efficiency",),
        "13800001104",
        ("verify_justified", "rectify", "call_back"),
    ),
    # 差评 not justified (anonymous): closed at 核实.
    DemoService(2, "A", "huang.xiaoling", 3, 30, 2, "不让插队", ("process",), "", ("verify_unjustified",)),
)

NOTES = {
    "verify_justified": "调阅监控录像并询问当事人，情况属实。",
    "verify_unjustified": "经核实，工作人员按规定维持排队秩序，差评不属实。",
    "rectify": "已对当事人批评教育，组织窗口一次性告知与文明用语培训。",
    "call_back": "电话回访，群众对整改表示满意。",
}


def _working_days_before(today: dt.date, count: int) -> dt.date:
    day = today
    remaining = count
    while remaining:
        day -= dt.timedelta(days=1)
        if workdays.is_working_day(day):
            remaining -= 1
    return day


def _moment(day: dt.date, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10, minute), tzinfo=ZoneInfo(settings.TIME_ZONE))


def load_demo(stdout: TextIO) -> None:
    site = Site.objects.filter(code=SANJIAO_CODE).first()
    supervisor = User.objects.filter(username="lai.zhihong").first()
    if site is None or supervisor is None:
        return
    if Rating.objects.filter(site=site, comment__endswith=MARK).exists():
        return
    windows = {window.number: window for window in Window.objects.filter(site=site)}
    categories = {category.prefix: category for category in Category.objects.filter(site=site)}
    clerks = {user.username: user for user in User.objects.filter(site=site)}
    needed = {(service.window_number, service.prefix, service.clerk) for service in SERVICES}
    if any(
        number not in windows or prefix not in categories or username not in clerks
        for number, prefix, username in needed
    ):
        return
    occupied = WindowState.objects.filter(
        window__in=[windows[number] for number, _prefix, _username in needed], clerk__isnull=False
    ).exists()
    if occupied:
        stdout.write("演示评价：窗口有人在岗，跳过 / demo ratings skipped: a window is staffed\n")
        return
    today = timezone.localdate()
    created = 0
    try:
        for service in SERVICES:
            _serve_and_rate(service, windows, categories, clerks, supervisor, today)
            created += 1
    except ActionRefused as refusal:
        stdout.write(f"演示评价未全部载入 / demo ratings partly loaded: {refusal.message}\n")
    if created:
        stdout.write(f"已载入演示评价 / demo ratings loaded: {created}\n")


def _serve_and_rate(
    service: DemoService,
    windows: dict[int, Window],
    categories: dict[str, Category],
    clerks: dict[str, User],
    supervisor: User,
    today: dt.date,
) -> None:
    window, clerk = windows[service.window_number], clerks[service.clerk]
    issued = _moment(_working_days_before(today, service.working_days_ago), service.minute)
    ticket = queueing.issue_ticket(None, categories[service.prefix], now=issued)
    queueing.sign_in(clerk, window, now=issued)
    try:
        queueing.call_next(clerk, window, now=issued + dt.timedelta(minutes=1))
        queueing.start_service(clerk, window, now=issued + dt.timedelta(minutes=2))
        queueing.finish_service(clerk, window, now=issued + dt.timedelta(minutes=7))
    finally:
        queueing.sign_out(clerk, window, now=issued + dt.timedelta(minutes=8))
    ticket.refresh_from_db()
    token = actions.issue_token_for_ticket(ticket, now=ticket.finished_at)
    rating = actions.rate(
        token.key,
        level=service.level,
        channel="evaluator",
        reasons=list(service.reasons),
        comment=service.comment + MARK,
        contact_name="陈先生" if service.phone else "",
        contact_phone=service.phone,
        now=ticket.finished_at + dt.timedelta(minutes=1),
    )
    task = Rectification.objects.filter(rating=rating).first()
    for step in service.steps:
        if step.startswith("verify"):
            task = actions.verify(supervisor, task, justified=step == "verify_justified", note=NOTES[step])
        elif step == "rectify":
            task = actions.rectify(supervisor, task, note=NOTES[step])
        elif step == "call_back":
            task = actions.call_back(supervisor, task, result="satisfied", note=NOTES[step])
    if service.appeal:
        actions.appeal_rating(clerk, rating, service.appeal)
