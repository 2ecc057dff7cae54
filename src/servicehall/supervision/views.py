"""Supervision pages. Thin: each checks the shape of the input and calls supervision.actions.

The accused staff member never reaches a complaint about them: the list leaves it out and the detail and
actions answer 404 (seed 000 十不准 9), and nothing they can open names the complainant.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicehall.accounts.models import User
from servicehall.accounts.permissions import require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.lib.identity import mask_mobile_phone, mask_name
from servicehall.sites.models import Site, Window
from servicehall.supervision import actions
from servicehall.supervision.models import (
    AppealStatus,
    ChecklistItem,
    Complaint,
    ComplaintChannel,
    ComplaintConclusion,
    ComplaintKind,
    ComplaintStatus,
    Inspection,
    InspectionMode,
    InspectionPhoto,
    ProposalStatus,
    Survey,
    TierProposal,
    Violation,
    ViolationAppeal,
    ViolationKind,
)
from servicehall.supervision.tally import inspection_results, survey_tally
from servicehall.web.decorators import staff_view

LIST_LIMIT = 200


def _object(request: HttpRequest, model: type, identifier: int) -> Any:
    target = model.objects.filter(pk=identifier).first()
    if target is None:
        raise NotFound()
    require_in_scope(request.user, target, path=request.path)
    return target


def _site(request: HttpRequest) -> Site:
    raw = request.POST.get("site") or request.GET.get("site") or ""
    if not raw:
        return request.user.site
    site = Site.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
    if site is None:
        raise NotFound()
    require_in_scope(request.user, site, path=request.path)
    return site


def _staff_of(site: Site, raw: str) -> User | None:
    if not raw:
        return None
    staff = User.objects.filter(pk=int(raw), site=site).first() if raw.isdigit() else None
    if staff is None:
        raise ActionRefused(_("请选择本场所的工作人员。"), code="other_site", field="staff")
    return staff


def _window_of(site: Site, raw: str) -> Window | None:
    if not raw:
        return None
    window = Window.objects.filter(pk=int(raw), site=site).first() if raw.isdigit() else None
    if window is None:
        raise ActionRefused(_("请选择本场所的窗口。"), code="other_site", field="window")
    return window


def _date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        raise ActionRefused(_("日期格式不正确。"), code="invalid_input", field="deadline") from None


@require_GET
@staff_view(Capability.VIEW_WORKBENCH)
def start_view(request: HttpRequest) -> HttpResponse:
    if request.user.has_capability(Capability.HANDLE_COMPLAINTS):
        return redirect("supervision:complaint_list")
    return redirect("supervision:my_record")


# ---------------------------------------------------------------------------------------------
# Complaints


def _complaints_for(user: User) -> Any:
    return Complaint.objects.restrict(user, Capability.HANDLE_COMPLAINTS).exclude(accused_staff=user)


@require_GET
@staff_view(Capability.HANDLE_COMPLAINTS)
def complaint_list_view(request: HttpRequest) -> HttpResponse:
    complaints = _complaints_for(request.user).select_related("site")
    status = request.GET.get("status", "")
    if status in ComplaintStatus.values:
        complaints = complaints.filter(status=status)
    return render(
        request,
        "supervision/complaint_list.html",
        {"complaints": complaints[:LIST_LIMIT], "statuses": ComplaintStatus.choices, "status": status},
    )


def _new_complaint_context(
    request: HttpRequest, site: Site, error: ActionRefused | None = None
) -> dict[str, Any]:
    return {
        "site": site,
        "sites": Site.objects.restrict(request.user, Capability.HANDLE_COMPLAINTS).filter(is_active=True),
        "channels": list(ComplaintChannel.choices),
        "kinds": ComplaintKind.choices,
        "staff": User.objects.filter(site=site, is_active=True),
        "windows": Window.objects.filter(site=site),
        "error": error,
        "data": request.POST,
    }


@require_http_methods(["GET", "POST"])
@staff_view(Capability.HANDLE_COMPLAINTS)
def complaint_create_view(request: HttpRequest) -> HttpResponse:
    site = _site(request)
    if request.method == "POST":
        try:
            complaint, _code = actions.register_complaint(
                request.user,
                actions.ComplaintData(
                    site=site,
                    content=request.POST.get("content", ""),
                    channel=request.POST.get("channel", ""),
                    kind=request.POST.get("kind", ComplaintKind.COMPLAINT),
                    complainant_name=request.POST.get("complainant_name", ""),
                    complainant_phone=request.POST.get("complainant_phone", ""),
                    hotline_reference=request.POST.get("hotline_reference", ""),
                    accused_staff=_staff_of(site, request.POST.get("accused_staff", "")),
                    window=_window_of(site, request.POST.get("window", "")),
                    deadline=_date(request.POST.get("deadline", "")),
                ),
            )
        except ActionRefused as refusal:
            if refusal.status not in (400, 409):
                raise
            return render(
                request,
                "supervision/complaint_form.html",
                _new_complaint_context(request, site, refusal),
                status=400,
            )
        messages.success(request, _("已受理投诉 %(number)s。") % {"number": complaint.number})
        return redirect("supervision:complaint_detail", complaint.pk)
    return render(request, "supervision/complaint_form.html", _new_complaint_context(request, site))


def _complaint_for(request: HttpRequest, complaint_id: int) -> Complaint:
    complaint = _object(request, Complaint, complaint_id)
    if complaint.accused_staff_id == request.user.pk:
        raise NotFound()
    return complaint


EVENT_LABELS = {
    "register": gettext_lazy("受理"),
    "to_investigating": gettext_lazy("开始调查"),
    "note": gettext_lazy("调查记录"),
    "to_disposed": gettext_lazy("处置"),
    "to_replied": gettext_lazy("答复投诉人"),
    "to_filed": gettext_lazy("归档"),
    "deadline": gettext_lazy("调整办理期限"),
    "overdue": gettext_lazy("超期（系统巡查）"),
}


def _detail(request: HttpRequest, complaint: Complaint, error: ActionRefused | None = None) -> HttpResponse:
    return render(
        request,
        "supervision/complaint_detail.html",
        {
            "complaint": complaint,
            "masked_name": mask_name(complaint.complainant_name),
            "masked_phone": mask_mobile_phone(complaint.complainant_phone),
            "events": [
                (event, EVENT_LABELS.get(event.action, event.action))
                for event in complaint.events.select_related("actor")
            ],
            "conclusions": ComplaintConclusion.choices,
            "violation_kinds": ViolationKind.choices,
            "error": error,
        },
        status=400 if error else 200,
    )


@require_GET
@staff_view(Capability.HANDLE_COMPLAINTS)
def complaint_detail_view(request: HttpRequest, complaint_id: int) -> HttpResponse:
    return _detail(request, _complaint_for(request, complaint_id))


@require_POST
@staff_view(Capability.HANDLE_COMPLAINTS)
def complaint_action_view(request: HttpRequest, complaint_id: int) -> HttpResponse:
    complaint = _complaint_for(request, complaint_id)
    action = request.POST.get("action", "")
    try:
        if action == "investigate":
            actions.start_investigation(request.user, complaint)
        elif action == "note":
            actions.add_investigation_note(request.user, complaint, request.POST.get("note", ""))
        elif action == "conclude":
            points = request.POST.get("points", "1")
            actions.conclude_complaint(
                request.user,
                complaint,
                request.POST.get("conclusion", ""),
                request.POST.get("disposal", ""),
                violation_kind=request.POST.get("violation_kind", ViolationKind.OTHER),
                points=int(points) if points.isdigit() else 1,
            )
        elif action == "reply":
            actions.reply_to_complainant(request.user, complaint, request.POST.get("reply", ""))
        elif action == "file":
            actions.file_complaint(request.user, complaint, request.POST.get("filing_note", ""))
        elif action == "deadline":
            actions.change_deadline(
                request.user,
                complaint,
                _date(request.POST.get("deadline", "")),
                request.POST.get("reason", ""),
            )
        else:
            raise ActionRefused(_("未知的操作。"), code="invalid_input")
    except ActionRefused as refusal:
        if refusal.status not in (400, 409):
            raise
        complaint.refresh_from_db()
        return _detail(request, complaint, refusal)
    messages.success(request, _("已保存。"))
    return redirect("supervision:complaint_detail", complaint.pk)


# ---------------------------------------------------------------------------------------------
# Inspections


@require_GET
@staff_view(Capability.INSPECT)
def inspection_list_view(request: HttpRequest) -> HttpResponse:
    site_ids = request.user.accessible_site_ids()
    inspections = Inspection.objects.restrict(request.user, Capability.INSPECT).select_related(
        "site", "window", "inspector"
    )
    return render(
        request,
        "supervision/inspection_list.html",
        {"inspections": inspections[:LIST_LIMIT], "results": inspection_results(site_ids)},
    )


def _inspection_context(
    request: HttpRequest, site: Site, error: ActionRefused | None = None
) -> dict[str, Any]:
    return {
        "site": site,
        "sites": Site.objects.restrict(request.user, Capability.INSPECT).filter(is_active=True),
        "items": ChecklistItem.objects.filter(is_active=True),
        "staff": User.objects.filter(site=site, is_active=True),
        "windows": Window.objects.filter(site=site),
        "modes": InspectionMode.choices,
        "error": error,
    }


@require_http_methods(["GET", "POST"])
@staff_view(Capability.INSPECT)
def inspection_create_view(request: HttpRequest) -> HttpResponse:
    site = _site(request)
    if request.method == "POST":
        try:
            findings = []
            for item in ChecklistItem.objects.filter(is_active=True):
                if request.POST.get(f"failed_{item.code}") != "on":
                    continue
                raw = request.POST.get(f"deduction_{item.code}", str(item.deduction)).strip()
                if not raw.isdigit():
                    raise ActionRefused(_("扣分须为整数。"), code="invalid_input", field="findings")
                findings.append(
                    actions.FindingData(
                        item=item,
                        deduction=int(raw),
                        staff=_staff_of(site, request.POST.get(f"staff_{item.code}", "")),
                        note=request.POST.get(f"note_{item.code}", ""),
                    )
                )
            inspection = actions.record_inspection(
                request.user,
                site,
                mode=request.POST.get("mode", ""),
                findings=findings,
                window=_window_of(site, request.POST.get("window", "")),
                summary=request.POST.get("summary", ""),
                photos=request.FILES.getlist("photos"),
            )
        except ActionRefused as refusal:
            if refusal.status not in (400, 409):
                raise
            return render(
                request,
                "supervision/inspection_form.html",
                _inspection_context(request, site, refusal),
                status=400,
            )
        messages.success(
            request, _("已登记明察暗访，合计扣 %(points)d 分。") % {"points": inspection.total_deduction}
        )
        return redirect("supervision:inspection_detail", inspection.pk)
    return render(request, "supervision/inspection_form.html", _inspection_context(request, site))


@require_GET
@staff_view(Capability.INSPECT)
def inspection_detail_view(request: HttpRequest, inspection_id: int) -> HttpResponse:
    inspection = _object(request, Inspection, inspection_id)
    return render(
        request,
        "supervision/inspection_detail.html",
        {
            "inspection": inspection,
            "findings": inspection.findings.select_related("item", "staff"),
            "photos": inspection.photos.all(),
        },
    )


@require_GET
@staff_view(Capability.INSPECT)
def inspection_photo_view(request: HttpRequest, photo_id: int) -> HttpResponse:
    photo = _object(request, InspectionPhoto, photo_id)
    response = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------------------------------------
# Discipline records, manual violations, appeals


def _record_page(
    request: HttpRequest, staff: User, *, own: bool, status: int = 200, error: ActionRefused | None = None
) -> HttpResponse:
    violations = Violation.objects.filter(staff=staff).prefetch_related("appeals")
    return render(
        request,
        "supervision/record.html",
        {
            "person": staff,
            "own": own,
            "violations": violations,
            "points": sum(violation.points for violation in violations if violation.status != "dismissed"),
            "error": error,
        },
        status=status,
    )


@require_GET
@staff_view(Capability.VIEW_WORKBENCH)
def my_record_view(request: HttpRequest) -> HttpResponse:
    return _record_page(request, request.user, own=True)


@require_GET
@staff_view(Capability.SUPERVISE_STAFF)
def staff_record_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    staff = User.objects.filter(pk=staff_id).first()
    if staff is None or staff.site_id not in request.user.accessible_site_ids():
        raise NotFound()
    return _record_page(request, staff, own=staff.pk == request.user.pk)


@require_POST
@staff_view(Capability.VIEW_WORKBENCH)
def appeal_view(request: HttpRequest, violation_id: int) -> HttpResponse:
    violation = Violation.objects.filter(pk=violation_id, staff=request.user).first()
    if violation is None:
        raise NotFound()
    try:
        actions.appeal_violation(request.user, violation, request.POST.get("reason", ""))
    except ActionRefused as refusal:
        if refusal.status not in (400, 409):
            raise
        return _record_page(request, request.user, own=True, status=400, error=refusal)
    messages.success(request, _("申诉已提交。"))
    return redirect("supervision:my_record")


def _violation_form(request: HttpRequest, error: ActionRefused | None = None) -> HttpResponse:
    return render(
        request,
        "supervision/violation_form.html",
        {
            "staff": User.objects.restrict(request.user).filter(is_active=True).select_related("site"),
            "kinds": ViolationKind.choices,
            "error": error,
            "data": request.POST,
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_view(Capability.SUPERVISE_STAFF)
def violation_create_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _violation_form(request)
    try:
        raw = request.POST.get("staff", "")
        staff = User.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
        if staff is None:
            raise ActionRefused(_("请选择责任人。"), code="required", field="staff")
        points = request.POST.get("points", "1").strip()
        if not points.isdigit():
            raise ActionRefused(_("扣分须为整数。"), code="invalid_input", field="points")
        violation = actions.record_manual_violation(
            request.user,
            staff,
            request.POST.get("kind", ""),
            request.POST.get("description", ""),
            points=int(points),
        )
    except ActionRefused as refusal:
        if refusal.status not in (400, 409):
            raise
        return _violation_form(request, refusal)
    messages.success(request, _("已登记违规。"))
    return redirect("supervision:staff_record", violation.staff_id)


@require_GET
@staff_view(Capability.SUPERVISE_STAFF)
def appeal_list_view(request: HttpRequest) -> HttpResponse:
    appeals = ViolationAppeal.objects.restrict(request.user).select_related("violation", "appellant")
    return render(
        request,
        "supervision/appeal_list.html",
        {
            "pending": appeals.filter(status=AppealStatus.PENDING),
            "decided": appeals.exclude(status=AppealStatus.PENDING)[:50],
        },
    )


@require_POST
@staff_view(Capability.SUPERVISE_STAFF)
def appeal_decide_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = _object(request, ViolationAppeal, appeal_id)
    try:
        actions.decide_appeal(
            request.user,
            appeal,
            upheld=request.POST.get("decision") == "upheld",
            reason=request.POST.get("reason", ""),
        )
    except ActionRefused as refusal:
        if refusal.status not in (400, 409):
            raise
        messages.error(request, refusal.message)
        return redirect_with_status("supervision:appeal_list", 400, request)
    messages.success(request, _("已处理申诉。"))
    return redirect("supervision:appeal_list")


def redirect_with_status(url_name: str, status: int, request: HttpRequest) -> HttpResponse:
    """A refused decision shows the list again with the message, and says 4xx so nothing looks accepted."""
    view = {"supervision:appeal_list": appeal_list_view, "supervision:escalation_list": escalation_list_view}[
        url_name
    ]
    request.method = "GET"
    response = view(request)
    response.status_code = status
    return response


# ---------------------------------------------------------------------------------------------
# Escalation proposals


@require_GET
@staff_view(Capability.SUPERVISE_STAFF)
def escalation_list_view(request: HttpRequest) -> HttpResponse:
    proposals = (
        TierProposal.objects.restrict(request.user)
        .select_related("staff", "decided_by", "trigger")
        .prefetch_related("evidence")
    )
    return render(
        request,
        "supervision/escalation_list.html",
        {
            "pending": proposals.filter(status=ProposalStatus.PENDING),
            "decided": proposals.exclude(status=ProposalStatus.PENDING)[:50],
        },
    )


@require_POST
@staff_view(Capability.SUPERVISE_STAFF)
def escalation_decide_view(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = _object(request, TierProposal, proposal_id)
    try:
        actions.decide_proposal(
            request.user,
            proposal,
            accept=request.POST.get("decision") == "accept",
            reason=request.POST.get("reason", ""),
        )
    except ActionRefused as refusal:
        if refusal.status not in (400, 409):
            raise
        messages.error(request, refusal.message)
        return redirect_with_status("supervision:escalation_list", 400, request)
    messages.success(request, _("已作出决定。"))
    return redirect("supervision:escalation_list")


# ---------------------------------------------------------------------------------------------
# Survey tally


def _quarter(request: HttpRequest) -> tuple[int, int]:
    today = timezone.localdate()
    year, quarter = request.GET.get("year", ""), request.GET.get("quarter", "")
    year_value = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else today.year
    quarter_value = int(quarter) if quarter in {"1", "2", "3", "4"} else (today.month - 1) // 3 + 1
    return year_value, quarter_value


@require_GET
@staff_view(Capability.SUPERVISE_STAFF)
def survey_tally_view(request: HttpRequest) -> HttpResponse:
    site = _site(request)
    year, quarter = _quarter(request)
    return render(
        request,
        "supervision/survey_tally.html",
        {
            "site": site,
            "sites": Site.objects.restrict(request.user, Capability.SUPERVISE_STAFF).filter(is_active=True),
            "year": year,
            "quarter": quarter,
            "tally": survey_tally(site.pk, year, quarter),
            "surveys": Survey.objects.filter(site=site),
        },
    )


@require_POST
@staff_view(Capability.SUPERVISE_STAFF)
def survey_manage_view(request: HttpRequest) -> HttpResponse:
    site = _site(request)
    operation = request.POST.get("operation", "")
    try:
        if operation == "create":
            actions.create_survey(request.user, site, request.POST.get("title", ""))
        elif operation in ("publish", "withdraw"):
            survey = _object(
                request,
                Survey,
                int(request.POST.get("survey", "0") or 0) if request.POST.get("survey", "").isdigit() else 0,
            )
            actions.set_survey_published(request.user, survey, operation == "publish")
        else:
            raise ActionRefused(_("未知的操作。"), code="invalid_input")
    except ActionRefused as refusal:
        if refusal.status not in (400, 409):
            raise
        return render(request, "web/error.html", {"status": 400, "message": refusal.message}, status=400)
    messages.success(request, _("已保存。"))
    return redirect(f"/supervision/surveys/?site={site.pk}")
