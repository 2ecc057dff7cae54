"""Every state change of the conduct app: one function, one transaction, one audit record.

Checking a text changes nothing; what is kept is a reply sent despite a warning (回复留痕), the centre's
extra phrases, and a finding for supervision when a sent reply or a checked conversation is over the
threshold (severity ≥ 3, or ≥ 2 findings; settings ``SERVICEHALL_CONDUCT_FINDING_MIN_SEVERITY`` and
``SERVICEHALL_CONDUCT_FINDING_MIN_COUNT``). A supervisor confirms a finding (``confirm_finding``); at or above
``SERVICEHALL_CONDUCT_VIOLATION_MIN_SEVERITY`` (2) and with a known staff member, the supervision app records
one violation for it through ``conduct.signals.finding_confirmed``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehall.accounts.permissions import require_capability, require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.audit.actions import record
from servicehall.conduct import service
from servicehall.conduct.checker import MAX_TEXT_LENGTH, build_ruleset, phrases_data
from servicehall.conduct.engine import CATEGORIES, Finding, RuleDataError
from servicehall.conduct.engine import ExtraPhrase as ExtraPhraseSpecification
from servicehall.conduct.models import (
    ConductFinding,
    ConfirmationResult,
    ExtraPhrase,
    ExtraPhraseKind,
    FindingSource,
    OverriddenReply,
)
from servicehall.conduct.signals import finding_confirmed
from servicehall.conduct.transcript import TranscriptChecker, TranscriptReport
from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.lib.redaction import redact_personal_data

# The extra phrases are centre-wide rules of speech: the centre administrator, who keeps the catalogue
# of what the centre says it does, keeps them too. A dedicated capability can replace this later.
MANAGE_PHRASES = Capability.MANAGE_CATALOG
USE_CHECKER = Capability.VIEW_WORKBENCH
# Confirming a finding leads to a violation: the same people who record violations by hand (窗口负责人, 中心管理员).
REVIEW_FINDINGS = Capability.SUPERVISE_STAFF
REPLY_MAX_LENGTH = 5000
REASON_MAX_LENGTH = 500
EXCERPT_LENGTH = 200
DEFAULT_FINDING_MIN_SEVERITY = 3
DEFAULT_FINDING_MIN_COUNT = 2
VIOLATION_MIN_SEVERITY_SETTING = "SERVICEHALL_CONDUCT_VIOLATION_MIN_SEVERITY"
# 2, not 3: every 推诿 rule is of severity 2, and seed 000 责任追究制 二2④ holds 办事推诿 to account.
DEFAULT_VIOLATION_MIN_SEVERITY = 2


def storable(text: str) -> str:
    """Text every database accepts: PostgreSQL refuses NUL, and lone surrogates cannot be encoded."""
    return text.replace("\x00", "").encode("utf-8", errors="replace").decode("utf-8")


def threshold_met(findings: Sequence[Finding]) -> bool:
    minimum_severity = getattr(
        settings, "SERVICEHALL_CONDUCT_FINDING_MIN_SEVERITY", DEFAULT_FINDING_MIN_SEVERITY
    )
    minimum_count = getattr(settings, "SERVICEHALL_CONDUCT_FINDING_MIN_COUNT", DEFAULT_FINDING_MIN_COUNT)
    return bool(findings) and (
        max(finding.severity for finding in findings) >= minimum_severity or len(findings) >= minimum_count
    )


def _require_text(text: str, limit: int, field: str) -> str:
    if not text or not text.strip():
        raise ActionRefused(_("请输入要检查的内容。"), code="empty", field=field)
    if len(text) > limit:
        raise ActionRefused(
            _("内容过长（%(length)d 字，上限 %(limit)d 字）。") % {"length": len(text), "limit": limit},
            code="too_long",
            field=field,
        )
    return text


# --- the hook supervision reads ------------------------------------------------------------------------


def record_conduct_finding(
    actor: Any, staff: Any, source: str, text: str, findings: Sequence[Finding], excerpt: str
) -> ConductFinding | None:
    """Keep a finding for supervision when ``findings`` are over the threshold; once per staff and text."""
    if not threshold_met(findings):
        return None
    digest = hashlib.sha256(storable(text).encode("utf-8")).hexdigest()
    if ConductFinding.objects.filter(staff=staff, source=source, text_digest=digest).exists():
        return None
    rule_ids = sorted({finding.rule_id for finding in findings})
    try:
        with transaction.atomic():
            finding = ConductFinding.objects.create(
                site=staff.site,
                staff=staff,
                source=source,
                excerpt=storable(redact_personal_data(excerpt))[:EXCERPT_LENGTH],
                text_digest=digest,
                rule_ids=rule_ids,
                finding_count=len(findings),
                highest_severity=max(item.severity for item in findings),
            )
    except IntegrityError:
        return None  # recorded a moment ago by a concurrent check of the same text
    record(
        "conduct.finding_recorded",
        actor=actor,
        target=finding,
        after={
            "staff": staff.pk,
            "source": source,
            "rule_ids": rule_ids,
            "finding_count": finding.finding_count,
            "highest_severity": finding.highest_severity,
        },
    )
    return finding


# --- a supervisor confirms a finding -------------------------------------------------------------------


def violation_min_severity() -> int:
    """The lowest highest-severity of a confirmed finding that becomes a violation (``config/settings.py``
    reads it from the environment, default 2). Above 3, no finding becomes a violation."""
    return settings.SERVICEHALL_CONDUCT_VIOLATION_MIN_SEVERITY


def finding_categories(finding: ConductFinding) -> list[str]:
    """The categories of the finding's rules, in the rule data's order; a rule no longer in use has none."""
    rules = service.current_ruleset().rules_by_id
    found = {rules[rule_id].category for rule_id in finding.rule_ids if rule_id in rules}
    return [category for category in CATEGORIES if category in found]


@dataclass(frozen=True)
class ConfirmationOutcome:
    finding: ConductFinding
    newly_confirmed: bool
    minimum_severity: int
    violation: Any | None = None

    @property
    def result(self) -> str:
        return self.finding.confirmation_result

    @property
    def message(self) -> str:
        if not self.newly_confirmed:
            return _("该检查发现此前已确认，未重复登记违规。")
        if self.result == ConfirmationResult.VIOLATION_RECORDED:
            return _("已确认检查发现，并为 %(name)s 登记了一条违规记录。") % {
                "name": self.finding.staff.full_name
            }
        if self.result == ConfirmationResult.NO_STAFF:
            return _("已确认检查发现；未能确定说这些话的工作人员，未登记违规。")
        if self.result == ConfirmationResult.BELOW_THRESHOLD:
            return _(
                "已确认检查发现；最高严重程度 %(severity)d 低于登记违规的标准（%(minimum)d），未登记违规。"
            ) % {
                "severity": self.finding.highest_severity,
                "minimum": self.minimum_severity,
            }
        return _("已确认检查发现；督查模块未登记违规。")


def confirm_finding(actor: Any, finding_id: int) -> ConfirmationOutcome:
    """确认: a supervisor confirms a finding. With a known staff member and a highest severity at or above
    ``violation_min_severity()``, listeners of ``finding_confirmed`` (supervision) record one violation for it,
    in this transaction. Confirming again changes nothing and records nothing."""
    require_capability(actor, REVIEW_FINDINGS)
    finding = ConductFinding.objects.filter(pk=finding_id).first()
    if finding is None:
        raise NotFound()
    require_in_scope(actor, finding)
    minimum = violation_min_severity()
    with transaction.atomic():
        locked = ConductFinding.objects.select_for_update().get(pk=finding.pk)
        if locked.confirmed_at is not None:
            return ConfirmationOutcome(locked, newly_confirmed=False, minimum_severity=minimum)
        if locked.staff_id is not None and locked.staff_id == actor.pk:
            raise ActionRefused(_("不能确认涉及自己的检查发现。"), code="own_finding")
        categories = finding_categories(locked)
        violation = None
        if locked.staff_id is None:
            result = ConfirmationResult.NO_STAFF
        elif locked.highest_severity < minimum:
            result = ConfirmationResult.BELOW_THRESHOLD
        else:
            answers = finding_confirmed.send(
                sender=ConductFinding, finding=locked, actor=actor, categories=categories
            )
            violation = next((answer for _receiver, answer in answers if answer is not None), None)
            result = (
                ConfirmationResult.VIOLATION_RECORDED
                if violation is not None
                else ConfirmationResult.NOT_RECORDED
            )
        now = timezone.now()
        locked.confirmed_at = now
        locked.confirmed_by = actor
        locked.confirmation_result = result
        if violation is not None:
            locked.claimed_at = now
        locked.save(update_fields=["confirmed_at", "confirmed_by", "confirmation_result", "claimed_at"])
        record(
            "conduct.finding_confirmed",
            actor=actor,
            target=locked,
            before={"confirmed_at": None},
            after={
                "result": result,
                "staff": locked.staff_id,
                "highest_severity": locked.highest_severity,
                "minimum_severity": minimum,
                "categories": categories,
                "violation": (
                    f"{violation._meta.label_lower}:{violation.pk}" if violation is not None else None
                ),
            },
        )
    return ConfirmationOutcome(locked, newly_confirmed=True, minimum_severity=minimum, violation=violation)


# --- the online reply box ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyOutcome:
    sent: bool
    findings: list[Finding]
    overridden: OverriddenReply | None = None
    conduct_finding: ConductFinding | None = None

    @property
    def reason_required(self) -> bool:
        return not self.sent and bool(self.findings)


def check_reply(actor: Any, text: str) -> list[Finding]:
    """Check as you type: no state change."""
    require_capability(actor, USE_CHECKER)
    if len(text) > REPLY_MAX_LENGTH:
        raise ActionRefused(
            _("内容过长（%(length)d 字，上限 %(limit)d 字）。")
            % {"length": len(text), "limit": REPLY_MAX_LENGTH},
            code="too_long",
            field="text",
        )
    return service.current_ruleset().check(text)


def submit_reply(actor: Any, text: str, reason: str = "") -> ReplyOutcome:
    """Send a reply: a clean one goes; one with a forbidden phrase goes only with a reason, and is recorded."""
    require_capability(actor, USE_CHECKER)
    _require_text(text, REPLY_MAX_LENGTH, "text")
    reason = reason.strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise ActionRefused(
            _("理由不超过 %(limit)d 字。") % {"limit": REASON_MAX_LENGTH}, code="too_long", field="reason"
        )
    findings = service.current_ruleset().check(text)
    if not findings:
        return ReplyOutcome(sent=True, findings=[])
    if not reason:
        return ReplyOutcome(sent=False, findings=findings)
    with transaction.atomic():
        overridden = OverriddenReply.objects.create(
            site=actor.site,
            staff=actor,
            text=storable(text),
            findings=[finding.as_dict() for finding in findings],
            reason=storable(reason),
        )
        record(
            "conduct.reply_overridden",
            actor=actor,
            target=overridden,
            after={
                "rule_ids": [finding.rule_id for finding in findings],
                "reason": storable(redact_personal_data(reason)),
            },
        )
        conduct_finding = record_conduct_finding(actor, actor, FindingSource.REPLY, text, findings, text)
    return ReplyOutcome(sent=True, findings=findings, overridden=overridden, conduct_finding=conduct_finding)


# --- transcripts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptOutcome:
    report: TranscriptReport
    conduct_finding: ConductFinding | None = None


def decode_transcript(data: bytes) -> str:
    """An uploaded .txt: UTF-8 (with or without BOM) or GB18030 (Windows in Chinese saves that); a file
    that is neither keeps its readable lines, the others marked, instead of being refused whole."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def check_transcript(actor: Any, text: str, subject: Any | None = None) -> TranscriptOutcome:
    """Check a conversation of ``subject`` (the actor by default; another staff member needs the directory
    capability and the member in scope); over the threshold, a finding is recorded for supervision."""
    require_capability(actor, USE_CHECKER)
    _require_text(text, MAX_TEXT_LENGTH, "text")
    staff = subject or actor
    if staff.pk != actor.pk:
        require_capability(actor, Capability.VIEW_STAFF_DIRECTORY)
        require_in_scope(actor, staff)
    report = TranscriptChecker(service.current_ruleset(), phrases_data()["three_voices"]).check(text)
    findings = [finding for _line, finding in report.findings]
    conduct_finding = None
    if threshold_met(findings):
        excerpt = "；".join(
            f"{utterance.line}：{utterance.text}" for utterance in report.utterances if utterance.findings
        )
        with transaction.atomic():
            conduct_finding = record_conduct_finding(
                actor, staff, FindingSource.TRANSCRIPT, text, findings, excerpt
            )
    return TranscriptOutcome(report, conduct_finding)


# --- the centre's extra phrases ------------------------------------------------------------------------


def add_extra_phrase(actor: Any, rule_id: str, kind: str, pattern: str, note: str = "") -> ExtraPhrase:
    require_capability(actor, MANAGE_PHRASES)
    rule_id, pattern, note = rule_id.strip(), " ".join(pattern.split()), note.strip()
    if kind not in ExtraPhraseKind.values:
        raise ActionRefused(_("类型无效。"), code="invalid_kind", field="kind")
    if not pattern or len(pattern) > 200:
        raise ActionRefused(_("请填写用语（不超过 200 字）。"), code="invalid_pattern", field="pattern")
    if len(note) > 200:
        raise ActionRefused(_("说明不超过 200 字。"), code="too_long", field="note")
    existing = [
        ExtraPhraseSpecification(row.rule_id, row.kind, row.pattern) for row in ExtraPhrase.objects.all()
    ]
    try:
        ruleset = build_ruleset([*existing, ExtraPhraseSpecification(rule_id, kind, pattern)])
    except RuleDataError as error:
        raise ActionRefused(
            _("用语无法使用：%(error)s") % {"error": error}, code="invalid_pattern", field="pattern"
        ) from error
    if kind == ExtraPhraseKind.PATTERN:
        # A new forbidden phrase must never flag what the seeds tell staff to say.
        for situation in phrases_data()["situations"]:
            for phrase in situation["phrases"]:
                if any(finding.rule_id == rule_id for finding in ruleset.check(phrase["text"])):
                    raise ActionRefused(
                        _("该用语会把规定的文明用语“%(phrase)s”判为禁忌用语。") % {"phrase": phrase["text"]},
                        code="flags_civil_phrase",
                        field="pattern",
                    )
    with transaction.atomic():
        if ExtraPhrase.objects.filter(rule_id=rule_id, kind=kind, pattern=pattern).exists():
            raise ActionRefused(_("该用语已存在。"), code="duplicate", field="pattern")
        try:
            with transaction.atomic():
                phrase = ExtraPhrase.objects.create(
                    rule_id=rule_id, kind=kind, pattern=pattern, note=note, created_by=actor
                )
        except IntegrityError as error:
            raise ActionRefused(_("该用语已存在。"), code="duplicate", field="pattern") from error
        record(
            "conduct.extra_phrase_added",
            actor=actor,
            site=actor.site,
            target=phrase,
            after={"rule_id": rule_id, "kind": kind, "pattern": pattern, "note": note},
        )
        transaction.on_commit(service.invalidate)
    return phrase


def remove_extra_phrase(actor: Any, phrase_id: int) -> None:
    require_capability(actor, MANAGE_PHRASES)
    with transaction.atomic():
        phrase = ExtraPhrase.objects.select_for_update().filter(pk=phrase_id).first()
        if phrase is None:
            raise NotFound()
        before = {
            "rule_id": phrase.rule_id,
            "kind": phrase.kind,
            "pattern": phrase.pattern,
            "note": phrase.note,
        }
        phrase.delete()
        record(
            "conduct.extra_phrase_removed",
            actor=actor,
            site=actor.site,
            object_type="conduct.extraphrase",
            object_id=str(phrase_id),
            object_label=before["pattern"][:200],
            before=before,
        )
        transaction.on_commit(service.invalidate)
