"""Every change to inquiries and cases: one function, one transaction, row locks, a CaseEvent and an audit record.

The case lifecycle is the table in ``cases.states``; ``_transition`` is the one dispatcher that applies
it. Every staff action carries the version the person saw: two clerks acting at once, one wins and the
other is told "办件已被他人更新" and nothing of theirs is written (the row lock orders them, the version
decides). Refusals are ActionRefused (Chinese first) and leave the database untouched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from servicehall.accounts.models import User
from servicehall.accounts.permissions import audit_refusal, require_capability
from servicehall.accounts.roles import Capability, Role
from servicehall.audit.actions import actor_label_for, record
from servicehall.cases import clock
from servicehall.cases.models import (
    INQUIRY_TRANSITIONS,
    TASK_DONE_STATUSES,
    ApplicantKind,
    ApplicantMessage,
    ApprovalMode,
    ApprovalTask,
    Case,
    CaseEvent,
    ClockSegment,
    Decision,
    DeliveryMethod,
    ExtensionRequest,
    ExtensionStatus,
    Inquiry,
    InquiryChannel,
    InquiryStatus,
    ItemCaseSetting,
    MaterialCheck,
    MaterialStatus,
    Notice,
    NoticeItem,
    NoticeKind,
    NoticeProblem,
    Notification,
    Referral,
    ReferralKind,
    TaskStatus,
)
from servicehall.cases.signals import case_completed
from servicehall.cases.states import CaseAction, CaseState, allowed_targets, is_allowed
from servicehall.catalog.models import ItemType, ServiceItem
from servicehall.lib.errors import ActionRefused, Conflict, NotFound, PermissionRefused
from servicehall.lib.identity import (
    IdentityValidationError,
    validate_mobile_phone,
    validate_resident_id,
    validate_unified_social_credit_code,
)
from servicehall.sites.models import Department, Site, Window
from servicehall.supervision.actions import ViolationEntry, record_violation, record_violations
from servicehall.supervision.models import ViolationKind, ViolationSource

if TYPE_CHECKING:
    from servicehall.accounts.models import User as UserType

CONFLICT_MESSAGE = (
    "办件已被他人更新，请刷新后重试。 / The case was changed by someone else; reload and retry."
)
INQUIRY_CONFLICT_MESSAGE = "该咨询已被他人更新，请刷新后重试。 / The inquiry was changed by someone else."
TASK_CONFLICT_MESSAGE = "该审批任务已被他人处理，请刷新后重试。 / The task was changed by someone else."
NAME_MAX_LENGTH = 50
ORGANISATION_NAME_MAX_LENGTH = 100
TEXT_MAX_LENGTH = 2000
SHORT_TEXT_MAX_LENGTH = 500
DEFERRED_DAYS_MAX = 30
TASK_COUNT_MAX = 10
TRACKING_NUMBER_MAX_LENGTH = 40
SYSTEM_LABEL = "系统（电子监察）"

# ---------------------------------------------------------------------------------------------
# Shared checks


def _clean_text(
    value: Any,
    *,
    field_name: str,
    label: str,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ActionRefused(
            _("%(label)s格式不正确。") % {"label": label}, code="invalid_input", field=field_name
        )
    value = value.strip()
    allowed = {"\n", "\r", "\t"} if multiline else set()
    if required and not value:
        raise ActionRefused(_("%(label)s不能为空。") % {"label": label}, code="required", field=field_name)
    if len(value) > max_length:
        raise ActionRefused(
            _("%(label)s不能超过 %(limit)d 个字符。") % {"label": label, "limit": max_length},
            code="too_long",
            field=field_name,
        )
    if any(unicodedata.category(character) == "Cc" and character not in allowed for character in value):
        raise ActionRefused(
            _("%(label)s不能包含控制字符。") % {"label": label}, code="invalid_input", field=field_name
        )
    return value


def _clean_integer(value: Any, *, field_name: str, label: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except (TypeError, ValueError):
            raise ActionRefused(
                _("%(label)s须为整数。") % {"label": label}, code="invalid_input", field=field_name
            ) from None
    if not minimum <= value <= maximum:
        raise ActionRefused(
            _("%(label)s须在 %(minimum)d 至 %(maximum)d 之间。")
            % {"label": label, "minimum": minimum, "maximum": maximum},
            code="out_of_range",
            field=field_name,
        )
    return value


def _require_case_scope(actor: UserType, case: Case) -> None:
    """The case belongs to a site the actor sees, or carries an approval task of such a site."""
    site_ids = actor.accessible_site_ids()
    if case.site_id in site_ids:
        return
    if ApprovalTask.objects.filter(case_id=case.pk, site_id__in=site_ids).exists():
        return
    audit_refusal(actor, "out_of_scope", target=case)
    raise NotFound()


def _case_for(actor: UserType, case: Case | int) -> Case:
    """The case, checked against the actor's scope before any transaction (so a refusal's audit stays)."""
    case_id = case.pk if isinstance(case, Case) else case
    found = Case.objects.filter(pk=case_id).first()
    if found is None:
        raise NotFound()
    _require_case_scope(actor, found)
    return found


def _require_site_scope(actor: UserType, target: Any) -> None:
    if target.site_id not in actor.accessible_site_ids():
        audit_refusal(actor, "out_of_scope", target=target)
        raise NotFound()


def _lock_case(case: Case | int, version: int | None) -> Case:
    """The case row, locked for the rest of the transaction; refused if it changed since ``version``."""
    case_id = case.pk if isinstance(case, Case) else case
    # Only the case row: FOR UPDATE over the joins would lock the item and the site for everyone.
    # NO KEY: rows that merely reference the case (cards, events) can still be inserted meanwhile.
    locked = (
        Case.objects.select_for_update(no_key=True, of=("self",))
        .select_related("item", "site")
        .filter(pk=case_id)
        .first()
    )
    if locked is None:
        raise NotFound()
    if version is not None and locked.version != version:
        raise Conflict(CONFLICT_MESSAGE, code="case_changed")
    return locked


def _state_label(state: str) -> str:
    return str(CaseState(state).label)


def _action_label(action: str) -> str:
    return str(CaseAction(action).label)


def _refuse_state(case: Case, action: str) -> ActionRefused:
    return ActionRefused(
        _("办件当前状态为「%(state)s」，不能执行「%(action)s」。")
        % {"state": _state_label(case.state), "action": _action_label(action)},
        code="invalid_state",
    )


def _require_allowed(case: Case, action: str) -> None:
    if not is_allowed(action, case.state):
        raise _refuse_state(case, action)


def _event(
    case: Case,
    actor: UserType | None,
    action: str,
    *,
    from_state: str = "",
    to_state: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> CaseEvent:
    return CaseEvent.objects.create(
        site_id=case.site_id,
        case=case,
        action=action,
        actor=actor,
        actor_label=actor_label_for(actor) if actor is not None else SYSTEM_LABEL,
        occurred_at=at or clock.now(),
        from_state=from_state,
        to_state=to_state,
        before=before,
        after=after,
        note=note[:500],
    )


STAMPS: dict[str, str] = {
    CaseAction.REQUEST_SUPPLEMENT: "supplement_requested_at",
    CaseAction.RECEIVE_SUPPLEMENT: "supplement_received_at",
    CaseAction.ACCEPT: "accepted_at",
    CaseAction.ACCEPT_WITH_DEFERRED: "accepted_at",
    CaseAction.REFUSE: "not_accepted_at",
    CaseAction.SUPPLY_DEFERRED: "deferred_supplied_at",
    CaseAction.START_APPROVAL: "in_approval_at",
    CaseAction.DECIDE_CASE: "decided_at",
    CaseAction.COMPLETE: "completed_at",
    CaseAction.DELIVER: "delivered_at",
    CaseAction.WITHDRAW: "withdrawn_at",
}


def _transition(
    case: Case,
    actor: UserType | None,
    action: str,
    to_state: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> CaseEvent:
    """The one dispatcher: refuses any (action, from, to) not in the table; stamps, logs, audits, saves."""
    from_state = case.state
    if to_state not in allowed_targets(action, from_state):
        raise _refuse_state(case, action)
    moment = clock.now()
    case.state = to_state
    stamp = STAMPS.get(action)
    if stamp:
        setattr(case, stamp, moment)
    if to_state == CaseState.SUSPENDED:
        case.suspended_at = moment
    if from_state == CaseState.SUSPENDED and to_state != CaseState.SUSPENDED:
        case.resumed_at = moment
    if to_state in (CaseState.APPROVED, CaseState.REFUSED_AFTER_REVIEW) and from_state != to_state:
        case.decided_at = moment
    case.version += 1
    case.updated_at = moment
    case.save()
    event = _event(
        case,
        actor,
        action,
        from_state=from_state,
        to_state=to_state,
        before=before,
        after=after,
        note=note,
        at=moment,
    )
    record(
        f"cases.{action}",
        actor=actor,
        target=case,
        before={"state": from_state, **(before or {})},
        after={"state": to_state, **(after or {})},
    )
    return event


def _in_place(
    case: Case,
    actor: UserType | None,
    action: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> CaseEvent:
    """A change that keeps the state (checklist, green channel, extension): same checks, log and audit."""
    _require_allowed(case, action)
    moment = clock.now()
    case.version += 1
    case.updated_at = moment
    case.save()
    event = _event(
        case,
        actor,
        action,
        from_state=case.state,
        to_state=case.state,
        before=before,
        after=after,
        note=note,
        at=moment,
    )
    record(f"cases.{action}", actor=actor, target=case, before=before, after=after)
    return event


def _window_supervisors(site_id: int) -> list[User]:
    return list(
        User.objects.filter(
            site_id=site_id, is_active=True, role_grants__role=Role.WINDOW_SUPERVISOR
        ).distinct()
    )


def _notify(case: Case, recipients: Iterable[User | None], kind: str, message: str) -> None:
    unique: dict[int, User] = {}
    for recipient in recipients:
        if recipient is not None and recipient.is_active:
            unique[recipient.pk] = recipient
    Notification.objects.bulk_create(
        Notification(
            site_id=case.site_id,
            recipient=recipient,
            case=case,
            kind=kind,
            message=message[:300],
            created_at=clock.now(),
        )
        for recipient in unique.values()
    )


def _message_applicant(case: Case, kind: str, text: str) -> None:
    ApplicantMessage.objects.create(
        site_id=case.site_id,
        case=case,
        phone=case.applicant_phone,
        kind=kind,
        text=text[:300],
        created_at=clock.now(),
    )


# ---------------------------------------------------------------------------------------------
# Inquiries (咨询登记, 首问责任制, 导办/转办, 一跟到底)


@dataclass
class InquiryData:
    channel: str
    asker_name: str
    question: str
    answer: str = ""
    asker_contact: str = ""
    asker_organisation: str = ""
    item_id: int | None = None
    asked_at: dt.datetime | None = None
    answered_with_ids: list[int] = field(default_factory=list)


@dataclass
class ReferralData:
    kind: str
    reason: str
    to_window_id: int | None = None
    to_department_id: int | None = None
    destination: str = ""


def _clean_contact(value: Any, field_name: str = "asker_contact") -> str:
    contact = _clean_text(value, field_name=field_name, label=_("联系方式"), max_length=20)
    if not contact:
        return ""
    try:
        return validate_mobile_phone(contact)
    except IdentityValidationError as error:
        raise ActionRefused(error.message, code=error.code, field=field_name) from None


def record_inquiry(actor: UserType, data: InquiryData) -> Inquiry:
    """登记咨询: the recorder, or the highest-ranked of those who answered together, is 首问责任人."""
    require_capability(actor, Capability.RECORD_INQUIRIES)
    if data.channel not in InquiryChannel.values:
        raise ActionRefused(_("咨询方式无效。"), code="invalid_channel", field="channel")
    asker_name = _clean_text(
        data.asker_name, field_name="asker_name", label=_("咨询人"), max_length=NAME_MAX_LENGTH, required=True
    )
    organisation = _clean_text(
        data.asker_organisation,
        field_name="asker_organisation",
        label=_("咨询人单位"),
        max_length=ORGANISATION_NAME_MAX_LENGTH,
    )
    contact = _clean_contact(data.asker_contact)
    question = _clean_text(
        data.question,
        field_name="question",
        label=_("咨询内容"),
        max_length=TEXT_MAX_LENGTH,
        required=True,
        multiline=True,
    )
    answer = _clean_text(
        data.answer, field_name="answer", label=_("答复内容"), max_length=TEXT_MAX_LENGTH, multiline=True
    )
    item = None
    if data.item_id is not None:
        item = ServiceItem.objects.filter(pk=data.item_id, is_published=True).first()
        if item is None:
            raise ActionRefused(_("咨询事项不存在或未公开。"), code="invalid_item", field="item_id")
    asked_at = data.asked_at or clock.now()
    if asked_at > clock.now() + dt.timedelta(minutes=5):
        raise ActionRefused(_("咨询时间不能晚于现在。"), code="asked_in_future", field="asked_at")
    try:
        named = [int(identifier) for identifier in data.answered_with_ids]
    except (TypeError, ValueError):
        raise ActionRefused(
            _("共同答复人不存在或不在本场所。"), code="invalid_colleague", field="answered_with_ids"
        ) from None
    # In the order the recorder named them, once each: that order settles a tie between colleagues.
    colleague_ids = list(dict.fromkeys(identifier for identifier in named if identifier != actor.pk))
    found = {
        user.pk: user
        for user in User.objects.filter(
            pk__in=colleague_ids, is_active=True, site_id__in=actor.accessible_site_ids()
        )
    }
    if len(found) != len(colleague_ids):
        raise ActionRefused(
            _("共同答复人不存在或不在本场所。"), code="invalid_colleague", field="answered_with_ids"
        )
    colleagues = [found[identifier] for identifier in colleague_ids]
    # DB4420 §3: 同时有两位以上工作人员答复的，职务职级最高者为首问责任人. On equal rank the recorder (who
    # received the person first) keeps it, then the colleague named first; max() returns the first maximum.
    first_responder = max([actor, *colleagues], key=lambda person: person.rank)
    with transaction.atomic():
        inquiry = Inquiry.objects.create(
            site=actor.site,
            channel=data.channel,
            asker_name=asker_name,
            asker_organisation=organisation,
            asker_contact=contact,
            item=item,
            question=question,
            answer=answer,
            asked_at=asked_at,
            recorded_by=actor,
            first_responder=first_responder,
            created_at=clock.now(),
        )
        inquiry.answered_with.set(colleagues)
        record(
            "cases.inquiry_recorded",
            actor=actor,
            target=inquiry,
            after={
                "channel": inquiry.channel,
                "item_id": inquiry.item_id,
                "first_responder_id": first_responder.pk,
                "answered_with": [colleague.pk for colleague in colleagues],
                "asker": inquiry.masked_asker_name,
            },
        )
        if first_responder.pk != actor.pk:
            Notification.objects.create(
                site=inquiry.site,
                recipient=first_responder,
                kind="inquiry_owner",
                message=_("您是咨询 #%(number)s 的首问责任人（共同答复，职级最高）。")
                % {"number": inquiry.pk},
                created_at=clock.now(),
            )
    return inquiry


def _inquiry_for(actor: UserType, inquiry: Inquiry | int) -> Inquiry:
    """Scope and ownership are checked before the transaction, so the refusal's audit record stays."""
    inquiry_id = inquiry.pk if isinstance(inquiry, Inquiry) else inquiry
    found = Inquiry.objects.filter(pk=inquiry_id).first()
    if found is None:
        raise NotFound()
    _require_site_scope(actor, found)
    _require_inquiry_owner(actor, found)
    return found


def _lock_inquiry(inquiry: Inquiry, version: int) -> Inquiry:
    locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if locked.version != version:
        raise Conflict(INQUIRY_CONFLICT_MESSAGE, code="inquiry_changed")
    return locked


def _require_inquiry_owner(actor: UserType, inquiry: Inquiry) -> None:
    if inquiry.first_responder_id == actor.pk or actor.has_capability(Capability.SUPERVISE_CASES):
        return
    audit_refusal(actor, "not_first_responder", target=inquiry)
    raise PermissionRefused(_("只有首问责任人（或窗口负责人）可以处理此咨询。"), code="not_first_responder")


def _inquiry_transition(inquiry: Inquiry, to_status: str) -> None:
    if to_status not in INQUIRY_TRANSITIONS[InquiryStatus(inquiry.status)]:
        raise ActionRefused(
            _("咨询当前状态为「%(state)s」，不能再处理。") % {"state": InquiryStatus(inquiry.status).label},
            code="invalid_state",
        )
    inquiry.status = to_status
    inquiry.version += 1


def refer_inquiry(actor: UserType, inquiry: Inquiry | int, version: int, data: ReferralData) -> Referral:
    """导办/转办: records where to (去向) and why; the 首问责任人 keeps the matter (一跟到底)."""
    require_capability(actor, Capability.RECORD_INQUIRIES)
    if data.kind not in ReferralKind.values:
        raise ActionRefused(_("导办/转办方式无效。"), code="invalid_kind", field="kind")
    reason = _clean_text(
        data.reason, field_name="reason", label=_("原因"), max_length=SHORT_TEXT_MAX_LENGTH, required=True
    )
    destination = _clean_text(data.destination, field_name="destination", label=_("去向"), max_length=200)
    inquiry = _inquiry_for(actor, inquiry)
    with transaction.atomic():
        inquiry = _lock_inquiry(inquiry, version)
        window = department = None
        if data.kind == ReferralKind.GUIDE:
            window = (
                Window.objects.filter(pk=data.to_window_id, is_active=True).select_related("site").first()
            )
            if window is None or window.site_id not in actor.accessible_site_ids():
                raise ActionRefused(
                    _("请选择本场所的去向窗口。"), code="invalid_window", field="to_window_id"
                )
            destination = destination or str(window)
        elif data.kind == ReferralKind.TRANSFER:
            department = Department.objects.filter(pk=data.to_department_id, is_active=True).first()
            if department is None:
                raise ActionRefused(
                    _("请选择去向部门。"), code="invalid_department", field="to_department_id"
                )
            destination = destination or department.name
        elif not destination:
            raise ActionRefused(_("请写明承办单位及地址（去向）。"), code="required", field="destination")
        _inquiry_transition(inquiry, InquiryStatus.REFERRED)
        inquiry.referred_at = clock.now()
        inquiry.save()
        referral = Referral.objects.create(
            site=inquiry.site,
            inquiry=inquiry,
            kind=data.kind,
            to_window=window,
            to_department=department,
            destination=destination,
            reason=reason,
            referred_by=actor,
            referred_at=clock.now(),
        )
        record(
            "cases.inquiry_referred",
            actor=actor,
            target=inquiry,
            after={
                "kind": data.kind,
                "destination": destination,
                "reason": reason,
                "first_responder_id": inquiry.first_responder_id,
            },
        )
    return referral


def close_inquiry(actor: UserType, inquiry: Inquiry | int, version: int, outcome: str) -> Inquiry:
    """The matter is done: only now does the 首问责任人's responsibility end."""
    require_capability(actor, Capability.RECORD_INQUIRIES)
    outcome = _clean_text(
        outcome, field_name="outcome", label=_("办结说明"), max_length=SHORT_TEXT_MAX_LENGTH, required=True
    )
    inquiry = _inquiry_for(actor, inquiry)
    with transaction.atomic():
        inquiry = _lock_inquiry(inquiry, version)
        before = {"status": inquiry.status}
        _inquiry_transition(inquiry, InquiryStatus.DONE)
        inquiry.outcome = outcome
        inquiry.done_at = clock.now()
        inquiry.save()
        record(
            "cases.inquiry_closed",
            actor=actor,
            target=inquiry,
            before=before,
            after={"status": inquiry.status, "outcome": outcome},
        )
    return inquiry


def _close_linked_inquiry(case: Case, outcome: str) -> None:
    """A case that came from an inquiry ends the 首问责任人's matter when the case itself ends."""
    if case.inquiry_id is None:
        return
    inquiry = Inquiry.objects.select_for_update().filter(pk=case.inquiry_id).first()
    if inquiry is None or inquiry.status == InquiryStatus.DONE:
        return
    inquiry.status = InquiryStatus.DONE
    inquiry.version += 1
    inquiry.outcome = outcome[:500]
    inquiry.done_at = clock.now()
    inquiry.save()
    record(
        "cases.inquiry_closed",
        actor=None,
        target=inquiry,
        after={"status": inquiry.status, "case": case.number},
    )


# ---------------------------------------------------------------------------------------------
# Opening a case and its checklist


@dataclass
class ApplicantData:
    kind: str
    name: str
    id_number: str
    phone: str
    agent_name: str = ""


@dataclass
class MaterialUpdate:
    """What the clerk found for one line: received, missing or defective (with what is wrong).

    ``fingerprint`` identifies what was handed in (document number, pages, a scan's digest); a new
    fingerprint or ``resubmitted`` means the applicant brought a new version of the material.
    """

    check_id: int
    status: str
    defect: str = ""
    fingerprint: str = ""
    resubmitted: bool = False


def _clean_applicant(data: ApplicantData) -> ApplicantData:
    if data.kind not in ApplicantKind.values:
        raise ActionRefused(_("申请人类型无效。"), code="invalid_applicant_kind", field="applicant_kind")
    limit = ORGANISATION_NAME_MAX_LENGTH if data.kind == ApplicantKind.ORGANISATION else NAME_MAX_LENGTH
    name = _clean_text(
        data.name, field_name="applicant_name", label=_("申请人"), max_length=limit, required=True
    )
    agent = _clean_text(
        data.agent_name, field_name="agent_name", label=_("经办人"), max_length=NAME_MAX_LENGTH
    )
    raw_id = _clean_text(
        data.id_number, field_name="applicant_id_number", label=_("证件号码"), max_length=40, required=True
    )
    try:
        if data.kind == ApplicantKind.PERSON:
            id_number = validate_resident_id(raw_id, today=clock.today())
        else:
            id_number = validate_unified_social_credit_code(raw_id)
    except IdentityValidationError as error:
        raise ActionRefused(error.message, code=error.code, field="applicant_id_number") from None
    phone = _clean_text(
        data.phone, field_name="applicant_phone", label=_("联系电话"), max_length=20, required=True
    )
    try:
        phone = validate_mobile_phone(phone)
    except IdentityValidationError as error:
        raise ActionRefused(error.message, code=error.code, field="applicant_phone") from None
    return ApplicantData(kind=data.kind, name=name, id_number=id_number, phone=phone, agent_name=agent)


def _new_case_number(day: dt.date) -> str:
    return f"{day:%Y%m%d}{secrets.randbelow(10**8):08d}"


def _statutory_extension_days(item: ServiceItem) -> int:
    setting = ItemCaseSetting.objects.filter(item=item).first()
    return setting.statutory_extension_days if setting else 0


def open_case(
    actor: UserType,
    item: ServiceItem | int,
    applicant: ApplicantData,
    *,
    inquiry: Inquiry | int | None = None,
) -> Case:
    """收件: the case with its checklist generated from the item's materials; the clerk is 首办责任人."""
    require_capability(actor, Capability.HANDLE_CASES)
    item_id = item.pk if isinstance(item, ServiceItem) else item
    item = ServiceItem.objects.select_related("department").filter(pk=item_id, is_published=True).first()
    if item is None:
        raise ActionRefused(_("事项不存在或未公开。"), code="invalid_item", field="item_id")
    clean = _clean_applicant(applicant)
    linked_inquiry = None
    if inquiry is not None:
        inquiry_id = inquiry.pk if isinstance(inquiry, Inquiry) else inquiry
        linked_inquiry = Inquiry.objects.filter(pk=inquiry_id).first()
        if linked_inquiry is None or linked_inquiry.site_id not in actor.accessible_site_ids():
            raise ActionRefused(_("来源咨询不存在。"), code="invalid_inquiry", field="inquiry_id")
        if linked_inquiry.status == InquiryStatus.DONE:
            raise ActionRefused(_("来源咨询已办结。"), code="inquiry_done", field="inquiry_id")
    moment = clock.now()
    materials = list(item.materials.order_by("position"))
    for attempt in range(8):
        try:
            with transaction.atomic():
                case = Case.objects.create(
                    site=actor.site,
                    item=item,
                    department=item.department,
                    number=_new_case_number(clock.today()),
                    applicant_kind=clean.kind,
                    applicant_name=clean.name,
                    applicant_id_number=clean.id_number,
                    applicant_phone=clean.phone,
                    agent_name=clean.agent_name,
                    first_handler=actor,
                    inquiry=linked_inquiry,
                    is_immediate=item.item_type == ItemType.IMMEDIATE,
                    statutory_extension_days=_statutory_extension_days(item),
                    created_at=moment,
                    updated_at=moment,
                )
                MaterialCheck.objects.bulk_create(
                    MaterialCheck(
                        site=case.site,
                        case=case,
                        material=material,
                        position=material.position,
                        name=material.name,
                        form=material.get_form_display(),
                        copies=material.copies,
                        is_mandatory=material.is_mandatory,
                        is_deferrable=material.is_deferrable,
                        requirements=material.notes,
                    )
                    for material in materials
                )
                if linked_inquiry is not None:
                    Inquiry.objects.filter(pk=linked_inquiry.pk).update(case=case)
                after = {
                    "number": case.number,
                    "item": item.code,
                    "applicant_kind": clean.kind,
                    "applicant": case.masked_applicant_name,
                    "materials": len(materials),
                    "inquiry_id": linked_inquiry.pk if linked_inquiry else None,
                }
                _event(case, actor, CaseAction.OPEN, to_state=case.state, after=after, at=moment)
                record("cases.open", actor=actor, target=case, after={"state": case.state, **after})
                return case
        except IntegrityError:
            if attempt == 7:
                raise
    raise AssertionError("unreachable")


def _fingerprint_hash(check: MaterialCheck, fingerprint: str) -> str:
    basis = fingerprint or f"{check.case_id}:{check.position}:v{check.submission_version}"
    return hashlib.sha256(basis.encode()).hexdigest()


def _apply_material_updates(
    case: Case, actor: UserType, updates: Sequence[MaterialUpdate], *, allow_deferred: bool = False
) -> list[dict[str, Any]]:
    """Record what was received, missing or defective; a new submission gets a new version."""
    if not updates:
        return []
    checks = {check.pk: check for check in case.material_checks.select_for_update().all()}
    changes: list[dict[str, Any]] = []
    seen: set[int] = set()
    for update in updates:
        try:
            check_id = int(update.check_id)
        except (TypeError, ValueError):
            raise ActionRefused(_("材料不属于此办件。"), code="invalid_material", field="materials") from None
        check = checks.get(check_id)
        if check is None or check_id in seen:
            raise ActionRefused(_("材料不属于此办件。"), code="invalid_material", field="materials")
        seen.add(check_id)
        if update.status not in (MaterialStatus.MISSING, MaterialStatus.RECEIVED, MaterialStatus.DEFECTIVE):
            raise ActionRefused(_("材料核对结果无效。"), code="invalid_material_status", field="materials")
        if (
            check.status == MaterialStatus.DEFERRED
            and not allow_deferred
            and update.status != MaterialStatus.DEFERRED
        ):
            raise ActionRefused(
                _("「%(name)s」为容缺材料，请通过“补齐容缺材料”登记。") % {"name": check.name},
                code="deferred_material",
                field="materials",
            )
        defect = _clean_text(
            update.defect, field_name="materials", label=_("缺陷说明"), max_length=SHORT_TEXT_MAX_LENGTH
        )
        if update.status == MaterialStatus.DEFECTIVE and not defect:
            raise ActionRefused(
                _("请写明「%(name)s」的具体问题，以便一次性告知。") % {"name": check.name},
                code="defect_required",
                field="materials",
            )
        if update.status != MaterialStatus.DEFECTIVE:
            defect = ""
        fingerprint = _clean_text(
            update.fingerprint, field_name="materials", label=_("材料标识"), max_length=200
        )
        was_present = check.status in (MaterialStatus.RECEIVED, MaterialStatus.DEFECTIVE)
        now_present = update.status in (MaterialStatus.RECEIVED, MaterialStatus.DEFECTIVE)
        new_hash = _fingerprint_hash(check, fingerprint) if fingerprint else ""
        new_submission = now_present and (
            not was_present or update.resubmitted or (fingerprint and new_hash != check.submission_hash)
        )
        if not new_submission and check.status == update.status and check.defect == defect:
            continue
        before = {
            "status": check.status,
            "defect": check.defect,
            "submission_version": check.submission_version,
        }
        if new_submission:
            check.submission_version += 1
            check.submission_hash = new_hash or _fingerprint_hash(check, "")
        check.status = update.status
        check.defect = defect
        check.checked_by = actor
        check.checked_at = clock.now()
        check.save()
        changes.append(
            {
                "check_id": check.pk,
                "name": check.name,
                "before": before,
                "after": {
                    "status": check.status,
                    "defect": check.defect,
                    "submission_version": check.submission_version,
                },
            }
        )
    return changes


def update_materials(
    actor: UserType, case: Case | int, version: int, updates: Sequence[MaterialUpdate]
) -> Case:
    """核对材料 at the window (六清: 材料一次收清, 内容一次审清)."""
    require_capability(actor, Capability.HANDLE_CASES)
    case = _case_for(actor, case)
    with transaction.atomic():
        case = _lock_case(case, version)
        _require_allowed(case, CaseAction.UPDATE_MATERIALS)
        changes = _apply_material_updates(case, actor, updates)
        if changes:
            _in_place(case, actor, CaseAction.UPDATE_MATERIALS, after={"materials": changes})
    return case


def _checklist_snapshot(case: Case) -> list[dict[str, Any]]:
    return [
        {
            "check_id": check.pk,
            "name": check.name,
            "status": check.status,
            "present": check.status in (MaterialStatus.RECEIVED, MaterialStatus.DEFECTIVE),
            "defect": check.defect,
            "submission_version": check.submission_version,
        }
        for check in case.material_checks.order_by("position")
    ]


def _requirement_text(check: MaterialCheck) -> str:
    parts = [check.form, _("%(copies)d 份") % {"copies": check.copies}]
    if check.requirements:
        parts.append(check.requirements)
    return "，".join(parts)[:800]


def _process_text(item: ServiceItem) -> str:
    steps = list(item.steps.order_by("position"))
    if not steps:
        return _("收件 → 受理 → 审查 → 决定 → 办结 → 送达")
    return " → ".join(step.name for step in steps)


def _time_limits_text(case: Case) -> str:
    item = case.item
    if item.item_type == ItemType.IMMEDIATE:
        return _("即办件：材料齐全、符合条件的当场办结。")
    return _(
        "法定办结时限 %(statutory)d 个工作日，承诺办结时限 %(committed)d 个工作日，自受理次日起计算；补正期间不计入办理时限。"
    ) % {
        "statutory": item.statutory_limit_days,
        "committed": item.committed_limit_days,
    }


def _issue_notice(
    case: Case,
    actor: UserType,
    kind: str,
    *,
    items: Sequence[tuple[MaterialCheck, str, str]] = (),
    reason: str = "",
    legal_basis: str = "",
    body: str = "",
) -> Notice:
    sequence = (case.notices.order_by("-sequence").values_list("sequence", flat=True).first() or 0) + 1
    notice = Notice.objects.create(
        site_id=case.site_id,
        case=case,
        kind=kind,
        sequence=sequence,
        issued_by=actor,
        issued_at=clock.now(),
        conditions=case.item.conditions,
        process=_process_text(case.item),
        time_limits=_time_limits_text(case),
        reason=reason,
        legal_basis=legal_basis,
        body=body,
        checklist_snapshot=_checklist_snapshot(case),
    )
    NoticeItem.objects.bulk_create(
        NoticeItem(
            site_id=case.site_id,
            notice=notice,
            material_check=check,
            problem=problem,
            name=check.name,
            requirement=_requirement_text(check),
            detail=detail[:500],
            submission_version=check.submission_version,
        )
        for check, problem, detail in items
    )
    return notice


def _one_time_violations(case: Case, notice: Notice) -> list[dict[str, Any]]:
    """一次性告知制: a later 补正 may not ask for a material that was there, unflagged and unchanged before.

    For each material on the new notice, an earlier 一次性告知书 that saw the same submission present and
    did not list it means the applicant was not told once (seed 000 责任追究制 二1②): a violation against
    the clerk who issued that earlier notice.
    """
    earlier_notices = list(
        case.notices.filter(kind=NoticeKind.ONE_TIME, sequence__lt=notice.sequence)
        .select_related("issued_by")
        .prefetch_related("items")
        .order_by("sequence")
    )
    if not earlier_notices:
        return []
    found: list[dict[str, Any]] = []
    for notice_item in notice.items.select_related("material_check"):
        check = notice_item.material_check
        for earlier in earlier_notices:
            flagged = {item.material_check_id for item in earlier.items.all()}
            seen = {entry["check_id"]: entry for entry in earlier.checklist_snapshot}
            entry = seen.get(check.pk)
            if (
                entry is not None
                and entry["present"]
                and check.pk not in flagged
                and entry["submission_version"] == check.submission_version
            ):
                violation, created = record_violation(
                    site=case.site,
                    kind=ViolationKind.FIRST_RESPONDER_FAILURE,
                    source=ViolationSource.ONE_TIME_NOTICE,
                    source_reference=f"case:{case.number}:material:{check.pk}",
                    staff=earlier.issued_by,
                    description=(
                        f"办件 {case.number}：「{check.name}」在第 {earlier.sequence} 号一次性告知书出具时已提交且未列明，"
                        f"第 {notice.sequence} 号告知书再次要求补正，而申请人提交的该材料未变（未一次性告知）。"
                    ),
                    occurred_at=notice.issued_at,
                )
                found.append(
                    {
                        "violation_id": violation.pk,
                        "created": created,
                        "material": check.name,
                        "staff_id": earlier.issued_by_id,
                    }
                )
                break
    return found


def _outstanding_for_supplement(case: Case) -> list[tuple[MaterialCheck, str, str]]:
    listed = []
    for check in case.material_checks.order_by("position"):
        if check.status == MaterialStatus.DEFECTIVE:
            listed.append((check, NoticeProblem.DEFECTIVE, check.defect))
        elif check.is_mandatory and check.status in (MaterialStatus.MISSING, MaterialStatus.DEFERRED):
            listed.append((check, NoticeProblem.MISSING, ""))
    return listed


def request_supplement(
    actor: UserType,
    case: Case | int,
    version: int,
    *,
    updates: Sequence[MaterialUpdate] = (),
    note: str = "",
) -> Notice:
    """补正: one 一次性告知书 listing every missing or defective material, with requirements, conditions,
    process and time limits. After acceptance it stops the clock until the applicant answers."""
    require_capability(actor, Capability.HANDLE_CASES)
    note = _clean_text(
        note, field_name="note", label=_("补充说明"), max_length=TEXT_MAX_LENGTH, multiline=True
    )
    case = _case_for(actor, case)
    with transaction.atomic():
        case = _lock_case(case, version)
        _require_allowed(case, CaseAction.REQUEST_SUPPLEMENT)
        post_acceptance = case.state in (
            CaseState.ACCEPTED,
            CaseState.ACCEPTED_DEFERRED,
            CaseState.IN_APPROVAL,
        )
        if post_acceptance and case.is_immediate:
            raise ActionRefused(_("即办件须当场办结，受理后不能再要求补正。"), code="immediate_same_visit")
        changes = _apply_material_updates(case, actor, updates, allow_deferred=True)
        listed = _outstanding_for_supplement(case)
        if not listed:
            raise ActionRefused(_("没有缺少或需更正的材料，无需补正。"), code="nothing_to_supplement")
        notice = _issue_notice(case, actor, NoticeKind.ONE_TIME, items=listed, body=note)
        violations = _one_time_violations(case, notice)
        from_state = case.state
        case.supplement_count += 1
        if post_acceptance:
            case.resume_state = from_state
            case.suspension_reason = "supplement"
            _stop_clock(case, "supplement")
            to_state = CaseState.SUSPENDED
        else:
            to_state = CaseState.SUPPLEMENT_REQUESTED
        _transition(
            case,
            actor,
            CaseAction.REQUEST_SUPPLEMENT,
            to_state,
            after={
                "notice": notice.number,
                "materials": [check.name for check, _problem, _detail in listed],
                "changes": changes,
                "violations": violations,
                "clock_stopped": post_acceptance,
            },
        )
        _message_applicant(
            case,
            "supplement",
            _("您的办件 %(number)s 需补正 %(count)d 项材料，详见一次性告知书。")
            % {"number": case.number, "count": len(listed)},
        )
    return notice


def receive_supplement(
    actor: UserType, case: Case | int, version: int, updates: Sequence[MaterialUpdate]
) -> Case:
    """The applicant answers a 补正: back to the window's review, or, after acceptance, the clock resumes."""
    require_capability(actor, Capability.HANDLE_CASES)
    case = _case_for(actor, case)
    with transaction.atomic():
        case = _lock_case(case, version)
        _require_allowed(case, CaseAction.RECEIVE_SUPPLEMENT)
        if case.state == CaseState.SUSPENDED and case.suspension_reason != "supplement":
            raise ActionRefused(
                _("该办件因容缺材料逾期中止，请登记“补齐容缺材料”。"), code="suspended_for_deferred"
            )
        changes = _apply_material_updates(case, actor, updates)
        case.visit_count += 1
        if case.state == CaseState.SUSPENDED:
            to_state = case.resume_state or CaseState.ACCEPTED
            _resume_clock(case)
            case.resume_state = ""
            case.suspension_reason = ""
        else:
            to_state = CaseState.DRAFT
        _transition(
            case,
            actor,
            CaseAction.RECEIVE_SUPPLEMENT,
            to_state,
            after={"changes": changes, "visits": case.visit_count},
        )
    return case


# ---------------------------------------------------------------------------------------------
# The clock


def _stop_clock(case: Case, reason: str) -> None:
    day = clock.today()
    segment = ClockSegment.objects.select_for_update().filter(case=case, ended_at__isnull=True).first()
    if segment is not None:
        segment.ended_on = day
        segment.ended_at = clock.now()
        segment.working_days = clock.working_days_between(segment.started_on, day)
        segment.stop_reason = reason
        segment.save()
        case.working_days_used += segment.working_days
    case.clock_running = False
    case.segment_started_on = None
    for task in case.approval_tasks.select_for_update().filter(
        status=TaskStatus.PENDING, due_date__isnull=False
    ):
        task.paused_remaining_days = clock.working_days_left(task.due_date, day)
        task.due_date = None
        task.save(update_fields=["paused_remaining_days", "due_date"])


def _start_clock(case: Case) -> None:
    day = clock.today()
    ClockSegment.objects.create(site_id=case.site_id, case=case, started_on=day, started_at=clock.now())
    case.clock_running = True
    case.segment_started_on = day
    _recompute_dues(case)


def _resume_clock(case: Case) -> None:
    _start_clock(case)
    day = clock.today()
    for task in case.approval_tasks.select_for_update().filter(
        status=TaskStatus.PENDING, due_date__isnull=True
    ):
        remaining = task.paused_remaining_days if task.paused_remaining_days is not None else task.limit_days
        task.due_date = clock.due_after(day, remaining, day - dt.timedelta(days=1)).date
        task.paused_remaining_days = None
        task.save(update_fields=["paused_remaining_days", "due_date"])


def _recompute_dues(case: Case) -> None:
    """Due dates from the days still left, counted after the current segment's start (限时办结制)."""
    base = case.segment_started_on
    if base is None:
        return
    committed_limit = case.committed_limit_days + case.extension_days
    statutory_limit = case.statutory_limit_days + case.extension_days
    committed = clock.due_after(base, committed_limit - case.working_days_used, case.committed_due)
    statutory = clock.due_after(base, statutory_limit - case.working_days_used, case.statutory_due)
    case.committed_due = committed.date
    case.statutory_due = max(statutory.date, committed.date)
    case.due_is_provisional = committed.provisional or statutory.provisional
    # 即办件 are due the same day; a yellow warning would only repeat what the counter already shows.
    case.yellow_from = (
        None
        if case.is_immediate
        else clock.yellow_from(committed.date, clock.yellow_threshold(committed_limit))
    )


def working_days_consumed(case: Case, on: dt.date | None = None) -> int:
    """Working days the clock has run so far (closed segments plus the running one)."""
    used = case.working_days_used
    if case.clock_running and case.segment_started_on is not None:
        used += clock.working_days_between(case.segment_started_on, on or clock.today())
    return used


def _close_clock_for_good(case: Case, reason: str) -> None:
    if case.clock_running:
        _stop_clock(case, reason)


def _start_limits(case: Case) -> None:
    item = case.item
    case.statutory_limit_days = item.statutory_limit_days
    case.committed_limit_days = item.committed_limit_days
    case.accepted_on = clock.today()
    case.working_days_used = 0
    case.extension_days = 0
    case.committed_due = None
    case.statutory_due = None
    _start_clock(case)


# ---------------------------------------------------------------------------------------------
# The window's outcomes: 受理, 容缺受理, 不予受理


def _mandatory_gaps(case: Case) -> list[MaterialCheck]:
    return [
        check
        for check in case.material_checks.order_by("position")
        if check.is_mandatory and check.status != MaterialStatus.RECEIVED
    ]


def accept(
    actor: UserType, case: Case | int, version: int, *, updates: Sequence[MaterialUpdate] = ()
) -> Notice:
    """受理: every mandatory material present and sound; the clock starts (受理通知书)."""
    require_capability(actor, Capability.HANDLE_CASES)
    case = _case_for(actor, case)
    with transaction.atomic():
        case = _lock_case(case, version)
        _require_allowed(case, CaseAction.ACCEPT)
        changes = _apply_material_updates(case, actor, updates)
        gaps = _mandatory_gaps(case)
        if gaps:
            raise ActionRefused(
                _("必需材料尚未齐全：%(names)s。") % {"names": "、".join(check.name for check in gaps)},
                code="materials_incomplete",
            )
        _start_limits(case)
        notice = _issue_notice(case, actor, NoticeKind.ACCEPTANCE)
        _transition(
            case,
            actor,
            CaseAction.ACCEPT,
            CaseState.ACCEPTED,
            after=_clock_picture(case) | {"notice": notice.number, "changes": changes},
        )
        _message_applicant(case, "accepted", _acceptance_message(case))
    return notice


def _acceptance_message(case: Case) -> str:
    if case.is_immediate:
        return _("您的办件 %(number)s 已受理，当场办结。") % {"number": case.number}
    return _("您的办件 %(number)s 已受理，承诺 %(due)s 前办结。") % {
        "number": case.number,
        "due": case.committed_due.isoformat() if case.committed_due else "",
    }


def _clock_picture(case: Case) -> dict[str, Any]:
    return {
        "committed_due": case.committed_due.isoformat() if case.committed_due else None,
        "statutory_due": case.statutory_due.isoformat() if case.statutory_due else None,
        "working_days_used": case.working_days_used,
        "extension_days": case.extension_days,
        "provisional": case.due_is_provisional,
    }


def accept_with_deferred(
    actor: UserType,
    case: Case | int,
    version: int,
    deferred_days: int,
    *,
    updates: Sequence[MaterialUpdate] = (),
) -> Notice:
    """容缺受理 (DB4420 附录C 容缺预受理机制): only 容缺-eligible materials are missing; accepted with a
    deadline in working days to supply them."""
    require_capability(actor, Capability.HANDLE_CASES)
    days = _clean_integer(
        deferred_days,
        field_name="deferred_days",
        label=_("容缺补齐期限"),
        minimum=1,
        maximum=DEFERRED_DAYS_MAX,
    )
    case = _case_for(actor, case)
    with transaction.atomic():
        case = _lock_case(case, version)
        _require_allowed(case, CaseAction.ACCEPT_WITH_DEFERRED)
        if case.is_immediate:
            raise ActionRefused(_("即办件须当场办结，不适用容缺受理。"), code="immediate_same_visit")
        changes = _apply_material_updates(case, actor, updates)
        gaps = _mandatory_gaps(case)
        if not gaps:
            raise ActionRefused(_("必需材料已齐全，请直接受理。"), code="nothing_deferred")
        not_deferrable = [check.name for check in gaps if not check.is_deferrable]
        if not_deferrable:
            raise ActionRefused(
                _("以下材料不可容缺：%(names)s。") % {"names": "、".join(not_deferrable)},
                code="not_deferrable",
            )
        for check in gaps:
            check.status = MaterialStatus.DEFERRED
            check.save(update_fields=["status"])
        _start_limits(case)
        due = clock.due_after(clock.today(), days, None)
        case.deferred_due = due.date
        case.deferred_lapsed = False
        notice = _issue_notice(
            case,
            actor,
            NoticeKind.ACCEPTANCE,
            items=[(check, NoticeProblem.DEFERRED, "") for check in gaps],
            body=_("容缺受理：请于 %(due)s 前补齐所列材料，逾期办件将中止办理。")
            % {"due": due.date.isoformat()},
        )
        _transition(
            case,
            actor,
            CaseAction.ACCEPT_WITH_DEFERRED,
            CaseState.ACCEPTED_DEFERRED,
            after=_clock_picture(case)
            | {
                "notice": notice.number,
                "deferred": [check.name for check in gaps],
                "deferred_due": due.date.isoformat(),
                "changes": changes,
            },
        )
        _message_applicant(
            case,
            "accepted_deferred",
            _("您的办件 %(number)s 已容缺受理，请于 %(due)s 前补齐容缺材料。")
            % {"number": case.number, "due": due.date.isoformat()},
        )
    return notice


def refuse(actor: UserType, case: Case | int, version: int, reason: str, legal_basis: str) -> Notice:
    """不予受理: a written reason and the legal basis, in a 不予受理告知书 (seed 000 一次性告知制 3)."""
    require_capability(actor, Capability.HANDLE_CASES)
    reason = _clean_text(
        reason,
        field_name="reason",
        label=_("不予受理理由"),
        max_length=TEXT_MAX_LENGTH,
        required=True,
        multiline=True,
    )
    legal_basis = _clean_text(
        legal_basis,
        field_name="legal_basis",
        label=_("法律依据"),
        max_length=TEXT_MAX_LENGTH,
        required=True,
        multiline=True,
    )
    case = _case_for(actor, case)
    with transaction.atomic():
        case = _lock_case(case, version)
        _require_allowed(case, CaseAction.REFUSE)
        case.refusal_reason = reason
        case.refusal_legal_basis = legal_basis
        notice = _issue_notice(case, actor, NoticeKind.NOT_ACCEPTED, reason=reason, legal_basis=legal_basis)
        _transition(
            case,
            actor,
            CaseAction.REFUSE,
            CaseState.NOT_ACCEPTED,
            after={"reason": reason, "legal_basis": legal_basis, "notice": notice.number},
        )
        _close_linked_inquiry(case, _("办件 %(number)s 不予受理。") % {"number": case.number})
        _message_applicant(
            case,
            "not_accepted",
            _("您的办件 %(number)s 不予受理，理由见不予受理告知书。") % {"number": case.number},
        )
    return notice


def supply_deferred(
    actor: UserType, case: Case | int, version: int, updates: Sequence[MaterialUpdate]
) -> Case:
    """补齐容缺材料: the deadline is cleared; a case suspended for the lapse resumes its clock."""
    require_capability(actor, Capability.HANDLE_CASES)
    case = _case_for(actor, case)
    with transaction.atomic():
        case = _lock_case(case, version)
        _require_allowed(case, CaseAction.SUPPLY_DEFERRED)
        if (
            case.deferred_due is None
            and not case.material_checks.filter(status=MaterialStatus.DEFERRED).exists()
        ):
            raise ActionRefused(_("该办件没有待补齐的容缺材料。"), code="nothing_deferred")
        if case.state == CaseState.SUSPENDED and case.suspension_reason != "deferred_lapse":
            raise ActionRefused(
                _("该办件在等待补正材料，请登记“收到补正材料”。"), code="suspended_for_supplement"
            )
        changes = _apply_material_updates(case, actor, updates, allow_deferred=True)
        still = [check.name for check in _mandatory_gaps(case)]
        if still:
            raise ActionRefused(
                _("仍有材料未补齐：%(names)s。") % {"names": "、".join(still)}, code="materials_incomplete"
            )
        case.deferred_due = None
        case.deferred_lapsed = False
        case.visit_count += 1
        if case.state == CaseState.SUSPENDED:
            resume = case.resume_state or CaseState.ACCEPTED
            to_state = CaseState.ACCEPTED if resume == CaseState.ACCEPTED_DEFERRED else resume
            _resume_clock(case)
            case.resume_state = ""
            case.suspension_reason = ""
        elif case.state == CaseState.ACCEPTED_DEFERRED:
            to_state = CaseState.ACCEPTED
        else:
            to_state = case.state
        _transition(
            case,
            actor,
            CaseAction.SUPPLY_DEFERRED,
            to_state,
            after={"changes": changes} | _clock_picture(case),
        )
    return case


def lapse_deferred(case_id: int) -> bool:
    """The 容缺 deadline passed: the case is suspended and the applicant and 首办责任人 are told (sweep)."""
    with transaction.atomic():
        case = _lock_case(case_id, None)
        if case.deferred_due is None or case.deferred_due >= clock.today():
            # Supplied or moved since the sweep read it: nothing lapsed, and it stays watched.
            return False
        if not is_allowed(CaseAction.LAPSE_DEFERRED, case.state):
            # Already suspended for a 补正: the sweep looks again once it resumes. Any other state (the
            # case was refused after review) has nothing left to suspend, so the watch ends.
            if case.state != CaseState.SUSPENDED:
                Case.objects.filter(pk=case.pk).update(deferred_lapsed=True)
            return False
        case.resume_state = case.state
        case.suspension_reason = "deferred_lapse"
        case.deferred_lapsed = True
        _stop_clock(case, "deferred_lapse")
        _transition(
            case,
            None,
            CaseAction.LAPSE_DEFERRED,
            CaseState.SUSPENDED,
            after={
                "deferred_due": case.deferred_due.isoformat(),
                "working_days_used": case.working_days_used,
            },
        )
        message = _("办件 %(number)s 容缺材料未在 %(due)s 前补齐，已中止办理（计时暂停）。") % {
            "number": case.number,
            "due": case.deferred_due.isoformat(),
        }
        _notify(case, [case.first_handler], "deferred_lapsed", message)
        _message_applicant(case, "deferred_lapsed", message + _("补齐材料后恢复办理。"))
    return True


# ---------------------------------------------------------------------------------------------
# Approval (后台审批, 并联审批, 超时默认)


@dataclass
class TaskPlan:
    department_id: int
    limit_days: int


def start_approval(
    actor: UserType, case: Case | int, version: int, mode: str, plans: Sequence[TaskPlan]
) -> list[ApprovalTask]:
    """提交审批: tasks in sequence or in parallel across departments, each with its own due date."""
    require_capability(actor, Capability.HANDLE_CASES)
    if mode not in ApprovalMode.values:
        raise ActionRefused(_("审批方式无效。"), code="invalid_mode", field="mode")
    if not plans:
        raise ActionRefused(_("请至少指定一个审批部门。"), code="no_tasks", field="tasks")
    if len(plans) > TASK_COUNT_MAX:
        raise ActionRefused(_("审批环节过多。"), code="too_many_tasks", field="tasks")
    case = _case_for(actor, case)
    with transaction.atomic():
        case = _lock_case(case, version)
        _require_allowed(case, CaseAction.START_APPROVAL)
        if case.is_immediate:
            raise ActionRefused(_("即办件由窗口当场办结，不提交后台审批。"), code="immediate_same_visit")
        participating = participating_departments(case.item)
        allowed_sites = (
            _ancestor_site_ids(case.site)
            | {case.item.department.site_id}
            | {department.site_id for department in participating}
        )
        departments: list[tuple[Department, int]] = []
        for index, plan in enumerate(plans):
            department = Department.objects.filter(pk=plan.department_id, is_active=True).first()
            if department is None or department.site_id not in allowed_sites:
                raise ActionRefused(_("审批部门无效。"), code="invalid_department", field=f"tasks.{index}")
            days = _clean_integer(
                plan.limit_days,
                field_name=f"tasks.{index}",
                label=_("审批时限"),
                minimum=1,
                maximum=max(1, case.committed_limit_days + case.extension_days),
            )
            departments.append((department, days))
        if len({department.pk for department, _days in departments}) != len(departments):
            raise ActionRefused(_("同一部门不能重复审批。"), code="duplicate_department", field="tasks")
        if case.item.item_type == ItemType.JOINT and len(departments) < 2:
            raise ActionRefused(
                _("联办件须由两个以上部门联合审批。"), code="joint_needs_departments", field="tasks"
            )
        planned = {department.pk for department, _days in departments}
        left_out = [department.name for department in participating if department.pk not in planned]
        if left_out:
            raise ActionRefused(
                _("联办件须由全部参与部门审批，缺少：%(names)s。") % {"names": "、".join(left_out)},
                code="joint_department_missing",
                field="tasks",
            )
        day = clock.today()
        tasks = []
        for position, (department, days) in enumerate(departments, start=1):
            active = mode == ApprovalMode.PARALLEL or position == 1
            tasks.append(
                ApprovalTask.objects.create(
                    site_id=department.site_id,
                    case=case,
                    department=department,
                    position=position,
                    mode=mode,
                    limit_days=days,
                    status=TaskStatus.PENDING if active else TaskStatus.WAITING,
                    deemed_approval_on_timeout=case.item.deemed_approval_on_timeout,
                    activated_on=day if active else None,
                    due_date=clock.due_after(day, days, None).date if active else None,
                    created_at=clock.now(),
                )
            )
        _transition(
            case,
            actor,
            CaseAction.START_APPROVAL,
            CaseState.IN_APPROVAL,
            after={
                "mode": mode,
                "tasks": [
                    {
                        "department": task.department.name,
                        "limit_days": task.limit_days,
                        "due_date": task.due_date.isoformat() if task.due_date else None,
                    }
                    for task in tasks
                ],
            },
        )
        for task in tasks:
            if task.status == TaskStatus.PENDING:
                _notify_approvers(case, task)
    return tasks


def participating_departments(item: ServiceItem) -> list[Department]:
    """A 联办件's 牵头部门 and 协办部门 as the catalogue records them (seed 000 六件管理 跨部门事项联合办理):
    each must take part in the approval. Other items name no one the plan must include."""
    if item.item_type != ItemType.JOINT:
        return []
    return [department for department in item.participating_departments() if department.is_active]


def _ancestor_site_ids(site: Site) -> set[int]:
    identifiers = {site.pk}
    current = site
    while current.parent_id is not None:
        identifiers.add(current.parent_id)
        current = Site.objects.get(pk=current.parent_id)
    return identifiers


def _department_approvers(department_id: int) -> list[User]:
    return list(
        User.objects.filter(
            department_id=department_id, is_active=True, role_grants__role=Role.BACK_OFFICE_APPROVER
        ).distinct()
    )


def _notify_approvers(case: Case, task: ApprovalTask) -> None:
    _notify(
        case,
        _department_approvers(task.department_id),
        "task_pending",
        _("办件 %(number)s 待您部门审批，期限 %(due)s。")
        % {"number": case.number, "due": task.due_date.isoformat() if task.due_date else ""},
    )


def _lock_task(task: ApprovalTask | int) -> tuple[Case, ApprovalTask]:
    """Locks the case first, then the task: every path locks in that order, so none can deadlock."""
    task_id = task.pk if isinstance(task, ApprovalTask) else task
    case_id = ApprovalTask.objects.filter(pk=task_id).values_list("case_id", flat=True).first()
    if case_id is None:
        raise NotFound()
    case = _lock_case(case_id, None)
    locked = ApprovalTask.objects.select_for_update(of=("self",)).select_related("department").get(pk=task_id)
    return case, locked


def _advance_after_task(case: Case, actor: UserType | None, action: str, task: ApprovalTask) -> None:
    tasks = list(
        case.approval_tasks.select_for_update(of=("self",)).select_related("department").order_by("position")
    )
    after: dict[str, Any] = {
        "task": task.position,
        "department": task.department.name,
        "status": task.status,
        "opinion": task.opinion,
    }
    if task.status == TaskStatus.REFUSED:
        for other in tasks:
            if other.status in (TaskStatus.WAITING, TaskStatus.PENDING):
                other.status = TaskStatus.CANCELLED
                other.due_date = None
                other.save(update_fields=["status", "due_date"])
        case.decision = Decision.REFUSE
        case.decision_reason = task.opinion
        _transition(case, actor, action, CaseState.REFUSED_AFTER_REVIEW, after=after)
        _notify(
            case,
            [case.first_handler],
            "case_refused",
            _("办件 %(number)s 审批不予通过，请办结并告知申请人。") % {"number": case.number},
        )
        return
    waiting = [other for other in tasks if other.status == TaskStatus.WAITING]
    if task.mode == ApprovalMode.SEQUENTIAL and waiting:
        following = waiting[0]
        day = clock.today()
        following.status = TaskStatus.PENDING
        following.activated_on = day
        following.due_date = clock.due_after(day, following.limit_days, None).date
        following.save(update_fields=["status", "activated_on", "due_date"])
        after["next_task"] = following.position
        _transition(case, actor, action, CaseState.IN_APPROVAL, after=after)
        _notify_approvers(case, following)
        return
    if all(other.status in TASK_DONE_STATUSES for other in tasks):
        case.decision = Decision.APPROVE
        case.decision_reason = "；".join(
            f"{other.department.name}：{other.get_status_display()}" for other in tasks
        )
        _transition(case, actor, action, CaseState.APPROVED, after=after)
        _notify(
            case,
            [case.first_handler],
            "case_approved",
            _("办件 %(number)s 审批通过，请办结。") % {"number": case.number},
        )
        return
    _transition(case, actor, action, CaseState.IN_APPROVAL, after=after)


def decide_task(
    actor: UserType, task: ApprovalTask | int, version: int, approve: bool, opinion: str
) -> ApprovalTask:
    """审批: approve or refuse with reasons; the last approval, or any refusal, decides the case."""
    require_capability(actor, Capability.APPROVE_CASES)
    opinion = _clean_text(
        opinion,
        field_name="opinion",
        label=_("审批意见"),
        max_length=TEXT_MAX_LENGTH,
        required=not approve,
        multiline=True,
    )
    task_id = task.pk if isinstance(task, ApprovalTask) else task
    found = ApprovalTask.objects.filter(pk=task_id).first()
    if found is None:
        raise NotFound()
    _require_site_scope(actor, found)
    if actor.department_id not in (None, found.department_id) and not actor.has_capability(
        Capability.SUPERVISE_CASES
    ):
        audit_refusal(actor, "other_department", target=found)
        raise PermissionRefused(_("只能审批本部门的任务。"), code="other_department")
    with transaction.atomic():
        case, task = _lock_task(found)
        if task.version != version:
            raise Conflict(TASK_CONFLICT_MESSAGE, code="task_changed")
        if task.status != TaskStatus.PENDING:
            raise ActionRefused(
                _("该审批任务当前为「%(status)s」，不能审批。") % {"status": task.get_status_display()},
                code="invalid_state",
            )
        if case.state != CaseState.IN_APPROVAL:
            raise _refuse_state(case, CaseAction.DECIDE_TASK)
        task.status = TaskStatus.APPROVED if approve else TaskStatus.REFUSED
        task.opinion = opinion or _("同意。")
        task.decided_by = actor
        task.decided_at = clock.now()
        task.version += 1
        task.save()
        _advance_after_task(case, actor, CaseAction.DECIDE_TASK, task)
    return task


def _deemable(case: Case, task: ApprovalTask, today: dt.date) -> bool:
    return (
        task.status == TaskStatus.PENDING
        and task.deemed_approval_on_timeout
        and task.due_date is not None
        and task.due_date < today
        and case.state == CaseState.IN_APPROVAL
    )


def _deem_locked(
    case: Case,
    tasks: Sequence[ApprovalTask],
    approvers: dict[int, list[int]],
    supervisors: dict[int, list[int]],
) -> tuple[list[ViolationEntry], list[Notification]]:
    """Deem the case's overdue tasks approved (case and tasks already locked); the case advances after
    each, exactly as after a decision. Returns the violations and notifications to write: the first
    handler, the department's approvers and the case site's 窗口负责人 are told."""
    now = clock.now()
    violations: list[ViolationEntry] = []
    notifications: list[Notification] = []
    for task in sorted(tasks, key=lambda task: task.position):
        if case.state != CaseState.IN_APPROVAL:
            break
        task.status = TaskStatus.DEEMED_APPROVED
        task.opinion = _("超时未审批，按超时默认视为同意（服务承诺制“超时默认”）。")
        task.decided_at = now
        task.card_level = max(task.card_level, 2)
        task.version += 1
        task.save(update_fields=["status", "opinion", "decided_at", "card_level", "version"])
        violations.append(
            ViolationEntry(
                site_id=case.site_id,
                kind=ViolationKind.OVERDUE,
                source=ViolationSource.DEEMED_APPROVAL,
                source_reference=f"task:{task.pk}",
                department_id=task.department_id,
                description=(
                    f"办件 {case.number}：{task.department.name} 的审批任务期限 {task.due_date.isoformat()} 已过未审批，"
                    "按超时默认视为同意。"
                ),
                occurred_at=now,
            )
        )
        _advance_after_task(case, None, CaseAction.DEEM_TASK_APPROVED, task)
        message = _("办件 %(number)s：%(department)s 超时未审批，已按超时默认视为同意。") % {
            "number": case.number,
            "department": task.department.name,
        }
        recipients = {
            case.first_handler_id,
            *approvers.get(task.department_id, []),
            *supervisors.get(case.site_id, []),
        }
        for recipient_id in recipients:
            notifications.append(
                Notification(
                    site_id=case.site_id,
                    recipient_id=recipient_id,
                    case=case,
                    kind="task_deemed_approved",
                    message=message[:300],
                    created_at=now,
                )
            )
    return violations, notifications


def _supervisors_by_site(site_ids: Iterable[int]) -> dict[int, list[int]]:
    supervisors: dict[int, list[int]] = {}
    rows = (
        User.objects.filter(
            site_id__in=set(site_ids), is_active=True, role_grants__role=Role.WINDOW_SUPERVISOR
        )
        .values_list("site_id", "pk")
        .distinct()
    )
    for site_id, user_id in rows:
        supervisors.setdefault(site_id, []).append(user_id)
    return supervisors


def _approvers_by_department(department_ids: Iterable[int]) -> dict[int, list[int]]:
    approvers: dict[int, list[int]] = {}
    rows = (
        User.objects.filter(
            department_id__in=set(department_ids), is_active=True, role_grants__role=Role.BACK_OFFICE_APPROVER
        )
        .values_list("department_id", "pk")
        .distinct()
    )
    for department_id, user_id in rows:
        approvers.setdefault(department_id, []).append(user_id)
    return approvers


def deem_task_approved(task_id: int) -> bool:
    """超时默认 (seed 000 服务承诺制 5): an overdue task of an item that allows it is deemed approved,
    recorded as such, with a 超时 violation against the department."""
    with transaction.atomic():
        case, task = _lock_task(task_id)
        if not _deemable(case, task, clock.today()):
            return False
        violations, notifications = _deem_locked(
            case,
            [task],
            _approvers_by_department([task.department_id]),
            _supervisors_by_site([case.site_id]),
        )
        record_violations(violations)
        Notification.objects.bulk_create(notifications)
    return True


def deem_overdue_tasks(limit: int = 100) -> int:
    """The sweep's batch of 超时默认: up to ``limit`` cases, one transaction, locks case first then tasks
    (the order every action uses). Returns how many tasks were deemed approved; 0 when none is left."""
    today = clock.today()
    with transaction.atomic():
        case_ids = list(
            ApprovalTask.objects.filter(
                status=TaskStatus.PENDING,
                deemed_approval_on_timeout=True,
                due_date__lt=today,
                case__state=CaseState.IN_APPROVAL,
            )
            .order_by("case_id")
            .values_list("case_id", flat=True)
            .distinct()[:limit]
        )
        if not case_ids:
            return 0
        cases = list(
            Case.objects.select_for_update(no_key=True, of=("self",))
            .select_related("item", "site")
            .filter(pk__in=case_ids, state=CaseState.IN_APPROVAL)
            .order_by("pk")
        )
        tasks_by_case: dict[int, list[ApprovalTask]] = {}
        for task in (
            ApprovalTask.objects.select_for_update(of=("self",))
            .select_related("department")
            .filter(case_id__in=[case.pk for case in cases], status=TaskStatus.PENDING)
            .order_by("case_id", "position")
        ):
            tasks_by_case.setdefault(task.case_id, []).append(task)
        approvers = _approvers_by_department(
            task.department_id for tasks in tasks_by_case.values() for task in tasks
        )
        supervisors = _supervisors_by_site(case.site_id for case in cases)
        violations: list[ViolationEntry] = []
        notifications: list[Notification] = []
        deemed = 0
        for case in cases:
            overdue = [task for task in tasks_by_case.get(case.pk, []) if _deemable(case, task, today)]
            if not overdue:
                continue
            case_violations, case_notifications = _deem_locked(case, overdue, approvers, supervisors)
            violations += case_violations
            notifications += case_notifications
            deemed += len(case_violations)
        record_violations(violations)
        Notification.objects.bulk_create(notifications, batch_size=1000)
    return deemed


def decide_case(actor: UserType, case: Case | int, version: int, approve: bool, reason: str) -> Case:
    """The window decides without back-office tasks: 即办件 by the clerk, others by an approver."""
    reason = _clean_text(
        reason,
        field_name="reason",
        label=_("决定理由"),
        max_length=TEXT_MAX_LENGTH,
        required=not approve,
        multiline=True,
    )
    case = _case_for(actor, case)
    require_capability(actor, Capability.HANDLE_CASES if case.is_immediate else Capability.APPROVE_CASES)
    with transaction.atomic():
        case = _lock_case(case, version)
        _require_allowed(case, CaseAction.DECIDE_CASE)
        case.decision = Decision.APPROVE if approve else Decision.REFUSE
        case.decision_reason = reason or _("符合条件，准予办理。")
        to_state = CaseState.APPROVED if approve else CaseState.REFUSED_AFTER_REVIEW
        _transition(
            case,
            actor,
            CaseAction.DECIDE_CASE,
            to_state,
            after={"decision": case.decision, "reason": case.decision_reason},
        )
    return case


# ---------------------------------------------------------------------------------------------
# Completion, delivery, withdrawal


def complete(actor: UserType, case: Case | int, version: int, result_text: str = "") -> Notice:
    """办结: the clock stops for good; whether it was on time is recorded (及时办结率, 限时办结制 八)."""
    require_capability(actor, Capability.HANDLE_CASES)
    result_text = _clean_text(
        result_text, field_name="result_text", label=_("办理结果"), max_length=TEXT_MAX_LENGTH, multiline=True
    )
    case = _case_for(actor, case)
    with transaction.atomic():
        case = _lock_case(case, version)
        _require_allowed(case, CaseAction.COMPLETE)
        if case.decision == Decision.APPROVE and case.deferred_due is not None:
            raise ActionRefused(_("容缺材料尚未补齐，不能办结。"), code="deferred_outstanding")
        day = clock.today()
        taken = working_days_consumed(case, day)
        on_time = case.committed_due is None or day <= case.committed_due
        _close_clock_for_good(case, "completed")
        case.deferred_due = None
        case.working_days_taken = taken
        case.completed_on_time = on_time
        case.result_text = result_text or (
            _("准予办理。")
            if case.decision == Decision.APPROVE
            else _("不予批准：%(reason)s") % {"reason": case.decision_reason}
        )
        notice = _issue_notice(
            case, actor, NoticeKind.COMPLETION, reason=case.decision_reason, body=case.result_text
        )
        _transition(
            case,
            actor,
            CaseAction.COMPLETE,
            CaseState.COMPLETED,
            after={
                "decision": case.decision,
                "on_time": on_time,
                "working_days": taken,
                "committed_due": case.committed_due.isoformat() if case.committed_due else None,
                "visits": case.visit_count,
                "supplements": case.supplement_count,
                "notice": notice.number,
            },
        )
        _close_linked_inquiry(case, _("办件 %(number)s 已办结。") % {"number": case.number})
        _message_applicant(
            case,
            "completed",
            _("您的办件 %(number)s 已办结，请按约定方式领取结果。") % {"number": case.number},
        )
        completed_case = case
        transaction.on_commit(lambda: case_completed.send(sender=Case, case=completed_case))
    return notice


def _clean_tracking_number(value: Any) -> str:
    tracking = _clean_text(
        value,
        field_name="tracking_number",
        label=_("快递单号"),
        max_length=TRACKING_NUMBER_MAX_LENGTH,
        required=True,
    )
    if (
        not all(character.isascii() and (character.isalnum() or character == "-") for character in tracking)
        or len(tracking) < 6
    ):
        raise ActionRefused(
            _("快递单号只能包含字母、数字和连字符，至少 6 位。"),
            code="invalid_tracking_number",
            field="tracking_number",
        )
    return tracking.upper()


def deliver(actor: UserType, case: Case | int, version: int, method: str, tracking_number: str = "") -> Case:
    """送达: window pick-up, post with a tracking number, or the 24-hour cabinet with a pickup code."""
    require_capability(actor, Capability.HANDLE_CASES)
    if method not in DeliveryMethod.values:
        raise ActionRefused(_("送达方式无效。"), code="invalid_method", field="method")
    tracking = _clean_tracking_number(tracking_number) if method == DeliveryMethod.POST else ""
    case = _case_for(actor, case)
    with transaction.atomic():
        case = _lock_case(case, version)
        _require_allowed(case, CaseAction.DELIVER)
        offered = {
            DeliveryMethod.WINDOW: case.item.delivery_at_window,
            DeliveryMethod.POST: case.item.delivery_by_post,
            DeliveryMethod.CABINET: case.item.delivery_by_cabinet,
        }
        if not offered[DeliveryMethod(method)]:
            raise ActionRefused(_("该事项不提供此送达方式。"), code="method_not_offered", field="method")
        case.delivery_method = method
        case.delivery_tracking_number = tracking
        case.delivery_pickup_code = (
            f"{secrets.randbelow(10**6):06d}" if method == DeliveryMethod.CABINET else ""
        )
        _transition(
            case,
            actor,
            CaseAction.DELIVER,
            CaseState.DELIVERED,
            after={
                "method": method,
                "tracking_number": tracking,
                "pickup_code_issued": bool(case.delivery_pickup_code),
            },
        )
        if method == DeliveryMethod.CABINET:
            text = _("您的办件 %(number)s 结果已放入24小时自助文件柜，取件码 %(code)s。") % {
                "number": case.number,
                "code": case.delivery_pickup_code,
            }
        elif method == DeliveryMethod.POST:
            text = _("您的办件 %(number)s 结果已邮寄，快递单号 %(tracking)s。") % {
                "number": case.number,
                "tracking": tracking,
            }
        else:
            text = _("您的办件 %(number)s 结果已在窗口领取。") % {"number": case.number}
        _message_applicant(case, "delivered", text)
    return case


def withdraw(actor: UserType, case: Case | int, version: int, reason: str) -> Case:
    """申请人撤回: recorded by the clerk with the applicant's reason; the clock and open tasks stop."""
    require_capability(actor, Capability.HANDLE_CASES)
    reason = _clean_text(
        reason, field_name="reason", label=_("撤回原因"), max_length=SHORT_TEXT_MAX_LENGTH, required=True
    )
    case = _case_for(actor, case)
    with transaction.atomic():
        case = _lock_case(case, version)
        _require_allowed(case, CaseAction.WITHDRAW)
        _close_clock_for_good(case, "withdrawn")
        case.approval_tasks.filter(status__in=[TaskStatus.WAITING, TaskStatus.PENDING]).update(
            status=TaskStatus.CANCELLED, due_date=None
        )
        case.deferred_due = None
        case.withdrawal_reason = reason
        _transition(case, actor, CaseAction.WITHDRAW, CaseState.WITHDRAWN, after={"reason": reason})
        _close_linked_inquiry(case, _("办件 %(number)s 申请人撤回。") % {"number": case.number})
    return case


# ---------------------------------------------------------------------------------------------
# Supervisors: 绿色通道 and extensions


def mark_green_channel(actor: UserType, case: Case | int, version: int, reason: str) -> Case:
    """绿色通道 (seed 000 六件管理 重大项目绿色通道; seed 004 急事急办，特事特办): sorts first everywhere."""
    require_capability(actor, Capability.SUPERVISE_CASES)
    reason = _clean_text(reason, field_name="reason", label=_("理由"), max_length=300, required=True)
    case = _case_for(actor, case)
    with transaction.atomic():
        case = _lock_case(case, version)
        _require_allowed(case, CaseAction.MARK_GREEN_CHANNEL)
        if case.is_green_channel:
            raise ActionRefused(_("该办件已在绿色通道中。"), code="already_green")
        case.is_green_channel = True
        case.green_channel_reason = reason
        case.green_channel_at = clock.now()
        _in_place(
            case,
            actor,
            CaseAction.MARK_GREEN_CHANNEL,
            before={"is_green_channel": False},
            after={"is_green_channel": True, "reason": reason},
        )
        _notify(
            case,
            [case.first_handler],
            "green_channel",
            _("办件 %(number)s 已开通绿色通道，请优先办理。") % {"number": case.number},
        )
    return case


def request_extension(
    actor: UserType, case: Case | int, version: int, days: int, reason: str
) -> ExtensionRequest:
    """申请延期: a reason, and never beyond the statutory extension; a supervisor decides."""
    require_capability(actor, Capability.HANDLE_CASES)
    reason = _clean_text(
        reason, field_name="reason", label=_("延期理由"), max_length=SHORT_TEXT_MAX_LENGTH, required=True
    )
    days = _clean_integer(days, field_name="days", label=_("延长工作日"), minimum=1, maximum=365)
    case = _case_for(actor, case)
    with transaction.atomic():
        case = _lock_case(case, version)
        _require_allowed(case, CaseAction.REQUEST_EXTENSION)
        if case.is_immediate:
            raise ActionRefused(_("即办件须当场办结，不能延期。"), code="immediate_same_visit")
        _require_within_statutory_extension(case, days)
        if case.extension_requests.filter(status=ExtensionStatus.PENDING).exists():
            raise ActionRefused(_("已有待审批的延期申请。"), code="extension_pending")
        request = ExtensionRequest.objects.create(
            site_id=case.site_id,
            case=case,
            days=days,
            reason=reason,
            requested_by=actor,
            requested_at=clock.now(),
        )
        _in_place(
            case,
            actor,
            CaseAction.REQUEST_EXTENSION,
            after={"days": days, "reason": reason, "request_id": request.pk},
        )
        _notify(
            case,
            [user for user in _window_supervisors(case.site_id) if user.pk != actor.pk],
            "extension_requested",
            _("办件 %(number)s 申请延期 %(days)d 个工作日，待您审批。")
            % {"number": case.number, "days": days},
        )
    return request


def _require_within_statutory_extension(case: Case, days: int) -> None:
    left = case.statutory_extension_days - case.extension_days
    if days > left:
        raise ActionRefused(
            _("延期不能超过法定可延长期限：本事项最多可延长 %(total)d 个工作日，尚可延长 %(left)d 个工作日。")
            % {"total": case.statutory_extension_days, "left": max(0, left)},
            code="beyond_statutory_extension",
            field="days",
        )


def decide_extension(
    actor: UserType, request: ExtensionRequest | int, approve: bool, note: str = ""
) -> ExtensionRequest:
    """A supervisor (Capability.SUPERVISE_CASES) approves or rejects; approval moves the due dates."""
    require_capability(actor, Capability.SUPERVISE_CASES)
    note = _clean_text(
        note, field_name="note", label=_("审批意见"), max_length=SHORT_TEXT_MAX_LENGTH, required=not approve
    )
    request_id = request.pk if isinstance(request, ExtensionRequest) else request
    found = ExtensionRequest.objects.filter(pk=request_id).first()
    if found is None:
        raise NotFound()
    case = _case_for(actor, found.case_id)
    if found.requested_by_id == actor.pk:
        audit_refusal(actor, "own_extension", target=case)
        raise PermissionRefused(_("不能审批自己提出的延期申请。"), code="own_extension")
    with transaction.atomic():
        case = _lock_case(case, None)
        request = ExtensionRequest.objects.select_for_update().get(pk=request_id)
        if request.status != ExtensionStatus.PENDING:
            raise Conflict(_("该延期申请已被处理。"), code="extension_decided")
        _require_allowed(case, CaseAction.DECIDE_EXTENSION)
        before = _clock_picture(case)
        if approve:
            _require_within_statutory_extension(case, request.days)
            case.extension_days += request.days
            _recompute_dues(case)
        request.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
        request.decided_by = actor
        request.decided_at = clock.now()
        request.decision_note = note
        request.save()
        _in_place(
            case,
            actor,
            CaseAction.DECIDE_EXTENSION,
            before=before,
            after=_clock_picture(case)
            | {"approved": approve, "days": request.days, "note": note, "request_id": request.pk},
        )
        _notify(
            case,
            [request.requested_by, case.first_handler],
            "extension_decided",
            (
                _("办件 %(number)s 延期 %(days)d 个工作日已批准，新承诺期限 %(due)s。")
                if approve
                else _("办件 %(number)s 延期申请未获批准。")
            )
            % {
                "number": case.number,
                "days": request.days,
                "due": case.committed_due.isoformat() if case.committed_due else "",
            },
        )
        if approve:
            _message_applicant(
                case,
                "extended",
                _("您的办件 %(number)s 依法延长办理期限，新的承诺办结日期为 %(due)s。")
                % {
                    "number": case.number,
                    "due": case.committed_due.isoformat() if case.committed_due else "",
                },
            )
    return request


def set_statutory_extension(actor: UserType, item: ServiceItem, days: int) -> ItemCaseSetting:
    """The statutory extension an item allows (法定延长期限), kept beside the catalogue."""
    require_capability(actor, Capability.MANAGE_CATALOG)
    if item.site_id not in actor.accessible_site_ids():
        audit_refusal(actor, "out_of_scope", target=item)
        raise NotFound()
    days = _clean_integer(days, field_name="days", label=_("法定可延长期限"), minimum=0, maximum=365)
    with transaction.atomic():
        setting, _created = ItemCaseSetting.objects.select_for_update().get_or_create(
            item=item, defaults={"site_id": item.site_id}
        )
        before = {"statutory_extension_days": setting.statutory_extension_days}
        setting.statutory_extension_days = days
        setting.save()
        record(
            "cases.item_setting_changed",
            actor=actor,
            target=item,
            before=before,
            after={"statutory_extension_days": days},
        )
    return setting


def mark_notifications_read(actor: UserType, notification_ids: Iterable[int]) -> int:
    return Notification.objects.filter(
        recipient=actor, pk__in=list(notification_ids), read_at__isnull=True
    ).update(read_at=clock.now())


def outstanding_materials(case: Case) -> list[str]:
    """What the applicant still has to bring: the public status page shows these names."""
    if case.state in (CaseState.SUPPLEMENT_REQUESTED, CaseState.SUSPENDED) or case.deferred_due is not None:
        return [check.name for check, _problem, _detail in _outstanding_for_supplement(case)]
    return []


def scoped_tasks(user: UserType) -> Any:
    """Approval tasks an approver may see: their sites, and only their department unless they supervise."""
    tasks = ApprovalTask.objects.restrict(user, Capability.APPROVE_CASES)
    if user.department_id is not None and not user.has_capability(Capability.SUPERVISE_CASES):
        tasks = tasks.filter(department_id=user.department_id)
    return tasks
