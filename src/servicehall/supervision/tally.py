"""Survey tallies (满意度调查统计) per site and quarter, and inspection results per window and staff member."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Sum

from servicehall.supervision.models import (
    SATISFACTION_LEVELS,
    YES_NO_ANSWERS,
    InspectionFinding,
    QuestionKind,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)


def survey_tally(site_id: int, year: int, quarter: int) -> dict[str, Any]:
    responses = SurveyResponse.objects.filter(site_id=site_id, year=year, quarter=quarter)
    counts: dict[tuple[int, str], int] = {
        (row["question_id"], row["value"]): row["total"]
        for row in SurveyAnswer.objects.filter(response__in=responses)
        .exclude(question__kind=QuestionKind.TEXT)
        .values("question_id", "value")
        .annotate(total=Count("pk"))
    }
    rows = []
    for question in SurveyQuestion.objects.filter(is_active=True):
        if question.kind == QuestionKind.TEXT:
            continue
        choices = SATISFACTION_LEVELS if question.kind == QuestionKind.FIVE_LEVEL else YES_NO_ANSWERS
        cells = [(label, counts.get((question.pk, value), 0)) for value, label in choices]
        answered = sum(count for _label, count in cells)
        satisfied = counts.get((question.pk, "5"), 0) + counts.get((question.pk, "4"), 0)
        rate = (
            round(100 * satisfied / answered, 1)
            if answered and question.kind == QuestionKind.FIVE_LEVEL
            else None
        )
        rows.append({"question": question, "cells": cells, "answered": answered, "satisfaction_rate": rate})
    comments = list(
        SurveyAnswer.objects.filter(response__in=responses, question__kind=QuestionKind.TEXT)
        .order_by("-response__submitted_at")
        .values_list("value", flat=True)[:50]
    )
    return {"responses": responses.count(), "rows": rows, "comments": comments}


def inspection_results(site_ids: set[int]) -> dict[str, list[dict[str, Any]]]:
    findings = InspectionFinding.objects.filter(site_id__in=site_ids)
    by_window = list(
        findings.filter(inspection__window__isnull=False)
        .values("inspection__window__number", "inspection__window__name", "site__name")
        .annotate(deduction=Sum("deduction"), findings=Count("pk"))
        .order_by("-deduction")
    )
    by_staff = list(
        findings.filter(staff__isnull=False)
        .values("staff__full_name", "staff__staff_number", "site__name")
        .annotate(deduction=Sum("deduction"), findings=Count("pk"))
        .order_by("-deduction")
    )
    return {"by_window": by_window, "by_staff": by_staff}
