"""Pages for sites, their departments, windows and opening hours. Thin: rules are in sites.actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from servicehall.accounts.permissions import require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.sites import actions
from servicehall.sites.forms import DepartmentForm, OpeningHoursGrid, SiteForm, WindowForm
from servicehall.sites.models import Department, Site, Window
from servicehall.web.decorators import staff_view


@staff_view(Capability.VIEW_SITES)
def site_list_view(request: HttpRequest) -> HttpResponse:
    sites = (
        Site.objects.restrict(request.user)
        .select_related("parent")
        .annotate(
            window_count=Count("windows", filter=Q(windows__is_active=True), distinct=True),
            department_count=Count("departments", distinct=True),
        )
        .order_by("code")
    )
    by_parent: dict[int | None, list[Site]] = {}
    for site in sites:
        by_parent.setdefault(site.parent_id, []).append(site)
    visible_ids = {site.pk for site in sites}
    roots = [site for site in sites if site.parent_id not in visible_ids]
    ordered: list[tuple[int, Site]] = []

    def walk(site: Site, depth: int) -> None:
        ordered.append((depth, site))
        for child in by_parent.get(site.pk, []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return render(
        request,
        "sites/site_list.html",
        {"rows": ordered, "can_manage": request.user.has_capability(Capability.MANAGE_SITES)},
    )


def _in_scope(request: HttpRequest, model: type[Site | Department | Window], identifier: int) -> Any:
    """The object if it exists and is in the user's scope; otherwise, to them, it does not exist."""
    queryset = model.objects.all() if model is Site else model.objects.select_related("site")
    target = queryset.filter(pk=identifier).first()
    if target is None:
        raise NotFound()
    require_in_scope(request.user, target, path=request.path)
    return target


@staff_view(Capability.VIEW_SITES)
def site_detail_view(request: HttpRequest, site_id: int) -> HttpResponse:
    site = _in_scope(request, Site, site_id)
    windows = site.windows.select_related("department").prefetch_related("posts").order_by("number")
    return render(
        request,
        "sites/site_detail.html",
        {
            "site": site,
            "departments": site.departments.order_by("code"),
            "windows": windows,
            "opening_periods": site.opening_periods.order_by("weekday", "starts_at"),
            "children": site.children.order_by("code"),
            "can_manage": request.user.has_capability(Capability.MANAGE_SITES),
        },
    )


def _show_refusal(form: forms.Form, refusal: ActionRefused) -> None:
    """Rule violations go next to their field; refusals of access stay 403/404 pages."""
    if refusal.status != 400:
        raise refusal
    errors = getattr(refusal, "errors", None) or {refusal.field or "": refusal.message}
    for field_name, message in errors.items():
        form.add_error(field_name if field_name in form.fields else None, message)


def _site_data(form: SiteForm) -> actions.SiteData:
    data = form.cleaned_data
    return actions.SiteData(
        code=data["code"],
        name=data["name"],
        level=data["level"],
        parent=data["parent"],
        address=data["address"],
        service_phone=data["service_phone"],
        supervision_phone=data["supervision_phone"],
        is_active=data["is_active"],
    )


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_SITES)
def site_create_view(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {"is_active": True}
    parent_id = request.GET.get("parent", "")
    if parent_id.isdigit():
        initial["parent"] = int(parent_id)
    form = SiteForm(request.POST or None, user=request.user, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                site = actions.create_site(request.user, _site_data(form))
                messages.success(request, _("已新建服务场所 %(name)s。") % {"name": site.name})
                return redirect("sites:detail", site.pk)
            except ActionRefused as refusal:
                _show_refusal(form, refusal)
        status = 400
    return render(request, "sites/site_form.html", {"form": form, "creating": True}, status=status)


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_SITES)
def site_edit_view(request: HttpRequest, site_id: int) -> HttpResponse:
    site = _in_scope(request, Site, site_id)
    initial = {
        "code": site.code,
        "name": site.name,
        "level": site.level,
        "parent": site.parent_id,
        "address": site.address,
        "service_phone": site.service_phone,
        "supervision_phone": site.supervision_phone,
        "is_active": site.is_active,
    }
    form = SiteForm(request.POST or None, user=request.user, initial=initial)
    if site.parent_id is not None and site.parent_id not in request.user.accessible_site_ids():
        # A manager of a town sees the town's own parent only as it is; they cannot move the town.
        form.fields["parent"].queryset = Site.objects.filter(
            Q(pk=site.parent_id) | Q(pk__in=request.user.accessible_site_ids())
        ).order_by("code")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.update_site(request.user, site, _site_data(form))
                messages.success(request, _("已保存。"))
                return redirect("sites:detail", site.pk)
            except ActionRefused as refusal:
                _show_refusal(form, refusal)
        status = 400
    return render(
        request, "sites/site_form.html", {"form": form, "site": site, "creating": False}, status=status
    )


def _department_data(form: DepartmentForm) -> actions.DepartmentData:
    data = form.cleaned_data
    return actions.DepartmentData(code=data["code"], name=data["name"], is_active=data["is_active"])


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_SITES)
def department_create_view(request: HttpRequest, site_id: int) -> HttpResponse:
    site = _in_scope(request, Site, site_id)
    form = DepartmentForm(request.POST or None, initial={"is_active": True})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                department = actions.create_department(request.user, site, _department_data(form))
                messages.success(request, _("已新增部门 %(name)s。") % {"name": department.name})
                return redirect("sites:detail", site.pk)
            except ActionRefused as refusal:
                _show_refusal(form, refusal)
        status = 400
    return render(
        request, "sites/department_form.html", {"form": form, "site": site, "creating": True}, status=status
    )


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_SITES)
def department_edit_view(request: HttpRequest, department_id: int) -> HttpResponse:
    department = _in_scope(request, Department, department_id)
    initial = {"code": department.code, "name": department.name, "is_active": department.is_active}
    form = DepartmentForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.update_department(request.user, department, _department_data(form))
                messages.success(request, _("已保存。"))
                return redirect("sites:detail", department.site_id)
            except ActionRefused as refusal:
                _show_refusal(form, refusal)
        status = 400
    context = {"form": form, "site": department.site, "department": department, "creating": False}
    return render(request, "sites/department_form.html", context, status=status)


def _window_data(form: WindowForm) -> actions.WindowData:
    data = form.cleaned_data
    return actions.WindowData(
        number=data["number"],
        name=data["name"],
        department=data["department"],
        posts=data["posts"],
        is_supervisor_window=data["is_supervisor_window"],
        is_active=data["is_active"],
    )


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_SITES)
def window_create_view(request: HttpRequest, site_id: int) -> HttpResponse:
    site = _in_scope(request, Site, site_id)
    next_number = (site.windows.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    initial = {"is_active": True, "number": next_number if next_number <= actions.WINDOW_NUMBER_MAX else None}
    form = WindowForm(request.POST or None, site=site, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                window = actions.create_window(request.user, site, _window_data(form))
                messages.success(request, _("已新增 %(number)d 号窗口。") % {"number": window.number})
                return redirect("sites:detail", site.pk)
            except ActionRefused as refusal:
                _show_refusal(form, refusal)
        status = 400
    return render(
        request, "sites/window_form.html", {"form": form, "site": site, "creating": True}, status=status
    )


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_SITES)
def window_edit_view(request: HttpRequest, window_id: int) -> HttpResponse:
    window = _in_scope(request, Window, window_id)
    initial = {
        "number": window.number,
        "name": window.name,
        "department": window.department_id,
        "posts": sorted(window.posts.values_list("kind", flat=True)),
        "is_supervisor_window": window.is_supervisor_window,
        "is_active": window.is_active,
    }
    form = WindowForm(request.POST or None, site=window.site, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.update_window(request.user, window, _window_data(form))
                messages.success(request, _("已保存。"))
                return redirect("sites:detail", window.site_id)
            except ActionRefused as refusal:
                _show_refusal(form, refusal)
        status = 400
    context = {"form": form, "site": window.site, "window": window, "creating": False}
    return render(request, "sites/window_form.html", context, status=status)


def _requested_slots(value: str) -> int:
    return int(value) if value.isdigit() and len(value) < 3 else 0


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_SITES)
def opening_hours_view(request: HttpRequest, site_id: int) -> HttpResponse:
    """The weekly table. "增加时段行" posts the table back (htmx swaps just the grid) without saving."""
    site = _in_scope(request, Site, site_id)
    status = 200
    if request.method == "POST" and "add_row" in request.POST:
        shown = _requested_slots(request.POST["add_row"])
        grid = OpeningHoursGrid(data=request.POST, slots=shown + 1)
        grid.focus_slot = shown
    elif request.method == "POST":
        grid = OpeningHoursGrid(data=request.POST)
        periods = grid.periods()
        if periods is not None:
            try:
                actions.replace_opening_hours(request.user, site, periods)
                messages.success(request, _("办公时间已保存。"))
                return redirect("sites:detail", site.pk)
            except ActionRefused as refusal:
                if refusal.status != 400:
                    raise
                grid.apply_refusal(getattr(refusal, "errors", None) or {"": refusal.message})
        status = 400
    else:
        grid = OpeningHoursGrid(periods=list(site.opening_periods.all()))
    return render(request, "sites/opening_hours_form.html", {"site": site, "grid": grid}, status=status)
