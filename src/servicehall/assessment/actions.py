"""Every change in 监督考核: one function, one transaction, one audit record.

- the index system: installed once from the default, then weights and parameters changed as a whole
  (weights must sum to 100% per level, so a change is validated before anything is saved);
- a period's scores: computed (and recomputed while it is a draft) from the daily figures, ranked,
  with nominations (服务之星, 红旗窗口) and bottom-of-ranking flags;
- publishing: only a period that has ended; it rebuilds every day's figures first, then freezes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehall.accounts.models import User
from servicehall.accounts.permissions import require_capability
from servicehall.accounts.roles import Capability
from servicehall.assessment import rollup, scoring
from servicehall.assessment.models import (
    AssessmentPeriod,
    DailyFigures,
    Dimension,
    IndexSystem,
    Indicator,
    NominationRule,
    PeriodKind,
    PeriodStatus,
    Score,
    Scoring,
    SubjectKind,
)
from servicehall.audit.actions import record
from servicehall.lib.errors import ActionRefused
from servicehall.sites.models import Department, Site, Window

DEFAULT_NOMINATION_RULES = [
    (SubjectKind.STAFF, "服务之星", 3, Decimal(90)),
    (SubjectKind.WINDOW, "红旗窗口", 2, Decimal(90)),
]


# --- the index system -----------------------------------------------------------------------------


def install_default_system() -> IndexSystem:
    """The seeded default (idempotent): returns the active system, creating the default if none."""
    with transaction.atomic():
        existing = IndexSystem.objects.filter(is_active=True).first()
        if existing is not None:
            return existing
        system = IndexSystem.objects.create(name=scoring.DEFAULT_SYSTEM["name"], is_active=True)
        for position, dimension in enumerate(scoring.DEFAULT_SYSTEM["dimensions"]):
            stored = Dimension.objects.create(
                system=system,
                code=dimension["code"],
                name=dimension["name"],
                weight=dimension["weight"],
                position=position,
            )
            for index, indicator in enumerate(dimension["indicators"]):
                Indicator.objects.create(
                    dimension=stored,
                    code=indicator["code"],
                    name=indicator["name"],
                    measure=indicator["measure"],
                    scoring=indicator["scoring"],
                    weight=indicator["weight"],
                    target=Decimal(indicator["target"]),
                    zero_at=Decimal(indicator["zero_at"]) if "zero_at" in indicator else None,
                    points_per_occurrence=Decimal(indicator["points_per_occurrence"])
                    if "points_per_occurrence" in indicator
                    else None,
                    position=index,
                )
        for kind, title, top_count, minimum in DEFAULT_NOMINATION_RULES:
            NominationRule.objects.get_or_create(
                subject_kind=kind, defaults={"title": title, "top_count": top_count, "minimum_total": minimum}
            )
        record("assessment.install_index_system", target=system, after=snapshot(system))
        return system


def active_system() -> IndexSystem:
    system = IndexSystem.objects.filter(is_active=True).first()
    return system if system is not None else install_default_system()


def snapshot(system: IndexSystem) -> dict[str, Any]:
    dimensions = []
    for dimension in system.dimensions.prefetch_related("indicators"):
        dimensions.append(
            {
                "code": dimension.code,
                "name": dimension.name,
                "weight": dimension.weight,
                "indicators": [
                    {
                        "code": indicator.code,
                        "name": indicator.name,
                        "measure": indicator.measure,
                        "scoring": indicator.scoring,
                        "weight": indicator.weight,
                        "target": str(indicator.target),
                        "zero_at": None if indicator.zero_at is None else str(indicator.zero_at),
                        "points_per_occurrence": None
                        if indicator.points_per_occurrence is None
                        else str(indicator.points_per_occurrence),
                    }
                    for indicator in dimension.indicators.all()
                ],
            }
        )
    return {"name": system.name, "dimensions": dimensions}


def _decimal(raw: Any, label: str, field: str) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ActionRefused(
            _("%(label)s 应为数字。") % {"label": label}, code="invalid_input", field=field
        ) from None
    if not value.is_finite() or value < 0 or value > Decimal("999999"):
        raise ActionRefused(
            _("%(label)s 应为 0 到 999999 之间的数字。") % {"label": label}, code="invalid_input", field=field
        )
    return value


def _weight(raw: Any, label: str, field: str) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ActionRefused(
            _("%(label)s 的权重应为整数。") % {"label": label}, code="invalid_input", field=field
        ) from None
    if not 0 <= value <= 100:
        raise ActionRefused(
            _("%(label)s 的权重应在 0 到 100 之间。") % {"label": label}, code="invalid_input", field=field
        )
    return value


def configure_system(actor: Any, system: IndexSystem, data: dict[str, Any]) -> IndexSystem:
    """Change weights and parameters as a whole; ``data`` is keyed like the form fields.

    Keys: ``dimension-<id>-weight``; ``indicator-<id>-weight``, ``-target``, ``-zero_at``,
    ``-points_per_occurrence``. Missing keys keep the current value. Weights of the dimensions, and of
    the indicators within each dimension, must each sum to 100.
    """
    require_capability(actor, Capability.MANAGE_ASSESSMENT)
    with transaction.atomic():
        system = IndexSystem.objects.select_for_update().get(pk=system.pk)
        before = snapshot(system)
        dimensions = list(system.dimensions.prefetch_related("indicators"))
        for dimension in dimensions:
            key = f"dimension-{dimension.pk}-weight"
            if key in data:
                dimension.weight = _weight(data[key], dimension.name, key)
            for indicator in dimension.indicators.all():
                prefix = f"indicator-{indicator.pk}"
                if f"{prefix}-weight" in data:
                    indicator.weight = _weight(data[f"{prefix}-weight"], indicator.name, f"{prefix}-weight")
                if f"{prefix}-target" in data:
                    indicator.target = _decimal(data[f"{prefix}-target"], indicator.name, f"{prefix}-target")
                if indicator.scoring == Scoring.LOWER_IS_BETTER and f"{prefix}-zero_at" in data:
                    indicator.zero_at = _decimal(
                        data[f"{prefix}-zero_at"], indicator.name, f"{prefix}-zero_at"
                    )
                if indicator.scoring == Scoring.DEDUCTION and f"{prefix}-points_per_occurrence" in data:
                    indicator.points_per_occurrence = _decimal(
                        data[f"{prefix}-points_per_occurrence"],
                        indicator.name,
                        f"{prefix}-points_per_occurrence",
                    )
        _validate(dimensions)
        for dimension in dimensions:
            dimension.save(update_fields=["weight"])
            for indicator in dimension.indicators.all():
                indicator.save(update_fields=["weight", "target", "zero_at", "points_per_occurrence"])
        system.updated_at = timezone.now()
        system.save(update_fields=["updated_at"])
        after = snapshot(system)
        record("assessment.configure_index_system", target=system, before=before, after=after)
    return system


def _validate(dimensions: list[Dimension]) -> None:
    total = sum(dimension.weight for dimension in dimensions)
    if total != 100:
        raise ActionRefused(
            _("各维度权重之和应为 100%%，现为 %(total)s%%。") % {"total": total},
            code="weights_not_100",
            field="dimensions",
        )
    for dimension in dimensions:
        indicators = list(dimension.indicators.all())
        subtotal = sum(indicator.weight for indicator in indicators)
        if indicators and subtotal != 100:
            raise ActionRefused(
                _("“%(name)s”内各指标权重之和应为 100%%，现为 %(total)s%%。")
                % {"name": dimension.name, "total": subtotal},
                code="weights_not_100",
                field=f"dimension-{dimension.pk}",
            )
        for indicator in indicators:
            if indicator.scoring == Scoring.RATE_AGAINST_TARGET and indicator.target <= 0:
                raise ActionRefused(
                    _("“%(name)s”的目标值应大于 0。") % {"name": indicator.name},
                    code="invalid_input",
                    field=f"indicator-{indicator.pk}-target",
                )
            if indicator.scoring == Scoring.LOWER_IS_BETTER and (
                indicator.zero_at is None or indicator.zero_at <= indicator.target
            ):
                raise ActionRefused(
                    _("“%(name)s”的零分线应大于满分线。") % {"name": indicator.name},
                    code="invalid_input",
                    field=f"indicator-{indicator.pk}-zero_at",
                )
            if indicator.scoring == Scoring.DEDUCTION and not indicator.points_per_occurrence:
                raise ActionRefused(
                    _("“%(name)s”的每次扣分应大于 0。") % {"name": indicator.name},
                    code="invalid_input",
                    field=f"indicator-{indicator.pk}-points_per_occurrence",
                )


# --- periods --------------------------------------------------------------------------------------


def period_bounds(kind: str, year: int, number: int) -> tuple[dt.date, dt.date]:
    """First and last day of month ``number``, quarter ``number`` or the year (``number`` ignored)."""
    if kind == PeriodKind.MONTH:
        if not 1 <= number <= 12:
            raise ActionRefused(_("月份应在 1 到 12 之间。"), code="invalid_input", field="month")
        start = dt.date(year, number, 1)
        following = dt.date(year + (number == 12), number % 12 + 1, 1)
    elif kind == PeriodKind.QUARTER:
        if not 1 <= number <= 4:
            raise ActionRefused(_("季度应在 1 到 4 之间。"), code="invalid_input", field="quarter")
        start = dt.date(year, 3 * number - 2, 1)
        following = dt.date(year + (number == 4), (3 * number) % 12 + 1, 1)
    elif kind == PeriodKind.YEAR:
        start, following = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    else:
        raise ActionRefused(_("考核周期应为月度、季度或年度。"), code="invalid_input", field="kind")
    return start, following - dt.timedelta(days=1)


def parse_period(raw: str) -> tuple[str, int, int]:
    """'2026-11' → month, '2026Q4' → quarter, '2026' → year; a clear refusal for anything else."""
    text = (raw or "").strip().upper()
    try:
        if len(text) == 7 and text[4] == "-":
            return PeriodKind.MONTH, int(text[:4]), int(text[5:])
        if len(text) == 6 and text[4] == "Q":
            return PeriodKind.QUARTER, int(text[:4]), int(text[5])
        if len(text) == 4:
            return PeriodKind.YEAR, int(text), 1
    except ValueError:
        pass
    raise ActionRefused(
        _("考核期格式不正确：月度为 2026-11，季度为 2026Q4，年度为 2026。"),
        code="invalid_input",
        field="period",
    )


def refresh_figures(start: dt.date, end: dt.date) -> int:
    """Rebuild every day in [start, end] up to today for every site; returns the site-days rebuilt.

    Computing and publishing a period call this for all of its days (an appeal upheld or a check-in
    corrected today changes an older day); the periodic sweep keeps only the recent days current.
    """
    last = min(end, timezone.localdate())
    if last < start:
        return 0
    site_ids = list(Site.objects.values_list("pk", flat=True))
    rollup.rebuild(site_ids, start, last)
    return len(site_ids) * ((last - start).days + 1)


def subject_names(
    kind: str, *, ids: set[int] | None = None, site_ids: set[int] | None = None
) -> dict[int, tuple[str, int]]:
    """Subject id → (display name, site id), for the given ids or every subject of the given sites."""
    site_field = "pk" if kind == SubjectKind.SITE else "site_id"
    if kind == SubjectKind.STAFF:
        rows = User.objects.values_list("pk", "full_name", "site_id")
    elif kind == SubjectKind.WINDOW:
        rows = Window.objects.values_list("pk", "number", "name", "site_id")
    elif kind == SubjectKind.DEPARTMENT:
        rows = Department.objects.values_list("pk", "name", "site_id")
    else:
        rows = Site.objects.values_list("pk", "name", "pk")
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    if site_ids is not None:
        rows = rows.filter(**{f"{site_field}__in": site_ids})
    if kind == SubjectKind.WINDOW:
        return {
            pk: (_("%(number)s号窗口") % {"number": number} + (f" {name}" if name else ""), site_id)
            for pk, number, name, site_id in rows
        }
    return {pk: (name, site_id) for pk, name, site_id in rows}


def summed_figures(start: dt.date, end: dt.date) -> dict[tuple[str, int], dict[str, int]]:
    """Every subject's counters summed over [start, end] — one grouped query over the daily figures."""
    rows = (
        DailyFigures.objects.filter(date__range=(start, end))
        .values("subject_kind", "subject_id")
        .annotate(**{counter: Sum(counter) for counter in rollup.COUNTERS})
    )
    return {
        (row["subject_kind"], row["subject_id"]): {
            counter: int(row[counter] or 0) for counter in rollup.COUNTERS
        }
        for row in rows
    }


def _rank(scores: list[Score]) -> None:
    """Competition ranking (1, 2, 2, 4) within each site; sites are ranked across the city."""
    groups: dict[tuple[str, int], list[Score]] = defaultdict(list)
    for item in scores:
        group_site = 0 if item.subject_kind == SubjectKind.SITE else item.site_id
        groups[(item.subject_kind, group_site)].append(item)
    for members in groups.values():
        ranked = sorted((item for item in members if item.total is not None), key=lambda item: -item.total)
        previous_total, previous_rank = None, 0
        for position, item in enumerate(ranked, start=1):
            if item.total != previous_total:
                previous_total, previous_rank = item.total, position
            item.rank = previous_rank
            item.ranked_among = len(ranked)


def _previous_month(period: AssessmentPeriod) -> AssessmentPeriod | None:
    if period.kind != PeriodKind.MONTH:
        return None
    first = (period.starts_on - dt.timedelta(days=1)).replace(day=1)
    return AssessmentPeriod.objects.filter(kind=PeriodKind.MONTH, starts_on=first).first()


def _apply_rules(period: AssessmentPeriod, scores: list[Score]) -> None:
    rules = {rule.subject_kind: rule for rule in NominationRule.objects.all()}
    previous = _previous_month(period)
    for kind, rule in rules.items():
        groups: dict[int, list[Score]] = defaultdict(list)
        for item in scores:
            if item.subject_kind == kind and item.rank is not None:
                groups[0 if kind == SubjectKind.SITE else item.site_id].append(item)
        earlier_bottom: set[int] = set()
        if previous is not None and rule.bottom_consecutive_months > 1:
            earlier_bottom = set(
                previous.scores.filter(subject_kind=kind, details__bottom_in_month=True).values_list(
                    "subject_id", flat=True
                )
            )
        for members in groups.values():
            members.sort(key=lambda item: item.rank)
            nominated = 0
            for item in members:
                counters = item.details.get("counters", {})
                if counters.get("integrity_violations"):
                    item.disqualified_reason = _("违反廉洁规定（十不准），取消评优资格")
                elif counters.get("complaints_upheld"):
                    item.disqualified_reason = _("有属实投诉，本期不予推荐")
                if (
                    nominated < rule.top_count
                    and not item.disqualified_reason
                    and item.total is not None
                    and item.total >= rule.minimum_total
                ):
                    item.nominated = True
                    nominated += 1
            if len(members) > rule.bottom_count:
                bottom = (
                    {item.subject_id for item in members[-rule.bottom_count :]}
                    if rule.bottom_count
                    else set()
                )
                for item in members:
                    in_bottom = item.subject_id in bottom
                    item.details["bottom_in_month"] = in_bottom
                    needs_previous = rule.bottom_consecutive_months > 1
                    item.bottom_flag = in_bottom and (not needs_previous or item.subject_id in earlier_bottom)


def _get_or_create_period(kind: str, start: dt.date, end: dt.date) -> AssessmentPeriod:
    period, _created = AssessmentPeriod.objects.get_or_create(
        kind=kind, starts_on=start, defaults={"ends_on": end}
    )
    return period


def compute_period(
    actor: Any, kind: str, year: int, number: int, *, rebuild: bool = True
) -> AssessmentPeriod:
    """(Re)compute a draft period's scores; a published period is frozen and refused."""
    require_capability(actor, Capability.MANAGE_ASSESSMENT)
    return score_period(kind, year, number, rebuild=rebuild)


def score_period(kind: str, year: int, number: int, *, rebuild: bool = True) -> AssessmentPeriod:
    """compute_period without the capability check, for the demo loader and operator commands."""
    start, end = period_bounds(kind, year, number)
    if start > timezone.localdate():
        raise ActionRefused(_("该考核期尚未开始。"), code="period_not_started", field="period")
    if rebuild:
        # Every day, not only recent ones: an appeal upheld or a check-in corrected today changes an
        # older day, and a draft must show what publishing would freeze.
        refresh_figures(start, end)
    with transaction.atomic():
        period = _get_or_create_period(kind, start, end)
        period = AssessmentPeriod.objects.select_for_update().get(pk=period.pk)
        if period.is_published:
            raise ActionRefused(
                _("%(period)s 已发布，考核结果已冻结，不能重新计算。") % {"period": period.label},
                code="period_frozen",
            )
        _write_scores(period)
        record(
            "assessment.compute_period",
            object_type="assessment.assessmentperiod",
            object_id=str(period.pk),
            object_label=period.label,
            after={"period": period.label, "scores": period.scores.count()},
        )
    return period


def _write_scores(period: AssessmentPeriod) -> None:
    system = snapshot(active_system())
    figures = summed_figures(period.starts_on, period.ends_on)
    by_kind: dict[str, set[int]] = defaultdict(set)
    for kind, subject_id in figures:
        by_kind[kind].add(subject_id)
    names = {kind: subject_names(kind, ids=ids) for kind, ids in by_kind.items()}
    scores = []
    for (kind, subject_id), counters in figures.items():
        name, site_id = names[kind].get(subject_id, (str(subject_id), None))
        if site_id is None:
            continue
        result = scoring.score(counters, system)
        scores.append(
            Score(
                period=period,
                site_id=site_id,
                subject_kind=kind,
                subject_id=subject_id,
                subject_name=name[:100],
                total=result["total"],
                # Compact on purpose: the full explanation is recomputed on demand from these counters and
                # the period's index snapshot (Score.explanation), which gives the same numbers.
                details={
                    "dimensions": [
                        {"code": item["code"], "name": item["name"], "score": item["score"]}
                        for item in result["dimensions"]
                    ],
                    "counters": result["counters"],
                },
            )
        )
    _rank(scores)
    _apply_rules(period, scores)
    period.scores.all().delete()
    Score.objects.bulk_create(scores, batch_size=1000)
    period.index_snapshot = system
    period.computed_at = timezone.now()
    period.save(update_fields=["index_snapshot", "computed_at"])


def publish_period(actor: Any, period: AssessmentPeriod) -> AssessmentPeriod:
    """Rebuild every day of an ended period, score it and freeze it."""
    require_capability(actor, Capability.MANAGE_ASSESSMENT)
    return freeze_period(period, actor)


def freeze_period(period: AssessmentPeriod, actor: Any | None = None) -> AssessmentPeriod:
    """publish_period without the capability check, for the demo loader and operator commands."""
    if period.is_published:
        raise ActionRefused(_("%(period)s 已发布。") % {"period": period.label}, code="period_frozen")
    if period.ends_on >= timezone.localdate():
        raise ActionRefused(
            _("%(period)s 尚未结束，结束后才能发布。") % {"period": period.label}, code="period_not_ended"
        )
    refresh_figures(period.starts_on, period.ends_on)
    with transaction.atomic():
        locked = AssessmentPeriod.objects.select_for_update().get(pk=period.pk)
        if locked.is_published:
            raise ActionRefused(_("%(period)s 已发布。") % {"period": locked.label}, code="period_frozen")
        _write_scores(locked)
        locked.status = PeriodStatus.PUBLISHED
        locked.published_at = timezone.now()
        locked.published_by = actor
        locked.save(update_fields=["status", "published_at", "published_by"])
        record(
            "assessment.publish_period",
            object_type="assessment.assessmentperiod",
            object_id=str(locked.pk),
            object_label=locked.label,
            before={"status": PeriodStatus.DRAFT},
            after={"status": PeriodStatus.PUBLISHED, "scores": locked.scores.count()},
        )
    return locked
