"""Service items (事项) and everything a citizen must be told about them at once (一次性告知, 六清, 四告知)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from servicehall.sites.scoping import SiteScopedQuerySet


class ItemType(models.TextChoices):
    """六件管理 of seed 000 服务承诺制 8, as the issue names them."""

    IMMEDIATE = "immediate", _("即办件")
    COMMITTED = "committed", _("承诺件")
    JOINT = "joint", _("联办件")
    REPORTED = "reported", _("上报件")


class ServiceItemQuerySet(SiteScopedQuerySet):
    def published(self) -> ServiceItemQuerySet:
        return self.filter(is_published=True)


class ServiceItem(models.Model):
    """政务服务事项 — one item of the catalogue with its time limits and conditions.

    Serves seed 000 限时办结制 (即办/非即办, 承诺时限 within 法定时限), 服务承诺制 6 (六公开: 审批项目公开,
    办事内容公开, 收费公示), seed 001/004 服务咨询“四告知”, and seed 002 §6.3–6.4 (预审, 受理). The owning
    ``site`` maintains the item; ``ItemWindow`` rows say where it is handled.
    """

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("维护场所"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "sites.Department", verbose_name=_("实施部门"), on_delete=models.PROTECT, related_name="service_items"
    )
    code = models.CharField(_("事项编码"), max_length=40, unique=True)
    name = models.CharField(_("事项名称"), max_length=200)
    item_type = models.CharField(_("办件类型"), max_length=16, choices=ItemType.choices)
    statutory_limit_days = models.PositiveSmallIntegerField(_("法定办结时限（工作日）"))
    committed_limit_days = models.PositiveSmallIntegerField(_("承诺办结时限（工作日）"))
    deemed_approval_on_timeout = models.BooleanField(_("适用超时默认"), default=False)
    conditions = models.TextField(_("受理条件"), blank=True)
    legal_basis = models.TextField(_("设定依据"), blank=True)
    is_free = models.BooleanField(_("不收费"), default=True)
    delivery_at_window = models.BooleanField(_("窗口领取"), default=True)
    delivery_by_post = models.BooleanField(_("邮寄送达"), default=False)
    delivery_by_cabinet = models.BooleanField(_("24小时自助文件柜"), default=False)
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    is_published = models.BooleanField(_("对外公开"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ServiceItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("政务服务事项")
        verbose_name_plural = _("政务服务事项")
        ordering = ["code"]
        indexes = [models.Index(fields=["department", "is_published"], name="item_department_published")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(committed_limit_days__lte=models.F("statutory_limit_days")),
                name="item_committed_within_statutory",
            ),
            # 即办件 are due the same day; every other type has at least one working day.
            models.CheckConstraint(
                condition=models.Q(item_type="immediate", committed_limit_days=0)
                | (~models.Q(item_type="immediate") & models.Q(committed_limit_days__gte=1)),
                name="item_limits_match_type",
            ),
            models.CheckConstraint(
                condition=models.Q(delivery_at_window=True)
                | models.Q(delivery_by_post=True)
                | models.Q(delivery_by_cabinet=True),
                name="item_has_delivery_method",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_immediate(self) -> bool:
        return self.item_type == ItemType.IMMEDIATE

    def participating_departments(self) -> list[Any]:
        """The 牵头部门 first, then the 协办部门 in order: every department of a 联办件's 并联审批."""
        return [self.department, *(link.department for link in self.joint_departments.all())]

    def delivery_labels(self) -> list[str]:
        """The delivery options in the order the guide shows them (seed 002 附录C 一次办结, 送达方式)."""
        labels = []
        for field_name in ("delivery_at_window", "delivery_by_post", "delivery_by_cabinet"):
            if getattr(self, field_name):
                labels.append(str(self._meta.get_field(field_name).verbose_name))
        return labels


class MaterialForm(models.TextChoices):
    ORIGINAL = "original", _("原件")
    COPY = "copy", _("复印件")
    ORIGINAL_AND_COPY = "original_and_copy", _("原件和复印件")
    ELECTRONIC = "electronic", _("电子材料")


class Material(models.Model):
    """申请材料 — one required material of an item (一次性告知书 lists them all; 容缺 marks the deferrable)."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="materials")
    position = models.PositiveSmallIntegerField(_("序号"))
    name = models.CharField(_("材料名称"), max_length=200)
    form = models.CharField(
        _("材料形式"), max_length=20, choices=MaterialForm.choices, default=MaterialForm.ORIGINAL
    )
    copies = models.PositiveSmallIntegerField(_("份数"), default=1)
    is_mandatory = models.BooleanField(_("必需"), default=True)
    is_deferrable = models.BooleanField(_("可容缺"), default=False)
    notes = models.CharField(_("要求说明"), max_length=500, blank=True)
    sample_file = models.FileField(_("样表/空白表"), upload_to="catalog/samples/", blank=True)

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["item_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["item", "position"], name="material_position_unique"),
            # 容缺受理 defers a material the case needs; an optional material has nothing to defer.
            models.CheckConstraint(
                condition=models.Q(is_mandatory=True) | models.Q(is_deferrable=False),
                name="material_deferrable_only_if_mandatory",
            ),
            models.CheckConstraint(condition=models.Q(copies__gte=1), name="material_copies_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Fee(models.Model):
    """收费项目 — a fee with its legal basis (六公开: 收费公示; 六清: 规费一次算清)."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="fees")
    name = models.CharField(_("收费名称"), max_length=200)
    amount = models.DecimalField(_("金额（元）"), max_digits=10, decimal_places=2)
    legal_basis = models.CharField(_("收费依据"), max_length=500)

    class Meta:
        verbose_name = _("收费项目")
        verbose_name_plural = _("收费项目")
        ordering = ["item_id", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="fee_amount_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.amount}"


class ProcessStep(models.Model):
    """办理流程 — one step of an item's process (六公开: 办事内容公开; seed 001 公布办事流程)."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("序号"))
    name = models.CharField(_("环节"), max_length=100)
    description = models.CharField(_("说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("办理环节")
        verbose_name_plural = _("办理环节")
        ordering = ["item_id", "position"]
        constraints = [models.UniqueConstraint(fields=["item", "position"], name="step_position_unique")]

    def __str__(self) -> str:
        return self.name


class ItemWindow(models.Model):
    """办理窗口 — a window (at any site) where an item is handled: where the citizen should go."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="item_windows")
    window = models.ForeignKey("sites.Window", on_delete=models.CASCADE, related_name="item_windows")

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("办理窗口")
        verbose_name_plural = _("办理窗口")
        constraints = [models.UniqueConstraint(fields=["item", "window"], name="item_window_unique")]

    def __str__(self) -> str:
        return f"{self.item.code} @ {self.window}"


class JointDepartment(models.Model):
    """协办部门 — a department that takes part, beside the item's own 实施部门 (牵头部门), in a 联办件.

    Seed 000 服务承诺制 8 (六件管理: 跨部门事项联合办理) and seed 002 附录C 并联审批机制: a 联办件 is handled by
    at least two departments in parallel, so it has at least one of these; other types have none.
    The approval of a case (cases.start_approval) reads ``ServiceItem.participating_departments``.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="joint_departments")
    department = models.ForeignKey(
        "sites.Department", verbose_name=_("协办部门"), on_delete=models.PROTECT, related_name="joint_items"
    )
    position = models.PositiveSmallIntegerField(_("序号"))

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("协办部门")
        verbose_name_plural = _("协办部门")
        ordering = ["item_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["item", "department"], name="joint_department_unique"),
            models.UniqueConstraint(fields=["item", "position"], name="joint_department_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} {self.department_id}"


class PledgeKind(models.TextChoices):
    UNIT = "unit", _("单位承诺")
    COLLECTIVE = "collective", _("集体承诺")
    PERSONAL = "personal", _("个人承诺")


class ServicePledge(models.Model):
    """服务承诺 — a unit, collective or personal pledge made public (seed 001 公开服务承诺; seed 000 服务承诺制)."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="pledges")
    kind = models.CharField(_("承诺类型"), max_length=16, choices=PledgeKind.choices)
    staff = models.ForeignKey(
        "accounts.User",
        verbose_name=_("承诺人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pledges",
    )
    text = models.TextField(_("承诺内容"))
    position = models.PositiveSmallIntegerField(_("序号"), default=1)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("服务承诺")
        verbose_name_plural = _("服务承诺")
        ordering = ["site_id", "kind", "position"]
        constraints = [
            # A personal pledge names its maker (工作人员身份公开); unit and collective pledges name nobody.
            models.CheckConstraint(
                condition=models.Q(kind="personal", staff__isnull=False)
                | (~models.Q(kind="personal") & models.Q(staff__isnull=True)),
                name="pledge_staff_only_for_personal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.text[:20]}"


class SiteDisclosure(models.Model):
    """六公开 信息 — what a site makes public beyond its items: complaint channels and its notices.

    Seed 000 服务承诺制 6 (监督电话公开; the phone itself is ``Site.supervision_phone``) and seed 001/004
    服务监督规范 (群众意见箱, 举报监督电话, 网络投诉).
    """

    site = models.OneToOneField("sites.Site", on_delete=models.CASCADE, related_name="disclosure")
    complaint_channels = models.TextField(_("投诉渠道"), blank=True)
    service_notice = models.TextField(_("服务须知"), blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("公开信息")
        verbose_name_plural = _("公开信息")

    def __str__(self) -> str:
        return str(self.site)
