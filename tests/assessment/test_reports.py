"""Reports of 监督考核: the monthly centre report and staff sheets as PDF and .xlsx, who may download them,
bad input, streamed exports and the public monthly figures of the 六公开 page.

March 2025 at the town site: 李受理 (the clerk) at window 3 of 人社局, and 王外站 at the other town site.
Today is 1 April 2025 unless a test says otherwise.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from unittest import mock

import pytest
from django.db.models.query import QuerySet
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from servicehall.assessment import actions, reports
from servicehall.assessment.models import (
    AssessmentPeriod,
    DailyFigures,
    PeriodStatus,
    Score,
    SubjectKind,
)
from tests.conftest import audit_count, verified_client

APRIL_FIRST = dt.datetime(2025, 4, 1, 10, 0, tzinfo=dt.UTC)
MARCH_10 = dt.date(2025, 3, 10)


@pytest.fixture(autouse=True)
def april_first() -> Any:
    with mock.patch("django.utils.timezone.now", return_value=APRIL_FIRST):
        yield


def _row(site: Any, kind: str, subject_id: int, **counters: int) -> DailyFigures:
    values = {
        "arrivals": 40,
        "tickets_called": 40,
        "tickets_served": 38,
        "wait_seconds": 40 * 300,
        "served_within_target": 36,
        "cases_completed": 20,
        "cases_on_time": 19,
        "cases_one_visit": 18,
        "ratings": 10,
        "ratings_good": 9,
        "ratings_bad": 1,
        "check_ins_expected": 4,
        "check_ins_normal": 4,
    }
    values.update(counters)
    return DailyFigures.objects.create(
        site=site, date=MARCH_10, subject_kind=kind, subject_id=subject_id, **values
    )


@pytest.fixture
def march(
    clerk: Any,
    other_site_clerk: Any,
    town_site: Any,
    other_town_site: Any,
    window: Any,
    department: Any,
    centre_administrator: Any,
) -> AssessmentPeriod:
    _row(town_site, SubjectKind.STAFF, clerk.pk)
    _row(town_site, SubjectKind.WINDOW, window.pk)
    _row(town_site, SubjectKind.DEPARTMENT, department.pk)
    _row(town_site, SubjectKind.SITE, town_site.pk, complaints_upheld=1, errors=2)
    _row(other_town_site, SubjectKind.STAFF, other_site_clerk.pk, ratings_good=10, ratings_bad=0)
    _row(other_town_site, SubjectKind.SITE, other_town_site.pk, ratings_good=10, ratings_bad=0)
    return actions.compute_period(centre_administrator, "month", 2025, 3, rebuild=False)


def _score_of(period: AssessmentPeriod, staff: Any) -> Score:
    return Score.objects.get(period=period, subject_kind=SubjectKind.STAFF, subject_id=staff.pk)


def _pdf_text(document: Any) -> str:
    """The text WeasyPrint laid out on every page (no PDF text extractor is installed here)."""
    texts = []
    for page in document.pages:
        for box in page._page_box.descendants():
            text = getattr(box, "text", None)
            if isinstance(text, str):
                texts.append(text)
    return "".join(texts)


def _centre_url(**params: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{reverse('assessment:centre_report')}?{query}"


def _changed_nothing(before: tuple[int, int, int]) -> bool:
    return (
        AssessmentPeriod.objects.count(),
        Score.objects.count(),
        audit_count(action__startswith="assessment."),
    ) == before


def _state() -> tuple[int, int, int]:
    return (
        AssessmentPeriod.objects.count(),
        Score.objects.count(),
        audit_count(action__startswith="assessment."),
    )


# --- the monthly centre report --------------------------------------------------------------------


def test_the_centre_report_pdf_is_a4_with_the_site_name_and_page_numbers(
    march: AssessmentPeriod, supervisor: Any, town_site: Any, clerk: Any
) -> None:
    response = verified_client(supervisor).get(_centre_url(period="2025-03", format="pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")

    report = reports.centre_report(supervisor, march, town_site)
    document = reports.pdf_document("assessment/report_centre.html", {"report": report})
    text = _pdf_text(document)
    assert town_site.name in text
    assert clerk.full_name in text
    assert "好评率" in text
    assert "90.0%" in text
    assert "第 1 页 / 共" in text
    page = document.pages[0]
    assert (round(page.width * 25.4 / 96), round(page.height * 25.4 / 96)) == (210, 297)


def test_the_centre_report_headline_figures(march: AssessmentPeriod, supervisor: Any, town_site: Any) -> None:
    report = reports.centre_report(supervisor, march, town_site)
    figures = report["headline"]
    assert figures["arrivals"] == 40
    assert figures["served"] == 38
    assert str(figures["average_wait"]) == "5.0"
    assert str(figures["service_level"]) == "90.0"
    assert (str(figures["good_rate"]), str(figures["bad_rate"])) == ("90.0", "10.0")
    assert (str(figures["on_time_rate"]), str(figures["one_visit_rate"])) == ("95.0", "90.0")
    assert (figures["complaints_upheld"], figures["violations"]) == (1, 2)
    assert [row["name"] for row in report["staff"]] == ["李受理"]
    assert len(report["windows"]) == 1
    assert len(report["departments"]) == 1
    assert report["survey"] is not None
    assert report["survey"]["quarter"] == 1


def test_the_centre_report_workbook_has_live_formulas(march: AssessmentPeriod, supervisor: Any) -> None:
    response = verified_client(supervisor).get(_centre_url(period="2025-03", format="xlsx"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[:4] == ["概况", "工作人员排名", "窗口排名", "部门"]
    overview = book["概况"]
    values = list(overview.iter_rows(values_only=True))
    good = next(row for row in values if row[0] == "好评率")
    assert isinstance(good[1], str)
    assert good[1].startswith("=IF(")
    assert "/" in good[1]
    violations = next(row for row in values if row[0] == "违规次数")
    assert violations[1].startswith("=SUM(")
    department = book["部门"]
    total_row = [row for row in department.iter_rows(values_only=True) if row[0] == "合计"][0]
    assert any(isinstance(cell, str) and cell.startswith("=SUM(") for cell in total_row)
    assert any(isinstance(cell, str) and cell.startswith("=IF(") for cell in total_row)
    staff = book["工作人员排名"]
    assert staff.cell(row=2, column=2).value == "李受理"
    assert any(
        isinstance(cell.value, str) and cell.value.startswith("=IFERROR(AVERAGE(") for cell in staff[3]
    )


# --- the staff sheet ------------------------------------------------------------------------------


def test_a_clerk_downloads_their_own_sheet_explained(march: AssessmentPeriod, clerk: Any) -> None:
    own = _score_of(march, clerk)
    client = verified_client(clerk)
    url = reverse("assessment:staff_sheet", args=[own.pk])
    pdf = client.get(url + "?format=pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    text = _pdf_text(
        reports.pdf_document("assessment/report_staff.html", {"sheet": reports.staff_sheet(own)})
    )
    assert "李受理" in text
    assert "好评率" in text
    assert "9 / 10" in text
    assert "得分 = 100 × 实际值 ÷ 目标值" in text

    workbook = client.get(url + "?format=xlsx")
    assert workbook.status_code == 200
    sheet = load_workbook(io.BytesIO(workbook.content))["考核得分说明"]
    rows = list(sheet.iter_rows(min_row=7, values_only=True))
    good = next(row for row in rows if row[3] == "好评率")
    assert (good[4], good[5]) == (9, 10)
    assert good[6].startswith("=IF(")
    assert good[6].endswith("*100)")
    assert good[8].startswith("得分 = 100 × 实际值")
    total = next(row for row in rows if row[3] == "总分")
    assert total[12].startswith("=IF(ISNUMBER(M")
    recorded = next(row for row in rows if row[3] == "系统记录的总分")
    assert recorded[12] == float(own.total)


# --- who may download -----------------------------------------------------------------------------


def test_permission_matrix_and_nothing_changed(
    march: AssessmentPeriod,
    clerk: Any,
    other_site_clerk: Any,
    supervisor: Any,
    other_town_site: Any,
) -> None:
    before = _state()
    clerk_client = verified_client(clerk)
    supervisor_client = verified_client(supervisor)
    others = _score_of(march, other_site_clerk)

    assert clerk_client.get(_centre_url(period="2025-03", format="pdf")).status_code == 403
    assert clerk_client.get(_centre_url(period="2025-03", format="xlsx")).status_code == 403
    assert clerk_client.get(reverse("assessment:staff_sheet", args=[others.pk])).status_code == 404
    assert (
        clerk_client.get(reverse("assessment:staff_sheet", args=[_score_of(march, clerk).pk])).status_code
        == 200
    )
    other_site = _centre_url(period="2025-03", format="pdf", site=str(other_town_site.pk))
    assert supervisor_client.get(other_site).status_code == 404
    assert supervisor_client.get(reverse("assessment:staff_sheet", args=[others.pk])).status_code == 404
    assert (
        supervisor_client.get(
            reverse("assessment:staff_sheet", args=[_score_of(march, clerk).pk])
        ).status_code
        == 200
    )
    assert clerk_client.get(f"{reverse('assessment:export')}?table=scores&period=2025-03").status_code == 403
    assert Client().get(_centre_url(period="2025-03")).status_code == 302
    # refusals are audited (accounts.*), but nothing of 监督考核 is created or changed
    assert _changed_nothing(before)


# --- bad input ------------------------------------------------------------------------------------


def test_a_month_not_yet_ended_is_refused_clearly(march: AssessmentPeriod, centre_administrator: Any) -> None:
    before = _state()
    response = verified_client(centre_administrator).get(_centre_url(period="2025-04", format="pdf"))
    assert response.status_code == 400
    assert "该月尚未结束" in response.content.decode()
    assert _changed_nothing(before)


@pytest.mark.parametrize("raw", ["2025-13", "abc", "", "2025Q1", "<script>"])
def test_a_malformed_period_is_400(march: AssessmentPeriod, supervisor: Any, raw: str) -> None:
    before = _state()
    response = verified_client(supervisor).get(_centre_url(period=raw, format="pdf"))
    assert response.status_code == 400
    text = response.content.decode()
    assert "考核期" in text or "月份" in text
    assert "<script>" not in text
    assert _changed_nothing(before)


def test_an_unknown_format_is_400(march: AssessmentPeriod, supervisor: Any, clerk: Any) -> None:
    response = verified_client(supervisor).get(_centre_url(period="2025-03", format="docx"))
    assert response.status_code == 400
    assert "不支持的格式" in response.content.decode()
    own = _score_of(march, clerk)
    sheet = verified_client(clerk).get(reverse("assessment:staff_sheet", args=[own.pk]) + "?format=html")
    assert sheet.status_code == 400


def test_a_month_never_computed_is_computed_only_for_a_manager(
    march: AssessmentPeriod, supervisor: Any, centre_administrator: Any
) -> None:
    before = _state()
    refused = verified_client(supervisor).get(_centre_url(period="2025-02", format="xlsx"))
    assert refused.status_code == 404
    assert "尚未计算" in refused.content.decode()
    assert _changed_nothing(before)

    computed = verified_client(centre_administrator).get(_centre_url(period="2025-02", format="xlsx"))
    assert computed.status_code == 200
    february = AssessmentPeriod.objects.get(starts_on=dt.date(2025, 2, 1))
    assert february.status == PeriodStatus.DRAFT


# --- streamed exports -----------------------------------------------------------------------------


def test_an_export_streams_rows_in_chunks_with_a_bom(
    march: AssessmentPeriod, supervisor: Any, clerk: Any, other_site_clerk: Any
) -> None:
    chunk_sizes: list[int] = []
    original = QuerySet.iterator

    def spy(self: QuerySet, chunk_size: int | None = None) -> Any:
        chunk_sizes.append(chunk_size)
        return original(self, chunk_size=chunk_size)

    client = verified_client(supervisor)
    with mock.patch.object(QuerySet, "iterator", spy):
        response = client.get(f"{reverse('assessment:export')}?table=daily_figures&period=2025-03&format=csv")
        assert isinstance(response, StreamingHttpResponse)
        assert response.streaming
        assert chunk_sizes == []  # nothing read before the body is consumed
        chunks = iter(response.streaming_content)
        assert next(chunks).decode() == "\ufeff"
        header = next(chunks).decode()
        assert header.startswith("日期,服务场所,对象类型")
        body = b"".join(chunks).decode()
    assert chunk_sizes == [2000]
    assert "李受理" in body
    assert "王外站" not in body  # another site is out of scope
    assert "phone" not in header
    assert "证件" not in header
    assert body.count("\n") == 4  # staff, window, department, site rows of the town site

    scores = client.get(f"{reverse('assessment:export')}?table=scores&period=2025-03")
    assert isinstance(scores, StreamingHttpResponse)
    text = b"".join(scores.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("考核期,服务场所")
    assert "李受理" in text
    assert "王外站" not in text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("table=users&period=2025-03", "不支持导出"),
        ("table=scores&period=2025-3x", "考核期"),
        ("table=scores&period=2025-03&format=xls", "不支持的格式"),
        ("table=scores&period=2024-12", "尚未计算"),
    ],
)
def test_a_bad_export_request_is_refused(
    march: AssessmentPeriod, supervisor: Any, query: str, message: str
) -> None:
    response = verified_client(supervisor).get(f"{reverse('assessment:export')}?{query}")
    assert response.status_code in (400, 404)
    assert not isinstance(response, StreamingHttpResponse)
    assert message in response.content.decode()


def test_an_export_of_many_rows_holds_only_a_chunk_in_memory(supervisor: Any, town_site: Any) -> None:
    import tracemalloc

    DailyFigures.objects.bulk_create(
        [
            DailyFigures(
                site=town_site, date=MARCH_10, subject_kind=SubjectKind.WINDOW, subject_id=number, arrivals=3
            )
            for number in range(1, 20_001)
        ],
        batch_size=5000,
    )
    lines = reports.export_csv(supervisor, "daily_figures", "2025-03")
    tracemalloc.start()
    count = 0
    for count, _line in enumerate(lines, start=1):  # noqa: B007
        pass
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 20_002  # BOM, header and every row
    assert peak < 8 * 1024 * 1024, peak


# --- public monthly figures (六公开) ---------------------------------------------------------------


def test_public_monthly_figures_show_only_published_site_totals(
    march: AssessmentPeriod, town_site: Any, clerk: Any
) -> None:
    assert reports.public_monthly_figures(town_site.pk) == []
    assert Client().get(reverse("assessment:public_figures", args=[town_site.pk])).status_code == 200

    AssessmentPeriod.objects.filter(pk=march.pk).update(status=PeriodStatus.PUBLISHED)
    figures = reports.public_monthly_figures(town_site.pk)
    assert [
        (row["month"], str(row["satisfaction_rate"]), str(row["on_time_rate"]), row["cases_completed"])
        for row in figures
    ] == [("2025-03", "90.0", "95.0", 20)]
    page = Client().get(reverse("assessment:public_figures", args=[town_site.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "90.0%" in text
    assert "95.0%" in text
    assert clerk.full_name not in text
    assert Client().get(reverse("assessment:public_figures", args=[999_999])).status_code == 404
