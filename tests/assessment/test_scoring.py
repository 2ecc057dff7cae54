"""The arithmetic of a score: values from counters, scores from values, weights shared when data is missing."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from servicehall.assessment import scoring
from servicehall.assessment.models import Measure, Scoring

ACTIVE = {"tickets_called": 10}


def test_on_time_rate_is_on_time_over_completed_in_percent() -> None:
    assert scoring.measure_value(
        Measure.ON_TIME_RATE, {"cases_on_time": 47, "cases_completed": 50}
    ) == Decimal(94)


def test_a_rate_with_no_denominator_is_no_data_not_a_division_by_zero() -> None:
    assert scoring.measure_value(Measure.AVERAGE_WAIT, {"wait_seconds": 0, "tickets_called": 0}) is None
    assert scoring.measure_value(Measure.GOOD_RATE, {}) is None


def test_a_count_is_no_data_for_a_subject_who_did_not_work_and_zero_for_one_who_did() -> None:
    assert scoring.measure_value(Measure.UPHELD_COMPLAINTS, {}) is None
    assert scoring.measure_value(Measure.UPHELD_COMPLAINTS, ACTIVE) == Decimal(0)


@pytest.mark.parametrize(
    ("indicator", "value", "expected"),
    [
        ({"scoring": Scoring.RATE_AGAINST_TARGET, "target": "95"}, Decimal(95), Decimal(100)),
        ({"scoring": Scoring.RATE_AGAINST_TARGET, "target": "95"}, Decimal(100), Decimal(100)),
        ({"scoring": Scoring.RATE_AGAINST_TARGET, "target": "80"}, Decimal(60), Decimal(75)),
        ({"scoring": Scoring.LOWER_IS_BETTER, "target": "15", "zero_at": "45"}, Decimal(10), Decimal(100)),
        ({"scoring": Scoring.LOWER_IS_BETTER, "target": "15", "zero_at": "45"}, Decimal(30), Decimal(50)),
        ({"scoring": Scoring.LOWER_IS_BETTER, "target": "15", "zero_at": "45"}, Decimal(60), Decimal(0)),
        (
            {"scoring": Scoring.DEDUCTION, "target": "0", "points_per_occurrence": "25"},
            Decimal(2),
            Decimal(50),
        ),
        (
            {"scoring": Scoring.DEDUCTION, "target": "0", "points_per_occurrence": "25"},
            Decimal(9),
            Decimal(0),
        ),
    ],
)
def test_each_scoring_method(indicator: dict, value: Decimal, expected: Decimal) -> None:
    assert scoring.indicator_score(indicator, value) == expected


def test_the_default_system_has_weights_summing_to_100_at_every_level() -> None:
    dimensions = scoring.DEFAULT_SYSTEM["dimensions"]
    assert sum(dimension["weight"] for dimension in dimensions) == 100
    for dimension in dimensions:
        assert sum(indicator["weight"] for indicator in dimension["indicators"]) == 100


def _two_dimension_system() -> dict:
    return {
        "dimensions": [
            {
                "code": "efficiency",
                "name": "服务效率",
                "weight": 60,
                "indicators": [
                    {"code": "on_time", "name": "及时办结率", "measure": Measure.ON_TIME_RATE,
                     "scoring": Scoring.RATE_AGAINST_TARGET, "weight": 50, "target": "100"},
                    {"code": "wait", "name": "平均等候时间", "measure": Measure.AVERAGE_WAIT,
                     "scoring": Scoring.LOWER_IS_BETTER, "weight": 50, "target": "10", "zero_at": "30"},
                ],
            },
            {
                "code": "attitude",
                "name": "服务态度",
                "weight": 40,
                "indicators": [
                    {"code": "good", "name": "好评率", "measure": Measure.GOOD_RATE,
                     "scoring": Scoring.RATE_AGAINST_TARGET, "weight": 100, "target": "100"},
                ],
            },
        ]
    }  # fmt: skip


def test_total_is_the_weighted_sum_with_raw_numbers_kept() -> None:
    counters = {
        "cases_on_time": 8,
        "cases_completed": 10,
        "wait_seconds": 20 * 60 * 4,
        "tickets_called": 4,
        "ratings_good": 9,
        "ratings": 10,
    }
    result = scoring.score(counters, _two_dimension_system())
    # efficiency: 0.5 × 80 + 0.5 × 50 = 65; attitude 90; total 0.6 × 65 + 0.4 × 90 = 75
    assert result["total"] == Decimal("75.00")
    efficiency = result["dimensions"][0]
    assert efficiency["score"] == "65.00"
    assert efficiency["indicators"][0] | {"formula": ""} == {
        "code": "on_time",
        "name": "及时办结率",
        "measure": Measure.ON_TIME_RATE,
        "numerator": 8,
        "denominator": 10,
        "unit": "%",
        "value": "80.00",
        "score": "80.00",
        "weight": 50,
        "effective_weight": "50.00",
        "formula": "",
    }
    assert efficiency["indicators"][1]["value"] == "20.00"


def test_missing_indicator_shares_its_weight_within_the_dimension() -> None:
    """A clerk with cases but no queue tickets: the wait indicator has no data."""
    counters = {"cases_on_time": 9, "cases_completed": 10, "ratings_good": 10, "ratings": 10}
    result = scoring.score(counters, _two_dimension_system())
    efficiency = result["dimensions"][0]
    assert efficiency["indicators"][1]["value"] is None
    assert efficiency["indicators"][1]["score"] is None
    assert efficiency["indicators"][1]["effective_weight"] == "0.00"
    assert efficiency["indicators"][0]["effective_weight"] == "100.00"
    assert efficiency["score"] == "90.00"
    assert result["total"] == Decimal("94.00")


def test_missing_dimension_shares_its_weight_among_the_others() -> None:
    counters = {"cases_on_time": 9, "cases_completed": 10}
    result = scoring.score(counters, _two_dimension_system())
    assert result["dimensions"][1]["score"] is None
    assert result["dimensions"][0]["effective_weight"] == "100.00"
    assert result["total"] == Decimal("90.00")


def test_a_new_clerk_with_no_data_has_no_total() -> None:
    result = scoring.score({}, copy.deepcopy(scoring.DEFAULT_SYSTEM))
    assert result["total"] is None
    assert all(dimension["score"] is None for dimension in result["dimensions"])
