"""The hall live (取号叫号): categories, tickets, visits and their events, windows' states, appointments.

Seeds: 001 六、服务设施规范 4 (排队叫号机, 自助查询终端), 002 §6.2 (咨询导办岗: 取号), §5.3 (潮汐岗, 爱心专窗),
003 公安窗口 15/26 (离岗10分钟以上说明去向, 暂停服务 sign), 交巡警 第一条 (一机双屏, 服务评价系统), 004 (评价器).

``VisitEvent`` is the append-only service log (服务日志台账) of every visit: waiting time, service time,
no-show rate and service level are computed from it alone (``queueing.metrics``).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from servicehall.lib.identity import mask_mobile_phone
from servicehall.sites.scoping import SiteScopedQuerySet


class Lane(models.TextChoices):
    """The queue a ticket waits in; every lane but ORDINARY is served first (see ``actions.call_next``)."""

    ORDINARY = "ordinary", _("普通")
    PRIORITY = "priority", _("绿色通道/爱心专窗")
    APPOINTMENT = "appointment", _("预约")
    TRANSFERRED = "transferred", _("转窗")


# Rank 0 is served before rank 1; the rank is stored so the calling query walks one index in order.
PRIORITY_RANK = 0
ORDINARY_RANK = 1


def lane_rank(lane: str) -> int:
    return ORDINARY_RANK if lane == Lane.ORDINARY else PRIORITY_RANK


class PriorityGroup(models.TextChoices):
    """Who may use the 绿色通道/爱心专窗 lane (DB4420 §5.3 爱心专窗, §6.2.11; seed 001 开辟绿色通道)."""

    ELDERLY = "elderly", _("老年人")
    DISABLED = "disabled", _("残疾人")
    PREGNANT = "pregnant", _("孕妇")
    MILITARY = "military", _("军人（优先）")
    URGENT = "urgent", _("急事急办（绿色通道）")


DEFAULT_PRIORITY_GROUPS = [
    PriorityGroup.ELDERLY.value,
    PriorityGroup.DISABLED.value,
    PriorityGroup.PREGNANT.value,
    PriorityGroup.MILITARY.value,
]


class Category(models.Model):
    """排队业务类别 — a queue with its own number prefix at a site (seed 001 排队叫号机).

    ``service_items`` are the 事项 a visitor chooses under it at the kiosk; ``CategoryWindow`` rows say
    which windows call it (and which stand by as 潮汐岗, DB4420 §5.3). The anti-starvation rule and
    the tidal thresholds are per category, so the centre tunes them by queue.
    """

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="queue_categories"
    )
    prefix = models.CharField(_("号码前缀"), max_length=2)
    name = models.CharField(_("业务名称"), max_length=50)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=1)
    service_items = models.ManyToManyField(
        "catalog.ServiceItem", verbose_name=_("包含事项"), blank=True, related_name="queue_categories"
    )
    target_wait_minutes = models.PositiveSmallIntegerField(_("目标等候时间（分钟）"), default=15)
    average_service_minutes = models.PositiveSmallIntegerField(_("预计每件办理时间（分钟）"), default=8)
    priority_groups = models.JSONField(_("可走优先通道的人群"), default=list, blank=True)
    priority_streak_limit = models.PositiveSmallIntegerField(
        _("连续优先叫号上限"),
        default=3,
        help_text=_("一个窗口连续叫了这么多个优先号后，下一个叫最早的普通号。"),
    )
    ordinary_max_wait_minutes = models.PositiveSmallIntegerField(
        _("普通号最长等候（分钟）"),
        default=30,
        help_text=_("普通号等候超过此时间时，先于优先号叫。"),
    )
    late_requeue_minutes = models.PositiveSmallIntegerField(_("过号后可重新排队（分钟）"), default=30)
    tidal_waiting_threshold = models.PositiveSmallIntegerField(_("潮汐：等候人数阈值"), default=10)
    tidal_wait_minutes_threshold = models.PositiveSmallIntegerField(
        _("潮汐：预计等候阈值（分钟）"), default=30
    )
    appointment_slot_minutes = models.PositiveSmallIntegerField(_("预约时段长度（分钟）"), default=30)
    appointment_share_percent = models.PositiveSmallIntegerField(_("预约占用产能（%）"), default=50)
    check_in_early_minutes = models.PositiveSmallIntegerField(_("最早提前签到（分钟）"), default=30)
    check_in_late_minutes = models.PositiveSmallIntegerField(_("最迟迟到签到（分钟）"), default=15)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("排队业务类别")
        verbose_name_plural = _("排队业务类别")
        ordering = ["site_id", "position", "prefix"]
        constraints = [
            models.UniqueConstraint(fields=["site", "prefix"], name="queue_category_prefix_unique_per_site"),
            models.CheckConstraint(
                condition=models.Q(target_wait_minutes__gte=1), name="queue_category_target_wait_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(average_service_minutes__gte=1),
                name="queue_category_service_minutes_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(appointment_slot_minutes__gte=5),
                name="queue_category_slot_minutes_minimum",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix} {self.name}"


class CategoryWindow(models.Model):
    """叫号窗口 — a window that calls a category; a standby link is a 潮汐岗 ready to open (DB4420 §5.3)."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="window_links")
    window = models.ForeignKey("sites.Window", on_delete=models.CASCADE, related_name="queue_links")
    is_standby = models.BooleanField(_("备用（潮汐）"), default=False)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("叫号窗口")
        verbose_name_plural = _("叫号窗口")
        constraints = [
            models.UniqueConstraint(fields=["category", "window"], name="queue_category_window_unique")
        ]

    def __str__(self) -> str:
        return f"{self.category} @ {self.window}"


class DailyCounter(models.Model):
    """取号计数器 — the last sequence issued per category and day; the row lock makes numbers gapless."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    service_date = models.DateField(_("日期"))
    last_sequence = models.PositiveIntegerField(_("已发号"), default=0)

    class Meta:
        verbose_name = _("取号计数器")
        verbose_name_plural = _("取号计数器")
        constraints = [
            models.UniqueConstraint(fields=["category", "service_date"], name="queue_counter_unique_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.service_date} {self.last_sequence}"


def new_token() -> str:
    return secrets.token_urlsafe(16)


class Visit(models.Model):
    """来访 — one citizen's visit, across the tickets it takes when transferred (seed 000 首问责任制 flow).

    ``token`` is the unguessable key of the public status page the ticket's QR code opens; it is
    the only handle the public has, so the page shows no personal data.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    service_date = models.DateField(_("日期"))
    # Unique by a constraint, not unique=True, for no LIKE index on PostgreSQL (see RatingToken.key).
    token = models.CharField(max_length=32, default=new_token)
    created_at = models.DateTimeField(_("到达时间"))

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("来访")
        verbose_name_plural = _("来访")
        constraints = [models.UniqueConstraint(fields=["token"], name="visit_token_unique")]

    def __str__(self) -> str:
        return f"{self.service_date} #{self.pk}"


class TicketStatus(models.TextChoices):
    WAITING = "waiting", _("等候中")
    CALLED = "called", _("已叫号")
    SERVING = "serving", _("办理中")
    FINISHED = "finished", _("已办结")
    NO_SHOW = "no_show", _("过号")
    TRANSFERRED = "transferred", _("已转窗")
    CANCELLED = "cancelled", _("已取消")


# The only status changes there are (actions._transition refuses every other pair).
TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        (TicketStatus.WAITING, TicketStatus.CALLED),
        (TicketStatus.WAITING, TicketStatus.CANCELLED),
        (TicketStatus.CALLED, TicketStatus.SERVING),
        (TicketStatus.CALLED, TicketStatus.NO_SHOW),
        (TicketStatus.CALLED, TicketStatus.TRANSFERRED),
        (TicketStatus.SERVING, TicketStatus.FINISHED),
        (TicketStatus.SERVING, TicketStatus.TRANSFERRED),
        (TicketStatus.NO_SHOW, TicketStatus.WAITING),
    }
)
OPEN_AT_WINDOW = (TicketStatus.CALLED, TicketStatus.SERVING)


class TicketChannel(models.TextChoices):
    KIOSK = "kiosk", _("自助取号机")
    GUIDE_DESK = "guide_desk", _("导办台")
    MOBILE = "mobile", _("手机扫码")
    APPOINTMENT = "appointment", _("预约签到")
    TRANSFER = "transfer", _("转窗")


class Ticket(models.Model):
    """取号票 — a number such as A023 (prefix + daily sequence, per site and category), and its place in line.

    ``queued_at`` orders the lane (a transfer keeps it, so the visitor keeps their place); ``lane_rank``
    puts every priority lane before the ordinary one. ``linked_object_type``/``linked_object_id`` name
    the 咨询 (Inquiry) or 办件 (Case) the service produced once those exist (issue 4).
    """

    # Every index is paid on each call's UPDATE (a status change is never a HOT update), so foreign
    # keys that a composite index already leads with, or that nothing looks up by, carry none.
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+", db_index=False)
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="tickets")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="tickets", db_index=False)
    service_date = models.DateField(_("日期"))
    sequence = models.PositiveIntegerField(_("序号"))
    number = models.CharField(_("号码"), max_length=8)
    lane = models.CharField(_("通道"), max_length=16, choices=Lane.choices, default=Lane.ORDINARY)
    lane_rank = models.PositiveSmallIntegerField(default=ORDINARY_RANK)
    priority_group = models.CharField(_("优先人群"), max_length=16, choices=PriorityGroup.choices, blank=True)
    service_item = models.ForeignKey(
        "catalog.ServiceItem",
        verbose_name=_("办理事项"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    phone = models.CharField(_("手机号"), max_length=11, blank=True)
    channel = models.CharField(_("取号渠道"), max_length=16, choices=TicketChannel.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=TicketStatus.choices, default=TicketStatus.WAITING
    )
    issued_at = models.DateTimeField(_("取号时间"))
    queued_at = models.DateTimeField(_("排队时间"))
    called_at = models.DateTimeField(_("叫号时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始办理"), null=True, blank=True)
    finished_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    no_show_at = models.DateTimeField(_("过号时间"), null=True, blank=True)
    transferred_at = models.DateTimeField(_("转窗时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    call_count = models.PositiveSmallIntegerField(_("叫号次数"), default=0)
    window = models.ForeignKey(
        "sites.Window",
        verbose_name=_("窗口"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # ticket_window_status (window, status) serves every lookup by window
    )
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    target_window = models.ForeignKey(
        "sites.Window",
        verbose_name=_("指定窗口"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("转到指定窗口的号只由该窗口叫。"),
        db_index=False,
    )
    transferred_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="transferred_to", db_index=False
    )
    appointment = models.ForeignKey(
        "Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    linked_object_type = models.CharField(_("关联对象类型"), max_length=64, blank=True)
    linked_object_id = models.CharField(_("关联对象编号"), max_length=64, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("取号票")
        verbose_name_plural = _("取号票")
        ordering = ["service_date", "category_id", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "service_date", "sequence"], name="ticket_sequence_unique_per_day"
            ),
            models.UniqueConstraint(
                fields=["site", "service_date", "number"], name="ticket_number_unique_per_day"
            ),
        ]
        indexes = [
            # The calling query walks this index in serving order and skips what others have locked.
            models.Index(
                fields=["site", "service_date", "lane_rank", "queued_at", "id"],
                name="ticket_waiting_order",
                condition=models.Q(status="waiting"),
            ),
            models.Index(fields=["window", "status"], name="ticket_window_status"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def masked_phone(self) -> str:
        return mask_mobile_phone(self.phone) if self.phone else ""


class EventKind(models.TextChoices):
    ISSUED = "issued", _("取号")
    CALLED = "called", _("叫号")
    RECALLED = "recalled", _("重呼")
    NO_SHOW = "no_show", _("过号")
    REQUEUED = "requeued", _("过号重排")
    TRANSFERRED = "transferred", _("转窗")
    STARTED = "started", _("开始办理")
    FINISHED = "finished", _("办结")
    CANCELLED = "cancelled", _("取消")
    PAUSED = "paused", _("暂停服务")
    RESUMED = "resumed", _("恢复服务")
    WINDOW_OPENED = "window_opened", _("窗口开始服务")
    WINDOW_CLOSED = "window_closed", _("窗口结束服务")


APPEND_ONLY_MESSAGE = "服务日志只能追加，不得修改或删除 / visit events are append-only"


class VisitEventQuerySet(SiteScopedQuerySet):
    """The service log's rows are never changed or removed through the ORM (see ``VisitEvent``)."""

    def update(self, **kwargs: Any) -> int:
        raise PermissionError(APPEND_ONLY_MESSAGE)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError(APPEND_ONLY_MESSAGE)


class VisitEvent(models.Model):
    """服务日志 — one append-only event of a visit or of a window (seed 001/004 建立服务日志基础台账).

    Window events (paused, resumed, opened, closed) have no ticket. The id is the sequence number the
    live displays resume from (Last-Event-ID).

    Append-only (issue 5: the raw data of the assessment reports): ``save()`` of a stored row,
    ``delete()`` and the manager's ``update()``/``delete()`` raise ``PermissionError``; on PostgreSQL
    a trigger (migration 0005) refuses UPDATE and DELETE of the table from any client. TRUNCATE
    (the test suite's flush, a full restore) is left to the database owner.
    """

    # Append-only and written twice per call: only the indexes the readers use (site + time for the
    # figures and the displays' catch-up, ticket + kind for a visit's history).
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(_("事件"), max_length=16, choices=EventKind.choices)
    at = models.DateTimeField(_("时间"))
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    lane = models.CharField(_("通道"), max_length=16, choices=Lane.choices, blank=True)
    window = models.ForeignKey(
        "sites.Window", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    objects = VisitEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("服务日志")
        verbose_name_plural = _("服务日志")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["site", "at"], name="visit_event_site_at"),
            models.Index(fields=["ticket", "kind"], name="visit_event_ticket_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%H:%M:%S}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError(APPEND_ONLY_MESSAGE)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError(APPEND_ONLY_MESSAGE)


class WindowStatus(models.TextChoices):
    SERVING = "serving", _("服务中")
    IDLE = "idle", _("空闲")
    PAUSED = "paused", _("暂停服务")
    CLOSED = "closed", _("未开窗")


class WindowState(models.Model):
    """窗口状态 — who is at a window and whether it serves, idles, is paused (暂停服务) or closed.

    Seed 003 公安窗口 26 (因故离开窗口岗位时，应放置“暂停服务”提示牌) and 15 (离岗10分钟以上必须向1号窗口说明去向):
    a pause carries its reason and 去向; ``WindowPause`` keeps each one for the supervisor.
    ``priority_streak`` counts consecutive priority calls for the anti-starvation rule.
    """

    # Updated on every call: unindexed foreign keys keep those updates HOT (no index writes).
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+", db_index=False)
    window = models.OneToOneField("sites.Window", on_delete=models.CASCADE, related_name="queue_state")
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("当班人员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=WindowStatus.choices, default=WindowStatus.CLOSED
    )
    pause_reason = models.CharField(_("暂停原因"), max_length=100, blank=True)
    whereabouts = models.CharField(_("去向"), max_length=100, blank=True)
    since = models.DateTimeField(_("状态开始"))
    current_ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    priority_streak = models.PositiveSmallIntegerField(default=0)
    last_finished_ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("窗口状态")
        verbose_name_plural = _("窗口状态")

    def __str__(self) -> str:
        return f"{self.window} {self.get_status_display()}"


AWAY_LIMIT_MINUTES = 10


class WindowPause(models.Model):
    """暂停服务记录 — one pause of a window with its reason and 去向 (seed 003 公安窗口 15, 26).

    A pause longer than ten minutes whose 去向 was not stated within those ten minutes is recorded as
    a violation (seed 000 责任追究制 二、1 ①) by ``servicehall queueing sweep``.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    window = models.ForeignKey("sites.Window", on_delete=models.PROTECT, related_name="+")
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("暂停原因"), max_length=100)
    whereabouts = models.CharField(_("去向"), max_length=100, blank=True)
    whereabouts_stated_at = models.DateTimeField(_("说明去向时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始"))
    ended_at = models.DateTimeField(_("结束"), null=True, blank=True)
    violation_recorded_at = models.DateTimeField(null=True, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("暂停服务记录")
        verbose_name_plural = _("暂停服务记录")
        ordering = ["-started_at"]
        indexes = [
            models.Index(
                fields=["started_at"],
                name="window_pause_unexplained",
                condition=models.Q(violation_recorded_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.reason} {self.started_at:%Y-%m-%d %H:%M}"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("已预约")
    CHECKED_IN = "checked_in", _("已签到")
    CANCELLED = "cancelled", _("已取消")
    NO_SHOW = "no_show", _("爽约")


APPOINTMENT_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        (AppointmentStatus.BOOKED, AppointmentStatus.BOOKED),  # changed to another slot
        (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN),
        (AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED),
        (AppointmentStatus.BOOKED, AppointmentStatus.NO_SHOW),
    }
)


class Appointment(models.Model):
    """预约 — a booked slot of a category on a day (DB4420 §6.2.12 登录“中山云预约”); check-in makes a ticket.

    ``reference`` is what the citizen keeps to change, cancel or check in; the phone is shown masked.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="appointments")
    service_date = models.DateField(_("日期"))
    slot_start = models.TimeField(_("时段开始"))
    slot_end = models.TimeField(_("时段结束"))
    phone = models.CharField(_("手机号"), max_length=11)
    reference = models.CharField(_("预约码"), max_length=12, unique=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    booked_at = models.DateTimeField(_("预约时间"))
    changed_at = models.DateTimeField(_("改约时间"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    no_show_at = models.DateTimeField(_("爽约时间"), null=True, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("预约")
        verbose_name_plural = _("预约")
        ordering = ["service_date", "slot_start"]
        indexes = [
            models.Index(fields=["category", "service_date", "slot_start", "status"], name="appointment_slot")
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.service_date} {self.slot_start:%H:%M}"

    @property
    def masked_phone(self) -> str:
        return mask_mobile_phone(self.phone)


class AppointmentSlot(models.Model):
    """预约时段容量 — the row locked while a slot is booked, so two bookings cannot overfill it."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    service_date = models.DateField()
    slot_start = models.TimeField()
    booked = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["category", "service_date", "slot_start"], name="appointment_slot_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.service_date} {self.slot_start:%H:%M} {self.booked}"


class NoticeKind(models.TextChoices):
    ISSUED = "issued", _("取号通知")
    NEAR = "near", _("即将叫号提醒")
    CALLED = "called", _("叫号通知")


class NoticeStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class SmsNotice(models.Model):
    """短信通知发件箱 — one SMS-style notice to the phone a visitor gave when taking a ticket (取号时留手机号，
    叫号前短信提醒: issue 5 "optionally give a phone number for an SMS-style notice"; seed 001 排队叫号机).

    Three kinds per ticket at most: at issue (number, people ahead, status link), when the turn is near
    (``SERVICEHALL_SMS_NEAR_AHEAD`` people ahead, default 3) and when called. ``next_notice`` on the
    issue notice says which one the ticket still waits for ("near", then "called", then ""), so a
    call looks only at the few tickets of its category that still expect one. The phone is kept for
    the sender; every page and log line shows ``masked_phone``. Rows are written by
    ``queueing.notices`` after the ticket's transaction commits and never make that action fail.
    """

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+"
    )
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("取号票"), on_delete=models.PROTECT, related_name="sms_notices"
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+", db_index=False)
    service_date = models.DateField(_("日期"))
    kind = models.CharField(_("通知类型"), max_length=16, choices=NoticeKind.choices)
    phone = models.CharField(_("手机号"), max_length=11)
    text = models.CharField(_("短信内容"), max_length=300)
    status = models.CharField(
        _("状态"), max_length=16, choices=NoticeStatus.choices, default=NoticeStatus.QUEUED
    )
    next_notice = models.CharField(max_length=16, blank=True)
    sender = models.CharField(_("发送方式"), max_length=100, blank=True)
    error = models.CharField(_("失败原因"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("生成时间"))
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("短信通知")
        verbose_name_plural = _("短信通知")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["site", "created_at"], name="sms_notice_site_created"),
            # What a call looks at: the category's tickets of the day still waiting for a notice.
            models.Index(
                fields=["category", "service_date"],
                name="sms_notice_pending_follow_up",
                condition=~models.Q(next_notice=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.masked_phone}"

    @property
    def masked_phone(self) -> str:
        return mask_mobile_phone(self.phone)
