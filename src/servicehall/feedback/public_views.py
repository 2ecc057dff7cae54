"""Citizen pages (no login): rate by the token's link (QR code on the ticket, the case status page) and the
window's 评价器 (the tablet or outward screen at the counter, seed 003).

The 评价器 URL carries a device key derived from the window and the server secret, shown only to supervisors,
so a person who guesses a window number cannot rate the services of that window from home.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from servicehall.feedback import actions
from servicehall.feedback.models import Channel, Level, RatingToken, ReasonTag
from servicehall.lib.errors import ActionRefused
from servicehall.queueing.models import Ticket, TicketStatus, Visit, WindowState
from servicehall.sites.models import Window

EVALUATOR_PROMPT_MINUTES = 3


def evaluator_key(window: Window) -> str:
    message = f"evaluator:{window.pk}:{window.site_id}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:24]


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _form_context(token: RatingToken) -> dict[str, object]:
    return {
        "token": token,
        "levels": Level.choices,
        "reasons": ReasonTag.choices,
        "service": token.ticket if token.ticket_id else token.case,
    }


def _submit(request: HttpRequest, token: RatingToken, channel: str, source: str) -> ActionRefused | None:
    try:
        actions.rate(
            token.key,
            level=request.POST.get("level"),
            channel=channel,
            reasons=request.POST.getlist("reasons"),
            comment=request.POST.get("comment", ""),
            contact_name=request.POST.get("contact_name", ""),
            contact_phone=request.POST.get("contact_phone", ""),
            source=source,
            actor=request.user,
        )
    except ActionRefused as refusal:
        return refusal
    return None


@require_http_methods(["GET", "POST"])
def rate_view(request: HttpRequest, key: str) -> HttpResponse:
    token = (
        RatingToken.objects.select_related("ticket", "case", "staff", "window").filter(key=key[:64]).first()
    )
    if token is None:
        return _no_store(render(request, "feedback/rate_done.html", {"invalid": True}, status=404))
    context = _form_context(token)
    status = 200
    if token.used_at is not None:
        return _no_store(render(request, "feedback/rate_done.html", {"already": True}))
    if timezone.now() >= token.expires_at:
        return _no_store(render(request, "feedback/rate_done.html", {"expired": True}, status=410))
    if request.method == "POST":
        channel = Channel.QR_CODE if token.ticket_id else Channel.ONLINE
        source = actions.fingerprint("address", request.META.get("REMOTE_ADDR", ""))
        refusal = _submit(request, token, channel, source)
        if refusal is None:
            return _no_store(render(request, "feedback/rate_done.html", {"thanks": True}))
        context.update({"error": refusal, "data": request.POST})
        status = refusal.status
    return _no_store(render(request, "feedback/rate.html", context, status=status))


@require_GET
def rate_visit_view(request: HttpRequest, visit_token: str) -> HttpResponse:
    """The ticket's QR code leads here after the service: the latest finished service of the visit."""
    visit = Visit.objects.filter(token=visit_token[:32]).first()
    if visit is None:
        raise Http404()
    ticket = (
        Ticket.objects.filter(visit=visit, status=TicketStatus.FINISHED)
        .order_by("-finished_at", "-pk")
        .first()
    )
    if ticket is None:
        return _no_store(render(request, "feedback/rate_done.html", {"not_finished": True}, status=404))
    token = actions.issue_token_for_ticket(ticket)
    return redirect("feedback:rate", key=token.key)


def _pending_token(window: Window) -> RatingToken | None:
    state = WindowState.objects.filter(window=window).select_related("last_finished_ticket").first()
    if state is None or state.last_finished_ticket_id is None or state.current_ticket_id is not None:
        return None
    ticket = state.last_finished_ticket
    if ticket.finished_at is None or timezone.now() - ticket.finished_at > dt.timedelta(
        minutes=EVALUATOR_PROMPT_MINUTES
    ):
        return None
    token = actions.issue_token_for_ticket(ticket)
    return None if token.used_at is not None else token


@require_http_methods(["GET", "POST"])
def evaluator_view(request: HttpRequest, window_id: int, device_key: str) -> HttpResponse:
    window = Window.objects.filter(pk=window_id, is_active=True).select_related("site").first()
    if window is None or not hmac.compare_digest(evaluator_key(window), device_key):
        raise Http404()
    state = WindowState.objects.filter(window=window).select_related("clerk").first()
    context: dict[str, object] = {"window": window, "state": state, "device_key": device_key}
    status = 200
    if request.method == "POST":
        token = _pending_token(window)
        raw_ticket = request.POST.get("ticket", "")
        if token is None or str(token.ticket_id) != raw_ticket:
            context["error"] = ActionRefused(
                _("这次服务已评价或评价时间已过，谢谢。"), code="no_pending_service"
            )
            status = 409
        else:
            source = actions.fingerprint("evaluator", str(window.pk))
            refusal = _submit(request, token, Channel.EVALUATOR, source)
            if refusal is None:
                context["thanks"] = True
            else:
                context.update({"error": refusal, "data": request.POST})
                status = refusal.status
    pending = None if context.get("thanks") else _pending_token(window)
    if pending is not None:
        context.update(_form_context(pending))
    context["pending"] = pending
    return _no_store(render(request, "feedback/evaluator.html", context, status=status))
