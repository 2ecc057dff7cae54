"""Civil-language endpoints: check a text, check a conversation, send a reply, look up a situation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Schema

from servicehall.accounts.models import User
from servicehall.accounts.permissions import require_capability
from servicehall.accounts.roles import Capability
from servicehall.api.api import api
from servicehall.api.schemas import Problem
from servicehall.conduct import actions, service
from servicehall.conduct.checker import MAX_TEXT_LENGTH, coach
from servicehall.conduct.coach import UnknownSituation
from servicehall.lib.errors import NotFound

ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem}


class CheckIn(Schema):
    text: str = Field(max_length=MAX_TEXT_LENGTH)


class FindingOut(Schema):
    span: list[int]
    start: int
    end: int
    text: str
    rule_id: str
    title: str
    category: str
    severity: int
    situation: str
    suggestion: str
    suggestions: list[str]
    seeds: list[str]


class CheckOut(Schema):
    text: str
    ok: bool
    findings: list[FindingOut]


class TranscriptIn(Schema):
    text: str = Field(max_length=MAX_TEXT_LENGTH)
    staff_id: int | None = None


class ReplyIn(Schema):
    text: str = Field(max_length=actions.REPLY_MAX_LENGTH)
    reason: str = Field(default="", max_length=actions.REASON_MAX_LENGTH)


class ReplyOut(Schema):
    sent: bool
    reason_required: bool
    findings: list[FindingOut]
    overridden_reply_id: int | None
    conduct_finding_id: int | None


class PhraseOut(Schema):
    text: str
    seed: str


class SituationOut(Schema):
    situation: str
    aliases: list[str]
    phrases: list[PhraseOut]


@api.post("/conduct/check", response={200: CheckOut, **ERRORS}, tags=["conduct"], summary="检查禁忌用语")
def check(request: HttpRequest, payload: CheckIn) -> dict[str, Any]:
    """Every forbidden expression in the text, with span, rule, category, severity and the civil phrase."""
    require_capability(request.user, Capability.VIEW_WORKBENCH, path=request.path)
    findings = service.current_ruleset().check(payload.text)
    return {"text": payload.text, "ok": not findings, "findings": [finding.as_dict() for finding in findings]}


@api.post("/conduct/transcripts", response={200: dict, **ERRORS}, tags=["conduct"], summary="检查服务对话")
def check_transcript(request: HttpRequest, payload: TranscriptIn) -> dict[str, Any]:
    """Forbidden phrases in the staff lines (``员:``) and the 三声; over the threshold a finding is kept."""
    subject = None
    if payload.staff_id is not None:
        subject = User.objects.select_related("site").filter(pk=payload.staff_id).first()
        if subject is None:
            raise NotFound()
    outcome = actions.check_transcript(request.user, payload.text, subject)
    answer = outcome.report.as_dict()
    answer["conduct_finding_id"] = outcome.conduct_finding.pk if outcome.conduct_finding else None
    return answer


@api.post("/conduct/replies", response={200: ReplyOut, **ERRORS}, tags=["conduct"], summary="发送网上回复")
def submit_reply(request: HttpRequest, payload: ReplyIn) -> dict[str, Any]:
    """A reply with a forbidden phrase is not sent (``sent: false``) unless a reason is given; then it is kept."""
    outcome = actions.submit_reply(request.user, payload.text, payload.reason)
    return {
        "sent": outcome.sent,
        "reason_required": outcome.reason_required,
        "findings": [finding.as_dict() for finding in outcome.findings],
        "overridden_reply_id": outcome.overridden.pk if outcome.overridden else None,
        "conduct_finding_id": outcome.conduct_finding.pk if outcome.conduct_finding else None,
    }


@api.get(
    "/conduct/situations",
    response={200: list[SituationOut], **ERRORS},
    tags=["conduct"],
    summary="情形与文明用语",
)
def situations(request: HttpRequest) -> list[dict[str, Any]]:
    require_capability(request.user, Capability.VIEW_WORKBENCH, path=request.path)
    return [situation.as_dict() for situation in coach().situations]


@api.get("/conduct/coach", response={200: SituationOut, **ERRORS}, tags=["conduct"], summary="按情形查用语")
def coach_situation(request: HttpRequest, situation: str) -> dict[str, Any]:
    require_capability(request.user, Capability.VIEW_WORKBENCH, path=request.path)
    try:
        return coach().find(situation).as_dict()
    except UnknownSituation as unknown:
        raise NotFound(
            _("未找到情形“%(query)s”。可选：%(known)s")
            % {"query": situation, "known": "、".join(unknown.known)},
            code="unknown_situation",
        ) from unknown
