"""Staff duty (岗位值守): posts, A/B roles, roster, leave and handover, attendance, away records, training.

Seeds: 000 (AB岗工作制度, 工作纪律 2 上午、下午各两次考勤, 学习制度, 责任追究制 1-①), 002 (DB4420 §5 岗位设置,
§6.2.3 A、B角管理 确保岗位不空岗, §6.2.6 培训合格后方可上岗), 003 (15 提前10分钟到岗、离岗10分钟以上说明去向,
12 午间和周六值班, 第二十三条 中午轮流值班) and 004 (资质管理 先培训、后上岗).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicehall.sites.models import PostKind
from servicehall.sites.scoping import SiteScopedQuerySet


class PeriodKind(models.TextChoices):
    """The periods a post is covered in: the two halves of a working day, lunch and Saturday duty."""

    MORNING = "morning", _("上午")
    LUNCH = "lunch", _("午间值班")
    AFTERNOON = "afternoon", _("下午")
    SATURDAY = "saturday", _("周六值班")


class Post(models.Model):
    """岗位 — one seat that must never be empty while the site is open (seed 002 DB4420 §5.2–5.3, §6.2.3).

    ``kind`` is the DB4420 post kind; ``required_qualification`` names the post kind whose training a
    holder must have passed (seed 002 §6.2.6, seed 004 资质管理 先培训、后上岗). A post at a window is a
    窗口岗位 and must have one A角 and at least one B角 (seed 000 AB岗工作制度 1).
    """

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="duty_posts"
    )
    window = models.ForeignKey(
        "sites.Window",
        verbose_name=_("窗口"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duty_posts",
    )
    kind = models.CharField(_("岗位类型"), max_length=32, choices=PostKind.choices)
    name = models.CharField(_("岗位名称"), max_length=100)
    required_qualification = models.CharField(_("所需资质"), max_length=32, choices=PostKind.choices)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("岗位")
        verbose_name_plural = _("岗位")
        ordering = ["site_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="duty_post_name_unique_per_site")
        ]

    def __str__(self) -> str:
        return self.name


class AssignmentRole(models.TextChoices):
    A = "a", _("A角")
    B = "b", _("B角")


class Assignment(models.Model):
    """A角/B角 — who holds a post and who stands in (seed 000 AB岗工作制度 1–4, seed 002 §6.2.3).

    At any day a post has at most one A角; the same person is never both A角 and B角 of one post.
    ``valid_to`` empty means open-ended; the last day of an assignment is inclusive.
    """

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+"
    )
    post = models.ForeignKey(
        Post, verbose_name=_("岗位"), on_delete=models.PROTECT, related_name="assignments"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("工作人员"),
        on_delete=models.PROTECT,
        related_name="duty_assignments",
    )
    role = models.CharField(_("角色"), max_length=1, choices=AssignmentRole.choices)
    valid_from = models.DateField(_("起始日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("A/B角")
        verbose_name_plural = _("A/B角")
        ordering = ["post_id", "role", "valid_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="duty_assignment_dates_in_order",
            )
        ]
        indexes = [models.Index(fields=["post", "role", "valid_from"], name="duty_assignment_post_role")]

    def __str__(self) -> str:
        return f"{self.post} {self.get_role_display()} {self.staff}"


class TrainingSession(models.Model):
    """培训 — a training session whose pass qualifies staff for post kinds (seed 000 学习制度 1–3,
    seed 002 §6.2.6 经理论知识、业务能力、形象礼仪培训合格后方可上岗, seed 004 资质管理)."""

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(_("培训日期"))
    topic = models.CharField(_("培训主题"), max_length=200)
    post_kinds = models.JSONField(_("合格后可上岗的岗位类型"), default=list)
    validity_days = models.PositiveIntegerField(_("资质有效天数"), default=365)
    trainer = models.CharField(_("授课人"), max_length=50, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("培训")
        verbose_name_plural = _("培训")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.topic}"


class TrainingAttendance(models.Model):
    """培训签到与考核 — one staff member at one session and whether they passed (seed 000 学习制度 2)."""

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+"
    )
    session = models.ForeignKey(
        TrainingSession, verbose_name=_("培训"), on_delete=models.PROTECT, related_name="attendances"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("工作人员"),
        on_delete=models.PROTECT,
        related_name="training_attendances",
    )
    passed = models.BooleanField(_("考核合格"), default=False)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("培训签到")
        verbose_name_plural = _("培训签到")
        constraints = [
            models.UniqueConstraint(fields=["session", "staff"], name="duty_training_attendance_once")
        ]

    def __str__(self) -> str:
        return f"{self.session} {self.staff}"


class QualificationSource(models.TextChoices):
    TRAINING = "training", _("培训考核合格")
    ENTERED = "entered", _("人工录入")


class Qualification(models.Model):
    """上岗资质 — a staff member may hold a post kind from ``valid_from`` to ``valid_until`` inclusive.

    Derived from a passed training (``attendance``) or entered with a note; an expired or revoked
    qualification does not count (seed 004 资质管理 先培训、后上岗, seed 002 §6.2.6).
    """

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("工作人员"),
        on_delete=models.PROTECT,
        related_name="qualifications",
    )
    post_kind = models.CharField(_("岗位类型"), max_length=32, choices=PostKind.choices)
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("有效期至"))
    source = models.CharField(_("来源"), max_length=16, choices=QualificationSource.choices)
    attendance = models.ForeignKey(
        TrainingAttendance,
        verbose_name=_("培训考核"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="qualifications",
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revocation_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("上岗资质")
        verbose_name_plural = _("上岗资质")
        ordering = ["staff_id", "post_kind", "-valid_until"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")),
                name="duty_qualification_dates_in_order",
            )
        ]
        indexes = [models.Index(fields=["staff", "post_kind"], name="duty_qualification_staff_kind")]

    def __str__(self) -> str:
        return f"{self.staff} {self.get_post_kind_display()} {self.valid_until.isoformat()}"


class RosterPattern(models.Model):
    """排班 — a weekly rule: this person holds this post on this weekday in this period.

    For morning and afternoon a pattern overrides the A角 default (seed 002 §6.2.3 配置2人轮流，并制定轮流
    排班表); lunch and Saturday duty exist only through patterns (seed 003 12 午间和周六休息时间窗口值班制,
    第二十三条 中午轮流值班确保窗口不断岗).
    """

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+"
    )
    post = models.ForeignKey(
        Post, verbose_name=_("岗位"), on_delete=models.PROTECT, related_name="roster_patterns"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("工作人员"), on_delete=models.PROTECT, related_name="+"
    )
    weekday = models.PositiveSmallIntegerField(_("星期"))
    period = models.CharField(_("时段"), max_length=16, choices=PeriodKind.choices)
    valid_from = models.DateField(_("起始日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("排班规则")
        verbose_name_plural = _("排班规则")
        ordering = ["weekday", "period", "post_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekday__gte=1, weekday__lte=7), name="duty_roster_weekday_range"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="duty_roster_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post} {self.weekday} {self.get_period_display()} {self.staff}"


class RosterExceptionKind(models.TextChoices):
    ADD = "add", _("加班/顶班")
    REMOVE = "remove", _("不排班")


class RosterException(models.Model):
    """排班调整 — one day's change to the weekly pattern: someone added to, or taken off, a post-period."""

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+"
    )
    post = models.ForeignKey(
        Post, verbose_name=_("岗位"), on_delete=models.PROTECT, related_name="roster_exceptions"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("工作人员"), on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(_("日期"))
    period = models.CharField(_("时段"), max_length=16, choices=PeriodKind.choices)
    kind = models.CharField(_("调整"), max_length=8, choices=RosterExceptionKind.choices)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("排班调整")
        verbose_name_plural = _("排班调整")
        ordering = ["date", "period", "post_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "staff", "date", "period"], name="duty_roster_exception_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.post} {self.get_kind_display()} {self.staff}"


class LeaveKind(models.TextChoices):
    PERSONAL = "personal", _("事假")
    SICK = "sick", _("病假")
    ANNUAL = "annual", _("年休假")
    OTHER = "other", _("其他")
    EMERGENCY = "emergency", _("紧急请假（事后补登）")


class LeaveStatus(models.TextChoices):
    REQUESTED = "requested", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")
    CANCELLED = "cancelled", _("已撤销")


# The one table of allowed status changes; actions.transition_leave rejects every other pair.
LEAVE_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        (LeaveStatus.REQUESTED, LeaveStatus.APPROVED),
        (LeaveStatus.REQUESTED, LeaveStatus.REJECTED),
        (LeaveStatus.REQUESTED, LeaveStatus.CANCELLED),
        (LeaveStatus.APPROVED, LeaveStatus.CANCELLED),
    }
)
ACTIVE_LEAVE_STATUSES = (LeaveStatus.REQUESTED, LeaveStatus.APPROVED)


class Leave(models.Model):
    """请假与工作移交 — leave with a named 替岗人员 and a handover note (seed 000 AB岗工作制度 2: 因事不在岗
    时，必须提前一天做好工作的移交并迅速安排好替岗人员; 3: 立即安排好替岗人员; 4: 替岗人员承担相应责任).

    Days are whole and inclusive. Emergency leave is recorded by a supervisor after the fact.
    """

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("请假人"), on_delete=models.PROTECT, related_name="leaves"
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    kind = models.CharField(_("类型"), max_length=16, choices=LeaveKind.choices)
    reason = models.CharField(_("事由"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=16, choices=LeaveStatus.choices, default=LeaveStatus.REQUESTED
    )
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("替岗人员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="substitutions",
    )
    handover_note = models.TextField(_("工作移交说明"), max_length=1000, blank=True)
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("批准时间"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejected_at = models.DateTimeField(_("驳回时间"), null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.CharField(_("审批意见"), max_length=200, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("请假")
        verbose_name_plural = _("请假")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="duty_leave_dates_in_order"
            )
        ]
        indexes = [
            models.Index(fields=["staff", "starts_on", "ends_on"], name="duty_leave_staff_days"),
            models.Index(fields=["substitute", "starts_on"], name="duty_leave_substitute_days"),
            models.Index(fields=["site", "status", "starts_on"], name="duty_leave_site_status"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.staff} {self.starts_on.isoformat()}–{self.ends_on.isoformat()} {self.get_kind_display()}"
        )


class LeaveEvent(models.Model):
    """请假流转记录 — one status change of a leave, append-only (the leave's history)."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    leave = models.ForeignKey(Leave, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("原状态"), max_length=16, choices=LeaveStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, choices=LeaveStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    occurred_at = models.DateTimeField(_("时间"), default=timezone.now)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("请假流转记录")
        verbose_name_plural = _("请假流转记录")
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.leave_id} {self.from_status}→{self.to_status}"


class HandoverItem(models.Model):
    """移交事项 — one matter handed to the 替岗人员 (seed 000 AB岗工作制度 2 提前一天做好工作的移交).

    Free text here; the open cases and inquiries themselves are routed through ``substitute_for``.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    leave = models.ForeignKey(Leave, on_delete=models.CASCADE, related_name="handover_items")
    position = models.PositiveSmallIntegerField(_("序号"))
    description = models.CharField(_("事项"), max_length=200)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("移交事项")
        verbose_name_plural = _("移交事项")
        ordering = ["leave_id", "position"]

    def __str__(self) -> str:
        return self.description


class CheckInSlot(models.TextChoices):
    """The four check-ins of a working day (seed 000 工作纪律 2: 工作日分上午、下午各两次考勤)."""

    MORNING_IN = "morning_in", _("上午上班")
    MORNING_OUT = "morning_out", _("上午下班")
    AFTERNOON_IN = "afternoon_in", _("下午上班")
    AFTERNOON_OUT = "afternoon_out", _("下午下班")


class CheckInSource(models.TextChoices):
    WEB = "web", _("工作站")
    TERMINAL = "terminal", _("考勤终端")
    CORRECTION = "correction", _("负责人更正")
    SYSTEM = "system", _("系统（缺卡）")


class CheckInStatus(models.TextChoices):
    ON_TIME = "on_time", _("正常")
    LATE = "late", _("迟到")
    EARLY_LEAVE = "early_leave", _("早退")
    MISSING = "missing", _("缺卡")


class CheckIn(models.Model):
    """考勤打卡 — one of the four daily check-ins (seed 000 工作纪律 2; seed 003 15 提前10分钟到岗、不得无故迟到、早退).

    A missing check-in is a row too (status ``missing``, no ``at``), written by the sweep once the slot
    has closed. ``closes_at`` is the due column the sweep claims on; ``assessed_at`` marks the row as
    turned into a violation where one was due (seed 000 责任追究制 2-①).
    """

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("工作人员"),
        on_delete=models.PROTECT,
        related_name="check_ins",
    )
    date = models.DateField(_("日期"))
    slot = models.CharField(_("打卡"), max_length=16, choices=CheckInSlot.choices)
    at = models.DateTimeField(_("打卡时间"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=CheckInSource.choices)
    status = models.CharField(_("结果"), max_length=16, choices=CheckInStatus.choices)
    expected_at = models.DateTimeField(_("规定时间"))
    closes_at = models.DateTimeField(_("截止时间"))
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    corrected_at = models.DateTimeField(_("更正时间"), null=True, blank=True)
    correction_reason = models.CharField(_("更正原因"), max_length=200, blank=True)
    assessed_at = models.DateTimeField(_("违规核定时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("考勤打卡")
        verbose_name_plural = _("考勤打卡")
        ordering = ["date", "staff_id", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["staff", "date", "slot"], name="duty_check_in_once_per_slot")
        ]
        indexes = [
            models.Index(fields=["site", "date"], name="duty_check_in_site_date"),
            models.Index(
                fields=["closes_at"],
                condition=models.Q(assessed_at__isnull=True),
                name="duty_check_in_unassessed_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.date.isoformat()} {self.get_slot_display()}"


class AwayRecord(models.Model):
    """离岗登记 — the staff member left the window; ``whereabouts`` is the 去向 (seed 003 15: 离岗10分钟以上
    必须向1号窗口说明去向; seed 003 第二十六条 暂停服务; seed 000 责任追究制 1-① 离开岗位未写明或交待去向).

    ``due_at`` (start plus the limit) is the indexed deadline the sweep claims on; ``flagged`` is set once.
    """

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("工作人员"),
        on_delete=models.PROTECT,
        related_name="away_records",
    )
    window = models.ForeignKey(
        "sites.Window",
        verbose_name=_("窗口"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_at = models.DateTimeField(_("离岗时间"))
    ended_at = models.DateTimeField(_("返岗时间"), null=True, blank=True)
    whereabouts = models.CharField(_("去向"), max_length=200, blank=True)
    whereabouts_recorded_at = models.DateTimeField(_("说明去向时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("须说明去向的时间"), db_index=True)
    # Leaving a window one is signed in at pauses it (暂停服务 on the counter and the display); the pause
    # then carries the 去向 and is the one record the queueing sweep judges, so nothing is counted twice.
    window_pause = models.OneToOneField(
        "queueing.WindowPause",
        verbose_name=_("暂停服务记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="away_record",
    )
    flagged = models.BooleanField(_("超时未说明去向"), default=False)
    flagged_at = models.DateTimeField(_("标记时间"), null=True, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("离岗登记")
        verbose_name_plural = _("离岗登记")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["staff"],
                condition=models.Q(ended_at__isnull=True),
                name="duty_one_open_away_per_staff",
            )
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.started_at:%Y-%m-%d %H:%M}"
