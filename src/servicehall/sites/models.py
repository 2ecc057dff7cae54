"""Sites, departments, windows and opening hours (DB4420 §5.1 三级政务服务机构, seed 002)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from servicehall.sites.scoping import SiteQuerySet, SiteScopedQuerySet


class SiteLevel(models.TextChoices):
    CITY = "city", _("市政务服务中心")
    TOWN = "town", _("镇（街）便民服务中心")
    VILLAGE = "village", _("村（社区）便民服务站")


PARENT_LEVEL = {SiteLevel.CITY: None, SiteLevel.TOWN: SiteLevel.CITY, SiteLevel.VILLAGE: SiteLevel.TOWN}


class Site(models.Model):
    """政务服务机构 — a service site at one of the three levels of seed 002 (DB4420 §5.1).

    Every domain row that belongs to a site carries a foreign key to it, so data can be scoped,
    partitioned or sharded by site. Seed 000 服务承诺制 6 (六公开: 监督电话公开) is served by
    ``supervision_phone``.
    """

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=16, choices=SiteLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    service_phone = models.CharField(_("咨询电话"), max_length=32, blank=True)
    supervision_phone = models.CharField(_("监督电话"), max_length=32, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        verbose_name = _("服务场所")
        verbose_name_plural = _("服务场所")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        expected_parent_level = PARENT_LEVEL[SiteLevel(self.level)]
        if expected_parent_level is None and self.parent_id is not None:
            raise ValidationError({"parent": _("市政务服务中心不能有上级场所。")})
        if expected_parent_level is not None:
            if self.parent is None:
                raise ValidationError({"parent": _("镇街中心和村居服务站必须指定上级场所。")})
            if self.parent.level != expected_parent_level:
                raise ValidationError({"parent": _("上级场所的层级不正确。")})

    def descendant_ids(self) -> set[int]:
        """This site and every site below it (three levels at most, so two queries)."""
        identifiers = {self.pk}
        frontier = {self.pk}
        while frontier:
            frontier = set(Site.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
            identifiers |= frontier
        return identifiers


class Department(models.Model):
    """进驻部门 — a government department stationed at a site (seed 000 服务承诺制 3 一门受理)."""

    site = models.ForeignKey(
        Site, verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="departments"
    )
    code = models.CharField(_("编码"), max_length=32)
    name = models.CharField(_("名称"), max_length=100)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("进驻部门")
        verbose_name_plural = _("进驻部门")
        ordering = ["site_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="department_code_unique_per_site")
        ]

    def __str__(self) -> str:
        return self.name


class PostKind(models.TextChoices):
    """岗位 kinds of DB4420 §5.2 (常规岗位) and §5.3 (特色岗位), seed 002."""

    GUIDE = "guide", _("咨询导办岗")
    PRE_REVIEW = "pre_review", _("预审服务岗")
    RECEPTION = "reception", _("窗口受理岗")
    BACK_OFFICE = "back_office", _("后台审批岗")
    COMPREHENSIVE = "comprehensive", _("综合窗口岗")
    VOLUNTEER = "volunteer", _("志愿者服务岗")
    COMPLAINT = "complaint", _("投诉处理岗")
    PARTY_MEMBER = "party_member", _("党员先锋岗")
    TIDAL = "tidal", _("潮汐岗")
    CANNOT_GET_DONE = "cannot_get_done", _("“办不成事”反映窗口")
    CARING = "caring", _("爱心专窗")


class Window(models.Model):
    """窗口 — a numbered counter at a site, with the posts it serves (seed 003 各分窗口按照序号排列).

    ``is_supervisor_window`` marks the "1号窗口" from which the 窗口负责人 supervises the hall
    (seed 003 公安窗口 2).
    """

    site = models.ForeignKey(
        Site, verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="windows"
    )
    number = models.PositiveSmallIntegerField(_("窗口号"))
    name = models.CharField(_("名称"), max_length=100)
    department = models.ForeignKey(
        Department,
        verbose_name=_("进驻部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="windows",
        help_text=_("综合窗口可不指定部门。"),
    )
    is_supervisor_window = models.BooleanField(_("负责人窗口（1号窗口）"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("窗口")
        verbose_name_plural = _("窗口")
        ordering = ["site_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["site", "number"], name="window_number_unique_per_site"),
            # The database has the last word when two managers save at once (seed 003 公安窗口 2).
            models.UniqueConstraint(
                fields=["site"],
                condition=models.Q(is_supervisor_window=True),
                name="window_one_supervisor_window_per_site",
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1, number__lte=999), name="window_number_range"
            ),
        ]

    def __str__(self) -> str:
        return _("%(number)s号窗口 %(name)s") % {"number": self.number, "name": self.name}

    def clean(self) -> None:
        if self.department_id and self.site_id and self.department.site_id != self.site_id:
            raise ValidationError({"department": _("部门不属于该服务场所。")})


class WindowPost(models.Model):
    """窗口岗位 — a post kind served at a window (DB4420 §5.2–5.3, seed 002)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    window = models.ForeignKey(Window, on_delete=models.CASCADE, related_name="posts")
    kind = models.CharField(_("岗位"), max_length=32, choices=PostKind.choices)

    class Meta:
        verbose_name = _("窗口岗位")
        verbose_name_plural = _("窗口岗位")
        constraints = [models.UniqueConstraint(fields=["window", "kind"], name="window_post_kind_unique")]

    def __str__(self) -> str:
        return f"{self.window} {self.get_kind_display()}"


class Weekday(models.IntegerChoices):
    MONDAY = 1, _("星期一")
    TUESDAY = 2, _("星期二")
    WEDNESDAY = 3, _("星期三")
    THURSDAY = 4, _("星期四")
    FRIDAY = 5, _("星期五")
    SATURDAY = 6, _("星期六")
    SUNDAY = 7, _("星期日")


class OpeningPeriod(models.Model):
    """办公时间 — one opening period of a site on a weekday (morning, lunch duty, afternoon, Saturday).

    Seed 003 (午间和周六休息时间窗口值班制) and seed 000 工作纪律 2 (上午、下午各两次考勤) rely on
    sites having separate morning and afternoon periods. Whether a given date is a working day at
    all (调休, holidays) is the working-day calendar's question, not this table's.
    """

    site = models.ForeignKey(
        Site, verbose_name=_("服务场所"), on_delete=models.CASCADE, related_name="opening_periods"
    )
    weekday = models.PositiveSmallIntegerField(_("星期"), choices=Weekday.choices)
    starts_at = models.TimeField(_("开始"))
    ends_at = models.TimeField(_("结束"))
    note = models.CharField(_("说明"), max_length=50, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("办公时间")
        verbose_name_plural = _("办公时间")
        ordering = ["site_id", "weekday", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__lt=models.F("ends_at")), name="opening_period_order"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__gte=1, weekday__lte=7), name="opening_period_weekday"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"
