"""Pages of the hall. Thin: they validate the shape of input and call ``queueing.actions``.

Public (no login, no personal data): the kiosk (排队叫号机 / 自助查询终端, seed 001), the ticket and its
live status page, the calling display (叫号屏), the citizen-facing screen of a window (一机双屏, seed
003), appointment booking, and the live event stream. Staff: the guide desk (导办台, DB4420 §6.2), the
counter workstation (窗口工作台), the hall monitor (窗口负责人) and the queue categories.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
from typing import Any

import segno
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.cache import cache
from django.db import connections
from django.db.models import Count, Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicehall.accounts.permissions import require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.catalog.models import ServiceItem
from servicehall.catalog.public_views import qr_svg
from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.queueing import actions, live, opening, selectors
from servicehall.queueing.models import (
    OPEN_AT_WINDOW,
    Appointment,
    AppointmentStatus,
    Category,
    CategoryWindow,
    EventKind,
    Lane,
    NoticeStatus,
    PriorityGroup,
    SmsNotice,
    Ticket,
    TicketChannel,
    TicketStatus,
    Visit,
    VisitEvent,
    WindowPause,
    WindowState,
    WindowStatus,
)
from servicehall.sites.models import Site, Window
from servicehall.web.decorators import staff_view
from servicehall.web.responses import refusal_response

SITE_CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{10,32}")
RECEIPT_WIDTHS = (58, 80)
CATCH_UP_EVENTS = 50
CATCH_UP_MINUTES = 30
HEARTBEAT_SECONDS = 15.0
STREAM_MAX_SECONDS = 3600
DISPLAY_EVENT_KINDS = (
    EventKind.CALLED,
    EventKind.RECALLED,
    EventKind.STARTED,
    EventKind.FINISHED,
    EventKind.NO_SHOW,
    EventKind.TRANSFERRED,
    EventKind.PAUSED,
    EventKind.RESUMED,
    EventKind.WINDOW_OPENED,
    EventKind.WINDOW_CLOSED,
)
BOOKING_DAYS_AHEAD = actions.APPOINTMENT_DAYS_AHEAD


# ---------------------------------------------------------------------------------------------
# Lookups that answer 404 for anything malformed or unknown


def _public_site(site_code: str) -> Site:
    if not SITE_CODE_PATTERN.fullmatch(site_code):
        raise Http404()
    site = Site.objects.filter(code=site_code, is_active=True).first()
    if site is None:
        raise Http404()
    return site


def _visit(token: str) -> Visit:
    if not TOKEN_PATTERN.fullmatch(token):
        raise Http404()
    visit = Visit.objects.filter(token=token).first()
    if visit is None:
        raise Http404()
    return visit


def _int(value: Any) -> int | None:
    if isinstance(value, str) and value.isdigit() and len(value) < 12:
        return int(value)
    return None


def _status_url(request: HttpRequest, visit: Visit) -> str:
    return request.build_absolute_uri(reverse("queueing:ticket_status", args=[visit.token]))


# ---------------------------------------------------------------------------------------------
# Kiosk (取号机): category → item → optional phone → ticket


@require_GET
def kiosk_view(request: HttpRequest, site_code: str) -> HttpResponse:
    site = _public_site(site_code)
    categories = list(Category.objects.filter(site=site, is_active=True).order_by("position", "prefix"))
    category = None
    items: list[ServiceItem] = []
    item = None
    category_id = _int(request.GET.get("category"))
    if category_id is not None:
        category = next((candidate for candidate in categories if candidate.pk == category_id), None)
        if category is None:
            raise Http404()
        items = list(category.service_items.filter(is_published=True).order_by("code"))
        item_id = _int(request.GET.get("item"))
        if item_id is not None:
            item = next((candidate for candidate in items if candidate.pk == item_id), None)
            if item is None:
                raise Http404()
    waiting = {row["prefix"]: row["waiting"] for row in selectors.waiting_counts(site)}
    step = (
        "category"
        if category is None
        else ("item" if items and item is None and "skip" not in request.GET else "phone")
    )
    return render(
        request,
        "queueing/kiosk.html",
        {
            "site": site,
            "categories": categories,
            "category": category,
            "items": items,
            "item": item,
            "step": step,
            "waiting": waiting,
        },
    )


@require_POST
def kiosk_issue_view(request: HttpRequest, site_code: str) -> HttpResponse:
    site = _public_site(site_code)
    category_id = _int(request.POST.get("category"))
    category = (
        Category.objects.filter(pk=category_id, site=site).select_related("site").first()
        if category_id
        else None
    )
    if category is None:
        return render(
            request, "queueing/kiosk_refused.html", {"site": site, "message": _("请选择业务。")}, status=400
        )
    item = None
    item_value = request.POST.get("item", "")
    if item_value:
        item_id = _int(item_value)
        item = ServiceItem.objects.filter(pk=item_id).first() if item_id is not None else None
        if item is None:
            return render(
                request,
                "queueing/kiosk_refused.html",
                {"site": site, "message": _("所选事项不属于该业务。")},
                status=400,
            )
    # Phones take tickets at /hall/m/<site>/, with its per-phone and per-address limits; whatever a
    # request claims, a ticket from this endpoint is a kiosk ticket.
    try:
        ticket = actions.issue_ticket(
            None,
            category,
            channel=TicketChannel.KIOSK,
            phone=request.POST.get("phone", ""),
            service_item=item,
        )
    except ActionRefused as refusal:
        return render(
            request,
            "queueing/kiosk_refused.html",
            {"site": site, "message": refusal.message},
            status=refusal.status,
        )
    visit_token = Visit.objects.filter(pk=ticket.visit_id).values_list("token", flat=True).get()
    return redirect(f"{reverse('queueing:ticket_print', args=[visit_token])}?from=kiosk")


@require_http_methods(["GET", "POST"])
def kiosk_check_in_view(request: HttpRequest, site_code: str) -> HttpResponse:
    """预约签到 at the kiosk: the booking reference and phone make an appointment-lane ticket."""
    site = _public_site(site_code)
    if request.method == "GET":
        return render(request, "queueing/kiosk_check_in.html", {"site": site})
    try:
        appointment = actions.find_appointment(
            request.POST.get("reference", ""), request.POST.get("phone", "")
        )
        if appointment.site_id != site.pk:
            raise NotFound(_("未找到该预约，请核对预约码和手机号。"))
        ticket = actions.check_in(appointment)
    except ActionRefused as refusal:
        return render(
            request,
            "queueing/kiosk_check_in.html",
            {"site": site, "error": refusal.message},
            status=refusal.status,
        )
    token = Visit.objects.filter(pk=ticket.visit_id).values_list("token", flat=True).get()
    return redirect(reverse("queueing:ticket_print", args=[token]) + "?from=kiosk")


# ---------------------------------------------------------------------------------------------
# The ticket: print layout and live status page (by the visit's unguessable token)


def _ticket_context(request: HttpRequest, visit: Visit) -> dict[str, Any]:
    ticket = selectors.current_ticket_of_visit(visit.pk)
    if ticket is None:
        raise Http404()
    status = selectors.ticket_status(ticket)
    return {
        "visit": visit,
        "ticket": ticket,
        "status": status,
        "site": Site.objects.get(pk=visit.site_id),
        "status_url": _status_url(request, visit),
    }


@require_GET
def ticket_print_view(request: HttpRequest, token: str) -> HttpResponse:
    visit = _visit(token)
    context = _ticket_context(request, visit)
    width = _int(request.GET.get("width")) or 80
    context.update(
        {
            "width": width if width in RECEIPT_WIDTHS else 80,
            "qr_code": qr_svg(context["status_url"]),
            "from_kiosk": request.GET.get("from") == "kiosk",
            "printed_at": timezone.localtime(),
        }
    )
    return render(request, "queueing/ticket_print.html", context)


@require_GET
def ticket_status_view(request: HttpRequest, token: str) -> HttpResponse:
    visit = _visit(token)
    context = _ticket_context(request, visit)
    template = (
        "queueing/_ticket_status.html" if request.headers.get("HX-Request") else "queueing/ticket_status.html"
    )
    return render(request, template, context)


@require_POST
def ticket_cancel_view(request: HttpRequest, token: str) -> HttpResponse:
    visit = _visit(token)
    ticket = selectors.current_ticket_of_visit(visit.pk)
    if ticket is None:
        raise Http404()
    try:
        actions.cancel_ticket(None, ticket)
    except ActionRefused as refusal:
        return refusal_response(request, refusal)
    return redirect("queueing:ticket_status", token=visit.token)


# ---------------------------------------------------------------------------------------------
# Calling display (叫号屏), citizen-facing screen (一机双屏), counts, and the live stream


@require_GET
def display_view(request: HttpRequest, site_code: str) -> HttpResponse:
    site = _public_site(site_code)
    recent = list(
        VisitEvent.objects.filter(
            site=site,
            kind__in=[EventKind.CALLED, EventKind.RECALLED],
            at__gte=timezone.now() - dt.timedelta(minutes=CATCH_UP_MINUTES),
        )
        .select_related("ticket", "window")
        .order_by("-id")[:8]
    )
    last_id = VisitEvent.objects.filter(site=site).order_by("-id").values_list("id", flat=True).first() or 0
    return render(
        request,
        "queueing/display.html",
        {"site": site, "recent": recent, "counts": selectors.waiting_counts(site), "last_event_id": last_id},
    )


@require_GET
def counts_view(request: HttpRequest, site_code: str) -> JsonResponse:
    site = _public_site(site_code)
    return JsonResponse({"counts": selectors.waiting_counts(site)})


def _citizen_context(window: Window) -> dict[str, Any]:
    state = (
        WindowState.objects.filter(window=window)
        .select_related("clerk", "current_ticket", "last_finished_ticket")
        .first()
    )
    ticket = None
    finished = None
    if state is not None and state.current_ticket_id and state.current_ticket.status in OPEN_AT_WINDOW:
        ticket = state.current_ticket
    elif state is not None and state.last_finished_ticket_id and state.status == WindowStatus.IDLE:
        candidate = state.last_finished_ticket
        # The evaluation prompt shows for a few minutes after the service ends (评价器, seed 003/004).
        if candidate.finished_at and timezone.now() - candidate.finished_at < dt.timedelta(minutes=3):
            finished = candidate
    return {"window": window, "state": state, "ticket": ticket, "finished": finished}


@require_GET
def citizen_screen_view(request: HttpRequest, window_id: int) -> HttpResponse:
    window = Window.objects.filter(pk=window_id, is_active=True).select_related("site").first()
    if window is None:
        raise Http404()
    context = _citizen_context(window)
    if request.headers.get("HX-Request"):
        return render(request, "queueing/_citizen_screen.html", context)
    return render(request, "queueing/citizen_screen.html", context)


def _event_message(event: VisitEvent) -> dict[str, Any]:
    fields: dict[str, Any] = {"window_id": event.window_id}
    if event.window is not None:
        fields["window"] = event.window.number
    if event.ticket is not None:
        fields["number"] = event.ticket.number
        if event.category is not None:
            fields["category"] = event.category.prefix
            fields["category_name"] = event.category.name
        if event.kind in (EventKind.CALLED, EventKind.RECALLED) and event.window is not None:
            fields["text"] = actions.call_text(event.ticket.number, event.window.number)
    fields["at"] = event.at.isoformat()
    fields["catch_up"] = True
    kind = {
        EventKind.WINDOW_OPENED: "window",
        EventKind.WINDOW_CLOSED: "window",
    }.get(event.kind, event.kind)
    return {"id": event.pk, "site": event.site_id, "kind": kind, **fields}


def _catch_up(site_id: int, after_id: int) -> list[dict[str, Any]]:
    events = (
        VisitEvent.objects.filter(
            site_id=site_id,
            pk__gt=after_id,
            kind__in=DISPLAY_EVENT_KINDS,
            at__gte=timezone.now() - dt.timedelta(minutes=CATCH_UP_MINUTES),
        )
        .select_related("ticket", "window", "category")
        .order_by("-id")[:CATCH_UP_EVENTS]
    )
    return [_event_message(event) for event in reversed(list(events))]


def _site_id_for_stream(site_code: str) -> int | None:
    try:
        if not SITE_CODE_PATTERN.fullmatch(site_code):
            return None
        return Site.objects.filter(code=site_code, is_active=True).values_list("pk", flat=True).first()
    finally:
        connections["default"].close()


def _open_stream(site_code: str, last_event_id: int | None) -> tuple[Site | None, list[dict[str, Any]]]:
    """The site and the catch-up, then the database connection goes back at once: a stream lasts
    for hours and must not hold a connection (or a pool slot) while it waits for calls."""
    try:
        if not SITE_CODE_PATTERN.fullmatch(site_code):
            return None, []
        site = Site.objects.filter(code=site_code, is_active=True).first()
        if site is None:
            return None, []
        return site, _catch_up(site.pk, last_event_id) if last_event_id else []
    finally:
        connections["default"].close()


async def events_view(request: HttpRequest, site_code: str) -> HttpResponse:
    """Server-Sent Events for a site's displays: calls, recalls and window changes, no personal data.

    A reconnecting display sends Last-Event-ID (the VisitEvent id) and first receives what it missed
    in the last half hour; then every message the hub fans out. A comment line every 15 s keeps
    proxies from closing the idle connection.
    """
    if request.method != "GET":
        return HttpResponse(status=405)
    last_event_id = _int(request.headers.get("Last-Event-ID", "")) or _int(
        request.GET.get("last_event_id", "")
    )
    site_id = await sync_to_async(_site_id_for_stream)(site_code)
    if site_id is None:
        raise Http404()
    # Subscribe before reading the catch-up, so nothing committed in between is missed.
    subscription = await live.hub().subscribe(site_id)
    _site, backlog = await sync_to_async(_open_stream)(site_code, last_event_id)

    async def stream() -> Any:
        hub = live.hub()
        try:
            yield "retry: 2000\n\n"
            sent_up_to = last_event_id or 0
            for message in backlog:
                sent_up_to = max(sent_up_to, message["id"])
                yield live.sse_frame(message)
            deadline = asyncio.get_running_loop().time() + STREAM_MAX_SECONDS
            async for message in subscription.messages(HEARTBEAT_SECONDS):
                if message is None:
                    if asyncio.get_running_loop().time() > deadline:
                        return  # the browser reconnects with Last-Event-ID; connections never grow stale
                    yield ": ping\n\n"
                    continue
                if (
                    message.get("id") is not None
                    and message["id"] <= sent_up_to
                    and message.get("kind") != "recalled"
                ):
                    continue  # already sent from the catch-up
                yield live.sse_frame(message)
        finally:
            hub.unsubscribe(subscription)

    response = StreamingHttpResponse(stream(), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


# ---------------------------------------------------------------------------------------------
# Appointments (预约), public


@require_http_methods(["GET", "POST"])
def booking_view(request: HttpRequest, site_code: str) -> HttpResponse:
    site = _public_site(site_code)
    categories = list(Category.objects.filter(site=site, is_active=True).order_by("position", "prefix"))
    today = timezone.localdate()
    days = [today + dt.timedelta(days=offset) for offset in range(BOOKING_DAYS_AHEAD + 1)]
    category = next(
        (
            item
            for item in categories
            if item.pk == _int(request.GET.get("category") or request.POST.get("category"))
        ),
        None,
    )
    day_text = request.GET.get("day") or request.POST.get("day") or ""
    day = next((candidate for candidate in days if candidate.isoformat() == day_text), None)
    context: dict[str, Any] = {
        "site": site,
        "categories": categories,
        "category": category,
        "days": days,
        "day": day,
    }
    if category is not None and day is not None:
        context["slots"] = actions.available_slots(category, day)
    if request.method == "POST":
        if category is None or day is None:
            context["error"] = _("请选择业务和日期。")
            return render(request, "queueing/booking.html", context, status=400)
        slot_text = request.POST.get("slot", "")
        try:
            slot_start = dt.time.fromisoformat(slot_text) if re.fullmatch(r"\d{2}:\d{2}", slot_text) else None
        except ValueError:
            slot_start = None
        if slot_start is None:
            context["error"] = _("请选择时段。")
            return render(request, "queueing/booking.html", context, status=400)
        try:
            appointment = actions.book_appointment(category, day, slot_start, request.POST.get("phone", ""))
        except ActionRefused as refusal:
            context["error"] = refusal.message
            return render(request, "queueing/booking.html", context, status=refusal.status)
        context["booked"] = appointment
    return render(request, "queueing/booking.html", context)


MANAGE_OPERATIONS = frozenset({"find", "slots", "change", "cancel"})


def _slot_time(value: str) -> dt.time | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}", value):
        return None
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        return None


def _change_choices(appointment: Any, day: dt.date | None) -> dict[str, Any]:
    """What the 改约 form offers: the booking days, and the chosen day's slots that are still ahead."""
    today = timezone.localdate()
    days = [today + dt.timedelta(days=offset) for offset in range(actions.APPOINTMENT_DAYS_AHEAD + 1)]
    if day not in days:
        day = None
    choices: dict[str, Any] = {
        "change_days": days,
        "change_day": day,
        "change_deadline": timezone.localtime(actions.appointment_change_deadline(appointment)),
        "change_open": timezone.now() <= actions.appointment_change_deadline(appointment),
        "change_minutes": actions.appointment_change_minutes(),
    }
    if day is not None:
        now = timezone.now()
        choices["change_slots"] = [
            slot
            for slot in actions.available_slots(appointment.category, day)
            if timezone.make_aware(dt.datetime.combine(day, slot.starts_at)) > now
        ]
        choices["change_holiday"] = opening.is_holiday(day)
    return choices


BOOKING_ACCESS_SALT = "servicehall.queueing.booking-manage"
BOOKING_ACCESS_SECONDS = 30 * 60


def _booking_access(appointment: Appointment) -> str:
    """What the page's forms carry instead of the phone number: a signed, expiring appointment key."""
    return signing.dumps([appointment.pk, appointment.reference], salt=BOOKING_ACCESS_SALT, compress=False)


def _appointment_from_access(access: str) -> Appointment:
    try:
        appointment_id, reference = signing.loads(
            access, salt=BOOKING_ACCESS_SALT, max_age=BOOKING_ACCESS_SECONDS
        )
    except (signing.BadSignature, ValueError, TypeError):
        raise NotFound(_("页面已过期，请重新输入预约码和手机号查询。")) from None
    appointment = (
        Appointment.objects.filter(pk=appointment_id, reference=reference)
        .select_related("category__site")
        .first()
    )
    if appointment is None:
        raise NotFound(_("页面已过期，请重新输入预约码和手机号查询。"))
    return appointment


@require_http_methods(["GET", "POST"])
def booking_manage_view(request: HttpRequest, site_code: str) -> HttpResponse:
    """我的预约: find a booking by reference and phone, then 改约 to another free slot, or cancel it.

    The first POST carries the reference and phone, and a wrong phone gets the same "not found" as a
    wrong reference and learns nothing about the booking. The page then carries a signed key that
    expires after 30 minutes, never the phone number, and every later POST is looked up afresh."""
    site = _public_site(site_code)
    context: dict[str, Any] = {"site": site}
    if request.method == "GET":
        return render(request, "queueing/booking_manage.html", context)
    operation = request.POST.get("operation", "find")
    if operation not in MANAGE_OPERATIONS:
        context["error"] = _("未知操作。")
        return render(request, "queueing/booking_manage.html", context, status=400)
    day_text = request.POST.get("day", "")
    day = None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", day_text):
        try:
            day = dt.date.fromisoformat(day_text)
        except ValueError:
            day = None
    try:
        if request.POST.get("access"):
            appointment = _appointment_from_access(request.POST["access"])
        else:
            appointment = actions.find_appointment(
                request.POST.get("reference", ""), request.POST.get("phone", "")
            )
        if appointment.site_id != site.pk:
            raise NotFound(_("未找到该预约，请核对预约码和手机号。"))
    except ActionRefused as refusal:
        context["error"] = refusal.message
        return render(request, "queueing/booking_manage.html", context, status=refusal.status)
    context["appointment"] = appointment
    context["access"] = _booking_access(appointment)
    try:
        if operation == "cancel":
            appointment = actions.cancel_appointment(appointment)
            context["notice"] = _("预约已取消。")
        elif operation == "change":
            if day is None:
                raise ActionRefused(_("请选择日期。"), code="day_required", field="service_date")
            slot_start = _slot_time(request.POST.get("slot", ""))
            if slot_start is None:
                raise ActionRefused(_("请选择时段。"), code="slot_required", field="slot_start")
            appointment = actions.change_appointment(appointment, day, slot_start)
            context["notice"] = _("已改约到 %(date)s %(start)s–%(end)s。") % {
                "date": appointment.service_date.isoformat(),
                "start": f"{appointment.slot_start:%H:%M}",
                "end": f"{appointment.slot_end:%H:%M}",
            }
            day = None
    except ActionRefused as refusal:
        context["error"] = refusal.message
        context["appointment"] = Appointment.objects.select_related("category").get(pk=appointment.pk)
        context.update(_change_choices(context["appointment"], day))
        return render(request, "queueing/booking_manage.html", context, status=refusal.status)
    context["appointment"] = appointment
    if appointment.status == AppointmentStatus.BOOKED:
        context.update(_change_choices(appointment, day if operation == "slots" else None))
    return render(request, "queueing/booking_manage.html", context)


# ---------------------------------------------------------------------------------------------
# Staff: guide desk (导办台)


def _staff_site(request: HttpRequest, capability: Capability) -> Site:
    """The site a staff page works on: ?site= within scope, else the user's own."""
    site_id = _int(request.GET.get("site") or request.POST.get("site") or "")
    site = Site.objects.filter(pk=site_id).first() if site_id else request.user.site
    if site is None:
        raise NotFound()
    require_in_scope(request.user, site, path=request.path)
    return site


def _scoped_sites(request: HttpRequest) -> list[Site]:
    return list(Site.objects.restrict(request.user).filter(is_active=True).order_by("code"))


@staff_view(Capability.ISSUE_TICKETS)
@require_http_methods(["GET", "POST"])
def guide_desk_view(request: HttpRequest) -> HttpResponse:
    site = _staff_site(request, Capability.ISSUE_TICKETS)
    categories = list(
        Category.objects.filter(site=site, is_active=True)
        .prefetch_related("service_items")
        .order_by("position", "prefix")
    )
    issued = None
    if request.method == "POST":
        category = next(
            (item for item in categories if item.pk == _int(request.POST.get("category", ""))), None
        )
        if category is None:
            raise ActionRefused(_("请选择业务。"), code="category_required", field="category")
        item = None
        if request.POST.get("item"):
            item = ServiceItem.objects.filter(pk=_int(request.POST.get("item", "")) or 0).first()
            if item is None:
                raise ActionRefused(_("所选事项不属于该业务。"), code="invalid_item", field="item")
        group = request.POST.get("priority_group", "")
        ticket = actions.issue_ticket(
            request.user,
            category,
            channel=TicketChannel.GUIDE_DESK,
            lane=Lane.PRIORITY if group else Lane.ORDINARY,
            priority_group=group,
            phone=request.POST.get("phone", ""),
            service_item=item,
        )
        issued = Ticket.objects.select_related("visit", "category").get(pk=ticket.pk)
    today = timezone.localdate()
    recent_no_shows = list(
        Ticket.objects.restrict(request.user, Capability.ISSUE_TICKETS)
        .filter(site=site, service_date=today, status=TicketStatus.NO_SHOW)
        .select_related("category")
        .order_by("-no_show_at")[:20]
    )
    return render(
        request,
        "queueing/guide_desk.html",
        {
            "site": site,
            "sites": _scoped_sites(request),
            "categories": categories,
            "priority_groups": PriorityGroup.choices,
            "issued": issued,
            "counts": selectors.waiting_counts(site),
            "no_shows": recent_no_shows,
        },
    )


@staff_view(Capability.ISSUE_TICKETS)
@require_POST
def guide_requeue_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound()
    actions.requeue_late_arrival(request.user, ticket)
    messages.success(request, _("%(number)s 已重新排队。") % {"number": ticket.number})
    return redirect(f"{reverse('queueing:guide_desk')}?site={ticket.site_id}")


# ---------------------------------------------------------------------------------------------
# Staff: counter workstation (窗口工作台)


def _window_in_scope(request: HttpRequest, window_id: int) -> Window:
    window = Window.objects.filter(pk=window_id).select_related("site").first()
    if window is None:
        raise NotFound()
    require_in_scope(request.user, window, path=request.path)
    return window


@staff_view(Capability.USE_COUNTER)
@require_GET
def counter_index_view(request: HttpRequest) -> HttpResponse:
    site = _staff_site(request, Capability.USE_COUNTER)
    windows = list(Window.objects.filter(site=site, is_active=True).order_by("number"))
    states = {
        state.window_id: state for state in WindowState.objects.filter(site=site).select_related("clerk")
    }
    mine = WindowState.objects.filter(clerk=request.user).select_related("window").first()
    rows = [{"window": window, "state": states.get(window.pk)} for window in windows]
    return render(
        request,
        "queueing/counter_index.html",
        {"site": site, "rows": rows, "mine": mine, "sites": _scoped_sites(request)},
    )


@staff_view(Capability.USE_COUNTER)
@require_POST
def counter_sign_in_view(request: HttpRequest, window_id: int) -> HttpResponse:
    window = _window_in_scope(request, window_id)
    actions.sign_in(request.user, window)
    return redirect("queueing:counter", window_id=window.pk)


COUNTER_OPERATIONS = {
    "call": "call",
    "recall": "recall",
    "no_show": "no_show",
    "start": "start",
    "finish": "finish",
    "transfer": "transfer",
    "pause": "pause",
    "whereabouts": "whereabouts",
    "resume": "resume",
    "sign_out": "sign_out",
}


@staff_view(Capability.USE_COUNTER)
@require_http_methods(["GET", "POST"])
def counter_view(request: HttpRequest, window_id: int) -> HttpResponse:
    window = _window_in_scope(request, window_id)
    if request.method == "POST":
        operation = request.POST.get("operation", "")
        if operation not in COUNTER_OPERATIONS:
            return HttpResponseBadRequest(_("未知操作。"))
        try:
            notice = _counter_operation(request, window, operation)
        except ActionRefused as refusal:
            if refusal.status == 403 or refusal.status == 404:
                raise
            messages.error(request, refusal.message)
        else:
            if notice:
                messages.success(request, notice)
        if operation == "sign_out":
            return redirect("queueing:counter_index")
        return redirect("queueing:counter", window_id=window.pk)
    state = (
        WindowState.objects.filter(window=window).select_related("clerk", "current_ticket__category").first()
    )
    if state is None or state.clerk_id != request.user.pk:
        return render(
            request, "queueing/counter_sign_in.html", {"window": window, "state": state}, status=200
        )
    links = list(CategoryWindow.objects.filter(window=window, is_standby=False).select_related("category"))
    today = timezone.localdate()
    category_ids = [link.category_id for link in links]
    waiting = dict(
        Ticket.objects.filter(category_id__in=category_ids, service_date=today, status=TicketStatus.WAITING)
        .values_list("category_id")
        .annotate(total=Count("pk"))
        .values_list("category_id", "total")
    )
    current = (
        state.current_ticket
        if state.current_ticket_id and state.current_ticket.status in OPEN_AT_WINDOW
        else None
    )
    served_today = Ticket.objects.filter(
        window=window, service_date=today, status=TicketStatus.FINISHED
    ).count()
    pause = WindowPause.objects.filter(window=window, ended_at__isnull=True).first()
    return render(
        request,
        "queueing/counter.html",
        {
            "window": window,
            "state": state,
            "current": current,
            "queues": [
                {"category": link.category, "waiting": waiting.get(link.category_id, 0)} for link in links
            ],
            "served_today": served_today,
            "pause": pause,
            "transfer_categories": Category.objects.filter(site=window.site, is_active=True)
            .exclude(pk__in=category_ids)
            .order_by("position"),
            "transfer_windows": Window.objects.filter(site=window.site, is_active=True)
            .exclude(pk=window.pk)
            .order_by("number"),
            "citizen_screen_url": reverse("queueing:citizen_screen", args=[window.pk]),
        },
    )


def _counter_operation(request: HttpRequest, window: Window, operation: str) -> str:
    user = request.user
    if operation == "call":
        expected = _int(request.POST.get("expected_current_id", ""))
        ticket = actions.call_next(user, window, expected_current_id=expected)
        return _("已叫号：%(text)s") % {"text": actions.call_text(ticket.number, window.number)}
    if operation == "recall":
        ticket = actions.recall(user, window)
        return _("已重呼 %(number)s。") % {"number": ticket.number}
    if operation == "no_show":
        ticket = actions.mark_no_show(user, window)
        return _("%(number)s 已过号。") % {"number": ticket.number}
    if operation == "start":
        link_type = request.POST.get("linked_object_type", "")
        link_id = request.POST.get("linked_object_id", "").strip()
        ticket = actions.start_service(
            user, window, linked_object_type=link_type if link_id else "", linked_object_id=link_id
        )
        return _("开始办理 %(number)s。") % {"number": ticket.number}
    if operation == "finish":
        ticket = actions.finish_service(user, window, ticket_id=_int(request.POST.get("ticket_id", "")))
        return _("%(number)s 已办结，已在评价器上请服务对象评价。") % {"number": ticket.number}
    if operation == "transfer":
        category_id = _int(request.POST.get("to_category", ""))
        window_id = _int(request.POST.get("to_window", ""))
        to_category = (
            Category.objects.filter(pk=category_id, site=window.site).first() if category_id else None
        )
        to_window = Window.objects.filter(pk=window_id, site=window.site).first() if window_id else None
        if (category_id and to_category is None) or (window_id and to_window is None):
            raise ActionRefused(_("转往的业务或窗口无效。"), code="invalid_transfer")
        ticket = actions.transfer(user, window, to_category=to_category, to_window=to_window)
        return _("已转窗，新号码 %(number)s。") % {"number": ticket.number}
    if operation == "pause":
        actions.pause(
            user,
            window,
            reason=request.POST.get("reason", ""),
            whereabouts=request.POST.get("whereabouts", ""),
        )
        return _("已暂停服务。")
    if operation == "whereabouts":
        actions.state_whereabouts(user, window, whereabouts=request.POST.get("whereabouts", ""))
        return _("去向已报告 1 号窗口。")
    if operation == "resume":
        actions.resume(user, window)
        return _("已恢复服务。")
    actions.sign_out(user, window)
    return _("已签退。")


# ---------------------------------------------------------------------------------------------
# Staff: hall monitor (窗口负责人) with the tidal rule


@staff_view(Capability.MONITOR_HALL)
@require_GET
def monitor_view(request: HttpRequest) -> HttpResponse:
    site = _staff_site(request, Capability.MONITOR_HALL)
    picture = selectors.hall_picture(site)
    context = {"site": site, "picture": picture, "sites": _scoped_sites(request)}
    if request.headers.get("HX-Request"):
        return render(request, "queueing/_monitor_body.html", context)
    return render(request, "queueing/monitor.html", context)


@staff_view(Capability.MONITOR_HALL)
@require_POST
def monitor_tidal_view(request: HttpRequest) -> HttpResponse:
    category = (
        Category.objects.filter(pk=_int(request.POST.get("category", "")) or 0).select_related("site").first()
    )
    window = Window.objects.filter(pk=_int(request.POST.get("window", "")) or 0).first()
    if category is None or window is None:
        raise NotFound()
    if request.POST.get("operation") == "close":
        actions.close_window_for_category(request.user, category, window)
        messages.success(request, _("%(window)s 号窗口已收回备用。") % {"window": window.number})
    else:
        actions.open_window_for_category(request.user, category, window)
        messages.success(
            request,
            _("%(window)s 号窗口已开放办理“%(category)s”。")
            % {"window": window.number, "category": category.name},
        )
    return redirect(f"{reverse('queueing:monitor')}?site={category.site_id}")


# ---------------------------------------------------------------------------------------------
# Staff: queue categories (MANAGE_QUEUEING)


@staff_view(Capability.MANAGE_QUEUEING)
@require_GET
def category_list_view(request: HttpRequest) -> HttpResponse:
    site = _staff_site(request, Capability.MANAGE_QUEUEING)
    categories = (
        Category.objects.restrict(request.user, Capability.MANAGE_QUEUEING)
        .filter(site=site)
        .annotate(
            windows=Count("window_links", filter=Q(window_links__is_standby=False)),
            standby=Count("window_links", filter=Q(window_links__is_standby=True)),
            items=Count("service_items", distinct=True),
        )
        .order_by("position", "prefix")
    )
    return render(
        request,
        "queueing/category_list.html",
        {
            "site": site,
            "categories": categories,
            "sites": _scoped_sites(request),
            "kiosk_url": reverse("queueing:kiosk", args=[site.code]),
            "display_url": reverse("queueing:display", args=[site.code]),
            "booking_url": reverse("queueing:booking", args=[site.code]),
        },
    )


NUMBER_FIELDS = list(actions.NUMBER_LIMITS)


@staff_view(Capability.MANAGE_QUEUEING)
@require_http_methods(["GET", "POST"])
def category_edit_view(request: HttpRequest, category_id: int | None = None) -> HttpResponse:
    existing = None
    if category_id is not None:
        existing = Category.objects.filter(pk=category_id).select_related("site").first()
        if existing is None:
            raise NotFound()
        require_in_scope(request.user, existing, path=request.path)
        site = existing.site
    else:
        site = _staff_site(request, Capability.MANAGE_QUEUEING)
    windows = list(Window.objects.filter(site=site, is_active=True).order_by("number"))
    items = list(
        ServiceItem.objects.filter(item_windows__window__site=site).distinct().order_by("code")[:500]
    )
    error = None
    if request.method == "POST":
        data = actions.CategoryData(prefix=request.POST.get("prefix", ""), name=request.POST.get("name", ""))
        data.description = request.POST.get("description", "")
        for name in NUMBER_FIELDS:
            value = _int(request.POST.get(name, ""))
            setattr(data, name, value if value is not None else -1)
        data.priority_groups = request.POST.getlist("priority_groups")
        data.is_active = request.POST.get("is_active") == "on"
        data.service_item_ids = [
            value for value in (_int(text) for text in request.POST.getlist("service_items")) if value
        ]
        data.window_ids = [
            value for value in (_int(text) for text in request.POST.getlist("windows")) if value
        ]
        data.standby_window_ids = [
            value for value in (_int(text) for text in request.POST.getlist("standby_windows")) if value
        ]
        try:
            category = actions.save_category(request.user, site, data, existing)
        except ActionRefused as refusal:
            if refusal.status in (403, 404):
                raise
            error = refusal
        else:
            messages.success(request, _("已保存“%(name)s”。") % {"name": category.name})
            return redirect(f"{reverse('queueing:category_list')}?site={site.pk}")
    current = existing or Category(site=site, priority_groups=list(PriorityGroup.values[:4]))
    links = (
        {link.window_id: link.is_standby for link in CategoryWindow.objects.filter(category=existing)}
        if existing
        else {}
    )
    chosen_items = set(existing.service_items.values_list("pk", flat=True)) if existing else set()
    return render(
        request,
        "queueing/category_form.html",
        {
            "site": site,
            "category": current,
            "existing": existing,
            "windows": windows,
            "links": links,
            "items": items,
            "chosen_items": chosen_items,
            "priority_groups": PriorityGroup.choices,
            "number_fields": [
                (name, current._meta.get_field(name).verbose_name, getattr(current, name))
                for name in NUMBER_FIELDS
            ],
            "error": error,
            "status": 400 if error else 200,
        },
        status=400 if error else 200,
    )


# ---------------------------------------------------------------------------------------------
# 手机扫码取号: the entrance poster (staff, printable) and the public mobile page it points at


def _mobile_limit() -> tuple[int, int]:
    """(tickets, seconds): one client (address) may take this many tickets by phone in the seconds."""
    return (
        int(getattr(settings, "SERVICEHALL_MOBILE_TICKETS_PER_CLIENT", 6)),
        int(getattr(settings, "SERVICEHALL_MOBILE_TICKETS_WINDOW_SECONDS", 600)),
    )


def _mobile_client_key(request: HttpRequest, site: Site) -> str:
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    digest = hashlib.sha256(f"{settings.SECRET_KEY}\0{address}".encode()).hexdigest()[:32]
    return f"servicehall:queueing:mobile:{site.pk}:{digest}"


def _mobile_limited(key: str) -> bool:
    return (cache.get(key) or 0) >= _mobile_limit()[0]


def _count_mobile_ticket(key: str) -> None:
    seconds = _mobile_limit()[1]
    if not cache.add(key, 1, timeout=seconds):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=seconds)


def _mobile_choice(request: HttpRequest, site: Site, data: Any) -> dict[str, Any]:
    """The business chosen so far on the mobile page (category → item); 404 for what is not offered."""
    categories = list(Category.objects.filter(site=site, is_active=True).order_by("position", "prefix"))
    category = None
    items: list[ServiceItem] = []
    item = None
    category_id = _int(data.get("category"))
    if category_id is not None:
        category = next((candidate for candidate in categories if candidate.pk == category_id), None)
        if category is None:
            raise Http404()
        items = list(category.service_items.filter(is_published=True).order_by("code"))
        item_id = _int(data.get("item"))
        if item_id is not None:
            item = next((candidate for candidate in items if candidate.pk == item_id), None)
            if item is None:
                raise Http404()
    step = (
        "category"
        if category is None
        else ("item" if items and item is None and "skip" not in data else "phone")
    )
    return {
        "site": site,
        "categories": categories,
        "category": category,
        "items": items,
        "item": item,
        "step": step,
        "waiting": {row["prefix"]: row["waiting"] for row in selectors.waiting_counts(site)},
    }


@require_GET
def mobile_view(request: HttpRequest, site_code: str) -> HttpResponse:
    """The page the entrance QR code opens on the visitor's phone: category → item → phone → ticket."""
    site = _public_site(site_code)
    return render(request, "queueing/mobile.html", _mobile_choice(request, site, request.GET))


@require_POST
def mobile_issue_view(request: HttpRequest, site_code: str) -> HttpResponse:
    site = _public_site(site_code)
    if _int(request.POST.get("category")) is None:
        context = _mobile_choice(request, site, {})
        context["error"] = _("请选择业务。")
        return render(request, "queueing/mobile.html", context, status=400)
    try:
        if request.POST.get("item") and _int(request.POST.get("item")) is None:
            raise Http404()
        context = _mobile_choice(request, site, request.POST)
    except Http404:
        context = _mobile_choice(request, site, {})
        context["error"] = _("所选业务或事项不存在，请重新选择。")
        return render(request, "queueing/mobile.html", context, status=400)
    context["step"] = "phone"
    key = _mobile_client_key(request, site)
    if _mobile_limited(key):
        context["error"] = _("本设备取号过于频繁，请稍后再试，或到大厅取号机、导办台取号。")
        return render(request, "queueing/mobile.html", context, status=429)
    try:
        ticket = actions.issue_mobile_ticket(
            context["category"], phone=request.POST.get("phone", ""), service_item=context["item"]
        )
    except ActionRefused as refusal:
        context["error"] = refusal.message
        context["phone"] = request.POST.get("phone", "")[:20]
        return render(request, "queueing/mobile.html", context, status=refusal.status)
    _count_mobile_ticket(key)
    token = Visit.objects.filter(pk=ticket.visit_id).values_list("token", flat=True).get()
    return redirect("queueing:ticket_status", token=token)


@staff_view(Capability.MONITOR_HALL)
@require_GET
def entrance_poster_view(request: HttpRequest) -> HttpResponse:
    """The printable A4 poster for the hall's entrance: the site's QR code for taking a ticket by phone."""
    site = _staff_site(request, Capability.MONITOR_HALL)
    path = reverse("queueing:mobile", args=[site.code])
    public_url = (getattr(settings, "SERVICEHALL_PUBLIC_URL", "") or "").rstrip("/")
    mobile_url = f"{public_url}{path}" if public_url else request.build_absolute_uri(path)
    qr_code = mark_safe(  # noqa: S308  (segno writes only its own markup)
        segno.make(mobile_url, error="q").svg_inline(scale=10, title=mobile_url, omitsize=True)
    )
    return render(
        request,
        "queueing/entrance_poster.html",
        {
            "site": site,
            "sites": _scoped_sites(request),
            "mobile_url": mobile_url,
            "qr_code": qr_code,
            "categories": Category.objects.filter(site=site, is_active=True).order_by("position", "prefix"),
        },
    )


NOTICE_PAGE_SIZE = 200


@staff_view(Capability.MONITOR_HALL)
@require_GET
def notice_list_view(request: HttpRequest) -> HttpResponse:
    """短信通知发件箱 for the 窗口负责人 and the centre's administrators: phones shown masked only."""
    site = _staff_site(request, Capability.MONITOR_HALL)
    status = request.GET.get("status", "")
    notices = (
        SmsNotice.objects.restrict(request.user, Capability.MONITOR_HALL)
        .filter(site=site)
        .select_related("ticket")
        .order_by("-id")
    )
    if status in NoticeStatus.values:
        notices = notices.filter(status=status)
    else:
        status = ""
    return render(
        request,
        "queueing/notice_list.html",
        {
            "site": site,
            "sites": _scoped_sites(request),
            "notices": list(notices[:NOTICE_PAGE_SIZE]),
            "statuses": NoticeStatus.choices,
            "status": status,
            "page_size": NOTICE_PAGE_SIZE,
        },
    )
