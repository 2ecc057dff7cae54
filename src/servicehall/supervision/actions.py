"""Recording violations. Other apps call ``record_violation``; it is idempotent per source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from servicehall.audit.actions import record
from servicehall.sites.models import Site
from servicehall.supervision.models import KIND_TIER, Violation, ViolationKind


def record_violation(
    *,
    site: Any,
    kind: ViolationKind | str,
    source: str,
    source_reference: str,
    description: str,
    staff: Any | None = None,
    department: Any | None = None,
    points: int = 1,
    occurred_at: Any | None = None,
    recorded_by: Any | None = None,
) -> tuple[Violation, bool]:
    """The violation for this source, created once; returns (violation, created)."""
    if staff is None and department is None:
        raise ValueError("a violation needs a responsible staff member or department")
    lookup = {
        "kind": str(kind),
        "source": source,
        "source_reference": source_reference[:80],
        "staff": staff,
        "department": department,
    }
    existing = Violation.objects.filter(**lookup).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            violation = Violation.objects.create(
                site=site,
                tier=KIND_TIER[ViolationKind(kind)],
                points=points,
                description=description[:500],
                occurred_at=occurred_at or timezone.now(),
                recorded_by=recorded_by,
                **lookup,
            )
            record(
                "supervision.violation_recorded",
                actor=recorded_by,
                site=site,
                target=violation,
                after={
                    "kind": violation.kind,
                    "tier": violation.tier,
                    "source": source,
                    "source_reference": violation.source_reference,
                    "staff_id": getattr(staff, "pk", None),
                    "department_id": getattr(department, "pk", None),
                },
            )
            if staff is not None:
                from servicehall.supervision.escalation import propose_escalations

                propose_escalations({violation.staff_id})
    except IntegrityError:
        return Violation.objects.get(**lookup), False
    return violation, True


@dataclass(frozen=True)
class ViolationEntry:
    """One violation for ``record_violations``; the same identity rules as ``record_violation``."""

    site_id: int
    kind: str
    source: str
    source_reference: str
    description: str
    staff_id: int | None = None
    department_id: int | None = None
    points: int = 1
    occurred_at: Any | None = None


def record_violations(entries: list[ViolationEntry], *, batch_size: int = 2000) -> int:
    """Many violations at once, for sweeps (e.g. red cards over a million cases); idempotent per source.

    Rows that already exist are skipped by the unique constraint. One audit record per site lists the
    sources, instead of one per violation, so a large sweep does not queue on the audit chain.
    Returns the number of entries offered whose violation did not exist before.
    """
    if not entries:
        return 0
    now = timezone.now()
    by_site: dict[int, list[ViolationEntry]] = {}
    for entry in entries:
        if entry.staff_id is None and entry.department_id is None:
            raise ValueError("a violation needs a responsible staff member or department")
        by_site.setdefault(entry.site_id, []).append(entry)
    created_total = 0
    with transaction.atomic():
        for site_id, site_entries in by_site.items():
            before = Violation.objects.filter(site_id=site_id).count()
            Violation.objects.bulk_create(
                [
                    Violation(
                        site_id=entry.site_id,
                        kind=str(entry.kind),
                        tier=KIND_TIER[ViolationKind(entry.kind)],
                        points=entry.points,
                        source=entry.source,
                        source_reference=entry.source_reference[:80],
                        description=entry.description[:500],
                        staff_id=entry.staff_id,
                        department_id=entry.department_id,
                        occurred_at=entry.occurred_at or now,
                        recorded_at=now,
                    )
                    for entry in site_entries
                ],
                batch_size=batch_size,
                ignore_conflicts=True,
            )
            created = Violation.objects.filter(site_id=site_id).count() - before
            created_total += created
            if created:
                from servicehall.supervision.escalation import propose_escalations

                propose_escalations({entry.staff_id for entry in site_entries if entry.staff_id is not None})
            if created:
                record(
                    "supervision.violations_recorded",
                    site=Site.objects.get(pk=site_id),
                    object_type="supervision.violation",
                    object_label="批量登记违规 / violations recorded in bulk",
                    after={
                        "count": created,
                        "kinds": sorted({str(entry.kind) for entry in site_entries}),
                        "sources": sorted({entry.source for entry in site_entries}),
                        "references": [entry.source_reference for entry in site_entries[:50]],
                    },
                )
    return created_total


# ---------------------------------------------------------------------------------------------
# Complaints (投诉): 受理 → 调查 → 处置 → 反馈 → 归档, one dispatcher over COMPLAINT_TRANSITIONS

import datetime as dt  # noqa: E402
import hashlib  # noqa: E402
import secrets  # noqa: E402
import uuid  # noqa: E402
from pathlib import PurePath  # noqa: E402

from django.core.files.storage import default_storage  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402

from servicehall.accounts.permissions import require_capability, require_in_scope  # noqa: E402
from servicehall.accounts.roles import Capability  # noqa: E402
from servicehall.lib.errors import ActionRefused, NotFound  # noqa: E402
from servicehall.lib.identity import IdentityValidationError, validate_mobile_phone  # noqa: E402
from servicehall.supervision.models import (  # noqa: E402
    COMPLAINT_TRANSITIONS,
    UPHELD_CONCLUSIONS,
    AppealStatus,
    ChecklistItem,
    Complaint,
    ComplaintChannel,
    ComplaintConclusion,
    ComplaintEvent,
    ComplaintKind,
    ComplaintStatus,
    Inspection,
    InspectionFinding,
    InspectionMode,
    InspectionPhoto,
    ProposalStatus,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    TierProposal,
    ViolationAppeal,
    ViolationSource,
    ViolationStatus,
)

DEFAULT_COMPLAINT_WORKING_DAYS = 10
TEXT_MAX = 2000
PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_SIGNATURES = {"jpg": b"\xff\xd8\xff", "png": b"\x89PNG\r\n\x1a\n"}
PHOTOS_MAX = 10


def _text(value: Any, label: str, field: str, *, required: bool = False, max_length: int = TEXT_MAX) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise ActionRefused(_("%(label)s格式不正确。") % {"label": label}, code="invalid_input", field=field)
    if required and not text:
        raise ActionRefused(_("%(label)s不能为空。") % {"label": label}, code="required", field=field)
    if len(text) > max_length:
        raise ActionRefused(
            _("%(label)s不能超过 %(limit)d 个字符。") % {"label": label, "limit": max_length},
            code="too_long",
            field=field,
        )
    return text


def hash_check_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def default_deadline(received_on: dt.date) -> dt.date:
    from servicehall.workdays.service import add

    return add(received_on, DEFAULT_COMPLAINT_WORKING_DAYS).date


def _new_number(moment: dt.datetime) -> str:
    return f"TS{timezone.localtime(moment):%Y%m%d}{secrets.randbelow(10**6):06d}"


@dataclass(frozen=True)
class ComplaintData:
    site: Any
    content: str
    channel: str
    kind: str = ComplaintKind.COMPLAINT
    complainant_name: str = ""
    complainant_phone: str = ""
    hotline_reference: str = ""
    accused_staff: Any | None = None
    window: Any | None = None
    deadline: dt.date | None = None


def _check_deadline(deadline: dt.date | None) -> None:
    if deadline is not None and deadline < timezone.localdate():
        raise ActionRefused(_("办理期限不能早于今天。"), code="deadline_in_past", field="deadline")


def _event(
    complaint: Complaint,
    actor: Any,
    action: str,
    *,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
) -> ComplaintEvent:
    return ComplaintEvent.objects.create(
        site_id=complaint.site_id,
        complaint=complaint,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )


def register_complaint(actor: Any | None, data: ComplaintData) -> tuple[Complaint, str]:
    """受理: a complaint or suggestion enters the flow; returns it and its check code (shown once, kept hashed).

    ``actor`` is None for the public web form; staff need HANDLE_COMPLAINTS and the site in their scope.
    """
    if actor is not None:
        require_capability(actor, Capability.HANDLE_COMPLAINTS)
        require_in_scope(actor, data.site)
    content = _text(data.content, _("投诉内容"), "content", required=True)
    if data.channel not in ComplaintChannel.values:
        raise ActionRefused(_("请选择投诉渠道。"), code="invalid_input", field="channel")
    if actor is None and data.channel != ComplaintChannel.WEB:
        raise ActionRefused(_("请选择投诉渠道。"), code="invalid_input", field="channel")
    if data.kind not in ComplaintKind.values:
        raise ActionRefused(_("请选择类别。"), code="invalid_input", field="kind")
    name = _text(data.complainant_name, _("投诉人"), "complainant_name", max_length=50)
    phone = ""
    if data.complainant_phone and data.complainant_phone.strip():
        try:
            phone = validate_mobile_phone(data.complainant_phone)
        except IdentityValidationError as error:
            raise ActionRefused(str(error), code="invalid_phone", field="complainant_phone") from None
    hotline_reference = _text(data.hotline_reference, _("12345 工单号"), "hotline_reference", max_length=40)
    if data.channel == ComplaintChannel.HOTLINE_12345 and not hotline_reference:
        raise ActionRefused(_("12345 转办须填写工单号。"), code="required", field="hotline_reference")
    for person_or_window, field in ((data.accused_staff, "accused_staff"), (data.window, "window")):
        if person_or_window is not None and person_or_window.site_id != data.site.pk:
            raise ActionRefused(_("被投诉人或窗口须属于受理场所。"), code="other_site", field=field)
    _check_deadline(data.deadline)
    now = timezone.now()
    deadline = data.deadline or default_deadline(timezone.localdate(now))
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        for _attempt in range(5):
            number = _new_number(now)
            if not Complaint.objects.filter(number=number).exists():
                break
        complaint = Complaint.objects.create(
            site=data.site,
            number=number,
            check_code_hash=hash_check_code(code),
            kind=data.kind,
            channel=data.channel,
            content=content,
            complainant_name=name,
            complainant_phone=phone,
            hotline_reference=hotline_reference,
            accused_staff=data.accused_staff,
            window=data.window,
            deadline=deadline,
            recorded_by=actor,
            received_at=now,
        )
        _event(complaint, actor, "register", to_status=ComplaintStatus.RECEIVED)
        # No complainant name or phone in the audit trail: it is readable by more people than the file.
        record(
            "supervision.complaint_registered",
            actor=actor,
            site=data.site,
            target=complaint,
            after={
                "kind": complaint.kind,
                "channel": complaint.channel,
                "deadline": deadline.isoformat(),
                "accused_staff_id": getattr(data.accused_staff, "pk", None),
            },
        )
    return complaint, code


def _locked_complaint(actor: Any, complaint: Complaint) -> Complaint:
    require_capability(actor, Capability.HANDLE_COMPLAINTS)
    require_in_scope(actor, complaint)
    locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if locked.accused_staff_id == actor.pk:
        # 十不准 9: the accused neither handles nor sees the complaint.
        raise NotFound()
    return locked


def _transition(
    complaint: Complaint, actor: Any, to_status: str, *, note: str = "", after: dict[str, Any] | None = None
) -> ComplaintEvent:
    """The one dispatcher: refuses any (from, to) pair not in COMPLAINT_TRANSITIONS; stamps, logs, audits."""
    from_status = complaint.status
    stamp = COMPLAINT_TRANSITIONS.get((from_status, to_status))
    if stamp is None:
        raise ActionRefused(
            _("投诉当前状态为“%(state)s”，不能执行此操作。") % {"state": ComplaintStatus(from_status).label},
            code="invalid_transition",
        )
    moment = timezone.now()
    complaint.status = to_status
    setattr(complaint, stamp, moment)
    complaint.save()
    event = _event(
        complaint, actor, f"to_{to_status}", from_status=from_status, to_status=to_status, note=note
    )
    record(
        f"supervision.complaint_{to_status}",
        actor=actor,
        target=complaint,
        before={"status": from_status},
        after={"status": to_status, **(after or {})},
    )
    return event


def start_investigation(actor: Any, complaint: Complaint) -> Complaint:
    with transaction.atomic():
        locked = _locked_complaint(actor, complaint)
        locked.handler = actor
        _transition(locked, actor, ComplaintStatus.INVESTIGATING)
    return locked


def add_investigation_note(actor: Any, complaint: Complaint, note: str) -> ComplaintEvent:
    text = _text(note, _("调查记录"), "note", required=True)
    with transaction.atomic():
        locked = _locked_complaint(actor, complaint)
        if locked.status != ComplaintStatus.INVESTIGATING:
            raise ActionRefused(_("只有调查中的投诉可以添加调查记录。"), code="invalid_transition")
        event = _event(locked, actor, "note", from_status=locked.status, to_status=locked.status, note=text)
        record("supervision.complaint_noted", actor=actor, target=locked, after={"length": len(text)})
    return event


def conclude_complaint(
    actor: Any,
    complaint: Complaint,
    conclusion: str,
    disposal: str,
    *,
    violation_kind: str = ViolationKind.OTHER,
    points: int = 1,
) -> Complaint:
    """处置: the conclusion and what was done; an upheld complaint against a staff member records a Violation."""
    if conclusion not in ComplaintConclusion.values:
        raise ActionRefused(_("请选择调查结论。"), code="required", field="conclusion")
    text = _text(disposal, _("处置意见"), "disposal", required=True)
    if violation_kind not in ViolationKind.values:
        raise ActionRefused(_("请选择违规类型。"), code="invalid_input", field="violation_kind")
    with transaction.atomic():
        locked = _locked_complaint(actor, complaint)
        locked.conclusion = conclusion
        locked.disposal = text
        _transition(locked, actor, ComplaintStatus.DISPOSED, note=text, after={"conclusion": conclusion})
        if conclusion in UPHELD_CONCLUSIONS and locked.accused_staff_id is not None:
            record_violation(
                site=locked.site,
                kind=violation_kind,
                source=ViolationSource.COMPLAINT,
                source_reference=locked.number,
                description=_("投诉 %(number)s 经调查%(conclusion)s：%(disposal)s")
                % {
                    "number": locked.number,
                    "conclusion": ComplaintConclusion(conclusion).label,
                    "disposal": text,
                },
                staff=locked.accused_staff,
                points=points,
                recorded_by=actor,
            )
    return locked


def reply_to_complainant(actor: Any, complaint: Complaint, reply: str) -> Complaint:
    text = _text(reply, _("答复内容"), "reply", required=True)
    with transaction.atomic():
        locked = _locked_complaint(actor, complaint)
        locked.reply = text
        _transition(locked, actor, ComplaintStatus.REPLIED, note=text)
    return locked


def file_complaint(actor: Any, complaint: Complaint, note: str = "") -> Complaint:
    text = _text(note, _("归档说明"), "filing_note", max_length=500)
    with transaction.atomic():
        locked = _locked_complaint(actor, complaint)
        locked.filing_note = text
        _transition(locked, actor, ComplaintStatus.FILED, note=text)
    return locked


def change_deadline(actor: Any, complaint: Complaint, deadline: dt.date | None, reason: str) -> Complaint:
    if deadline is None:
        raise ActionRefused(_("请填写办理期限。"), code="required", field="deadline")
    _check_deadline(deadline)
    text = _text(reason, _("调整理由"), "reason", required=True, max_length=500)
    with transaction.atomic():
        locked = _locked_complaint(actor, complaint)
        if locked.status not in (
            ComplaintStatus.RECEIVED,
            ComplaintStatus.INVESTIGATING,
            ComplaintStatus.DISPOSED,
        ):
            raise ActionRefused(_("已反馈或归档的投诉不能调整期限。"), code="invalid_transition")
        before = locked.deadline
        locked.deadline = deadline
        locked.save(update_fields=["deadline"])
        _event(locked, actor, "deadline", from_status=locked.status, to_status=locked.status, note=text)
        record(
            "supervision.complaint_deadline_changed",
            actor=actor,
            target=locked,
            before={"deadline": before.isoformat()},
            after={"deadline": deadline.isoformat(), "reason": text},
        )
    return locked


# ---------------------------------------------------------------------------------------------
# Inspections (明察暗访)


@dataclass(frozen=True)
class FindingData:
    item: ChecklistItem
    deduction: int
    staff: Any | None = None
    note: str = ""


def _check_photo(upload: Any) -> str:
    extension = PurePath(upload.name or "").suffix.lower().lstrip(".")
    extension = "jpg" if extension == "jpeg" else extension
    if extension not in PHOTO_SIGNATURES:
        raise ActionRefused(_("照片只能是 JPG 或 PNG 格式。"), code="photo_type", field="photos")
    if upload.size is None or upload.size == 0:
        raise ActionRefused(_("照片文件是空的。"), code="photo_empty", field="photos")
    if upload.size > PHOTO_MAX_BYTES:
        raise ActionRefused(_("每张照片不能超过 5 MB。"), code="photo_too_large", field="photos")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not head.startswith(PHOTO_SIGNATURES[extension]):
        raise ActionRefused(_("照片内容与扩展名不符。"), code="photo_type", field="photos")
    return extension


def record_inspection(
    actor: Any,
    site: Any,
    *,
    mode: str,
    findings: list[FindingData],
    window: Any | None = None,
    summary: str = "",
    photos: list[Any] | None = None,
) -> Inspection:
    """明察暗访: the findings, each a deduction; a finding naming a staff member records a Violation."""
    require_capability(actor, Capability.INSPECT)
    require_in_scope(actor, site)
    if mode not in InspectionMode.values:
        raise ActionRefused(_("请选择检查方式。"), code="required", field="mode")
    text = _text(summary, _("检查情况"), "summary")
    if window is not None and window.site_id != site.pk:
        raise ActionRefused(_("窗口须属于被检查的场所。"), code="other_site", field="window")
    for finding in findings:
        if finding.staff is not None and finding.staff.site_id != site.pk:
            raise ActionRefused(_("责任人须为被检查场所的工作人员。"), code="other_site", field="findings")
        if not 0 <= finding.deduction <= finding.item.deduction:
            raise ActionRefused(
                _("“%(item)s”扣分须在 0 至 %(maximum)d 之间。")
                % {"item": finding.item.title, "maximum": finding.item.deduction},
                code="out_of_range",
                field="findings",
            )
    photos = list(photos or [])
    if len(photos) > PHOTOS_MAX:
        raise ActionRefused(
            _("照片不能超过 %(limit)d 张。") % {"limit": PHOTOS_MAX}, code="too_many", field="photos"
        )
    extensions = [_check_photo(upload) for upload in photos]
    stored: list[str] = []
    try:
        for upload, extension in zip(photos, extensions, strict=True):
            stored.append(
                default_storage.save(f"supervision/inspections/{uuid.uuid4().hex}.{extension}", upload)
            )
        with transaction.atomic():
            inspection = Inspection.objects.create(
                site=site,
                window=window,
                mode=mode,
                inspector=actor,
                summary=text,
                total_deduction=sum(finding.deduction for finding in findings),
            )
            for finding in findings:
                row = InspectionFinding.objects.create(
                    site=site,
                    inspection=inspection,
                    item=finding.item,
                    staff=finding.staff,
                    deduction=finding.deduction,
                    note=_text(finding.note, _("问题说明"), "findings", max_length=500),
                )
                responsible_department = getattr(window, "department", None)
                if finding.deduction > 0 and (
                    finding.staff is not None or responsible_department is not None
                ):
                    record_violation(
                        site=site,
                        kind=finding.item.violation_kind,
                        source=ViolationSource.INSPECTION,
                        source_reference=f"inspection:{inspection.pk}:{row.pk}",
                        description=_("明察暗访：%(item)s，扣 %(points)d 分。%(note)s")
                        % {"item": finding.item.title, "points": finding.deduction, "note": row.note},
                        staff=finding.staff,
                        department=None if finding.staff is not None else responsible_department,
                        points=finding.deduction,
                        recorded_by=actor,
                    )
            for upload, name in zip(photos, stored, strict=True):
                InspectionPhoto.objects.create(
                    site=site,
                    inspection=inspection,
                    file=name,
                    content_type="image/png" if name.endswith(".png") else "image/jpeg",
                    size=upload.size,
                )
            record(
                "supervision.inspection_recorded",
                actor=actor,
                site=site,
                target=inspection,
                after={
                    "mode": mode,
                    "window_id": getattr(window, "pk", None),
                    "findings": [
                        [finding.item.code, finding.deduction, getattr(finding.staff, "pk", None)]
                        for finding in findings
                    ],
                    "total_deduction": inspection.total_deduction,
                    "photos": len(stored),
                },
            )
    except Exception:
        for name in stored:
            default_storage.delete(name)
        raise
    return inspection


# ---------------------------------------------------------------------------------------------
# Manual violations, appeals, escalation decisions


def _require_supervisor_of(actor: Any, staff: Any) -> None:
    require_capability(actor, Capability.SUPERVISE_STAFF)
    if staff.site_id not in actor.accessible_site_ids():
        raise ActionRefused(
            _("只能为本场所的工作人员登记违规：%(name)s 不属于您管理的场所。") % {"name": staff.full_name},
            code="other_site",
            field="staff",
        )


def record_manual_violation(
    actor: Any, staff: Any, kind: str, description: str, *, points: int = 1, occurred_at: Any | None = None
) -> Violation:
    _require_supervisor_of(actor, staff)
    if kind not in ViolationKind.values:
        raise ActionRefused(_("请选择违规类型。"), code="required", field="kind")
    text = _text(description, _("情况说明"), "description", required=True, max_length=500)
    if not 0 <= points <= 100:
        raise ActionRefused(_("扣分须在 0 至 100 之间。"), code="out_of_range", field="points")
    if occurred_at is not None and occurred_at > timezone.now():
        raise ActionRefused(_("发生时间不能晚于现在。"), code="in_future", field="occurred_at")
    with transaction.atomic():
        violation, _created = record_violation(
            site=staff.site,
            kind=kind,
            source=ViolationSource.MANUAL,
            source_reference=f"manual:{uuid.uuid4().hex[:16]}",
            description=text,
            staff=staff,
            points=points,
            occurred_at=occurred_at,
            recorded_by=actor,
        )
    return violation


def appeal_violation(actor: Any, violation: Violation, reason: str) -> ViolationAppeal:
    if violation.staff_id != actor.pk:
        raise NotFound()
    text = _text(reason, _("申诉理由"), "reason", required=True, max_length=1000)
    with transaction.atomic():
        locked = Violation.objects.select_for_update().get(pk=violation.pk)
        if locked.status == ViolationStatus.DISMISSED:
            raise ActionRefused(_("该违规已不予认定，无需申诉。"), code="invalid_transition")
        if ViolationAppeal.objects.filter(violation=locked, status=AppealStatus.PENDING).exists():
            raise ActionRefused(_("该违规已有待处理的申诉。"), code="duplicate")
        appeal = ViolationAppeal.objects.create(
            site_id=locked.site_id, violation=locked, appellant=actor, reason=text
        )
        record(
            "supervision.violation_appealed",
            actor=actor,
            site=locked.site,
            target=appeal,
            after={"violation_id": locked.pk},
        )
    return appeal


def decide_appeal(actor: Any, appeal: ViolationAppeal, *, upheld: bool, reason: str) -> ViolationAppeal:
    require_capability(actor, Capability.SUPERVISE_STAFF)
    require_in_scope(actor, appeal)
    text = _text(reason, _("处理意见"), "reason", required=True, max_length=500)
    with transaction.atomic():
        locked = ViolationAppeal.objects.select_for_update().select_related("violation").get(pk=appeal.pk)
        if locked.appellant_id == actor.pk:
            raise ActionRefused(_("不能处理自己的申诉。"), code="own_appeal")
        if locked.status != AppealStatus.PENDING:
            raise ActionRefused(_("该申诉已处理。"), code="invalid_transition")
        violation = Violation.objects.select_for_update().get(pk=locked.violation_id)
        before = violation.status
        locked.status = AppealStatus.UPHELD if upheld else AppealStatus.REJECTED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_reason = text
        locked.save()
        violation.status = ViolationStatus.DISMISSED if upheld else ViolationStatus.CONFIRMED
        violation.save(update_fields=["status"])
        record(
            "supervision.appeal_decided",
            actor=actor,
            target=locked,
            before={"violation_status": before},
            after={"status": locked.status, "violation_status": violation.status, "reason": text},
        )
    return locked


ESCALATION_KINDS = {
    "repeated_tier_one": ViolationKind.UNCORRECTED_AFTER_CRITICISM,
    "repeated_complaints": ViolationKind.REPEATED_COMPLAINTS,
}


def decide_proposal(actor: Any, proposal: TierProposal, *, accept: bool, reason: str) -> TierProposal:
    """A person decides the system's proposal; accepting records the heavier-tier violation (source escalation)."""
    require_capability(actor, Capability.SUPERVISE_STAFF)
    require_in_scope(actor, proposal)
    text = _text(reason, _("决定理由"), "reason", required=True, max_length=500)
    with transaction.atomic():
        locked = TierProposal.objects.select_for_update().select_related("staff", "site").get(pk=proposal.pk)
        if locked.staff_id == actor.pk:
            raise ActionRefused(_("不能对涉及自己的升级建议作出决定。"), code="own_proposal")
        if locked.status != ProposalStatus.PENDING:
            raise ActionRefused(_("该升级建议已作出决定。"), code="invalid_transition")
        locked.status = ProposalStatus.ACCEPTED if accept else ProposalStatus.REJECTED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_reason = text
        if accept:
            violation, _created = record_violation(
                site=locked.site,
                kind=ESCALATION_KINDS[locked.rule],
                source=ViolationSource.ESCALATION,
                source_reference=f"proposal:{locked.pk}",
                description=_("责任追究升级：%(rule)s。%(reason)s")
                % {"rule": locked.get_rule_display(), "reason": text},
                staff=locked.staff,
                recorded_by=actor,
            )
            locked.resulting_violation = violation
        locked.save()
        record(
            "supervision.escalation_decided",
            actor=actor,
            target=locked,
            before={"status": ProposalStatus.PENDING},
            after={
                "status": locked.status,
                "reason": text,
                "resulting_violation_id": locked.resulting_violation_id,
            },
        )
    return locked


# ---------------------------------------------------------------------------------------------
# 社会公众满意度调查表


def create_survey(actor: Any, site: Any, title: str) -> Survey:
    require_capability(actor, Capability.SUPERVISE_STAFF)
    require_in_scope(actor, site)
    text = _text(title, _("标题"), "title", required=True, max_length=100)
    with transaction.atomic():
        survey = Survey.objects.create(site=site, title=text, created_by=actor)
        record("supervision.survey_created", actor=actor, target=survey, after={"title": text})
    return survey


def set_survey_published(actor: Any, survey: Survey, published: bool) -> Survey:
    require_capability(actor, Capability.SUPERVISE_STAFF)
    require_in_scope(actor, survey)
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        before = locked.is_published
        locked.is_published = published
        if published:
            locked.published_at = timezone.now()
        locked.save()
        record(
            "supervision.survey_published" if published else "supervision.survey_withdrawn",
            actor=actor,
            target=locked,
            before={"is_published": before},
            after={"is_published": published},
        )
    return locked


def submit_survey(survey: Survey, answers: dict[str, str]) -> SurveyResponse:
    """A member of the public fills in the form (no login); every five-level and yes/no question is required."""
    if not survey.is_published:
        raise NotFound()
    questions = list(SurveyQuestion.objects.filter(is_active=True))
    rows: list[tuple[SurveyQuestion, str]] = []
    for question in questions:
        value = (answers.get(question.code) or "").strip()
        if question.kind == QuestionKind.FIVE_LEVEL:
            if value not in {"1", "2", "3", "4", "5"}:
                raise ActionRefused(
                    _("请回答：%(question)s") % {"question": question.text},
                    code="required",
                    field=question.code,
                )
        elif question.kind == QuestionKind.YES_NO:
            if value not in {"yes", "no"}:
                raise ActionRefused(
                    _("请回答：%(question)s") % {"question": question.text},
                    code="required",
                    field=question.code,
                )
        else:
            value = _text(value, question.text, question.code, max_length=500)
            if not value:
                continue
        rows.append((question, value))
    now = timezone.now()
    local = timezone.localdate(now)
    with transaction.atomic():
        response = SurveyResponse.objects.create(
            site_id=survey.site_id,
            survey=survey,
            submitted_at=now,
            year=local.year,
            quarter=(local.month - 1) // 3 + 1,
        )
        SurveyAnswer.objects.bulk_create(
            [
                SurveyAnswer(site_id=survey.site_id, response=response, question=question, value=value)
                for question, value in rows
            ]
        )
    return response


# ---------------------------------------------------------------------------------------------
# Conduct findings (文明用语检查发现) a supervisor confirmed

# Seed 000 责任追究制 二2④ 不文明行政，办事推诿、冷落、刁难服务对象; the other categories (催促, 顶撞/训斥, 讥讽,
# 粗俗) are 使用禁忌用语. A finding with both is recorded under the heavier provision.
CONDUCT_SHIRKING_CATEGORIES = frozenset({"推诿", "冷漠"})


def conduct_violation_kind(categories: list[str]) -> ViolationKind:
    if CONDUCT_SHIRKING_CATEGORIES.intersection(categories):
        return ViolationKind.SHIRKING_OR_OBSTRUCTION
    return ViolationKind.FORBIDDEN_LANGUAGE


def record_conduct_violation(
    sender: Any, *, finding: Any, actor: Any, categories: list[str], **_kwargs: Any
) -> Violation:
    """Listener of ``conduct.signals.finding_confirmed``: one violation per confirmed finding, against the staff
    member who spoke, at their site, with ``conduct_finding:<id>`` as the link back. Runs in the confirming
    transaction; a finding already answered returns its violation, whatever its kind."""
    reference = f"conduct_finding:{finding.pk}"
    existing = Violation.objects.filter(source=ViolationSource.CONDUCT, source_reference=reference).first()
    if existing is not None:
        return existing
    staff = finding.staff
    violation, _created = record_violation(
        site=staff.site,
        kind=conduct_violation_kind(categories),
        source=ViolationSource.CONDUCT,
        source_reference=reference,
        description=_(
            "文明用语检查发现 #%(id)d（%(source)s，%(categories)s，最高严重程度 %(severity)d）：%(excerpt)s"
        )
        % {
            "id": finding.pk,
            "source": finding.get_source_display(),
            "categories": "、".join(categories) or _("禁忌用语"),
            "severity": finding.highest_severity,
            "excerpt": finding.excerpt,
        },
        staff=staff,
        occurred_at=finding.created_at,
        recorded_by=actor,
    )
    return violation
