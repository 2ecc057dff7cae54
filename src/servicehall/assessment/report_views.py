"""Report downloads of 监督考核. Thin: check the input and the scope, build with assessment.reports.

- the monthly centre report (PDF or .xlsx) needs VIEW_ASSESSMENT and the site in scope;
- a staff member's monthly sheet: the person themself without VIEW_ASSESSMENT, others with it and scope;
- exports stream CSV row by row (never the whole table in memory);
- the public monthly figures (六公开) need no login and show no personal data.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from servicehall.accounts.permissions import require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.assessment import reports
from servicehall.assessment.models import Score, SubjectKind
from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.sites.models import Site
from servicehall.web.decorators import staff_view
from servicehall.web.responses import refusal_response


def _download(content: bytes, fmt: str, filename: str) -> HttpResponse:
    content_type = reports.PDF_CONTENT_TYPE if fmt == "pdf" else reports.XLSX_CONTENT_TYPE
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _site(request: HttpRequest) -> Site:
    raw = request.GET.get("site", "")
    if not raw:
        return request.user.site
    site = Site.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
    if site is None:
        raise NotFound()
    require_in_scope(request.user, site, path=request.path)
    return site


@require_GET
@staff_view(Capability.VIEW_ASSESSMENT)
def centre_report_view(request: HttpRequest) -> HttpResponse:
    fmt = reports.check_format(request.GET.get("format", ""))
    site = _site(request)
    period = reports.report_period(request.user, request.GET.get("period", ""))
    report = reports.centre_report(request.user, period, site)
    content = reports.centre_report_pdf(report) if fmt == "pdf" else reports.centre_report_xlsx(report)
    return _download(content, fmt, f"centre-report-{site.code}-{period.label}")


@require_GET
@staff_view(Capability.VIEW_WORKBENCH)
def staff_sheet_view(request: HttpRequest, score_id: int) -> HttpResponse:
    fmt = reports.check_format(request.GET.get("format", ""))
    score = Score.objects.filter(pk=score_id).select_related("period", "site").first()
    if score is None:
        raise NotFound()
    own = score.subject_kind == SubjectKind.STAFF and score.subject_id == request.user.pk
    if not own:
        if not request.user.has_capability(Capability.VIEW_ASSESSMENT):
            raise NotFound()
        require_in_scope(request.user, score, path=request.path)
    sheet = reports.staff_sheet(score)
    content = reports.staff_sheet_pdf(sheet) if fmt == "pdf" else reports.staff_sheet_xlsx(sheet)
    return _download(content, fmt, f"score-sheet-{score.pk}-{score.period.label}")


@require_GET
@staff_view(Capability.VIEW_ASSESSMENT)
def export_view(request: HttpRequest) -> HttpResponse:
    reports.check_format(request.GET.get("format", ""), reports.EXPORT_FORMATS)
    table = request.GET.get("table", "")
    raw_period = request.GET.get("period", "")
    lines = reports.export_csv(request.user, table, raw_period)
    response = StreamingHttpResponse(lines, content_type=reports.CSV_CONTENT_TYPE)
    safe_period = "".join(char for char in raw_period if char.isalnum() or char == "-")[:10]
    response["Content-Disposition"] = f'attachment; filename="{table}-{safe_period}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def public_figures_view(request: HttpRequest, site_id: int) -> HttpResponse:
    site = Site.objects.filter(pk=site_id, is_active=True).first()
    if site is None:
        return refusal_response(request, NotFound(_("未找到该服务场所。")))
    try:
        rows = reports.public_monthly_figures(site.pk)
    except ActionRefused as refusal:
        return refusal_response(request, refusal)
    return render(request, "assessment/public_figures.html", {"site": site, "rows": rows})
