"""Login, second factor, password, profile, and the staff directory. Thin: rules are in actions."""

from __future__ import annotations

import base64
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicehall.accounts import actions
from servicehall.accounts.forms import (
    LoginForm,
    NewStaffForm,
    PasswordChangeForm,
    ProfileForm,
    RoleForm,
    StaffForm,
    StaffSearchForm,
    TemporaryPasswordForm,
    TokenForm,
)
from servicehall.accounts.models import User
from servicehall.accounts.permissions import require_in_scope
from servicehall.accounts.roles import Capability, Role
from servicehall.lib.errors import ActionRefused
from servicehall.web.decorators import staff_view


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return "/"


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request))
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            outcome = actions.attempt_login(
                request, form.cleaned_data["username"], form.cleaned_data["password"]
            )
            if outcome.succeeded:
                return redirect(_safe_next(request))
            form.add_error(None, outcome.message)
        status = 400
    return render(request, "accounts/login.html", {"form": form, "next": _safe_next(request)}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    actions.log_out(request)
    return redirect("accounts:login")


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_view(request: HttpRequest) -> HttpResponse:
    """Verify with an enrolled authenticator, or enrol one first (required for administrator posts)."""
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    # Enrolment starts from the profile switch (or an administrator post), never from a stray visit.
    if not user.two_factor_required or user.is_verified():
        return redirect(_safe_next(request))
    enrolled = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if enrolled:
                    actions.verify_second_factor(request, user, form.cleaned_data["token"])
                else:
                    actions.confirm_totp_enrollment(request, user, form.cleaned_data["token"])
                    messages.success(request, _("身份验证器绑定成功。"))
                return redirect(_safe_next(request))
            except ActionRefused as refusal:
                form.add_error("token", refusal.message)
        status = 400
        user.refresh_from_db()
        if user.is_locked():
            actions.log_out(request)
            return redirect("accounts:login")
    context: dict[str, Any] = {"form": form, "enrolled": enrolled, "next": _safe_next(request)}
    if not enrolled:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
        if device is None or request.method == "GET":
            device = actions.start_totp_enrollment(user)
        context["qr_svg"] = segno.make(device.config_url, error="m").svg_inline(scale=4)
        context["secret"] = _base32_secret(device)
    return render(request, "accounts/two_factor.html", context, status=status)


def _base32_secret(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


@sensitive_post_parameters("old_password", "new_password", "confirm_password")
@never_cache
@require_http_methods(["GET", "POST"])
def password_change_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    form = PasswordChangeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.change_password(
                    user, form.cleaned_data["old_password"], form.cleaned_data["new_password"]
                )
                update_session_auth_hash(request, user)
                messages.success(request, _("密码已修改。"))
                return redirect(_safe_next(request))
            except ActionRefused as refusal:
                form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
        status = 400
    return render(
        request,
        "accounts/password_change.html",
        {
            "form": form,
            "expired": user.password_expired(),
            "minimum_length": settings.SERVICEHALL_PASSWORD_MIN_LENGTH,
            "minimum_classes": settings.SERVICEHALL_PASSWORD_MIN_CHARACTER_CLASSES,
            "maximum_age_days": settings.SERVICEHALL_PASSWORD_MAX_AGE_DAYS,
        },
        status=status,
    )


@staff_view(Capability.VIEW_WORKBENCH)
def profile_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(
        request.POST or None,
        initial={"language": user.language, "two_factor_opt_in": user.two_factor_required},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.update_preferences(
                    user, form.cleaned_data["language"], form.cleaned_data["two_factor_opt_in"]
                )
                messages.success(request, _("设置已保存。"))
                return redirect("accounts:profile")
            except ActionRefused as refusal:
                form.add_error(None, refusal.message)
        status = 400
    roles = [Role(code).label for code in sorted(user.role_codes)]
    return render(request, "accounts/profile.html", {"form": form, "roles": roles}, status=status)


@staff_view(Capability.VIEW_STAFF_DIRECTORY)
def staff_list_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    search = StaffSearchForm(request.GET or None, user=user)
    staff = User.objects.restrict(user).select_related("site", "department").prefetch_related("role_grants")
    if search.is_valid():
        query = search.cleaned_data.get("query")
        if query:
            staff = staff.filter(
                Q(full_name__icontains=query)
                | Q(staff_number__icontains=query)
                | Q(username__icontains=query)
            )
        if search.cleaned_data.get("site"):
            staff = staff.filter(site=search.cleaned_data["site"])
        if search.cleaned_data.get("role"):
            staff = staff.filter(role_grants__role=search.cleaned_data["role"])
    page = Paginator(staff.order_by("site__code", "staff_number"), 25).get_page(request.GET.get("page"))
    template = (
        "accounts/_staff_rows.html" if request.headers.get("HX-Request") else "accounts/staff_list.html"
    )
    return render(
        request,
        template,
        {"search": search, "page": page, "can_manage": user.has_capability(Capability.MANAGE_STAFF)},
    )


def _staff_in_scope(request: HttpRequest, staff_id: int) -> User:
    staff = get_object_or_404(User.objects.select_related("site", "department"), pk=staff_id)
    require_in_scope(request.user, staff, path=request.path)
    return staff


@staff_view(Capability.VIEW_STAFF_DIRECTORY)
def staff_detail_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    staff = _staff_in_scope(request, staff_id)
    user = request.user
    roles = [(code, Role(code).label) for code in sorted(staff.role_codes)]
    context = {
        "staff": staff,
        "roles": roles,
        "role_form": RoleForm(),
        "password_form": TemporaryPasswordForm(),
        "can_manage": user.has_capability(Capability.MANAGE_STAFF),
        "can_assign": user.has_capability(Capability.ASSIGN_ROLES) and staff.pk != user.pk,
        "can_unlock": user.has_capability(Capability.UNLOCK_ACCOUNTS) and staff.pk != user.pk,
        "can_reveal": user.has_capability(Capability.REVEAL_PERSONAL_DATA),
        "is_locked": staff.is_locked(),
    }
    return render(request, "accounts/staff_detail.html", context)


@require_POST
@staff_view(Capability.REVEAL_PERSONAL_DATA)
def reveal_view(request: HttpRequest, staff_id: int, field: str) -> HttpResponse:
    staff = _staff_in_scope(request, staff_id)
    value = actions.reveal_personal_data(request.user, staff, field)
    response = render(request, "accounts/_revealed.html", {"value": value})
    add_never_cache_headers(response)
    return response


def _staff_data(form: StaffForm) -> actions.StaffData:
    data = form.cleaned_data
    return actions.StaffData(
        username=data["username"],
        full_name=data["full_name"],
        staff_number=data["staff_number"],
        site=data["site"],
        department=data["department"],
        rank=data["rank"],
        mobile_phone=data["mobile_phone"],
        resident_id=data["resident_id"],
        is_active=data["is_active"],
    )


def _apply_refusal(form: StaffForm, refusal: ActionRefused) -> None:
    errors = getattr(refusal, "errors", None) or {refusal.field: refusal.message}
    for field, message in errors.items():
        form.add_error(field if field in form.fields else None, message)


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_STAFF)
def staff_create_view(request: HttpRequest) -> HttpResponse:
    form = NewStaffForm(
        request.POST or None, user=request.user, initial={"site": request.user.site_id, "is_active": True}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                staff = actions.create_staff(request.user, _staff_data(form), form.cleaned_data["password"])
                messages.success(request, _("已创建账户 %(name)s。") % {"name": staff.full_name})
                return redirect("accounts:staff_detail", staff.pk)
            except ActionRefused as refusal:
                _apply_refusal(form, refusal)
        status = 400
    return render(request, "accounts/staff_form.html", {"form": form, "creating": True}, status=status)


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_STAFF)
def staff_edit_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    staff = _staff_in_scope(request, staff_id)
    initial = {
        "username": staff.username,
        "full_name": staff.full_name,
        "staff_number": staff.staff_number,
        "site": staff.site_id,
        "department": staff.department_id,
        "rank": staff.rank,
        "mobile_phone": staff.masked_mobile_phone,
        "resident_id": staff.masked_resident_id,
        "is_active": staff.is_active,
    }
    form = StaffForm(request.POST or None, user=request.user, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = _staff_data(form)
            # The form shows masked values; an unchanged masked value keeps what is stored.
            if data.mobile_phone == staff.masked_mobile_phone:
                data.mobile_phone = staff.mobile_phone
            if data.resident_id == staff.masked_resident_id:
                data.resident_id = staff.resident_id
            try:
                actions.update_staff(request.user, staff, data)
                messages.success(request, _("已保存。"))
                return redirect("accounts:staff_detail", staff.pk)
            except ActionRefused as refusal:
                _apply_refusal(form, refusal)
        status = 400
    return render(
        request, "accounts/staff_form.html", {"form": form, "staff": staff, "creating": False}, status=status
    )


@require_POST
@staff_view(Capability.ASSIGN_ROLES)
def role_grant_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    staff = _staff_in_scope(request, staff_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        raise ActionRefused(_("请选择有效的角色。"), code="invalid_role")
    actions.grant_role(request.user, staff, form.cleaned_data["role"])
    messages.success(request, _("已授予角色。"))
    return redirect("accounts:staff_detail", staff.pk)


@require_POST
@staff_view(Capability.ASSIGN_ROLES)
def role_revoke_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    staff = _staff_in_scope(request, staff_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        raise ActionRefused(_("请选择有效的角色。"), code="invalid_role")
    actions.revoke_role(request.user, staff, form.cleaned_data["role"])
    messages.success(request, _("已撤销角色。"))
    return redirect("accounts:staff_detail", staff.pk)


@require_POST
@staff_view(Capability.UNLOCK_ACCOUNTS)
def unlock_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    staff = _staff_in_scope(request, staff_id)
    actions.unlock_account(request.user, staff)
    messages.success(request, _("账户已解锁。"))
    return redirect("accounts:staff_detail", staff.pk)


@require_POST
@staff_view(Capability.UNLOCK_ACCOUNTS)
def reset_password_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    staff = _staff_in_scope(request, staff_id)
    form = TemporaryPasswordForm(request.POST)
    if not form.is_valid():
        raise ActionRefused(_("请输入临时密码。"), code="invalid_password")
    actions.reset_password(request.user, staff, form.cleaned_data["password"])
    messages.success(request, _("已设置临时密码，本人登录后须修改。"))
    return redirect("accounts:staff_detail", staff.pk)
