"""What the checker keeps: phrases the centre adds, replies sent despite a warning, findings for supervision."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicehall.sites.scoping import SiteScopedQuerySet


class ExtraPhraseKind(models.TextChoices):
    PATTERN = "pattern", _("禁忌说法")
    EXCEPTION = "exception", _("例外（文明语境）")


class ExtraPhrase(models.Model):
    """追加用语 — a forbidden variant, or a polite context that is not one, added to a reviewed rule.

    The reviewed ``rules.json`` stays the base; the centre extends it here (seed 001 五、禁忌用语:
    “以及其他不规范、不文明的用语” — the seeds' lists are open-ended). Centre-wide, not per site: one
    centre, one standard of civil language.
    """

    rule_id = models.CharField(_("规则"), max_length=64)
    kind = models.CharField(_("类型"), max_length=16, choices=ExtraPhraseKind.choices)
    pattern = models.CharField(_("用语"), max_length=200)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("录入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("追加用语")
        verbose_name_plural = _("追加用语")
        ordering = ["rule_id", "kind", "pattern"]
        constraints = [
            models.UniqueConstraint(fields=["rule_id", "kind", "pattern"], name="conduct_extra_phrase_unique")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.pattern}"


class OverriddenReply(models.Model):
    """回复留痕 — an online reply sent although the checker found a forbidden phrase, with the reason.

    Seed 003 交巡警 10（网上回复不过夜）and 17（禁止在网上回复时拖沓推诿）: the reply box stops a reply
    with a forbidden phrase and suggests the civil one; sending it anyway is the staff member's call,
    recorded with who, when, what and why.
    """

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("工作人员"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("回复内容"))
    findings = models.JSONField(_("检查发现"), default=list)
    reason = models.CharField(_("仍要发送的理由"), max_length=500)
    created_at = models.DateTimeField(_("发送时间"), default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("回复留痕")
        verbose_name_plural = _("回复留痕")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["site", "created_at"], name="conduct_override_site_time")]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.created_at:%Y-%m-%d %H:%M}"


class FindingSource(models.TextChoices):
    REPLY = "reply", _("网上回复")
    TRANSCRIPT = "transcript", _("服务对话")


class ConfirmationResult(models.TextChoices):
    """What confirming a finding led to; kept on the finding, so the page need not guess from today's settings."""

    VIOLATION_RECORDED = "violation_recorded", _("已登记违规")
    BELOW_THRESHOLD = "below_threshold", _("未达登记违规标准")
    NO_STAFF = "no_staff", _("未确定工作人员")
    NOT_RECORDED = "not_recorded", _("未登记违规")


class ConductFinding(models.Model):
    """文明用语检查发现 — a checked reply or transcript over the threshold, for the supervision issue.

    Seed 000 责任追究制 二 1②/2④/3⑥ (态度粗暴、不文明行政、侮辱服务对象) and seed 002 4.4.4: a supervisor
    confirms the finding (``actions.confirm_finding``); at or above the violation threshold and with a known
    staff member, supervision records one violation for it, and ``claimed_at`` is set, so each is claimed
    once. ``staff`` is empty when the staff member who spoke could not be identified: such a finding can be
    confirmed but never becomes a violation. The excerpt is redacted of personal data and at most 200
    characters.
    """

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("工作人员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(_("来源"), max_length=16, choices=FindingSource.choices)
    excerpt = models.CharField(_("摘录"), max_length=200)
    # The same conversation checked twice is one finding, not two.
    text_digest = models.CharField(_("原文摘要值"), max_length=64)
    rule_ids = models.JSONField(_("规则"), default=list)
    finding_count = models.PositiveSmallIntegerField(_("发现数"))
    highest_severity = models.PositiveSmallIntegerField(_("最高严重程度"))
    created_at = models.DateTimeField(_("发现时间"), default=timezone.now)
    claimed_at = models.DateTimeField(_("转为违规时间"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmation_result = models.CharField(
        _("确认结果"), max_length=24, choices=ConfirmationResult.choices, blank=True
    )

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("文明用语检查发现")
        verbose_name_plural = _("文明用语检查发现")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["claimed_at", "created_at"], name="conduct_finding_unclaimed")]
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "source", "text_digest"], name="conduct_finding_once_per_text"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.staff_id or '-'} {self.created_at:%Y-%m-%d %H:%M}"
