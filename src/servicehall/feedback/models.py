"""好差评: rating tokens, ratings, appeals against ratings and the rectification of every 差评.

The national frame is 国办发〔2019〕51号 (现场"一次一评", 网上"一事一评", five levels, 差评 回访 and 整改);
seed 003 (评价器 after every service, 不得对评价结果弄虚作假) and seeds 001/004 服务监督 (服务对象监督).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from servicehall.sites.scoping import SiteScopedQuerySet


class Level(models.IntegerChoices):
    """The five levels of 国办发〔2019〕51号; 5 and 4 are 好评, 3 中评, 2 and 1 差评."""

    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    BASICALLY_SATISFIED = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


class Grade(models.TextChoices):
    GOOD = "good", _("好评")
    NEUTRAL = "neutral", _("中评")
    BAD = "bad", _("差评")


def grade_of(level: int) -> str:
    if level >= Level.SATISFIED:
        return Grade.GOOD
    if level == Level.BASICALLY_SATISFIED:
        return Grade.NEUTRAL
    return Grade.BAD


class ReasonTag(models.TextChoices):
    ATTITUDE = "attitude", _("服务态度")
    EFFICIENCY = "efficiency", _("办事效率")
    ONE_TIME_NOTICE = "one_time_notice", _("一次性告知")
    ENVIRONMENT = "environment", _("服务环境")
    INTEGRITY = "integrity", _("廉洁自律")
    PROCESS = "process", _("办事流程")


class ServiceKind(models.TextChoices):
    VISIT = "visit", _("现场服务（一次一评）")
    CASE = "case", _("办件（一事一评）")


class Channel(models.TextChoices):
    EVALUATOR = "evaluator", _("窗口评价器")
    QR_CODE = "qr_code", _("扫码评价")
    ONLINE = "online", _("网上评价")


class RatingToken(models.Model):
    """评价凭证 — the single-use key issued for one service that happened (不得弄虚作假, seed 003).

    Exactly one per finished ticket or completed case (unique constraints), so a service can be rated once;
    ``expires_at`` closes the later rating by QR code or online after the configured days.
    """

    # A token is only ever looked up by its key, ticket or case: no index on site, staff or window
    # (each would cost every one of millions of inserts).
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+", db_index=False)
    service_kind = models.CharField(_("服务类型"), max_length=8, choices=ServiceKind.choices)
    ticket = models.OneToOneField(
        "queueing.Ticket", null=True, blank=True, on_delete=models.PROTECT, related_name="rating_token"
    )
    case = models.OneToOneField(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="rating_token"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("服务人员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    window = models.ForeignKey(
        "sites.Window", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # Unique by a constraint, not unique=True: on PostgreSQL that would add a LIKE index too, which no
    # lookup uses and every insert pays for.
    key = models.CharField(max_length=43)
    issued_at = models.DateTimeField(_("签发时间"))
    expires_at = models.DateTimeField(_("失效时间"))
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("评价凭证")
        verbose_name_plural = _("评价凭证")
        constraints = [
            models.UniqueConstraint(fields=["key"], name="rating_token_key_unique"),
            models.CheckConstraint(
                condition=(models.Q(ticket__isnull=False, case__isnull=True, service_kind="visit"))
                | models.Q(ticket__isnull=True, case__isnull=False, service_kind="case"),
                name="rating_token_one_service",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_kind_display()} #{self.pk}"


class Rating(models.Model):
    """评价 — one citizen's rating of one service; immutable once given (国办发〔2019〕51号, seed 003 评价器).

    ``held_for_review`` marks a rating from a device or link that submitted an improbable burst; it counts
    only once a supervisor releases it. ``excluded_at`` is set when an appeal against it is upheld.
    """

    # rating_site_rated (site, rated_at) serves every lookup by site.
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+", db_index=False)
    token = models.OneToOneField(RatingToken, on_delete=models.PROTECT, related_name="rating")
    service_kind = models.CharField(_("服务类型"), max_length=8, choices=ServiceKind.choices)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("服务人员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ratings_received",
    )
    window = models.ForeignKey(
        "sites.Window",
        verbose_name=_("窗口"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    level = models.PositiveSmallIntegerField(_("评价等级"), choices=Level.choices)
    grade = models.CharField(_("好差评"), max_length=8, choices=Grade.choices)
    reasons = models.JSONField(_("评价原因"), default=list, blank=True)
    comment = models.CharField(_("评价内容"), max_length=500, blank=True)
    channel = models.CharField(_("评价渠道"), max_length=16, choices=Channel.choices)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=11, blank=True)
    source_fingerprint = models.CharField(max_length=64, blank=True)
    held_for_review = models.BooleanField(_("待核查"), default=False)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    excluded_at = models.DateTimeField(_("剔除时间"), null=True, blank=True)
    rated_at = models.DateTimeField(_("评价时间"), db_index=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        ordering = ["-rated_at"]
        indexes = [
            models.Index(fields=["site", "rated_at"], name="rating_site_rated"),
            # The burst check reads one source's latest ratings.
            models.Index(fields=["source_fingerprint", "rated_at"], name="rating_source_rated"),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} #{self.pk}"

    @property
    def is_real_name(self) -> bool:
        """实名评价: the citizen left a phone to be called back."""
        return bool(self.contact_phone)

    @property
    def counts(self) -> bool:
        return not self.held_for_review and self.excluded_at is None


class AppealStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    UPHELD = "upheld", _("申诉成立")
    REJECTED = "rejected", _("申诉不成立")


class RatingAppeal(models.Model):
    """评价申诉 — staff contest a rating they believe mistaken or malicious (国办发〔2019〕51号 申诉复核)."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    rating = models.ForeignKey(Rating, on_delete=models.PROTECT, related_name="appeals")
    appellant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("申诉理由"), max_length=500)
    status = models.CharField(
        _("状态"), max_length=16, choices=AppealStatus.choices, default=AppealStatus.PENDING
    )
    created_at = models.DateTimeField(_("申诉时间"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decision_reason = models.CharField(_("处理意见"), max_length=500, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("评价申诉")
        verbose_name_plural = _("评价申诉")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["rating"], condition=models.Q(status="pending"), name="one_pending_rating_appeal"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} #{self.pk}"


class RectificationStatus(models.TextChoices):
    VERIFYING = "verifying", _("待核实")
    RECTIFYING = "rectifying", _("整改中")
    CALLING_BACK = "calling_back", _("待回访")
    CLOSED = "closed", _("已办结")


class CallbackResult(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY_SATISFIED = "basically_satisfied", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")
    UNREACHABLE = "unreachable", _("无法联系")


# (from, to) → the timestamp field the transition stamps; nothing else may change the status.
RECTIFICATION_TRANSITIONS: dict[tuple[str, str], str] = {
    (RectificationStatus.VERIFYING, RectificationStatus.RECTIFYING): "verified_at",
    (RectificationStatus.VERIFYING, RectificationStatus.CALLING_BACK): "verified_at",
    (RectificationStatus.VERIFYING, RectificationStatus.CLOSED): "verified_at",
    (RectificationStatus.RECTIFYING, RectificationStatus.CALLING_BACK): "rectified_at",
    (RectificationStatus.RECTIFYING, RectificationStatus.CLOSED): "rectified_at",
    (RectificationStatus.CALLING_BACK, RectificationStatus.CLOSED): "called_back_at",
}


class Rectification(models.Model):
    """差评整改 — every 差评: 核实 within 1 working day, 整改 within the configured working days, 回访 for
    实名 ratings with the citizen's view of the fix (国办发〔2019〕51号; seed 002 §7 服务评价与改进).
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    rating = models.OneToOneField(Rating, on_delete=models.PROTECT, related_name="rectification")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("被评价人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=RectificationStatus.choices, default=RectificationStatus.VERIFYING
    )
    opened_at = models.DateTimeField(_("开始时间"))
    verify_due = models.DateField(_("核实期限"))
    rectify_due = models.DateField(_("整改期限"))
    # The open task's current deadline, indexed: the board and its red flags read only this column.
    due_on = models.DateField(_("当前期限"), db_index=True)
    is_justified = models.BooleanField(_("差评属实"), null=True, blank=True)
    verification_note = models.CharField(_("核实情况"), max_length=500, blank=True)
    verified_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    rectification_note = models.CharField(_("整改措施"), max_length=500, blank=True)
    rectified_at = models.DateTimeField(_("整改时间"), null=True, blank=True)
    callback_result = models.CharField(
        _("回访结果"), max_length=24, choices=CallbackResult.choices, blank=True
    )
    callback_note = models.CharField(_("回访记录"), max_length=500, blank=True)
    called_back_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # Set by the overdue sweep when it finds ``due_on`` passed; a later stage's deadline is claimed again.
    overdue_due_on = models.DateField(_("已逾期的期限"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("逾期登记时间"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("差评整改")
        verbose_name_plural = _("差评整改")
        ordering = ["due_on"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} #{self.pk}"

    @property
    def callback_required(self) -> bool:
        return self.rating.is_real_name
