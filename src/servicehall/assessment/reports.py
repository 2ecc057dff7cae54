"""Reports of 监督考核: the monthly centre report and each staff member's monthly sheet (PDF and .xlsx),
streamed CSV exports of the figures and scores, and the public monthly figures of the 六公开 page.

Everything here only reads. A report is built from a period's stored scores (the numbers a published
period froze) into a plain dict, and that dict is rendered twice: as HTML printed to A4 by WeasyPrint
(Chinese fonts, page numbers) and as a workbook whose totals and rates are spreadsheet formulas over the
raw counters, so the figures stay live and can be checked by whoever opens the file.

Bad input (seed 002 §7; issue 9): a month that has not ended, a malformed period or an unknown format
are refused with a clear message; a month never computed is computed as a draft on the fly only for a
中心管理员 (MANAGE_ASSESSMENT), everyone else is told to ask for it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from servicehall.accounts.models import User
from servicehall.accounts.roles import Capability
from servicehall.assessment import actions
from servicehall.assessment.models import (
    AssessmentPeriod,
    DailyFigures,
    Measure,
    PeriodKind,
    PeriodStatus,
    Score,
    SubjectKind,
)
from servicehall.assessment.scoring import HUNDRED, MEASURES, shown_figure
from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.sites.models import Site

REPORT_FORMATS = ("pdf", "xlsx")
EXPORT_FORMATS = ("csv",)
EXPORT_TABLES = ("daily_figures", "scores")
EXPORT_CHUNK = 2000
PDF_CONTENT_TYPE = "application/pdf"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

VIOLATION_COUNTERS = (
    "notice_violations",
    "errors",
    "conduct_findings",
    "away_violations",
    "integrity_violations",
)

# The counters a department row of the workbook carries; the rate columns are formulas over them.
DEPARTMENT_COUNTERS = (
    "arrivals",
    "tickets_called",
    "tickets_served",
    "wait_seconds",
    "served_within_target",
    "cases_completed",
    "cases_on_time",
    "cases_one_visit",
    "ratings",
    "ratings_good",
    "ratings_bad",
    "complaints_upheld",
)


def counter_labels() -> dict[str, str]:
    return {
        "arrivals": _("到达人次"),
        "tickets_called": _("叫号人次"),
        "tickets_served": _("办理人次"),
        "wait_seconds": _("等候总时长（秒）"),
        "service_seconds": _("办理总时长（秒）"),
        "served_within_target": _("目标时间内叫号人次"),
        "tickets_no_show": _("过号人次"),
        "cases_completed": _("办结件数"),
        "cases_on_time": _("按时办结件数"),
        "cases_one_visit": _("一次办结件数"),
        "supplements": _("补正次数"),
        "notice_violations": _("未一次性告知次数"),
        "errors": _("差错次数"),
        "ratings": _("评价数"),
        "ratings_good": _("好评数"),
        "ratings_bad": _("差评数"),
        "complaints_upheld": _("属实投诉件数"),
        "conduct_findings": _("服务态度违规次数"),
        "check_ins_expected": _("应考勤次数"),
        "check_ins_normal": _("正常考勤次数"),
        "away_violations": _("离岗未说明去向次数"),
        "inspection_deductions": _("明察暗访扣分"),
        "integrity_violations": _("违反廉洁规定次数"),
    }


# --- input ----------------------------------------------------------------------------------------


def check_format(raw: str, allowed: tuple[str, ...] = REPORT_FORMATS) -> str:
    value = (raw or allowed[0]).strip().lower()
    if value not in allowed:
        raise ActionRefused(
            _("不支持的格式“%(format)s”，可选：%(allowed)s。")
            % {"format": value[:20], "allowed": "、".join(allowed)},
            code="invalid_input",
            field="format",
        )
    return value


def month_bounds(raw: str) -> tuple[int, int, dt.date, dt.date]:
    """'2026-11' → (2026, 11, first day, last day); anything but a month is refused."""
    kind, year, number = actions.parse_period(raw)
    if kind != PeriodKind.MONTH:
        raise ActionRefused(
            _("月度报表的考核期应为月份，例如 2026-11。"), code="invalid_input", field="period"
        )
    start, end = actions.period_bounds(kind, year, number)
    return year, number, start, end


def report_period(user: User, raw: str) -> AssessmentPeriod:
    """The month a report is asked for: ended, and computed (a draft is computed now for a manager)."""
    year, number, start, end = month_bounds(raw)
    if end >= timezone.localdate():
        raise ActionRefused(
            _("该月尚未结束（%(end)s 结束），月度报表在月份结束后才能生成。") % {"end": end.isoformat()},
            code="period_not_ended",
            field="period",
        )
    period = AssessmentPeriod.objects.filter(kind=PeriodKind.MONTH, starts_on=start).first()
    if period is not None:
        return period
    if user.has_capability(Capability.MANAGE_ASSESSMENT):
        return actions.compute_period(user, PeriodKind.MONTH, year, number)
    raise NotFound(
        _("%(year)s年%(month)s月的考核结果尚未计算，请中心管理员计算后再下载报表。")
        % {"year": year, "month": number},
        code="period_not_computed",
    )


# --- figures --------------------------------------------------------------------------------------


def headline(counters: dict[str, int]) -> dict[str, Any]:
    """The month at a glance; a rate without a denominator is None (shown as 无数据), never a division by 0."""
    return {
        "arrivals": counters.get("arrivals", 0),
        "served": counters.get("tickets_served", 0),
        "cases_completed": counters.get("cases_completed", 0),
        "average_wait": shown_figure(Measure.AVERAGE_WAIT, counters),
        "service_level": shown_figure(Measure.SERVICE_LEVEL, counters),
        "good_rate": shown_figure(Measure.GOOD_RATE, counters),
        "bad_rate": shown_figure(Measure.BAD_RATE, counters),
        "on_time_rate": shown_figure(Measure.ON_TIME_RATE, counters),
        "one_visit_rate": shown_figure(Measure.ONE_VISIT_RATE, counters),
        "complaints_upheld": counters.get("complaints_upheld", 0),
        "violations": sum(counters.get(name, 0) for name in VIOLATION_COUNTERS),
    }


def _site_counters(period: AssessmentPeriod, site: Site, site_score: Score | None) -> dict[str, int]:
    if site_score is not None:
        return {name: int(value) for name, value in site_score.details.get("counters", {}).items()}
    rows = DailyFigures.objects.filter(
        site=site,
        subject_kind=SubjectKind.SITE,
        subject_id=site.pk,
        date__range=(period.starts_on, period.ends_on),
    ).aggregate(**{name: Sum(name) for name in counter_labels()})
    return {name: int(value or 0) for name, value in rows.items()}


def _score_row(score: Score) -> dict[str, Any]:
    return {
        "id": score.pk,
        "name": score.subject_name,
        "total": score.total,
        "rank": score.rank,
        "ranked_among": score.ranked_among,
        "nominated": score.nominated,
        "disqualified_reason": score.disqualified_reason,
        "bottom_flag": score.bottom_flag,
        "bottom_in_month": bool(score.details.get("bottom_in_month")),
        "dimensions": [item.get("score") for item in score.details.get("dimensions", [])],
        "counters": score.details.get("counters", {}),
    }


def _tally(site: Site, period: AssessmentPeriod) -> dict[str, Any] | None:
    """The 满意度调查 tally of the quarter the month is in (supervision keeps the survey per quarter)."""
    from servicehall.supervision.tally import survey_tally

    quarter = (period.starts_on.month - 1) // 3 + 1
    tally = survey_tally(site.pk, period.starts_on.year, quarter)
    rows = [
        {
            "question": row["question"].text,
            "cells": [(str(label), count) for label, count in row["cells"]],
            "answered": row["answered"],
            "satisfaction_rate": row["satisfaction_rate"],
        }
        for row in tally["rows"]
    ]
    # Free-text comments are left out: they may name people; the supervision page shows them in scope.
    return {"year": period.starts_on.year, "quarter": quarter, "responses": tally["responses"], "rows": rows}


def centre_report(user: User, period: AssessmentPeriod, site: Site) -> dict[str, Any]:
    """The monthly centre report of one site, as plain data (the caller has checked the site's scope)."""
    scores = list(
        Score.objects.restrict(user, Capability.VIEW_ASSESSMENT)
        .filter(period=period, site=site)
        .order_by("subject_kind", "rank", "subject_name")
    )
    by_kind: dict[str, list[Score]] = {kind: [] for kind in SubjectKind.values}
    for score in scores:
        by_kind[score.subject_kind].append(score)
    site_score = next((item for item in by_kind[SubjectKind.SITE] if item.subject_id == site.pk), None)
    counters = _site_counters(period, site, site_score)

    def ranked(kind: str) -> list[dict[str, Any]]:
        items = sorted(by_kind[kind], key=lambda item: (item.rank is None, item.rank or 0, item.subject_name))
        return [_score_row(item) for item in items]

    departments = sorted(by_kind[SubjectKind.DEPARTMENT], key=lambda item: item.subject_name)
    return {
        "site": {"id": site.pk, "name": site.name, "code": site.code},
        "period": {
            "label": period.label,
            "starts_on": period.starts_on,
            "ends_on": period.ends_on,
            "published": period.status == PeriodStatus.PUBLISHED,
            "computed_at": period.computed_at,
        },
        "dimension_names": [item["name"] for item in period.index_snapshot.get("dimensions", [])],
        "counters": counters,
        "headline": headline(counters),
        "site_score": _score_row(site_score) if site_score else None,
        "staff": ranked(SubjectKind.STAFF),
        "windows": ranked(SubjectKind.WINDOW),
        "departments": [
            {**_score_row(item), "figures": headline(item.details.get("counters", {}))}
            for item in departments
        ],
        "survey": _tally(site, period),
        "generated_at": timezone.localtime(),
    }


def staff_sheet(score: Score) -> dict[str, Any]:
    """One score explained: every dimension and indicator with its raw numbers, formula, score and weight."""
    period = score.period
    # Details keep only the counters and dimension scores; the full explanation is recomputed from the
    # counters and the period's own index snapshot (older rows may still carry it in full).
    explanation = score.explanation() if hasattr(score, "explanation") else score.details
    return {
        "score": _score_row(score),
        "kind": score.get_subject_kind_display(),
        "site": {"id": score.site_id, "name": score.site.name},
        "period": {
            "label": period.label,
            "starts_on": period.starts_on,
            "ends_on": period.ends_on,
            "published": period.status == PeriodStatus.PUBLISHED,
            "computed_at": period.computed_at,
        },
        "dimensions": explanation.get("dimensions", []),
        "counters": score.details.get("counters", {}),
        "generated_at": timezone.localtime(),
    }


# --- PDF ------------------------------------------------------------------------------------------


def pdf_document(template: str, context: dict[str, Any]) -> Any:
    """The rendered WeasyPrint document (its pages can be inspected); ``write_pdf`` gives the bytes."""
    from weasyprint import HTML

    html = render_to_string(template, context)
    return HTML(string=html, base_url=None).render()


def centre_report_pdf(report: dict[str, Any]) -> bytes:
    return pdf_document("assessment/report_centre.html", {"report": report}).write_pdf()


def staff_sheet_pdf(sheet: dict[str, Any]) -> bytes:
    return pdf_document("assessment/report_staff.html", {"sheet": sheet}).write_pdf()


# --- Excel ----------------------------------------------------------------------------------------

BOLD = Font(bold=True)
PERCENT = "0.0%"
ONE_PLACE = "0.0"


def _header(sheet: Any, row: int, titles: list[str]) -> None:
    for column, title in enumerate(titles, start=1):
        cell = sheet.cell(row=row, column=column, value=title)
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def _widths(sheet: Any, widths: list[int]) -> None:
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width


def _rate(numerator: str, denominator: str) -> str:
    """A rate as a live formula, blank when the denominator is 0 (a month without ratings has no 好评率)."""
    return f'=IF(N({denominator})=0,"",{numerator}/{denominator})'


def _number(value: Any) -> Any:
    if value is None or value == "":
        return None
    try:
        return float(Decimal(str(value)))
    except ArithmeticError:
        return None


def _to_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _overview_sheet(book: Workbook, report: dict[str, Any]) -> None:
    sheet = book.active
    sheet.title = _("概况")
    labels = counter_labels()
    sheet["A1"] = _("%(site)s %(period)s 月度报告") % {
        "site": report["site"]["name"],
        "period": report["period"]["label"],
    }
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = _("已发布") if report["period"]["published"] else _("未发布，数据仍可能变化")
    _header(sheet, 4, [_("原始数据"), _("数值")])
    cells: dict[str, str] = {}
    row = 5
    for name, label in labels.items():
        sheet.cell(row=row, column=1, value=label)
        sheet.cell(row=row, column=2, value=int(report["counters"].get(name, 0)))
        cells[name] = f"B{row}"
        row += 1
    row += 1
    _header(sheet, row, [_("指标"), _("数值"), _("计算方法")])
    row += 1
    c = cells
    rates = [
        (_("到达人次"), f"={c['arrivals']}", None, _("到达人次")),
        (_("办理人次"), f"={c['tickets_served']}", None, _("办理人次")),
        (
            _("平均等候时间（分钟）"),
            f'=IF(N({c["tickets_called"]})=0,"",{c["wait_seconds"]}/{c["tickets_called"]}/60)',
            ONE_PLACE,
            _("等候总时长 ÷ 叫号人次 ÷ 60"),
        ),
        (
            _("服务水平"),
            _rate(c["served_within_target"], c["tickets_called"]),
            PERCENT,
            _("目标时间内叫号人次 ÷ 叫号人次"),
        ),
        (_("好评率"), _rate(c["ratings_good"], c["ratings"]), PERCENT, _("好评数 ÷ 评价数")),
        (_("差评率"), _rate(c["ratings_bad"], c["ratings"]), PERCENT, _("差评数 ÷ 评价数")),
        (
            _("及时办结率"),
            _rate(c["cases_on_time"], c["cases_completed"]),
            PERCENT,
            _("按时办结件数 ÷ 办结件数"),
        ),
        (
            _("一次办结率"),
            _rate(c["cases_one_visit"], c["cases_completed"]),
            PERCENT,
            _("一次办结件数 ÷ 办结件数"),
        ),
        (_("属实投诉件数"), f"={c['complaints_upheld']}", None, _("属实投诉件数")),
        (
            _("违规次数"),
            "=SUM(" + ",".join(c[name] for name in VIOLATION_COUNTERS) + ")",
            None,
            _("未一次性告知、差错、服务态度、离岗、廉洁违规次数之和"),
        ),
    ]
    for label, formula, number_format, explanation in rates:
        sheet.cell(row=row, column=1, value=label)
        cell = sheet.cell(row=row, column=2, value=formula)
        if number_format:
            cell.number_format = number_format
        sheet.cell(row=row, column=3, value=explanation)
        row += 1
    _widths(sheet, [24, 14, 48])


def _ranking_sheet(
    book: Workbook, title: str, rows: list[dict[str, Any]], dimensions: list[str], honour: str
) -> None:
    sheet = book.create_sheet(title)
    titles = [_("排名"), _("对象"), _("总分"), *dimensions]
    titles += [_("评价数"), _("好评数"), _("好评率"), _("办结件数"), _("按时办结件数"), _("及时办结率")]
    titles += [honour, _("末位预警"), _("取消评优原因")]
    _header(sheet, 1, titles)
    first = 2
    total_column = get_column_letter(3)
    base = 4 + len(dimensions)  # column of 评价数
    letters = [get_column_letter(base + offset) for offset in range(6)]
    for row_number, item in enumerate(rows, start=first):
        values: list[Any] = [
            item["rank"] if item["rank"] else None,
            item["name"],
            _number(item["total"]),
            *[_number(value) for value in item["dimensions"][: len(dimensions)]],
        ]
        values += [None] * (3 + len(dimensions) - len(values))
        for column, value in enumerate(values, start=1):
            sheet.cell(row=row_number, column=column, value=value)
        counters = item["counters"]
        sheet.cell(row=row_number, column=base, value=int(counters.get("ratings", 0)))
        sheet.cell(row=row_number, column=base + 1, value=int(counters.get("ratings_good", 0)))
        sheet.cell(
            row=row_number,
            column=base + 2,
            value=_rate(f"{letters[1]}{row_number}", f"{letters[0]}{row_number}"),
        ).number_format = PERCENT
        sheet.cell(row=row_number, column=base + 3, value=int(counters.get("cases_completed", 0)))
        sheet.cell(row=row_number, column=base + 4, value=int(counters.get("cases_on_time", 0)))
        sheet.cell(
            row=row_number,
            column=base + 5,
            value=_rate(f"{letters[4]}{row_number}", f"{letters[3]}{row_number}"),
        ).number_format = PERCENT
        sheet.cell(row=row_number, column=base + 6, value=_("推荐") if item["nominated"] else "")
        flag = _("连续末位") if item["bottom_flag"] else (_("本期末位") if item["bottom_in_month"] else "")
        sheet.cell(row=row_number, column=base + 7, value=flag)
        sheet.cell(row=row_number, column=base + 8, value=item["disqualified_reason"])
    last = first + len(rows) - 1
    summary = last + 1
    sheet.cell(row=summary, column=2, value=_("合计 / 平均")).font = BOLD
    if rows:
        sheet.cell(
            row=summary, column=3, value=f'=IFERROR(AVERAGE({total_column}{first}:{total_column}{last}),"")'
        ).number_format = "0.00"
        for offset in (0, 1, 3, 4):
            letter = letters[offset]
            sheet.cell(row=summary, column=base + offset, value=f"=SUM({letter}{first}:{letter}{last})")
        sheet.cell(
            row=summary, column=base + 2, value=_rate(f"{letters[1]}{summary}", f"{letters[0]}{summary}")
        ).number_format = PERCENT
        sheet.cell(
            row=summary, column=base + 5, value=_rate(f"{letters[4]}{summary}", f"{letters[3]}{summary}")
        ).number_format = PERCENT
    _widths(sheet, [8, 24, 10, *[10] * len(dimensions), 10, 10, 10, 10, 12, 10, 12, 10, 30])
    sheet.freeze_panes = "C2"


def _department_sheet(book: Workbook, report: dict[str, Any]) -> None:
    sheet = book.create_sheet(_("部门"))
    labels = counter_labels()
    counters = list(DEPARTMENT_COUNTERS)
    titles = [_("部门"), _("总分"), _("排名"), *[labels[name] for name in counters]]
    titles += [
        _("平均等候时间（分钟）"),
        _("服务水平"),
        _("好评率"),
        _("差评率"),
        _("及时办结率"),
        _("一次办结率"),
    ]
    _header(sheet, 1, titles)
    column_of = {name: get_column_letter(4 + index) for index, name in enumerate(counters)}
    rate_start = 4 + len(counters)
    rows = report["departments"]
    first = 2

    def rates(row: int) -> None:
        col = {name: f"{letter}{row}" for name, letter in column_of.items()}
        formulas = [
            (
                f'=IF(N({col["tickets_called"]})=0,"",{col["wait_seconds"]}/{col["tickets_called"]}/60)',
                ONE_PLACE,
            ),
            (_rate(col["served_within_target"], col["tickets_called"]), PERCENT),
            (_rate(col["ratings_good"], col["ratings"]), PERCENT),
            (_rate(col["ratings_bad"], col["ratings"]), PERCENT),
            (_rate(col["cases_on_time"], col["cases_completed"]), PERCENT),
            (_rate(col["cases_one_visit"], col["cases_completed"]), PERCENT),
        ]
        for offset, (formula, number_format) in enumerate(formulas):
            sheet.cell(row=row, column=rate_start + offset, value=formula).number_format = number_format

    for row_number, item in enumerate(rows, start=first):
        sheet.cell(row=row_number, column=1, value=item["name"])
        sheet.cell(row=row_number, column=2, value=_number(item["total"]))
        sheet.cell(row=row_number, column=3, value=item["rank"])
        for index, name in enumerate(counters):
            sheet.cell(row=row_number, column=4 + index, value=int(item["counters"].get(name, 0)))
        rates(row_number)
    total_row = first + len(rows)
    sheet.cell(row=total_row, column=1, value=_("合计")).font = BOLD
    for name, letter in column_of.items():
        end = total_row - 1
        formula = f"=SUM({letter}{first}:{letter}{end})" if rows else 0
        sheet.cell(row=total_row, column=counters.index(name) + 4, value=formula).font = BOLD
    rates(total_row)
    _widths(sheet, [28, 8, 6, *[11] * len(counters), 12, 10, 10, 10, 10, 10])
    sheet.freeze_panes = "B2"


def _survey_sheet(book: Workbook, survey: dict[str, Any] | None) -> None:
    sheet = book.create_sheet(_("满意度调查"))
    if survey is None:
        sheet["A1"] = _("本期没有满意度调查数据。")
        return
    sheet["A1"] = _("%(year)s年第%(quarter)s季度满意度调查，共 %(responses)s 份答卷") % survey
    sheet["A1"].font = BOLD
    row = 3
    for item in survey["rows"]:
        sheet.cell(row=row, column=1, value=item["question"]).font = BOLD
        row += 1
        first = row
        for label, count in item["cells"]:
            sheet.cell(row=row, column=1, value=label)
            sheet.cell(row=row, column=2, value=count)
            row += 1
        sheet.cell(row=row, column=1, value=_("合计"))
        sheet.cell(row=row, column=2, value=f"=SUM(B{first}:B{row - 1})")
        if item["satisfaction_rate"] is not None:
            sheet.cell(row=row + 1, column=1, value=_("满意率（非常满意 + 满意）"))
            sheet.cell(
                row=row + 1, column=2, value=_rate(f"(B{first}+B{first + 1})", f"B{row}")
            ).number_format = PERCENT
            row += 1
        row += 2
    _widths(sheet, [50, 12])


def centre_report_xlsx(report: dict[str, Any]) -> bytes:
    book = Workbook()
    _overview_sheet(book, report)
    dimensions = report["dimension_names"]
    _ranking_sheet(book, _("工作人员排名"), report["staff"], dimensions, _("服务之星"))
    _ranking_sheet(book, _("窗口排名"), report["windows"], dimensions, _("红旗窗口"))
    _department_sheet(book, report)
    _survey_sheet(book, report["survey"])
    return _to_bytes(book)


def _value_formula(indicator: dict[str, Any], numerator: str, denominator: str) -> str:
    definition = MEASURES.get(indicator.get("measure", ""))
    if definition is None or indicator.get("denominator") is None:
        return f"={numerator}"
    if definition.factor == HUNDRED:
        factor = "*100"
    elif definition.factor == 1:
        factor = ""
    else:
        factor = "/60"
    return f'=IF(N({denominator})=0,"",{numerator}/{denominator}{factor})'


def staff_sheet_xlsx(sheet_data: dict[str, Any]) -> bytes:
    """The explanation as a workbook: value, weighted points, dimension score and total are formulas."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("考核得分说明")
    score = sheet_data["score"]
    sheet["A1"] = f"{score['name']} · {sheet_data['period']['label']}"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = f"{sheet_data['kind']} · {sheet_data['site']['name']}"
    sheet["A3"] = _("已发布") if sheet_data["period"]["published"] else _("未发布，数据仍可能变化")
    sheet["A4"] = _("排名")
    sheet["B4"] = f"{score['rank']} / {score['ranked_among']}" if score["rank"] else "—"
    titles = [
        _("维度"),
        _("维度权重（%）"),
        _("维度计入权重（%）"),
        _("指标"),
        _("分子"),
        _("分母"),
        _("实际值"),
        _("单位"),
        _("计分方法"),
        _("得分"),
        _("指标权重（%）"),
        _("计入权重（%）"),
        _("加权得分"),
    ]
    _header(sheet, 6, titles)
    row = 7
    dimension_rows: list[tuple[int, str]] = []  # (row of the dimension total, letter of its weight)
    for dimension in sheet_data["dimensions"]:
        first = row
        for indicator in dimension["indicators"]:
            sheet.cell(row=row, column=1, value=dimension["name"])
            sheet.cell(row=row, column=2, value=dimension["weight"])
            sheet.cell(row=row, column=3, value=_number(dimension.get("effective_weight")))
            sheet.cell(row=row, column=4, value=indicator["name"])
            sheet.cell(row=row, column=5, value=indicator["numerator"])
            sheet.cell(row=row, column=6, value=indicator["denominator"])
            if indicator["value"] is None:
                sheet.cell(row=row, column=7, value=_("无数据"))
            else:
                sheet.cell(
                    row=row, column=7, value=_value_formula(indicator, f"E{row}", f"F{row}")
                ).number_format = "0.00"
            sheet.cell(row=row, column=8, value=indicator.get("unit", ""))
            sheet.cell(row=row, column=9, value=indicator["formula"])
            sheet.cell(row=row, column=10, value=_number(indicator["score"]))
            sheet.cell(row=row, column=11, value=indicator["weight"])
            sheet.cell(row=row, column=12, value=_number(indicator.get("effective_weight")))
            sheet.cell(
                row=row, column=13, value=f"=IF(ISNUMBER(J{row}),J{row}*L{row}/100,0)"
            ).number_format = "0.00"
            row += 1
        sheet.cell(row=row, column=1, value=dimension["name"]).font = BOLD
        sheet.cell(row=row, column=3, value=_number(dimension.get("effective_weight")))
        sheet.cell(row=row, column=4, value=_("维度得分")).font = BOLD
        if dimension.get("score") is None:
            sheet.cell(row=row, column=13, value=_("无数据"))
        else:
            sheet.cell(row=row, column=13, value=f"=SUM(M{first}:M{row - 1})").number_format = "0.00"
        dimension_rows.append((row, "C"))
        row += 2
    sheet.cell(row=row, column=4, value=_("总分")).font = BOLD
    terms = [f"IF(ISNUMBER(M{line}),M{line}*{letter}{line}/100,0)" for line, letter in dimension_rows]
    if score["total"] is None or not terms:
        sheet.cell(row=row, column=13, value=_("无数据"))
    else:
        total = sheet.cell(row=row, column=13, value="=" + "+".join(terms))
        total.number_format = "0.00"
        total.font = BOLD
    sheet.cell(row=row + 1, column=4, value=_("系统记录的总分"))
    sheet.cell(row=row + 1, column=13, value=_number(score["total"]))
    sheet.cell(
        row=row + 3,
        column=1,
        value=_(
            "总分 = 各维度得分 × 维度计入权重之和；维度得分 = 各指标得分 × 指标计入权重之和。某项指标无数据时，"
            "其权重按比例分给同一维度中有数据的指标。"
        ),
    )
    _widths(sheet, [12, 8, 10, 22, 10, 10, 10, 6, 44, 8, 8, 8, 10])
    counters_sheet = book.create_sheet(_("原始数据"))
    _header(counters_sheet, 1, [_("原始数据"), _("数值")])
    for line, (name, label) in enumerate(counter_labels().items(), start=2):
        counters_sheet.cell(row=line, column=1, value=label)
        counters_sheet.cell(row=line, column=2, value=int(sheet_data["counters"].get(name, 0)))
    _widths(counters_sheet, [24, 12])
    return _to_bytes(book)


# --- streamed exports -----------------------------------------------------------------------------


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def export_rows(user: User, table: str, raw_period: str) -> Iterator[list[Any]]:
    """The header and then every row of one table for a period, in the user's sites, read in chunks.

    Validation happens before the first row is produced (call ``next`` once, or use ``export_csv``)."""
    if table not in EXPORT_TABLES:
        raise ActionRefused(
            _("不支持导出“%(table)s”，可选：%(allowed)s。")
            % {"table": table[:30], "allowed": "、".join(EXPORT_TABLES)},
            code="invalid_input",
            field="table",
        )
    kind, year, number = actions.parse_period(raw_period)
    start, end = actions.period_bounds(kind, year, number)
    site_ids = user.accessible_site_ids()
    site_codes = dict(Site.objects.filter(pk__in=site_ids).values_list("pk", "code"))
    kinds = dict(SubjectKind.choices)
    if table == "daily_figures":
        counters = list(counter_labels())
        names = {
            kind_value: {
                pk: name for pk, (name, _site) in actions.subject_names(kind_value, site_ids=site_ids).items()
            }
            for kind_value in SubjectKind.values
        }
        queryset = (
            DailyFigures.objects.restrict(user, Capability.VIEW_ASSESSMENT)
            .filter(date__range=(start, end))
            .order_by("date", "site_id", "subject_kind", "subject_id")
            .values_list("date", "site_id", "subject_kind", "subject_id", *counters)
        )
        labels = counter_labels()

        def daily() -> Iterator[list[Any]]:
            yield [
                _("日期"),
                _("服务场所"),
                _("对象类型"),
                _("对象编号"),
                _("对象"),
                *[labels[c] for c in counters],
            ]
            for date, site_id, subject_kind, subject_id, *values in queryset.iterator(
                chunk_size=EXPORT_CHUNK
            ):
                yield [
                    date.isoformat(),
                    site_codes.get(site_id, site_id),
                    str(kinds.get(subject_kind, subject_kind)),
                    subject_id,
                    names.get(subject_kind, {}).get(subject_id, ""),
                    *values,
                ]

        return daily()
    period = AssessmentPeriod.objects.filter(kind=kind, starts_on=start).first()
    if period is None:
        raise NotFound(_("该考核期尚未计算，没有可导出的得分。"), code="period_not_computed")
    dimension_names = [item["name"] for item in period.index_snapshot.get("dimensions", [])]
    scores = (
        Score.objects.restrict(user, Capability.VIEW_ASSESSMENT)
        .filter(period=period)
        .order_by("site_id", "subject_kind", "rank", "subject_name")
        .values_list(
            "site_id",
            "subject_kind",
            "subject_id",
            "subject_name",
            "total",
            "rank",
            "ranked_among",
            "nominated",
            "bottom_flag",
            "disqualified_reason",
            "details",
        )
    )

    def ranked() -> Iterator[list[Any]]:
        yield [
            _("考核期"),
            _("服务场所"),
            _("对象类型"),
            _("对象编号"),
            _("对象"),
            _("总分"),
            _("排名"),
            _("参与排名数"),
            _("推荐评优"),
            _("末位预警"),
            _("取消评优原因"),
            *dimension_names,
        ]
        for (
            site_id,
            subject_kind,
            subject_id,
            name,
            total,
            rank,
            among,
            nominated,
            bottom,
            reason,
            details,
        ) in scores.iterator(chunk_size=EXPORT_CHUNK):
            yield [
                period.label,
                site_codes.get(site_id, site_id),
                str(kinds.get(subject_kind, subject_kind)),
                subject_id,
                name,
                "" if total is None else total,
                rank or "",
                among,
                _("是") if nominated else "",
                _("是") if bottom else "",
                reason,
                *[item.get("score") or "" for item in (details or {}).get("dimensions", [])],
            ]

    return ranked()


def export_csv(user: User, table: str, raw_period: str) -> Iterator[str]:
    """CSV lines with a UTF-8 BOM first (so Excel reads the Chinese headers); validated before returning."""
    rows = export_rows(user, table, raw_period)
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"
        for row in rows:
            yield writer.writerow(row)

    return lines()


# --- public figures (六公开) ----------------------------------------------------------------------


def public_monthly_figures(site_id: int, months: int = 6) -> list[dict[str, Any]]:
    """满意率 (好评率), 及时办结率 and 办件量 of the last ``months`` published months, newest first.

    Only published periods (their numbers are frozen) and only the site's own totals: no person, window
    or department appears. A month whose site had no score falls back to the site's daily figures.
    """
    periods = list(
        AssessmentPeriod.objects.filter(kind=PeriodKind.MONTH, status=PeriodStatus.PUBLISHED).order_by(
            "-starts_on"
        )[: max(0, min(int(months), 36))]
    )
    site_scores = dict(
        Score.objects.filter(
            period__in=periods, subject_kind=SubjectKind.SITE, subject_id=site_id
        ).values_list("period_id", "details")
    )
    result = []
    for period in periods:
        counters = (site_scores.get(period.pk) or {}).get("counters")
        if counters is None:
            counters = {
                name: int(value or 0)
                for name, value in DailyFigures.objects.filter(
                    site_id=site_id,
                    subject_kind=SubjectKind.SITE,
                    subject_id=site_id,
                    date__range=(period.starts_on, period.ends_on),
                )
                .aggregate(
                    ratings=Sum("ratings"),
                    ratings_good=Sum("ratings_good"),
                    cases_completed=Sum("cases_completed"),
                    cases_on_time=Sum("cases_on_time"),
                )
                .items()
            }
        result.append(
            {
                "month": period.label,
                "satisfaction_rate": shown_figure(Measure.GOOD_RATE, counters),
                "on_time_rate": shown_figure(Measure.ON_TIME_RATE, counters),
                "cases_completed": int(counters.get("cases_completed", 0)),
                "ratings": int(counters.get("ratings", 0)),
            }
        )
    return result
