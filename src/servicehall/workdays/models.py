"""Calendar overrides entered by the centre: next year's schedule and local closures."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CalendarOverride(models.Model):
    """日历调整 — one day declared a holiday or a working day, winning over the official data.

    Serves 限时办结制 (seed 000: time limits in working days) and 服务承诺制 4 (按承诺时限办理): the
    State Council publishes next year's holidays and 调休 each November or December, after the data
    packages were released, and a centre may close for local reasons.

    Without ``site`` the override is national (every site); with one it is that site's local closure
    (台风停办, 场所维修) or local working day, and wins over the national calendar at that site only.
    """

    date = models.DateField(_("日期"))
    site = models.ForeignKey(
        "sites.Site",
        verbose_name=_("适用场所"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("留空：全部场所（法定节假日、调休）；选择场所：仅该场所（如临时停办）。"),
    )
    is_working_day = models.BooleanField(_("是否工作日"))
    name = models.CharField(_("名称"), max_length=50)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("录入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("日历调整")
        verbose_name_plural = _("日历调整")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["date"], condition=models.Q(site__isnull=True), name="calendar_override_national_once"
            ),
            models.UniqueConstraint(
                fields=["site", "date"],
                condition=models.Q(site__isnull=False),
                name="calendar_override_site_once",
            ),
        ]

    def __str__(self) -> str:
        kind = _("工作日") if self.is_working_day else _("休息日")
        where = f" {self.site}" if self.site_id else ""
        return f"{self.date.isoformat()}{where} {kind} {self.name}"


class PublishedYear(models.Model):
    """已发布年度日历 — a year whose complete schedule the centre has entered from the official notice.

    Dates in a year that neither the data package nor a published year covers are answered
    provisionally (Monday–Friday) and the back office warns (issue 3).
    """

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    source = models.CharField(_("依据"), max_length=200)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now)

    class Meta:
        verbose_name = _("年度日历")
        verbose_name_plural = _("年度日历")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)
