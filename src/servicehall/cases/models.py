"""Inquiries (咨询登记), cases (办件) and everything the mechanisms of seeds 000–004 keep about them.

Personal data (names, 身份证号, 统一社会信用代码, phone numbers) is stored normalised and shown masked
everywhere; no page, document, event or audit record carries it in the clear.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicehall.cases.states import CLOCK_RUNNING_STATES, FINISHED_STATES, CaseAction, CaseState
from servicehall.lib.identity import (
    mask_mobile_phone,
    mask_name,
    mask_resident_id,
    mask_unified_social_credit_code,
)
from servicehall.sites.scoping import SiteScopedQuerySet

# ---------------------------------------------------------------------------------------------
# Inquiries: 首问责任制, 导办/转办, 一跟到底


class InquiryChannel(models.TextChoices):
    """来访、电话、网络、来信 — the channels of DB4420 §3 首问责任制 (seed 002)."""

    ONSITE = "onsite", _("现场")
    PHONE = "phone", _("电话")
    ONLINE = "online", _("网络")
    LETTER = "letter", _("来信")


class InquiryStatus(models.TextChoices):
    OPEN = "open", _("跟进中")
    REFERRED = "referred", _("已导办/转办，跟进中")
    DONE = "done", _("已办结")


INQUIRY_TRANSITIONS: dict[str, frozenset[str]] = {
    InquiryStatus.OPEN: frozenset({InquiryStatus.REFERRED, InquiryStatus.DONE}),
    InquiryStatus.REFERRED: frozenset({InquiryStatus.REFERRED, InquiryStatus.DONE}),
    InquiryStatus.DONE: frozenset(),
}


class Inquiry(models.Model):
    """咨询登记 — one inquiry with the fields of DB4420 §6.2.13 (seed 002).

    The first staff member who records it is the 首问责任人 (seed 000 首问责任制 1; DB4420 §3: where two
    or more answer together, the highest 职级). Responsibility stays with them through every 导办/转办
    until the matter is done (DB4420 §3 “一跟到底”, §6.4.2 去向清楚，责任明确).
    """

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("咨询方式"), max_length=16, choices=InquiryChannel.choices)
    asker_name = models.CharField(_("咨询人"), max_length=50)
    asker_organisation = models.CharField(_("咨询人单位"), max_length=100, blank=True)
    asker_contact = models.CharField(_("联系方式"), max_length=11, blank=True)
    item = models.ForeignKey(
        "catalog.ServiceItem",
        verbose_name=_("咨询事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    question = models.TextField(_("咨询内容"))
    answer = models.TextField(_("答复内容"), blank=True)
    asked_at = models.DateTimeField(_("咨询时间"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    first_responder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("首问责任人"),
        on_delete=models.PROTECT,
        related_name="first_responder_inquiries",
    )
    answered_with = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("共同答复人"), blank=True, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=InquiryStatus.choices, default=InquiryStatus.OPEN
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("转为办件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    outcome = models.CharField(_("办结说明"), max_length=500, blank=True)
    referred_at = models.DateTimeField(_("最近导办/转办时间"), null=True, blank=True)
    done_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    version = models.PositiveIntegerField(_("版本"), default=1)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("咨询登记")
        verbose_name_plural = _("咨询登记")
        ordering = ["-asked_at"]
        indexes = [
            models.Index(fields=["first_responder", "status"], name="inquiry_owner_status"),
            models.Index(fields=["site", "asked_at"], name="inquiry_site_asked"),
        ]

    def __str__(self) -> str:
        return f"咨询 #{self.pk}"

    @property
    def masked_asker_name(self) -> str:
        return mask_name(self.asker_name)

    @property
    def masked_asker_contact(self) -> str:
        return mask_mobile_phone(self.asker_contact)


class ReferralKind(models.TextChoices):
    GUIDE = "guide", _("导办（引导至窗口）")
    TRANSFER = "transfer", _("转办（转交部门）")
    OUTSIDE = "outside", _("告知承办单位（非本中心职责）")


class Referral(models.Model):
    """导办/转办记录 — where a person or an inquiry was sent (去向) and why.

    Seed 000 首问责任制 3–4 (导办到相关窗口; 告知承办部门及地址), seed 003 第十九条 (导办员带领前往),
    seed 004 零推诿 (转办服务). The inquiry keeps its 首问责任人 (一跟到底).
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="referrals")
    kind = models.CharField(_("方式"), max_length=16, choices=ReferralKind.choices)
    to_window = models.ForeignKey(
        "sites.Window",
        verbose_name=_("去向窗口"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_department = models.ForeignKey(
        "sites.Department",
        verbose_name=_("去向部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    destination = models.CharField(_("去向"), max_length=200)
    reason = models.CharField(_("原因"), max_length=500)
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    referred_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("导办/转办记录")
        verbose_name_plural = _("导办/转办记录")
        ordering = ["referred_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.destination}"


# ---------------------------------------------------------------------------------------------
# Cases


class ApplicantKind(models.TextChoices):
    PERSON = "person", _("自然人")
    ORGANISATION = "organisation", _("法人或其他组织")


class CardLevel(models.IntegerChoices):
    """电子监察 colours: what has been recorded, so a card is issued once (seed 000 限时办结制 九)."""

    NONE = 0, _("无")
    YELLOW = 1, _("黄牌预警")
    RED = 2, _("红牌督办")


class DeliveryMethod(models.TextChoices):
    """送达方式 of DB4420 §6.4.1 (seed 002): 窗口领取, 快递送达, 24小时便民文件柜."""

    WINDOW = "window", _("窗口领取")
    POST = "post", _("邮寄送达")
    CABINET = "cabinet", _("24小时自助文件柜")


class Decision(models.TextChoices):
    APPROVE = "approve", _("准予")
    REFUSE = "refuse", _("不予")


class CaseQuerySet(SiteScopedQuerySet):
    def restrict(self, user: Any, capability: str | None = None) -> CaseQuerySet:
        """Cases of the user's sites, and cases carrying an approval task of one of their sites."""
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        if capability is not None and not user.has_capability(capability):
            return self.none()
        site_ids = user.accessible_site_ids()
        task_cases = ApprovalTask.objects.filter(site_id__in=site_ids).values("case_id")
        return self.filter(models.Q(site_id__in=site_ids) | models.Q(pk__in=task_cases))

    def open(self) -> CaseQuerySet:
        return self.exclude(state__in=FINISHED_STATES)


class Case(models.Model):
    """办件 — one application for one item, from 收件 to 送达 (seeds 000 限时办结制/一次性告知制, 002 §6.4, 004).

    ``first_handler`` is the 首办责任人 (DB4420 §3). The clock fields serve 限时办结制 (seed 000): the due
    dates are recomputed from the working days consumed whenever the clock resumes; ``card_level`` makes
    every yellow warning and red card of 电子监察 happen once. ``version`` is the optimistic lock that
    stops two clerks overwriting each other.
    """

    # Few indexes on purpose: a card claim rewrites every index of the row (card_level is in the partial
    # indexes' predicates), so site and first_handler are served by the composite indexes below, and
    # item, department and inquiry, never filtered on a hot path, have none.
    site = models.ForeignKey(
        "sites.Site", verbose_name=_("受理场所"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    item = models.ForeignKey(
        "catalog.ServiceItem",
        verbose_name=_("事项"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    department = models.ForeignKey(
        "sites.Department",
        verbose_name=_("实施部门"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    number = models.CharField(_("办件编号"), max_length=20, unique=True)
    state = models.CharField(_("状态"), max_length=24, choices=CaseState.choices, default=CaseState.DRAFT)
    version = models.PositiveIntegerField(_("版本"), default=1)

    applicant_kind = models.CharField(_("申请人类型"), max_length=16, choices=ApplicantKind.choices)
    applicant_name = models.CharField(_("申请人"), max_length=100)
    applicant_id_number = models.CharField(_("证件号码"), max_length=18)
    applicant_phone = models.CharField(_("联系电话"), max_length=11)
    agent_name = models.CharField(_("经办人"), max_length=50, blank=True)

    first_handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("首办责任人"),
        on_delete=models.PROTECT,
        related_name="first_handled_cases",
        db_index=False,
    )
    inquiry = models.ForeignKey(
        Inquiry,
        verbose_name=_("来源咨询"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    is_green_channel = models.BooleanField(_("绿色通道"), default=False)
    green_channel_reason = models.CharField(_("绿色通道理由"), max_length=300, blank=True)
    visit_count = models.PositiveSmallIntegerField(_("到场次数"), default=1)
    supplement_count = models.PositiveSmallIntegerField(_("补正次数"), default=0)

    # The clock (限时办结制); limits are copied at acceptance so a later catalogue edit does not move them.
    statutory_limit_days = models.PositiveSmallIntegerField(_("法定时限（工作日）"), default=0)
    committed_limit_days = models.PositiveSmallIntegerField(_("承诺时限（工作日）"), default=0)
    statutory_extension_days = models.PositiveSmallIntegerField(_("法定可延长（工作日）"), default=0)
    extension_days = models.PositiveSmallIntegerField(_("已批准延长（工作日）"), default=0)
    is_immediate = models.BooleanField(_("即办件"), default=False)
    accepted_on = models.DateField(_("受理日期"), null=True, blank=True)
    clock_running = models.BooleanField(_("计时中"), default=False)
    segment_started_on = models.DateField(_("本段计时起算日"), null=True, blank=True)
    working_days_used = models.PositiveIntegerField(_("已用工作日（不含本段）"), default=0)
    statutory_due = models.DateField(_("法定办结期限"), null=True, blank=True)
    committed_due = models.DateField(_("承诺办结期限"), null=True, blank=True)
    yellow_from = models.DateField(_("黄牌预警起始日"), null=True, blank=True)
    due_is_provisional = models.BooleanField(_("期限为暂定（日历未发布）"), default=False)
    card_level = models.PositiveSmallIntegerField(
        _("监察等级"), choices=CardLevel.choices, default=CardLevel.NONE
    )
    resume_state = models.CharField(_("恢复后状态"), max_length=24, choices=CaseState.choices, blank=True)
    suspension_reason = models.CharField(_("中止原因"), max_length=32, blank=True)

    # 容缺受理
    deferred_due = models.DateField(_("容缺材料补齐期限"), null=True, blank=True)
    deferred_lapsed = models.BooleanField(_("容缺期限已届满"), default=False)

    # Outcomes
    refusal_reason = models.TextField(_("不予受理理由"), blank=True)
    refusal_legal_basis = models.TextField(_("不予受理依据"), blank=True)
    decision = models.CharField(_("决定"), max_length=16, choices=Decision.choices, blank=True)
    decision_reason = models.TextField(_("决定理由"), blank=True)
    result_text = models.TextField(_("办理结果"), blank=True)
    completed_on_time = models.BooleanField(_("按时办结"), null=True, blank=True)
    working_days_taken = models.PositiveIntegerField(_("实际用时（工作日）"), null=True, blank=True)
    delivery_method = models.CharField(
        _("送达方式"), max_length=16, choices=DeliveryMethod.choices, blank=True
    )
    delivery_tracking_number = models.CharField(_("快递单号"), max_length=40, blank=True)
    delivery_pickup_code = models.CharField(_("取件码"), max_length=8, blank=True)
    withdrawal_reason = models.CharField(_("撤回原因"), max_length=500, blank=True)

    # Each transition stamps its time.
    created_at = models.DateTimeField(_("收件时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    supplement_requested_at = models.DateTimeField(_("补正告知时间"), null=True, blank=True)
    supplement_received_at = models.DateTimeField(_("补正收件时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    not_accepted_at = models.DateTimeField(_("不予受理时间"), null=True, blank=True)
    deferred_supplied_at = models.DateTimeField(_("容缺材料补齐时间"), null=True, blank=True)
    suspended_at = models.DateTimeField(_("中止时间"), null=True, blank=True)
    resumed_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)
    in_approval_at = models.DateTimeField(_("提交审批时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    green_channel_at = models.DateTimeField(_("绿色通道开通时间"), null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["site", "state"], name="case_site_state"),
            models.Index(fields=["first_handler", "state"], name="case_handler_state"),
            # The sweep reads only the rows that can still change colour: each index shrinks as cards are issued.
            models.Index(
                fields=["committed_due"],
                condition=models.Q(clock_running=True, card_level__lt=2),
                name="case_red_watch",
            ),
            models.Index(
                fields=["yellow_from"],
                condition=models.Q(clock_running=True, card_level__lt=1),
                name="case_yellow_watch",
            ),
            models.Index(
                fields=["deferred_due"],
                condition=models.Q(deferred_due__isnull=False, deferred_lapsed=False),
                name="case_deferred_watch",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(extension_days__lte=models.F("statutory_extension_days")),
                name="case_extension_within_statutory",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="not_accepted")
                | (~models.Q(refusal_reason="") & ~models.Q(refusal_legal_basis="")),
                name="case_not_accepted_has_reason_and_basis",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def clock_should_run(self) -> bool:
        return self.state in CLOCK_RUNNING_STATES

    @property
    def masked_applicant_name(self) -> str:
        if self.applicant_kind == ApplicantKind.ORGANISATION:
            return self.applicant_name
        return mask_name(self.applicant_name)

    @property
    def masked_applicant_id_number(self) -> str:
        if self.applicant_kind == ApplicantKind.ORGANISATION:
            return mask_unified_social_credit_code(self.applicant_id_number)
        return mask_resident_id(self.applicant_id_number)

    @property
    def masked_applicant_phone(self) -> str:
        return mask_mobile_phone(self.applicant_phone)

    @property
    def masked_agent_name(self) -> str:
        return mask_name(self.agent_name)


class ItemCaseSetting(models.Model):
    """事项办件设置 — per-item settings the catalogue does not hold: the statutory extension (法定延长期限).

    Seed 000 限时办结制 三 (依据法律、法规明确办事时限): an extension can never exceed what the law allows;
    an item without a row allows none.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    item = models.OneToOneField("catalog.ServiceItem", on_delete=models.CASCADE, related_name="case_setting")
    statutory_extension_days = models.PositiveSmallIntegerField(_("法定可延长（工作日）"), default=0)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("事项办件设置")
        verbose_name_plural = _("事项办件设置")

    def __str__(self) -> str:
        return f"{self.item_id}: +{self.statutory_extension_days}"


class MaterialStatus(models.TextChoices):
    MISSING = "missing", _("未收")
    RECEIVED = "received", _("已收")
    DEFECTIVE = "defective", _("有缺陷")
    DEFERRED = "deferred", _("容缺待补")


class MaterialCheck(models.Model):
    """材料核对 — one line of the case's checklist, copied from the item's materials (六清: 材料一次收清).

    ``submission_version`` counts what the applicant handed in for this material and ``submission_hash``
    fingerprints it, so the one-time-notice rule (seed 000 一次性告知制 2–3; 责任追究制 二1②) can tell
    whether a material flagged late was the very same submission that was there before.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="material_checks")
    material = models.ForeignKey(
        "catalog.Material", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveSmallIntegerField(_("序号"))
    name = models.CharField(_("材料名称"), max_length=200)
    form = models.CharField(_("材料形式"), max_length=40)
    copies = models.PositiveSmallIntegerField(_("份数"), default=1)
    is_mandatory = models.BooleanField(_("必需"), default=True)
    is_deferrable = models.BooleanField(_("可容缺"), default=False)
    requirements = models.CharField(_("要求说明"), max_length=500, blank=True)
    status = models.CharField(
        _("核对结果"), max_length=16, choices=MaterialStatus.choices, default=MaterialStatus.MISSING
    )
    defect = models.CharField(_("缺陷说明"), max_length=500, blank=True)
    submission_version = models.PositiveIntegerField(_("提交版本"), default=0)
    submission_hash = models.CharField(_("提交指纹"), max_length=64, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_at = models.DateTimeField(_("核对时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("材料核对")
        verbose_name_plural = _("材料核对")
        ordering = ["case_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["case", "position"], name="material_check_position_unique")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_present(self) -> bool:
        return self.status in (MaterialStatus.RECEIVED, MaterialStatus.DEFECTIVE)


class NoticeKind(models.TextChoices):
    ONE_TIME = "one_time", _("一次性告知书")
    ACCEPTANCE = "acceptance", _("受理通知书")
    NOT_ACCEPTED = "not_accepted", _("不予受理告知书")
    COMPLETION = "completion", _("办结通知书")


class Notice(models.Model):
    """告知书/通知书 — a document given to the applicant; the 一次性告知书 keeps its whole list.

    Seed 000 一次性告知制 2–3 (一次性告知需要的条件、材料、办理程序、办结时限，填写一次性告知书，加盖印章;
    不予受理的理由), seed 001/004 四告知, seed 003 第十八条 (一次性退办).
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("文书类型"), max_length=16, choices=NoticeKind.choices)
    sequence = models.PositiveSmallIntegerField(_("序号"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("出具时间"), default=timezone.now)
    conditions = models.TextField(_("受理条件"), blank=True)
    process = models.TextField(_("办理程序"), blank=True)
    time_limits = models.TextField(_("办理时限"), blank=True)
    reason = models.TextField(_("理由"), blank=True)
    legal_basis = models.TextField(_("依据"), blank=True)
    body = models.TextField(_("正文"), blank=True)
    checklist_snapshot = models.JSONField(_("出具时的材料核对情况"), default=list)

    class Meta:
        verbose_name = _("告知文书")
        verbose_name_plural = _("告知文书")
        ordering = ["case_id", "sequence"]
        constraints = [models.UniqueConstraint(fields=["case", "sequence"], name="notice_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.case_id}-{self.sequence} {self.get_kind_display()}"

    @property
    def number(self) -> str:
        return f"{self.case.number}-{self.sequence:02d}"


class NoticeProblem(models.TextChoices):
    MISSING = "missing", _("缺少")
    DEFECTIVE = "defective", _("需更正")
    DEFERRED = "deferred", _("容缺后补")


class NoticeItem(models.Model):
    """一次性告知书所列材料 — one material the applicant must supply or correct, with what is required.

    Seed 000 一次性告知制 2 (详细写明应提交的所有材料及要求): the kept list the one-time rule is checked against.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="items")
    material_check = models.ForeignKey(MaterialCheck, on_delete=models.CASCADE, related_name="notice_items")
    problem = models.CharField(_("问题"), max_length=16, choices=NoticeProblem.choices)
    name = models.CharField(_("材料名称"), max_length=200)
    requirement = models.CharField(_("要求"), max_length=800)
    detail = models.CharField(_("具体问题"), max_length=500, blank=True)
    submission_version = models.PositiveIntegerField(_("告知时的提交版本"), default=0)

    class Meta:
        verbose_name = _("告知材料")
        verbose_name_plural = _("告知材料")
        ordering = ["notice_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "material_check"], name="notice_item_once_per_material")
        ]

    def __str__(self) -> str:
        return f"{self.get_problem_display()} {self.name}"


class ClockSegment(models.Model):
    """计时段 — one stretch during which the case's clock ran (限时办结制, seed 000).

    The clock is the sum of the segments; waiting for the applicant (补正 after acceptance, 容缺 lapse)
    closes the open segment and answering opens a new one.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clock_segments")
    started_on = models.DateField(_("起算日"))
    started_at = models.DateTimeField(_("开始时间"))
    ended_on = models.DateField(_("停止日"), null=True, blank=True)
    ended_at = models.DateTimeField(_("停止时间"), null=True, blank=True)
    working_days = models.PositiveIntegerField(_("本段工作日"), null=True, blank=True)
    stop_reason = models.CharField(_("停止原因"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("计时段")
        verbose_name_plural = _("计时段")
        ordering = ["case_id", "started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(ended_at__isnull=True), name="clock_one_open_segment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.started_on} – {self.ended_on or '…'}"


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")


class ExtensionRequest(models.Model):
    """延期申请 — a request to extend a case's time limit, approved by a supervisor.

    Seed 000 限时办结制 三–五: the limit is the law's; an extension needs a reason, a supervisor's
    approval, and can never go beyond the statutory extension.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extension_requests")
    days = models.PositiveSmallIntegerField(_("延长工作日"))
    reason = models.CharField(_("理由"), max_length=500)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    status = models.CharField(
        _("状态"), max_length=16, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=500, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(status="pending"), name="extension_one_pending_per_case"
            ),
            models.CheckConstraint(condition=models.Q(days__gte=1), name="extension_days_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} +{self.days}"


class ApprovalMode(models.TextChoices):
    SEQUENTIAL = "sequential", _("串联审批")
    PARALLEL = "parallel", _("并联审批")


class TaskStatus(models.TextChoices):
    WAITING = "waiting", _("待前序环节")
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("同意")
    REFUSED = "refused", _("不同意")
    DEEMED_APPROVED = "deemed_approved", _("超时默认同意")
    CANCELLED = "cancelled", _("已撤销")


TASK_DONE_STATUSES = frozenset({TaskStatus.APPROVED, TaskStatus.DEEMED_APPROVED})


class ApprovalTask(models.Model):
    """审批任务 — one department's part of the back-office approval (后台审批岗, DB4420 §5.2, seed 002).

    Tasks run in sequence or in parallel (并联审批, 联办件, seed 000 六件管理 跨部门事项联合办理), each with
    its own due date in working days. A task not acted on by then is, where the item says so, deemed
    approved (超时默认, seed 000 服务承诺制 5). ``site`` is the department's site: its approvers see it.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="approval_tasks")
    department = models.ForeignKey(
        "sites.Department", verbose_name=_("审批部门"), on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveSmallIntegerField(_("顺序"))
    mode = models.CharField(_("方式"), max_length=16, choices=ApprovalMode.choices)
    limit_days = models.PositiveSmallIntegerField(_("时限（工作日）"))
    status = models.CharField(
        _("状态"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.WAITING
    )
    deemed_approval_on_timeout = models.BooleanField(_("适用超时默认"), default=False)
    activated_on = models.DateField(_("开始日期"), null=True, blank=True)
    due_date = models.DateField(_("审批期限"), null=True, blank=True)
    paused_remaining_days = models.IntegerField(_("暂停时剩余工作日"), null=True, blank=True)
    card_level = models.PositiveSmallIntegerField(
        _("监察等级"), choices=CardLevel.choices, default=CardLevel.NONE
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    opinion = models.TextField(_("审批意见"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    version = models.PositiveIntegerField(_("版本"), default=1)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("审批任务")
        verbose_name_plural = _("审批任务")
        ordering = ["case_id", "position"]
        indexes = [
            models.Index(fields=["department", "status"], name="task_department_status"),
            models.Index(
                fields=["due_date"],
                condition=models.Q(status="pending", card_level__lt=2),
                name="task_overdue_watch",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["case", "position"], name="task_position_unique"),
            models.CheckConstraint(condition=models.Q(limit_days__gte=1), name="task_limit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.position}"


class CaseEvent(models.Model):
    """办件日志 — one line of the 服务日志台账 (seeds 001/004 建立服务日志台账，记录各业务环节的办理过程).

    Append-only: who did what, when, the state before and after and what changed. The figures of
    ``cases.metrics`` are computed from these rows, so they can always be recomputed.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("动作"), max_length=32, choices=CaseAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(_("操作人"), max_length=150)
    occurred_at = models.DateTimeField(_("时间"), default=timezone.now)
    from_state = models.CharField(_("原状态"), max_length=24, blank=True)
    to_state = models.CharField(_("新状态"), max_length=24, blank=True)
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("办件日志")
        verbose_name_plural = _("办件日志")
        ordering = ["case_id", "occurred_at", "id"]
        indexes = [
            models.Index(fields=["case", "occurred_at"], name="case_event_case_time"),
            models.Index(fields=["action", "occurred_at"], name="case_event_action_time"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"


class SupervisionCard(models.Model):
    """黄牌/红牌 — one electronic-supervision card on a case or an approval task, issued once.

    Seed 000 限时办结制 八–九 (及时办结率, 责任追究) and 责任追究制 二1⑤ (未按规定时限完成).
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="cards")
    approval_task = models.ForeignKey(
        ApprovalTask, null=True, blank=True, on_delete=models.CASCADE, related_name="cards"
    )
    level = models.PositiveSmallIntegerField(_("等级"), choices=CardLevel.choices)
    issued_at = models.DateTimeField(_("发出时间"))
    due_date = models.DateField(_("当时的期限"), null=True, blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "sites.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("监察牌")
        verbose_name_plural = _("监察牌")
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "level"],
                condition=models.Q(approval_task__isnull=True),
                name="card_once_per_case",
            ),
            models.UniqueConstraint(
                fields=["approval_task", "level"],
                condition=models.Q(approval_task__isnull=False),
                name="card_once_per_task",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} {self.case_id}"


class Notification(models.Model):
    """站内提醒 — a message to a staff member (首办责任人, 窗口负责人, 审批人) about a case or an inquiry.

    Seed 000 首问责任制 5 (首问责任人应准确掌握事项进展情况) and 限时办结制 九 (督办: the red and yellow cards).
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_notifications"
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("类型"), max_length=32)
    message = models.CharField(_("内容"), max_length=300)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("站内提醒")
        verbose_name_plural = _("站内提醒")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.message[:30]


class ApplicantMessageStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")


class ApplicantMessage(models.Model):
    """申请人短信（发件箱） — a message for the applicant; a gateway outside the platform sends it.

    The outbox row is written in the same transaction as the change it reports, so nothing is told
    that did not happen (seed 000 一次性告知制; 首问责任制 5–6 服务对象有权查询事项办理情况).
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="applicant_messages")
    phone = models.CharField(_("手机号"), max_length=11)
    kind = models.CharField(_("类型"), max_length=32)
    text = models.CharField(_("内容"), max_length=300)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=ApplicantMessageStatus.choices,
        default=ApplicantMessageStatus.PENDING,
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("申请人短信")
        verbose_name_plural = _("申请人短信")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="applicant_message_outbox")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"
