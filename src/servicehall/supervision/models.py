"""Violations (违规记录) with the kinds and tiers of seed 000 责任追究制."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicehall.sites.scoping import SiteScopedQuerySet


class Tier(models.IntegerChoices):
    """责任追究办法 of seed 000 责任追究制 二: the three tiers, mildest first."""

    CRITICISM = 1, _("批评教育")
    PUBLIC_CRITICISM = 2, _("通报批评、调整工作岗位")
    DISCIPLINARY = 3, _("党纪行政处分")


class ViolationKind(models.TextChoices):
    """责任追究范围 of seed 000, plus the attendance and language rules of seeds 000/003."""

    # 二、1 批评教育
    AWAY_WITHOUT_WHEREABOUTS = "away_without_whereabouts", _("离开岗位未写明或交待去向")
    FIRST_RESPONDER_FAILURE = "first_responder_failure", _("首问责任人态度粗暴或未一次性告知")
    NOT_HANDLED_PROMPTLY = "not_handled_promptly", _("手续齐全应及时办理而不办理")
    COMPLETION_TIME_NOT_TOLD = "completion_time_not_told", _("未告知办结时限")
    OVERDUE = "overdue", _("未按规定时限办结")
    LATE_OR_EARLY_LEAVE = "late_or_early_leave", _("迟到、早退")
    FORBIDDEN_LANGUAGE = "forbidden_language", _("使用禁忌用语")
    # 二、2 通报批评、调整工作岗位
    UNEXCUSED_ABSENCE = "unexcused_absence", _("无故旷工、不遵守请销假制度")
    SERIOUS_ERROR = "serious_error", _("办理质量低、出现严重差错")
    UNCORRECTED_AFTER_CRITICISM = "uncorrected_after_criticism", _("经批评教育仍未改正")
    SHIRKING_OR_OBSTRUCTION = "shirking_or_obstruction", _("办事推诿、冷落、刁难服务对象")
    # 二、3 党纪行政处分
    WITHHOLDING_DOCUMENTS = "withholding_documents", _("私自收取、截留、滞留公文或申办资料")
    LEAKING_SECRETS = "leaking_secrets", _("违反保密规定，泄露机密")
    REPEATED_COMPLAINTS = "repeated_complaints", _("多次受到投诉")
    SERIOUS_VIOLATION = "serious_violation", _("严重违反有关规定，造成重大损失")
    ABUSE_OF_POWER = "abuse_of_power", _("滥用职权")
    INSULTING_CITIZENS = "insulting_citizens", _("侮辱、打骂服务对象")
    CORRUPTION = "corruption", _("吃拿卡要报、乱收费、以权谋私")
    OTHER = "other", _("其他违纪违规")


KIND_TIER: dict[str, Tier] = {
    ViolationKind.AWAY_WITHOUT_WHEREABOUTS: Tier.CRITICISM,
    ViolationKind.FIRST_RESPONDER_FAILURE: Tier.CRITICISM,
    ViolationKind.NOT_HANDLED_PROMPTLY: Tier.CRITICISM,
    ViolationKind.COMPLETION_TIME_NOT_TOLD: Tier.CRITICISM,
    ViolationKind.OVERDUE: Tier.CRITICISM,
    ViolationKind.LATE_OR_EARLY_LEAVE: Tier.CRITICISM,
    ViolationKind.FORBIDDEN_LANGUAGE: Tier.CRITICISM,
    ViolationKind.UNEXCUSED_ABSENCE: Tier.PUBLIC_CRITICISM,
    ViolationKind.SERIOUS_ERROR: Tier.PUBLIC_CRITICISM,
    ViolationKind.UNCORRECTED_AFTER_CRITICISM: Tier.PUBLIC_CRITICISM,
    ViolationKind.SHIRKING_OR_OBSTRUCTION: Tier.PUBLIC_CRITICISM,
    ViolationKind.WITHHOLDING_DOCUMENTS: Tier.DISCIPLINARY,
    ViolationKind.LEAKING_SECRETS: Tier.DISCIPLINARY,
    ViolationKind.REPEATED_COMPLAINTS: Tier.DISCIPLINARY,
    ViolationKind.SERIOUS_VIOLATION: Tier.DISCIPLINARY,
    ViolationKind.ABUSE_OF_POWER: Tier.DISCIPLINARY,
    ViolationKind.INSULTING_CITIZENS: Tier.DISCIPLINARY,
    ViolationKind.CORRUPTION: Tier.DISCIPLINARY,
    ViolationKind.OTHER: Tier.CRITICISM,
}


class ViolationSource(models.TextChoices):
    MANUAL = "manual", _("人工登记")
    RED_CARD = "red_card", _("电子监察红牌")
    DEEMED_APPROVAL = "deemed_approval", _("超时默认")
    ONE_TIME_NOTICE = "one_time_notice", _("一次性告知")
    ATTENDANCE = "attendance", _("考勤")
    AWAY_FROM_POST = "away_from_post", _("离岗")
    CONDUCT = "conduct", _("文明用语检查")
    INSPECTION = "inspection", _("明察暗访")
    COMPLAINT = "complaint", _("投诉")
    RATING = "rating", _("差评")


class ViolationStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    CONFIRMED = "confirmed", _("已认定")
    DISMISSED = "dismissed", _("不予认定")


class Violation(models.Model):
    """违规记录 — one breach of the rules, against a staff member or a department (seed 000 责任追究制).

    ``source`` and ``source_reference`` name what produced it (a red card on case 123, a check-in on a
    date); the pair is unique per staff member and kind, so sweeps that run twice record nothing new.
    """

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("责任人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="violations",
    )
    department = models.ForeignKey(
        "sites.Department",
        verbose_name=_("责任部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="violations",
    )
    kind = models.CharField(_("违规类型"), max_length=40, choices=ViolationKind.choices)
    tier = models.PositiveSmallIntegerField(_("追究层级"), choices=Tier.choices)
    points = models.PositiveSmallIntegerField(_("扣分"), default=1)
    source = models.CharField(_("来源"), max_length=20, choices=ViolationSource.choices)
    source_reference = models.CharField(_("来源编号"), max_length=80)
    description = models.CharField(_("情况说明"), max_length=500)
    status = models.CharField(
        _("状态"), max_length=16, choices=ViolationStatus.choices, default=ViolationStatus.OPEN
    )
    occurred_at = models.DateTimeField(_("发生时间"), default=timezone.now, db_index=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("违规记录")
        verbose_name_plural = _("违规记录")
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "source", "source_reference", "staff", "department"],
                name="violation_once_per_source",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=models.Q(staff__isnull=False) | models.Q(department__isnull=False),
                name="violation_has_responsible_party",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.source_reference}"
