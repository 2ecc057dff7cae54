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
    ESCALATION = "escalation", _("责任追究升级")


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


# ---------------------------------------------------------------------------------------------
# Complaints (投诉) — GB/T 36113 受理 → 调查 → 处置 → 反馈 → 归档


class ComplaintChannel(models.TextChoices):
    """投诉渠道 of seed 004 服务对象监督 (意见箱、举报监督电话、网络投诉) and the 投诉处理岗 of seed 002 §5.2."""

    DESK = "desk", _("窗口投诉处理岗")
    PHONE = "phone", _("电话")
    WEB = "web", _("网上表单")
    SUGGESTION_BOX = "suggestion_box", _("意见箱")
    HOTLINE_12345 = "hotline_12345", _("12345 转办")


class ComplaintKind(models.TextChoices):
    COMPLAINT = "complaint", _("投诉")
    SUGGESTION = "suggestion", _("意见建议")


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", _("已受理")
    INVESTIGATING = "investigating", _("调查中")
    DISPOSED = "disposed", _("已处置")
    REPLIED = "replied", _("已反馈")
    FILED = "filed", _("已归档")


class ComplaintConclusion(models.TextChoices):
    UPHELD = "upheld", _("属实")
    PARTLY_UPHELD = "partly_upheld", _("部分属实")
    NOT_UPHELD = "not_upheld", _("不属实")


UPHELD_CONCLUSIONS = frozenset({ComplaintConclusion.UPHELD, ComplaintConclusion.PARTLY_UPHELD})

# The whole flow: (from, to) → the timestamp field the transition stamps. The dispatcher refuses any other pair.
COMPLAINT_TRANSITIONS: dict[tuple[str, str], str] = {
    (ComplaintStatus.RECEIVED, ComplaintStatus.INVESTIGATING): "investigation_started_at",
    (ComplaintStatus.INVESTIGATING, ComplaintStatus.DISPOSED): "disposed_at",
    (ComplaintStatus.DISPOSED, ComplaintStatus.REPLIED): "replied_at",
    (ComplaintStatus.REPLIED, ComplaintStatus.FILED): "filed_at",
}
COMPLAINT_OPEN_STATUSES = frozenset(
    {ComplaintStatus.RECEIVED, ComplaintStatus.INVESTIGATING, ComplaintStatus.DISPOSED}
)


class Complaint(models.Model):
    """投诉/意见建议 — one complaint or suggestion and its handling (seed 003 五.1 对群众投诉要及时调查处理;
    seed 004 服务对象监督; GB/T 36113 via seed 002 §2).

    The complainant's name and phone are kept for the reply only: pages show them masked, and the accused
    staff member can open neither the complaint nor anything naming the complainant (seed 000 十不准 9).
    ``check_code_hash`` lets a member of the public follow the complaint with its number and check code.
    """

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+"
    )
    number = models.CharField(_("投诉编号"), max_length=20, unique=True)
    check_code_hash = models.CharField(max_length=64)
    kind = models.CharField(
        _("类别"), max_length=16, choices=ComplaintKind.choices, default=ComplaintKind.COMPLAINT
    )
    channel = models.CharField(_("渠道"), max_length=20, choices=ComplaintChannel.choices)
    content = models.TextField(_("投诉内容"), max_length=2000)
    complainant_name = models.CharField(_("投诉人"), max_length=50, blank=True)
    complainant_phone = models.CharField(_("联系电话"), max_length=11, blank=True)
    hotline_reference = models.CharField(_("12345 工单号"), max_length=40, blank=True)
    accused_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("被投诉人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    window = models.ForeignKey(
        "sites.Window",
        verbose_name=_("窗口"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=ComplaintStatus.choices,
        default=ComplaintStatus.RECEIVED,
        db_index=True,
    )
    deadline = models.DateField(_("办理期限"), db_index=True)
    # Set by the overdue sweep when it finds ``deadline`` passed; an extended deadline is claimed again.
    overdue_deadline = models.DateField(_("已逾期的期限"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("逾期登记时间"), null=True, blank=True)
    conclusion = models.CharField(
        _("调查结论"), max_length=16, choices=ComplaintConclusion.choices, blank=True
    )
    disposal = models.TextField(_("处置意见"), max_length=2000, blank=True)
    reply = models.TextField(_("答复内容"), max_length=2000, blank=True)
    filing_note = models.CharField(_("归档说明"), max_length=500, blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(_("受理时间"), default=timezone.now, db_index=True)
    investigation_started_at = models.DateTimeField(_("开始调查时间"), null=True, blank=True)
    disposed_at = models.DateTimeField(_("处置时间"), null=True, blank=True)
    replied_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    filed_at = models.DateTimeField(_("归档时间"), null=True, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("投诉")
        verbose_name_plural = _("投诉")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        # Only the number: audit labels and page titles must never carry the complainant.
        return self.number

    @property
    def is_overdue(self) -> bool:
        return self.status in COMPLAINT_OPEN_STATUSES and self.deadline < timezone.localdate()


class ComplaintEvent(models.Model):
    """投诉处理记录 — one entry of a complaint's timeline (受理, 调查, notes, 处置, 反馈, 归档); append-only."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(_("说明"), max_length=2000, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("投诉处理记录")
        verbose_name_plural = _("投诉处理记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id}:{self.action}"


# ---------------------------------------------------------------------------------------------
# Inspections (明察暗访)


class ChecklistItem(models.Model):
    """明察暗访检查项 — one line of the inspection checklist, with its deduction (seed 003 第三十三条 明察暗访扣分;
    the items come from seed 000 文明服务规范 二/四, 环境卫生管理制度, 安全管理制度 and seed 002 §6.4.4).

    Centre-wide data, not site-owned: every site is inspected against the same list.
    """

    code = models.CharField(_("编码"), max_length=32, unique=True)
    title = models.CharField(_("检查项"), max_length=50)
    requirement = models.CharField(_("检查标准"), max_length=300)
    seed_reference = models.CharField(_("依据"), max_length=120)
    deduction = models.PositiveSmallIntegerField(_("扣分"))
    violation_kind = models.CharField(_("对应违规类型"), max_length=40, choices=ViolationKind.choices)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("检查项")
        verbose_name_plural = _("检查项")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.title


class InspectionMode(models.TextChoices):
    OPEN = "open", _("明察")
    COVERT = "covert", _("暗访")


class Inspection(models.Model):
    """明察暗访记录 — one inspection of a site (and optionally one window) by a 窗口负责人 or 社会监督员
    (seed 004 社会监督: 定期巡查、随机明察暗访)."""

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+"
    )
    window = models.ForeignKey(
        "sites.Window",
        verbose_name=_("窗口"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    mode = models.CharField(_("方式"), max_length=8, choices=InspectionMode.choices)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("检查人"), on_delete=models.PROTECT, related_name="+"
    )
    inspected_at = models.DateTimeField(_("检查时间"), default=timezone.now, db_index=True)
    summary = models.TextField(_("检查情况"), max_length=2000, blank=True)
    total_deduction = models.PositiveIntegerField(_("合计扣分"), default=0)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("明察暗访记录")
        verbose_name_plural = _("明察暗访记录")
        ordering = ["-inspected_at"]

    def __str__(self) -> str:
        return f"明察暗访 #{self.pk}"


class InspectionFinding(models.Model):
    """检查发现问题 — one checklist item found wanting, with its deduction and the staff member concerned."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="findings")
    item = models.ForeignKey(
        ChecklistItem, verbose_name=_("检查项"), on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("责任人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    deduction = models.PositiveSmallIntegerField(_("扣分"))
    note = models.CharField(_("问题说明"), max_length=500, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("检查发现问题")
        verbose_name_plural = _("检查发现问题")
        ordering = ["item__position", "id"]

    def __str__(self) -> str:
        return f"{self.inspection_id}:{self.item_id}"


class InspectionPhoto(models.Model):
    """检查照片 — photographic evidence of an inspection (JPG/PNG, size-limited, content-checked)."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("照片"), upload_to="supervision/inspections/")
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("检查照片")
        verbose_name_plural = _("检查照片")

    def __str__(self) -> str:
        return self.file.name


# ---------------------------------------------------------------------------------------------
# Appeals and escalation (申诉, 责任追究升级)


class AppealStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    UPHELD = "upheld", _("申诉成立")
    REJECTED = "rejected", _("申诉不成立")


class ViolationAppeal(models.Model):
    """违规申诉 — a staff member's appeal against a violation recorded against them; a supervisor decides.
    An upheld appeal sets the violation to 不予认定 (seed 000 责任追究制: 视情节轻重, so the facts may be contested)."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    violation = models.ForeignKey(Violation, on_delete=models.PROTECT, related_name="appeals")
    appellant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("申诉理由"), max_length=1000)
    status = models.CharField(
        _("状态"), max_length=16, choices=AppealStatus.choices, default=AppealStatus.PENDING
    )
    submitted_at = models.DateTimeField(_("申诉时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decision_reason = models.CharField(_("处理意见"), max_length=500, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("违规申诉")
        verbose_name_plural = _("违规申诉")
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["violation"],
                condition=models.Q(status="pending"),
                name="one_pending_appeal_per_violation",
            )
        ]

    def __str__(self) -> str:
        return f"申诉 #{self.pk}"


class EscalationRule(models.TextChoices):
    REPEATED_TIER_ONE = "repeated_tier_one", _("同类批评教育情形 12 个月内再次发生")
    REPEATED_COMPLAINTS = "repeated_complaints", _("12 个月内多次受到投诉")


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("待决定")
    ACCEPTED = "accepted", _("已采纳")
    REJECTED = "rejected", _("不予采纳")


class TierProposal(models.Model):
    """追究层级升级建议 — the system proposes a heavier tier (seed 000 责任追究制 二2③ 经批评教育仍未改正,
    二3③ 多次受到投诉); a person accepts or rejects it with a reason. Both the proposal and the decision are kept.
    ``kind`` is the repeated violation kind (blank for repeated complaints)."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("责任人"), on_delete=models.PROTECT, related_name="+"
    )
    rule = models.CharField(_("规则"), max_length=32, choices=EscalationRule.choices)
    kind = models.CharField(_("违规类型"), max_length=40, choices=ViolationKind.choices, blank=True)
    proposed_tier = models.PositiveSmallIntegerField(_("建议层级"), choices=Tier.choices)
    trigger = models.ForeignKey(Violation, on_delete=models.PROTECT, related_name="+")
    evidence = models.ManyToManyField(Violation, related_name="proposals")
    status = models.CharField(
        _("状态"), max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.PENDING
    )
    proposed_at = models.DateTimeField(_("提出时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    decision_reason = models.CharField(_("决定理由"), max_length=500, blank=True)
    resulting_violation = models.ForeignKey(
        Violation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("升级建议")
        verbose_name_plural = _("升级建议")
        ordering = ["-proposed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "rule", "kind"],
                condition=models.Q(status="pending"),
                name="one_pending_proposal_per_rule",
            )
        ]

    def __str__(self) -> str:
        return f"升级建议 #{self.pk}"


# ---------------------------------------------------------------------------------------------
# 社会公众满意度调查表 (seed 002 附录E)


class QuestionKind(models.TextChoices):
    FIVE_LEVEL = "five_level", _("五级满意度")
    YES_NO = "yes_no", _("是/否")
    TEXT = "text", _("文字")


SATISFACTION_LEVELS = [
    ("5", _("非常满意")),
    ("4", _("满意")),
    ("3", _("基本满意")),
    ("2", _("不满意")),
    ("1", _("非常不满意")),
]
YES_NO_ANSWERS = [("yes", _("是")), ("no", _("否"))]


class SurveyQuestion(models.Model):
    """满意度调查题目 — one question of the 社会公众满意度调查表 (seed 002 附录E; the seed's text stops at its
    table of contents, so the questions follow the seed's own evaluation themes — see ADR)."""

    code = models.CharField(max_length=32, unique=True)
    text = models.CharField(_("题目"), max_length=200)
    kind = models.CharField(_("题型"), max_length=16, choices=QuestionKind.choices)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("调查题目")
        verbose_name_plural = _("调查题目")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.text


class Survey(models.Model):
    """满意度调查 — the survey one site publishes to the public (seed 002 §7 服务评价与改进, 附录E)."""

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("标题"), max_length=100)
    is_published = models.BooleanField(_("已发布"), default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("满意度调查")
        verbose_name_plural = _("满意度调查")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class SurveyResponse(models.Model):
    """调查问卷答卷 — one anonymous filled-in form; no personal data is asked or kept."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses")
    submitted_at = models.DateTimeField(default=timezone.now, db_index=True)
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("调查答卷")
        verbose_name_plural = _("调查答卷")
        indexes = [models.Index(fields=["site", "year", "quarter"], name="survey_response_period")]

    def __str__(self) -> str:
        return f"答卷 #{self.pk}"


class SurveyAnswer(models.Model):
    """答卷中的一题答案."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(SurveyQuestion, on_delete=models.PROTECT, related_name="+")
    value = models.CharField(max_length=500)

    class Meta:
        verbose_name = _("答案")
        verbose_name_plural = _("答案")

    def __str__(self) -> str:
        return f"{self.question_id}={self.value}"
