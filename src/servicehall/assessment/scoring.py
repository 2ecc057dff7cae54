"""From summed counters to indicator values, indicator scores and a total — every step explainable.

Pure functions over plain data (the index system as a snapshot dict), so a published period can be
rescored from its stored snapshot and figures, and the arithmetic is testable without a database.

Missing data never divides by zero: an indicator whose denominator is zero (a new clerk with no visits
has no average wait) is "无数据" and its weight is shared among the dimension's indicators that have
data, in proportion to their weights; a dimension with no data at all shares its weight the same way
among the other dimensions. A subject with no data in any dimension has no total and is not ranked.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from servicehall.assessment.models import Measure, Scoring

HUNDRED = Decimal(100)
TWO_PLACES = Decimal("0.01")


def _rounded(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class MeasureDefinition:
    """A measure's formula: numerator counter ÷ denominator counter × factor (denominator None: a count)."""

    numerator: str
    denominator: str | None
    factor: Decimal
    unit: str


MEASURES: dict[str, MeasureDefinition] = {
    Measure.ON_TIME_RATE: MeasureDefinition("cases_on_time", "cases_completed", HUNDRED, "%"),
    Measure.ONE_VISIT_RATE: MeasureDefinition("cases_one_visit", "cases_completed", HUNDRED, "%"),
    Measure.AVERAGE_WAIT: MeasureDefinition("wait_seconds", "tickets_called", Decimal(1) / 60, "min"),
    Measure.AVERAGE_SERVICE: MeasureDefinition("service_seconds", "tickets_served", Decimal(1) / 60, "min"),
    Measure.SERVICE_LEVEL: MeasureDefinition("served_within_target", "tickets_called", HUNDRED, "%"),
    Measure.SUPPLEMENTS_PER_CASE: MeasureDefinition("supplements", "cases_completed", Decimal(1), ""),
    Measure.NOTICE_VIOLATIONS: MeasureDefinition("notice_violations", None, Decimal(1), "times"),
    Measure.ERRORS: MeasureDefinition("errors", None, Decimal(1), "times"),
    Measure.GOOD_RATE: MeasureDefinition("ratings_good", "ratings", HUNDRED, "%"),
    Measure.BAD_RATE: MeasureDefinition("ratings_bad", "ratings", HUNDRED, "%"),
    Measure.UPHELD_COMPLAINTS: MeasureDefinition("complaints_upheld", None, Decimal(1), "times"),
    Measure.CONDUCT_FINDINGS: MeasureDefinition("conduct_findings", None, Decimal(1), "times"),
    Measure.ATTENDANCE_RATE: MeasureDefinition("check_ins_normal", "check_ins_expected", HUNDRED, "%"),
    Measure.AWAY_VIOLATIONS: MeasureDefinition("away_violations", None, Decimal(1), "times"),
    Measure.INSPECTION_DEDUCTIONS: MeasureDefinition("inspection_deductions", None, Decimal(1), "points"),
    Measure.INTEGRITY_VIOLATIONS: MeasureDefinition("integrity_violations", None, Decimal(1), "times"),
}

# Counts are only meaningful for a subject who worked in the period: a window never staffed has no
# 0-violation record to be proud of. The subject "worked" when any of these counters is non-zero.
ACTIVITY_COUNTERS = ("tickets_called", "cases_completed", "ratings", "check_ins_expected")


def measure_value(measure: str, counters: dict[str, int]) -> Decimal | None:
    definition = MEASURES[measure]
    numerator = Decimal(counters.get(definition.numerator, 0))
    if definition.denominator is None:
        if not any(counters.get(name, 0) for name in ACTIVITY_COUNTERS):
            return None
        return numerator * definition.factor
    denominator = counters.get(definition.denominator, 0)
    if not denominator:
        return None
    return numerator / Decimal(denominator) * definition.factor


def shown_figure(measure: str, counters: dict[str, int], places: str = "0.1") -> Decimal | None:
    """A measure's value rounded for display (dashboards, reports, public figures); None without data."""
    value = measure_value(measure, counters)
    return None if value is None else value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def indicator_score(indicator: dict[str, Any], value: Decimal) -> Decimal:
    scoring = indicator["scoring"]
    target = Decimal(str(indicator["target"]))
    if scoring == Scoring.RATE_AGAINST_TARGET:
        if target <= 0:
            return HUNDRED
        return min(HUNDRED, HUNDRED * value / target)
    if scoring == Scoring.LOWER_IS_BETTER:
        zero_at = Decimal(str(indicator["zero_at"]))
        if value <= target:
            return HUNDRED
        if value >= zero_at:
            return Decimal(0)
        return HUNDRED * (zero_at - value) / (zero_at - target)
    if scoring == Scoring.DEDUCTION:
        points = Decimal(str(indicator["points_per_occurrence"]))
        return max(Decimal(0), HUNDRED - points * value)
    raise ValueError(f"unknown scoring {scoring!r}")


def formula_text(indicator: dict[str, Any]) -> str:
    """The rule in words, shown next to every score so it can be explained to the person it judges."""
    scoring = indicator["scoring"]
    target = indicator["target"]
    if scoring == Scoring.RATE_AGAINST_TARGET:
        return _("得分 = 100 × 实际值 ÷ 目标值 %(target)s（封顶 100）") % {"target": target}
    if scoring == Scoring.LOWER_IS_BETTER:
        return _("不高于 %(target)s 得 100，达到 %(zero)s 得 0，之间按比例") % {
            "target": target,
            "zero": indicator["zero_at"],
        }
    return _("得分 = 100 − %(points)s × 次数（不低于 0）") % {"points": indicator["points_per_occurrence"]}


def _combine(items: list[dict[str, Any]]) -> Decimal | None:
    """The weighted score of ``items`` (each with ``weight`` and ``_score``); stamps ``effective_weight``.

    Items without a score share their weight among those with one, in proportion; None if none has one.
    """
    present = sum(item["weight"] for item in items if item["_score"] is not None)
    combined = None
    for item in items:
        share = (
            Decimal(item["weight"]) * HUNDRED / Decimal(present)
            if present and item["_score"] is not None
            else Decimal(0)
        )
        item["effective_weight"] = str(_rounded(share))
        if item["_score"] is not None:
            combined = (combined or Decimal(0)) + item["_score"] * share / HUNDRED
        del item["_score"]
    return combined


def score(counters: dict[str, int], system: dict[str, Any]) -> dict[str, Any]:
    """The total (or None) and, per dimension and indicator, the raw numbers, value, score and weight."""
    dimensions = []
    for dimension in system["dimensions"]:
        indicators = []
        for indicator in dimension["indicators"]:
            definition = MEASURES[indicator["measure"]]
            value = measure_value(indicator["measure"], counters)
            points = None if value is None else indicator_score(indicator, value)
            indicators.append(
                {
                    "code": indicator["code"],
                    "name": indicator["name"],
                    "measure": indicator["measure"],
                    "numerator": counters.get(definition.numerator, 0),
                    "denominator": None
                    if definition.denominator is None
                    else counters.get(definition.denominator, 0),
                    "unit": definition.unit,
                    "value": None if value is None else str(_rounded(value)),
                    "score": None if points is None else str(_rounded(points)),
                    "weight": indicator["weight"],
                    "formula": formula_text(indicator),
                    "_score": points,
                }
            )
        dimension_score = _combine(indicators)
        dimensions.append(
            {
                "code": dimension["code"],
                "name": dimension["name"],
                "weight": dimension["weight"],
                "score": None if dimension_score is None else str(_rounded(dimension_score)),
                "indicators": indicators,
                "_score": dimension_score,
            }
        )
    total = _combine(dimensions)
    return {
        "total": None if total is None else _rounded(total),
        "dimensions": dimensions,
        "counters": {name: int(value) for name, value in counters.items()},
    }


DEFAULT_SYSTEM: dict[str, Any] = {
    "name": "默认评价指标体系（依据附录D与 GB/T 32169.4）",
    "dimensions": [
        {
            "code": "efficiency",
            "name": "服务效率",
            "weight": 30,
            "indicators": [
                {
                    "code": "on_time",
                    "name": "及时办结率",
                    "measure": Measure.ON_TIME_RATE,
                    "scoring": Scoring.RATE_AGAINST_TARGET,
                    "weight": 35,
                    "target": "95",
                },
                {
                    "code": "one_visit",
                    "name": "一次办结率",
                    "measure": Measure.ONE_VISIT_RATE,
                    "scoring": Scoring.RATE_AGAINST_TARGET,
                    "weight": 20,
                    "target": "90",
                },
                {
                    "code": "wait",
                    "name": "平均等候时间",
                    "measure": Measure.AVERAGE_WAIT,
                    "scoring": Scoring.LOWER_IS_BETTER,
                    "weight": 15,
                    "target": "15",
                    "zero_at": "45",
                },
                {
                    "code": "service_time",
                    "name": "平均办理时间",
                    "measure": Measure.AVERAGE_SERVICE,
                    "scoring": Scoring.LOWER_IS_BETTER,
                    "weight": 15,
                    "target": "12",
                    "zero_at": "36",
                },
                {
                    "code": "service_level",
                    "name": "服务水平",
                    "measure": Measure.SERVICE_LEVEL,
                    "scoring": Scoring.RATE_AGAINST_TARGET,
                    "weight": 15,
                    "target": "90",
                },
            ],
        },
        {
            "code": "quality",
            "name": "服务质量",
            "weight": 20,
            "indicators": [
                {
                    "code": "supplements",
                    "name": "件均补正次数",
                    "measure": Measure.SUPPLEMENTS_PER_CASE,
                    "scoring": Scoring.LOWER_IS_BETTER,
                    "weight": 40,
                    "target": "0.2",
                    "zero_at": "1",
                },
                {
                    "code": "notice",
                    "name": "未一次性告知",
                    "measure": Measure.NOTICE_VIOLATIONS,
                    "scoring": Scoring.DEDUCTION,
                    "weight": 30,
                    "target": "0",
                    "points_per_occurrence": "20",
                },
                {
                    "code": "errors",
                    "name": "差错",
                    "measure": Measure.ERRORS,
                    "scoring": Scoring.DEDUCTION,
                    "weight": 30,
                    "target": "0",
                    "points_per_occurrence": "25",
                },
            ],
        },
        {
            "code": "attitude",
            "name": "服务态度",
            "weight": 25,
            "indicators": [
                {
                    "code": "good_rate",
                    "name": "好评率",
                    "measure": Measure.GOOD_RATE,
                    "scoring": Scoring.RATE_AGAINST_TARGET,
                    "weight": 40,
                    "target": "98",
                },
                {
                    "code": "bad_rate",
                    "name": "差评率",
                    "measure": Measure.BAD_RATE,
                    "scoring": Scoring.LOWER_IS_BETTER,
                    "weight": 20,
                    "target": "0.5",
                    "zero_at": "5",
                },
                {
                    "code": "complaints",
                    "name": "属实投诉",
                    "measure": Measure.UPHELD_COMPLAINTS,
                    "scoring": Scoring.DEDUCTION,
                    "weight": 25,
                    "target": "0",
                    "points_per_occurrence": "25",
                },
                {
                    "code": "conduct",
                    "name": "服务态度违规",
                    "measure": Measure.CONDUCT_FINDINGS,
                    "scoring": Scoring.DEDUCTION,
                    "weight": 15,
                    "target": "0",
                    "points_per_occurrence": "20",
                },
            ],
        },
        {
            "code": "discipline",
            "name": "工作纪律",
            "weight": 15,
            "indicators": [
                {
                    "code": "attendance",
                    "name": "考勤正常率",
                    "measure": Measure.ATTENDANCE_RATE,
                    "scoring": Scoring.RATE_AGAINST_TARGET,
                    "weight": 50,
                    "target": "98",
                },
                {
                    "code": "away",
                    "name": "离岗未说明去向",
                    "measure": Measure.AWAY_VIOLATIONS,
                    "scoring": Scoring.DEDUCTION,
                    "weight": 25,
                    "target": "0",
                    "points_per_occurrence": "20",
                },
                {
                    "code": "inspection",
                    "name": "明察暗访扣分",
                    "measure": Measure.INSPECTION_DEDUCTIONS,
                    "scoring": Scoring.DEDUCTION,
                    "weight": 25,
                    "target": "0",
                    "points_per_occurrence": "10",
                },
            ],
        },
        {
            "code": "integrity",
            "name": "廉洁",
            "weight": 10,
            "indicators": [
                {
                    "code": "ten_prohibitions",
                    "name": "违反十不准",
                    "measure": Measure.INTEGRITY_VIOLATIONS,
                    "scoring": Scoring.DEDUCTION,
                    "weight": 100,
                    "target": "0",
                    "points_per_occurrence": "100",
                },
            ],
        },
    ],
}
