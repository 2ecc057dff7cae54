"""Demo supervision data for the demo centre: complaints in different states, one inspection, one proposal.

Everything goes through supervision.actions as the demo supervisors would do it. Idempotent: each example is
looked up by a marker in its content or source reference and created only when missing.
"""

from __future__ import annotations

import datetime as dt
from typing import TextIO

from django.utils import timezone

from servicehall.accounts.models import User
from servicehall.sites.models import Site, Window
from servicehall.supervision import actions
from servicehall.supervision.models import ChecklistItem, Complaint, ComplaintChannel, Inspection, Violation

SANJIAO_CODE = "ZS-SANJIAO"
MARK = "（演示）"

COMPLAINTS = (
    # (content, channel, accused username, steps to run, conclusion)
    ("户政窗口午间无人值守，等候 40 分钟" + MARK, ComplaintChannel.PHONE, None, 0, ""),
    (
        "社保窗口工作人员未一次性告知所需材料，往返三次" + MARK,
        ComplaintChannel.DESK,
        "mo.jiawei",
        2,
        "upheld",
    ),
    ("建议大厅增设老年人爱心座椅" + MARK, ComplaintChannel.SUGGESTION_BOX, None, 4, "not_upheld"),
    ("12345 转办：窗口工作人员态度生硬" + MARK, ComplaintChannel.HOTLINE_12345, "peng.guoqiang", 1, ""),
)


def load_demo(stdout: TextIO) -> None:
    site = Site.objects.filter(code=SANJIAO_CODE).first()
    supervisor = User.objects.filter(username="lai.zhihong").first()
    inspector = User.objects.filter(username="xie.weiguo").first()
    if site is None or supervisor is None or inspector is None:
        return
    created = 0
    for content, channel, accused_username, steps, conclusion in COMPLAINTS:
        if Complaint.objects.filter(site=site, content=content).exists():
            continue
        accused = User.objects.filter(username=accused_username).first() if accused_username else None
        complaint, _code = actions.register_complaint(
            supervisor,
            actions.ComplaintData(
                site=site,
                content=content,
                channel=channel,
                kind="suggestion" if channel == ComplaintChannel.SUGGESTION_BOX else "complaint",
                hotline_reference="ZS12345-DEMO-0001" if channel == ComplaintChannel.HOTLINE_12345 else "",
                accused_staff=accused,
            ),
        )
        if steps >= 1:
            actions.start_investigation(supervisor, complaint)
            actions.add_investigation_note(
                supervisor, complaint, "调阅叫号记录与监控录像，询问当事人。" + MARK
            )
        if steps >= 2:
            actions.conclude_complaint(
                supervisor,
                complaint,
                conclusion,
                "对当事人批评教育并通报。" + MARK,
                violation_kind="first_responder_failure",
            )
        if steps >= 3:
            actions.reply_to_complainant(supervisor, complaint, "感谢您的意见，我们已作改进。" + MARK)
        if steps >= 4:
            actions.file_complaint(supervisor, complaint, "已办结。")
        created += 1
    window = Window.objects.filter(site=site).order_by("number").first()
    clerk = User.objects.filter(username="huang.xiaoling").first()
    if clerk is not None and not Inspection.objects.filter(site=site, summary__endswith=MARK).exists():
        actions.record_inspection(
            inspector,
            site,
            mode="covert",
            window=window,
            summary="午后随机暗访，整体秩序良好。" + MARK,
            findings=[
                actions.FindingData(ChecklistItem.objects.get(code="badge"), 2, clerk, "未佩戴工作牌"),
                actions.FindingData(ChecklistItem.objects.get(code="desk"), 1, clerk, "桌面摆放水杯和零食"),
            ],
        )
        created += 1
    # A tier-1 kind twice within 12 months: the system proposes tier 2 for 莫家伟.
    repeat = User.objects.filter(username="mo.jiawei").first()
    if (
        repeat is not None
        and not Violation.objects.filter(staff=repeat, source_reference__startswith="demo:late:").exists()
    ):
        for days_ago in (60, 10):
            occurred_at = timezone.now() - dt.timedelta(days=days_ago)
            actions.record_violation(
                site=site,
                kind="late_or_early_leave",
                source="attendance",
                source_reference=f"demo:late:{days_ago}",
                description=f"{timezone.localdate(occurred_at):%Y-%m-%d} 上午迟到 15 分钟" + MARK,
                staff=repeat,
                occurred_at=occurred_at,
            )
        created += 1
    if created:
        stdout.write(f"已载入演示监督数据 / demo supervision data loaded: {created}\n")
