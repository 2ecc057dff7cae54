"""监督考核: the evaluation index system, the daily figures every score is summed from, and published scores.

Seeds 000 (限时办结制 八: 及时办结率 ≥ 95%; 责任追究制), 002 (§7 监督考核, 附录D 行为评价指标体系), 003 (考核
结果与绩效挂钩, 明察暗访扣分, 违规计分) and 004; the national grouping of GB/T 32169.4 (办事效率, 窗口服务满意率,
异常办理, 投诉处理). Figures come from the other apps' history, so any unpublished period can be recomputed;
a published period keeps the numbers (and the index system) it was published with.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicehall.sites.scoping import SiteScopedQuerySet


class Measure(models.TextChoices):
    """What an indicator measures: each is a formula over the counters of ``DailyFigures``."""

    ON_TIME_RATE = "on_time_rate", _("及时办结率")
    ONE_VISIT_RATE = "one_visit_rate", _("一次办结率")
    AVERAGE_WAIT = "average_wait", _("平均等候时间（分钟）")
    AVERAGE_SERVICE = "average_service", _("平均办理时间（分钟）")
    SERVICE_LEVEL = "service_level", _("服务水平（目标时间内叫号比例）")
    SUPPLEMENTS_PER_CASE = "supplements_per_case", _("件均补正次数")
    NOTICE_VIOLATIONS = "notice_violations", _("未一次性告知次数")
    ERRORS = "errors", _("差错次数")
    GOOD_RATE = "good_rate", _("好评率")
    BAD_RATE = "bad_rate", _("差评率")
    UPHELD_COMPLAINTS = "upheld_complaints", _("属实投诉件数")
    CONDUCT_FINDINGS = "conduct_findings", _("服务态度违规次数")
    ATTENDANCE_RATE = "attendance_rate", _("考勤正常率")
    AWAY_VIOLATIONS = "away_violations", _("离岗未说明去向次数")
    INSPECTION_DEDUCTIONS = "inspection_deductions", _("明察暗访扣分")
    INTEGRITY_VIOLATIONS = "integrity_violations", _("违反廉洁规定（十不准）次数")


class Scoring(models.TextChoices):
    """How a measured value becomes a score out of 100; the parameters are on the indicator."""

    RATE_AGAINST_TARGET = "rate_against_target", _("达标率：得分 = 100 × 实际值 ÷ 目标值（封顶 100）")
    LOWER_IS_BETTER = "lower_is_better", _("越低越好：不高于满分线得 100，达到零分线得 0，之间线性")
    DEDUCTION = "deduction", _("扣分制：得分 = 100 − 每次扣分 × 次数（不低于 0）")


class IndexSystem(models.Model):
    """评价指标体系 (seed 002 附录D; GB/T 32169.4) — dimensions with weights summing to 100%.

    Only one system is active at a time; a published period stores the system it used as a snapshot.
    """

    name = models.CharField(_("名称"), max_length=100)
    is_active = models.BooleanField(_("启用"), default=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("评价指标体系")
        verbose_name_plural = _("评价指标体系")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="one_active_index_system"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Dimension(models.Model):
    """评价维度 — 服务效率, 服务质量, 服务态度, 工作纪律, 廉洁 (seed 002 附录D; seed 000)."""

    system = models.ForeignKey(IndexSystem, on_delete=models.CASCADE, related_name="dimensions")
    code = models.CharField(_("编码"), max_length=32)
    name = models.CharField(_("维度"), max_length=50)
    weight = models.PositiveSmallIntegerField(_("权重（%）"))
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("评价维度")
        verbose_name_plural = _("评价维度")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["system", "code"], name="dimension_code_unique")]

    def __str__(self) -> str:
        return self.name


class Indicator(models.Model):
    """评价指标 — one measured figure, how it is scored and its weight within its dimension (seed 002 附录D)."""

    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="indicators")
    code = models.CharField(_("编码"), max_length=32)
    name = models.CharField(_("指标"), max_length=50)
    measure = models.CharField(_("统计口径"), max_length=32, choices=Measure.choices)
    scoring = models.CharField(_("计分方法"), max_length=32, choices=Scoring.choices)
    weight = models.PositiveSmallIntegerField(_("维度内权重（%）"))
    target = models.DecimalField(_("目标值 / 满分线"), max_digits=8, decimal_places=2, default=0)
    zero_at = models.DecimalField(_("零分线"), max_digits=8, decimal_places=2, null=True, blank=True)
    points_per_occurrence = models.DecimalField(
        _("每次扣分"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("评价指标")
        verbose_name_plural = _("评价指标")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["dimension", "code"], name="indicator_code_unique")]

    def __str__(self) -> str:
        return self.name


class SubjectKind(models.TextChoices):
    STAFF = "staff", _("工作人员")
    WINDOW = "window", _("窗口")
    DEPARTMENT = "department", _("部门")
    SITE = "site", _("服务场所")


class DailyFigures(models.Model):
    """日统计 — one subject's counters for one day, summed into every score (seed 002 §7; GB/T 32169.4).

    A rollup of the apps' own history (tickets, cases, ratings, complaints, violations, check-ins,
    inspections), rebuilt per site and day by ``assessment.rollup``; never edited by hand.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+", db_index=False)
    date = models.DateField(_("日期"))
    subject_kind = models.CharField(max_length=12, choices=SubjectKind.choices)
    subject_id = models.PositiveIntegerField()
    arrivals = models.PositiveIntegerField(default=0)
    tickets_called = models.PositiveIntegerField(default=0)
    tickets_served = models.PositiveIntegerField(default=0)
    wait_seconds = models.PositiveBigIntegerField(default=0)
    service_seconds = models.PositiveBigIntegerField(default=0)
    served_within_target = models.PositiveIntegerField(default=0)
    tickets_no_show = models.PositiveIntegerField(default=0)
    cases_completed = models.PositiveIntegerField(default=0)
    cases_on_time = models.PositiveIntegerField(default=0)
    cases_one_visit = models.PositiveIntegerField(default=0)
    supplements = models.PositiveIntegerField(default=0)
    notice_violations = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    ratings = models.PositiveIntegerField(default=0)
    ratings_good = models.PositiveIntegerField(default=0)
    ratings_bad = models.PositiveIntegerField(default=0)
    complaints_upheld = models.PositiveIntegerField(default=0)
    conduct_findings = models.PositiveIntegerField(default=0)
    check_ins_expected = models.PositiveIntegerField(default=0)
    check_ins_normal = models.PositiveIntegerField(default=0)
    away_violations = models.PositiveIntegerField(default=0)
    inspection_deductions = models.PositiveIntegerField(default=0)
    integrity_violations = models.PositiveIntegerField(default=0)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("日统计")
        verbose_name_plural = _("日统计")
        constraints = [
            models.UniqueConstraint(
                fields=["site", "date", "subject_kind", "subject_id"], name="daily_figures_unique"
            )
        ]
        indexes = [models.Index(fields=["subject_kind", "date"], name="daily_figures_kind_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.subject_kind} {self.subject_id}"


class HourlyArrivals(models.Model):
    """分时到达 — tickets of one category issued in one hour of one day, with their waits and service times.

    The evidence for the heat map of arrivals and for the staffing forecast (潮汐岗, seed 002 §5.3).
    Rebuilt with the daily figures.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+", db_index=False)
    date = models.DateField(_("日期"))
    hour = models.PositiveSmallIntegerField(_("时"))
    category = models.ForeignKey("queueing.Category", on_delete=models.CASCADE, related_name="+")
    arrivals = models.PositiveIntegerField(default=0)
    tickets_called = models.PositiveIntegerField(default=0)
    wait_seconds = models.PositiveBigIntegerField(default=0)
    tickets_served = models.PositiveIntegerField(default=0)
    service_seconds = models.PositiveBigIntegerField(default=0)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("分时到达")
        verbose_name_plural = _("分时到达")
        constraints = [
            models.UniqueConstraint(
                fields=["site", "date", "hour", "category"], name="hourly_arrivals_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.hour}:00 {self.category_id}"


class RollupDay(models.Model):
    """统计日 — when the figures of one site and day were last rebuilt (so stale days can be found)."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+", db_index=False)
    date = models.DateField()
    computed_at = models.DateTimeField()

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "date"], name="rollup_day_unique")]

    def __str__(self) -> str:
        return f"{self.site_id} {self.date}"


class PeriodKind(models.TextChoices):
    MONTH = "month", _("月度")
    QUARTER = "quarter", _("季度")
    YEAR = "year", _("年度")


class PeriodStatus(models.TextChoices):
    DRAFT = "draft", _("未发布")
    PUBLISHED = "published", _("已发布")


class AssessmentPeriod(models.Model):
    """考核期 — a month, quarter or year of scores; frozen once published (seed 003 考核结果与绩效挂钩)."""

    kind = models.CharField(_("周期"), max_length=8, choices=PeriodKind.choices)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    status = models.CharField(
        _("状态"), max_length=12, choices=PeriodStatus.choices, default=PeriodStatus.DRAFT
    )
    index_snapshot = models.JSONField(_("所用指标体系"), default=dict)
    computed_at = models.DateTimeField(_("计算时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("考核期")
        verbose_name_plural = _("考核期")
        ordering = ["-starts_on", "kind"]
        constraints = [models.UniqueConstraint(fields=["kind", "starts_on"], name="period_unique")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.MONTH:
            return f"{self.starts_on:%Y-%m}"
        if self.kind == PeriodKind.QUARTER:
            return f"{self.starts_on.year}Q{(self.starts_on.month - 1) // 3 + 1}"
        return f"{self.starts_on.year}"

    @property
    def is_published(self) -> bool:
        return self.status == PeriodStatus.PUBLISHED


class Score(models.Model):
    """考核得分 — one subject's score for a period, with every indicator's raw numbers (seed 002 附录D)."""

    period = models.ForeignKey(AssessmentPeriod, on_delete=models.CASCADE, related_name="scores")
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    subject_kind = models.CharField(max_length=12, choices=SubjectKind.choices)
    subject_id = models.PositiveIntegerField()
    subject_name = models.CharField(max_length=100)
    total = models.DecimalField(_("总分"), max_digits=6, decimal_places=2, null=True)
    rank = models.PositiveIntegerField(_("排名"), null=True)
    ranked_among = models.PositiveIntegerField(default=0)
    details = models.JSONField(default=dict)
    nominated = models.BooleanField(_("推荐评优"), default=False)
    disqualified_reason = models.CharField(_("取消评优原因"), max_length=200, blank=True)
    bottom_flag = models.BooleanField(_("末位预警"), default=False)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("考核得分")
        verbose_name_plural = _("考核得分")
        ordering = ["period", "subject_kind", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["period", "subject_kind", "subject_id"], name="score_unique")
        ]

    def __str__(self) -> str:
        return f"{self.subject_name} {self.total}"

    def explanation(self) -> dict:
        """Every dimension and indicator with raw numbers, value, formula, score and weights.

        Recomputed from the stored counters and the index system the period was scored with, so it is
        the same after the index system changes (and the formulas read in the viewer's language).
        """
        from servicehall.assessment.scoring import score

        return score(self.details.get("counters", {}), self.period.index_snapshot)


class NominationRule(models.Model):
    """评优规则 — how many 服务之星 / 红旗窗口 a period nominates and the minimum score (seed 003 评优)."""

    subject_kind = models.CharField(_("对象"), max_length=12, choices=SubjectKind.choices, unique=True)
    title = models.CharField(_("称号"), max_length=20)
    top_count = models.PositiveSmallIntegerField(_("名额"), default=3)
    minimum_total = models.DecimalField(_("最低总分"), max_digits=5, decimal_places=2, default=90)
    bottom_count = models.PositiveSmallIntegerField(_("末位人数"), default=2)
    bottom_consecutive_months = models.PositiveSmallIntegerField(_("连续末位月数"), default=2)

    class Meta:
        verbose_name = _("评优规则")
        verbose_name_plural = _("评优规则")

    def __str__(self) -> str:
        return self.title
