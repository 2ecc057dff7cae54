"""Home workbench, health check and the error pages (clear, Chinese first, never a stack trace)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from servicehall.accounts.roles import Capability, Role
from servicehall.audit.models import AuditRecord
from servicehall.duty.presenters import gaps_for_home
from servicehall.sites.models import Department, Site, Window
from servicehall.web.responses import refusal_page


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.has_capability(Capability.VIEW_WORKBENCH):
        return refusal_page(request, 403, _("您没有可用的工作台。"))
    site_ids = user.accessible_site_ids()
    role_labels = [Role(code).label for code in sorted(user.role_codes)]
    context: dict[str, Any] = {
        "roles": role_labels,
        "site_count": Site.objects.restrict(user).count(),
        "department_count": Department.objects.restrict(user).count(),
        "window_count": Window.objects.restrict(user).filter(is_active=True).count(),
        "scope_sites": Site.objects.filter(pk__in=site_ids).order_by("level", "code")[:12],
        "recent_activity": AuditRecord.objects.filter(actor=user).order_by("-occurred_at")[:8],
        "password_days_left": _password_days_left(user),
    }
    # 岗位不空岗 (seed 002 §6.2.3): a supervisor sees every empty post of the next four weeks here.
    context.update(gaps_for_home(user))
    return render(request, "web/home.html", context)


def _password_days_left(user: Any) -> int | None:
    from django.conf import settings
    from django.utils import timezone

    if user.password_changed_at is None:
        return None
    age = timezone.now() - user.password_changed_at
    return settings.SERVICEHALL_PASSWORD_MAX_AGE_DAYS - age.days


def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return refusal_page(request, 400, _("请求无效，请检查后重试。"))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return refusal_page(request, 403, _("您没有访问此页面的权限。"))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return refusal_page(request, 404, _("页面不存在，或不在您的权限范围内。"))


def server_error(request: HttpRequest) -> HttpResponse:
    return refusal_page(request, 500, _("系统出现错误，已记录。请稍后再试或联系系统管理员。"))
