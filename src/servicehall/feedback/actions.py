"""Every change to ratings, appeals and rectifications: one function, one transaction, one audit record.

Integrity (seed 003 不得对评价结果弄虚作假): a rating needs the single-use token issued for a service that
happened, staff accounts cannot rate, and a source that submits an improbable burst is held for review.
No audit record carries the citizen's contact details.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any, NoReturn

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehall.accounts.permissions import require_capability, require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.audit.actions import record
from servicehall.feedback.models import (
    RECTIFICATION_TRANSITIONS,
    AppealStatus,
    CallbackResult,
    Channel,
    Grade,
    Level,
    Rating,
    RatingAppeal,
    RatingToken,
    ReasonTag,
    Rectification,
    RectificationStatus,
    ServiceKind,
    grade_of,
)
from servicehall.lib.errors import ActionRefused, Conflict, NotFound, PermissionRefused
from servicehall.lib.identity import IdentityValidationError, validate_mobile_phone
from servicehall.supervision.actions import record_violation
from servicehall.supervision.models import ViolationKind, ViolationSource
from servicehall.workdays.service import add as add_working_days

COMMENT_MAX_LENGTH = 500
CLAIM_TOKEN_SQL = (
    "UPDATE feedback_ratingtoken SET used_at = %s WHERE key = %s AND used_at IS NULL AND expires_at > %s "
    "RETURNING id, site_id, service_kind, staff_id, window_id"
)
NOTE_MAX_LENGTH = 500


def rating_window_days() -> int:
    return int(getattr(settings, "SERVICEHALL_RATING_WINDOW_DAYS", 7))


def rectification_working_days() -> int:
    return int(getattr(settings, "SERVICEHALL_RECTIFICATION_WORKING_DAYS", 15))


def burst_limit() -> tuple[int, int]:
    """(ratings, seconds): more than this many from one source within the seconds is held for review."""
    return (
        int(getattr(settings, "SERVICEHALL_RATING_BURST_COUNT", 5)),
        int(getattr(settings, "SERVICEHALL_RATING_BURST_SECONDS", 60)),
    )


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _text(value: Any, label: str, field: str, *, required: bool, max_length: int) -> str:
    text = " ".join(str(value or "").split()) if field != "comment" else str(value or "").strip()
    if required and not text:
        raise ActionRefused(_("请填写%(label)s。") % {"label": label}, code="required", field=field)
    if len(text) > max_length:
        raise ActionRefused(
            _("%(label)s不能超过 %(count)d 个字。") % {"label": label, "count": max_length},
            code="too_long",
            field=field,
        )
    return text


def fingerprint(*parts: str) -> str:
    """A one-way digest of the submitting source (device or address), so no address is stored."""
    digest = hashlib.sha256(settings.SECRET_KEY.encode())
    for part in parts:
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Tokens: issued for services that happened, never on request


def issue_token_for_ticket(ticket: Any, *, now: dt.datetime | None = None) -> RatingToken:
    """The token of a finished service at a window; created once, idempotent."""
    from servicehall.queueing.models import TicketStatus

    if ticket.status != TicketStatus.FINISHED or ticket.finished_at is None:
        raise ActionRefused(_("该服务尚未办结，不能评价。"), code="service_not_finished")
    moment = _now(now)
    existing = RatingToken.objects.filter(ticket=ticket).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return RatingToken.objects.create(
                site_id=ticket.site_id,
                service_kind=ServiceKind.VISIT,
                ticket=ticket,
                staff_id=ticket.clerk_id,
                window_id=ticket.window_id,
                key=secrets.token_urlsafe(32),
                issued_at=moment,
                expires_at=ticket.finished_at + dt.timedelta(days=rating_window_days()),
            )
    except IntegrityError:
        return RatingToken.objects.get(ticket=ticket)


def issue_token_for_case(case: Any, *, now: dt.datetime | None = None) -> RatingToken:
    """The token of a completed case (网上"一事一评"); created once, idempotent."""
    from servicehall.cases.states import CaseState

    if case.state not in (CaseState.COMPLETED, CaseState.DELIVERED):
        raise ActionRefused(_("该办件尚未办结，不能评价。"), code="service_not_finished")
    moment = _now(now)
    existing = RatingToken.objects.filter(case=case).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return RatingToken.objects.create(
                site_id=case.site_id,
                service_kind=ServiceKind.CASE,
                case=case,
                staff_id=case.first_handler_id,
                key=secrets.token_urlsafe(32),
                issued_at=moment,
                expires_at=moment + dt.timedelta(days=rating_window_days()),
            )
    except IntegrityError:
        return RatingToken.objects.get(case=case)


# ---------------------------------------------------------------------------------------------
# Rating


def _clean_level(level: Any) -> int:
    try:
        value = int(level)
    except (TypeError, ValueError):
        value = 0
    if value not in Level.values:
        raise ActionRefused(
            _("请选择评价等级（非常满意至非常不满意）。"), code="invalid_level", field="level"
        )
    return value


def _clean_reasons(reasons: Any) -> list[str]:
    chosen = [str(reason) for reason in (reasons or [])]
    unknown = [reason for reason in chosen if reason not in ReasonTag.values]
    if unknown:
        raise ActionRefused(_("评价原因无效。"), code="invalid_reason", field="reasons")
    return sorted(set(chosen), key=ReasonTag.values.index)


def _clean_phone(phone: Any) -> str:
    raw = str(phone or "").strip()
    if not raw:
        return ""
    try:
        return validate_mobile_phone(raw)
    except IdentityValidationError:
        raise ActionRefused(_("手机号码格式不正确。"), code="invalid_phone", field="contact_phone") from None


def rate(
    key: str,
    *,
    level: Any,
    channel: str | None,
    reasons: Any = (),
    comment: Any = "",
    contact_name: Any = "",
    contact_phone: Any = "",
    source: str = "",
    actor: Any | None = None,
    now: dt.datetime | None = None,
) -> Rating:
    """评价: the citizen rates the service the token was issued for, once.

    ``channel`` None means "by the token's link": 扫码评价 for a visit, 网上评价 for a case."""
    if actor is not None and getattr(actor, "is_authenticated", False):
        raise PermissionRefused(_("工作人员账号不能评价服务。"), code="staff_cannot_rate")
    if channel is not None and channel not in Channel.values:
        raise ActionRefused(_("评价渠道无效。"), code="invalid_channel")
    value = _clean_level(level)
    chosen_reasons = _clean_reasons(reasons)
    text = _text(comment, _("评价内容"), "comment", required=False, max_length=COMMENT_MAX_LENGTH)
    name = _text(contact_name, _("联系人"), "contact_name", required=False, max_length=50)
    phone = _clean_phone(contact_phone)
    grade = grade_of(value)
    if grade == Grade.BAD and not chosen_reasons and not text:
        raise ActionRefused(
            _("请选择不满意的原因或写下意见，以便我们整改。"), code="reason_required", field="reasons"
        )
    moment = _now(now)
    if not key or len(key) > 64:
        raise NotFound(_("评价凭证无效。"), code="invalid_token")
    with transaction.atomic():
        claimed = _claim_token(key, moment)
        if claimed is None:
            _refuse_unclaimed_token(key, moment)
        token_id, site_id, service_kind, staff_id, window_id = claimed
        if channel is None:
            channel = Channel.ONLINE if service_kind == ServiceKind.CASE else Channel.QR_CODE
        count, seconds = burst_limit()
        # Counting stops at the limit: a busy shared address (a hall's Wi-Fi) must not cost a long scan.
        held = bool(source) and (
            len(
                Rating.objects.filter(
                    source_fingerprint=source, rated_at__gte=moment - dt.timedelta(seconds=seconds)
                ).values_list("pk", flat=True)[:count]
            )
            >= count
        )
        rating = Rating.objects.create(
            site_id=site_id,
            token_id=token_id,
            service_kind=service_kind,
            staff_id=staff_id,
            window_id=window_id,
            level=value,
            grade=grade,
            reasons=chosen_reasons,
            comment=text,
            channel=channel,
            contact_name=name,
            contact_phone=phone,
            source_fingerprint=source,
            held_for_review=held,
            rated_at=moment,
        )
        if grade == Grade.BAD:
            _open_rectification(rating, moment)
        record(
            "feedback.rated",
            actor_label=_("服务对象"),
            site_id=site_id,
            target=rating,
            after={
                "level": value,
                "grade": grade,
                "channel": channel,
                "service_kind": service_kind,
                "staff_id": staff_id,
                "real_name": bool(phone),
                "held_for_review": held,
            },
        )
    return rating


def _claim_token(key: str, moment: dt.datetime) -> tuple[int, int, str, int | None, int | None] | None:
    """Mark the token used if it is unused and unexpired, in one statement; None if it is not.

    One conditional UPDATE … RETURNING in place of a locking read and a write: a concurrent second use
    waits for the first to commit and then finds the token used (issue 7: 200 ratings a second)."""
    at = connection.ops.adapt_datetimefield_value(moment)
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_TOKEN_SQL, [at, key, at])
        return cursor.fetchone()


def _refuse_unclaimed_token(key: str, moment: dt.datetime) -> NoReturn:
    token = RatingToken.objects.filter(key=key).only("used_at", "expires_at").first()
    if token is None:
        raise NotFound(_("评价凭证无效。"), code="invalid_token")
    if token.used_at is not None:
        raise Conflict(_("这次服务已经评价过了，感谢您的参与。"), code="already_rated")
    raise ActionRefused(_("评价期限已过，如有意见请通过投诉渠道反映。"), code="token_expired")


def _open_rectification(rating: Rating, moment: dt.datetime) -> Rectification:
    today = timezone.localdate(moment)
    verify_due = add_working_days(today, 1).date
    return Rectification.objects.create(
        site_id=rating.site_id,
        rating=rating,
        staff_id=rating.staff_id,
        opened_at=moment,
        verify_due=verify_due,
        rectify_due=add_working_days(today, rectification_working_days()).date,
        due_on=verify_due,
    )


def review_held_rating(actor: Any, rating: Rating, *, accept: bool, reason: str) -> Rating:
    """A supervisor releases a held rating into the figures, or excludes it as not genuine."""
    require_capability(actor, Capability.SUPERVISE_STAFF)
    require_in_scope(actor, rating)
    if rating.staff_id is not None and rating.staff_id == actor.pk:
        raise PermissionRefused(_("不能核查本人收到的评价，请由其他负责人处理。"), code="own_rating")
    text = _text(reason, _("核查意见"), "reason", required=True, max_length=NOTE_MAX_LENGTH)
    moment = timezone.now()
    with transaction.atomic():
        rating = Rating.objects.select_for_update().get(pk=rating.pk)
        if not rating.held_for_review:
            raise Conflict(_("该评价不在待核查状态。"), code="not_held")
        rating.held_for_review = False
        rating.reviewed_at = moment
        if not accept:
            rating.excluded_at = moment
        rating.save(update_fields=["held_for_review", "reviewed_at", "excluded_at"])
        if not accept:
            _close_rectification_as_void(
                rating, actor, moment, _("评价经核查不予采信：%(reason)s") % {"reason": text}
            )
        record(
            "feedback.held_rating_reviewed",
            actor=actor,
            site=rating.site,
            target=rating,
            after={"accepted": accept, "reason": text},
        )
    return rating


# ---------------------------------------------------------------------------------------------
# Appeals (申诉)


def appeal_rating(actor: Any, rating: Rating, reason: str) -> RatingAppeal:
    """The rated staff member contests a rating they believe mistaken or malicious."""
    if rating.staff_id != getattr(actor, "pk", None):
        raise PermissionRefused(_("只能对自己收到的评价提出申诉。"), code="not_your_rating")
    text = _text(reason, _("申诉理由"), "reason", required=True, max_length=NOTE_MAX_LENGTH)
    if rating.excluded_at is not None:
        raise Conflict(_("该评价已被剔除，无需申诉。"), code="already_excluded")
    if rating.grade == Grade.GOOD:
        raise ActionRefused(_("好评无需申诉。"), code="nothing_to_appeal")
    try:
        with transaction.atomic():
            appeal = RatingAppeal.objects.create(
                site_id=rating.site_id,
                rating=rating,
                appellant=actor,
                reason=text,
                created_at=timezone.now(),
            )
            record(
                "feedback.appealed", actor=actor, site=rating.site, target=rating, after={"appeal": appeal.pk}
            )
    except IntegrityError:
        raise Conflict(_("该评价已有待处理的申诉。"), code="appeal_pending") from None
    return appeal


def decide_appeal(actor: Any, appeal: RatingAppeal, *, upheld: bool, reason: str) -> RatingAppeal:
    """A supervisor other than the appellant decides; upheld → the rating leaves the figures, audited."""
    require_capability(actor, Capability.SUPERVISE_STAFF)
    require_in_scope(actor, appeal)
    if appeal.appellant_id == actor.pk:
        raise PermissionRefused(_("不能处理自己提出的申诉。"), code="own_appeal")
    text = _text(reason, _("处理意见"), "reason", required=True, max_length=NOTE_MAX_LENGTH)
    moment = timezone.now()
    with transaction.atomic():
        appeal = RatingAppeal.objects.select_for_update().get(pk=appeal.pk)
        if appeal.status != AppealStatus.PENDING:
            raise Conflict(_("该申诉已处理。"), code="already_decided")
        appeal.status = AppealStatus.UPHELD if upheld else AppealStatus.REJECTED
        appeal.decided_by = actor
        appeal.decided_at = moment
        appeal.decision_reason = text
        appeal.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        rating = Rating.objects.select_for_update().get(pk=appeal.rating_id)
        if upheld:
            rating.excluded_at = moment
            rating.save(update_fields=["excluded_at"])
            _close_rectification_as_void(rating, actor, moment, _("申诉成立：%(reason)s") % {"reason": text})
        record(
            "feedback.appeal_decided",
            actor=actor,
            site=rating.site,
            target=rating,
            after={"appeal": appeal.pk, "upheld": upheld, "excluded": upheld, "reason": text},
        )
    return appeal


def _close_rectification_as_void(rating: Rating, actor: Any, moment: dt.datetime, note: str) -> None:
    task = Rectification.objects.select_for_update().filter(rating=rating).first()
    if task is None or task.status == RectificationStatus.CLOSED:
        return
    task.status = RectificationStatus.CLOSED
    task.is_justified = False
    task.verification_note = task.verification_note or note[:NOTE_MAX_LENGTH]
    task.verified_at = task.verified_at or moment
    task.closed_at = moment
    task.handled_by = actor
    task.save()


# ---------------------------------------------------------------------------------------------
# 差评整改: 核实 → 整改 → 回访 → 办结


def _locked_task(actor: Any, task: Rectification) -> Rectification:
    require_capability(actor, Capability.SUPERVISE_STAFF)
    require_in_scope(actor, task)
    if task.staff_id is not None and task.staff_id == actor.pk:
        # A 窗口负责人 who also serves at a window must not verify or close a 差评 about themselves.
        raise PermissionRefused(_("不能处理针对本人的差评，请由其他负责人处理。"), code="own_rating")
    return Rectification.objects.select_for_update().select_related("rating").get(pk=task.pk)


def _move(task: Rectification, expected: str, to_status: str, actor: Any, moment: dt.datetime) -> None:
    """Each step starts from one status; the pair must be in the transition table."""
    stamp = RECTIFICATION_TRANSITIONS.get((task.status, to_status))
    if task.status != expected or stamp is None:
        raise Conflict(
            _("当前状态“%(status)s”不能进行此操作。") % {"status": task.get_status_display()},
            code="invalid_transition",
        )
    setattr(task, stamp, moment)
    task.status = to_status
    task.handled_by = actor
    if to_status == RectificationStatus.RECTIFYING:
        task.due_on = task.rectify_due
    elif to_status == RectificationStatus.CALLING_BACK:
        task.due_on = add_working_days(timezone.localdate(moment), 1).date
    elif to_status == RectificationStatus.CLOSED:
        task.closed_at = moment


def verify(actor: Any, task: Rectification, *, justified: bool, note: str) -> Rectification:
    """核实: is the 差评 justified? A justified one goes to 整改 and records a violation of source 差评."""
    text = _text(note, _("核实情况"), "note", required=True, max_length=NOTE_MAX_LENGTH)
    moment = timezone.now()
    with transaction.atomic():
        task = _locked_task(actor, task)
        rating = task.rating
        if justified:
            target = RectificationStatus.RECTIFYING
        elif rating.is_real_name:
            target = RectificationStatus.CALLING_BACK
        else:
            target = RectificationStatus.CLOSED
        _move(task, RectificationStatus.VERIFYING, target, actor, moment)
        task.is_justified = justified
        task.verification_note = text
        task.save()
        if justified and rating.staff_id is not None:
            record_violation(
                site=task.site,
                kind=ViolationKind.SHIRKING_OR_OBSTRUCTION
                if "attitude" in rating.reasons
                else ViolationKind.FIRST_RESPONDER_FAILURE
                if "one_time_notice" in rating.reasons
                else ViolationKind.OTHER,
                source=ViolationSource.RATING,
                source_reference=f"rating:{rating.pk}",
                description=_("差评经核实属实（评价 #%(number)s）：%(note)s")
                % {"number": rating.pk, "note": text},
                staff=rating.staff,
                occurred_at=rating.rated_at,
                recorded_by=actor,
            )
        record(
            "feedback.rectification_verified",
            actor=actor,
            site=task.site,
            target=task,
            after={"justified": justified, "status": task.status},
        )
    return task


def rectify(actor: Any, task: Rectification, *, note: str) -> Rectification:
    """整改: what was changed; a 实名 rating then waits for the 回访, an anonymous one closes."""
    text = _text(note, _("整改措施"), "note", required=True, max_length=NOTE_MAX_LENGTH)
    moment = timezone.now()
    with transaction.atomic():
        task = _locked_task(actor, task)
        target = RectificationStatus.CALLING_BACK if task.rating.is_real_name else RectificationStatus.CLOSED
        _move(task, RectificationStatus.RECTIFYING, target, actor, moment)
        task.rectification_note = text
        task.save()
        record("feedback.rectified", actor=actor, site=task.site, target=task, after={"status": task.status})
    return task


def call_back(actor: Any, task: Rectification, *, result: str, note: str) -> Rectification:
    """回访: the citizen's view of the fix (满意/基本满意/不满意), or that they could not be reached."""
    if result not in CallbackResult.values:
        raise ActionRefused(_("请选择回访结果。"), code="invalid_result", field="result")
    text = _text(
        note, _("回访记录"), "note", required=result == CallbackResult.UNREACHABLE, max_length=NOTE_MAX_LENGTH
    )
    moment = timezone.now()
    with transaction.atomic():
        task = _locked_task(actor, task)
        _move(task, RectificationStatus.CALLING_BACK, RectificationStatus.CLOSED, actor, moment)
        task.callback_result = result
        task.callback_note = text
        task.save()
        record(
            "feedback.called_back",
            actor=actor,
            site=task.site,
            target=task,
            after={"result": result},
        )
    return task
