"""The public 办事指南 and each site's 服务承诺 (六公开, 信息公开制): no login, fast, printable.

Nothing here shows a person beyond name and staff number (工作人员身份公开, seed 000 服务承诺制 6).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import segno
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from servicehall.catalog.actions import CODE_MAX_LENGTH, CODE_PATTERN, search_text
from servicehall.catalog.models import (
    ItemWindow,
    JointDepartment,
    Material,
    PledgeKind,
    ServiceItem,
    ServicePledge,
    SiteDisclosure,
)
from servicehall.catalog.views import sample_response
from servicehall.duty.public import on_duty
from servicehall.sites.models import Department, Site

ITEMS_PER_PAGE = 20
SEARCH_MAX_LENGTH = 100


@lru_cache(maxsize=4096)
def qr_svg(url: str) -> SafeString:
    """The page's own address as an inline SVG QR code; segno writes only its own markup."""
    return mark_safe(segno.make(url, error="m").svg_inline(scale=3, title=url, omitsize=True))  # noqa: S308


def _published_departments() -> list[Department]:
    return list(
        Department.objects.filter(service_items__is_published=True, site__is_active=True)
        .distinct()
        .select_related("site")
        .order_by("site__code", "code")
    )


@require_GET
def guide_list_view(request: HttpRequest) -> HttpResponse:
    query = search_text(request.GET.get("q", ""), SEARCH_MAX_LENGTH)
    department_value = request.GET.get("department", "")
    department_id = (
        int(department_value) if department_value.isdigit() and len(department_value) < 12 else None
    )
    items = ServiceItem.objects.published().filter(site__is_active=True)
    if query:
        items = items.filter(
            Q(name__icontains=query) | Q(keywords__icontains=query) | Q(code__icontains=query)
        )
    if department_id is not None:
        items = items.filter(department_id=department_id)
    items = items.select_related("department", "site").only(
        "code",
        "name",
        "item_type",
        "committed_limit_days",
        "is_free",
        "department__name",
        "site__name",
    )
    page = Paginator(items.order_by("code"), ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    filters = request.GET.copy()
    filters.pop("page", None)
    return render(
        request,
        "catalog/guide_list.html",
        {
            "page": page,
            "query": query,
            "department_id": department_id,
            "departments": _published_departments(),
            "filter_query": filters.urlencode(),
        },
    )


def _published_item(code: str) -> ServiceItem:
    # A string that cannot be a code is not looked up at all (PostgreSQL refuses NUL in a query).
    if len(code) > CODE_MAX_LENGTH or not CODE_PATTERN.fullmatch(code):
        raise Http404()
    item = (
        ServiceItem.objects.published()
        .filter(code=code, site__is_active=True)
        .select_related("department", "site")
        .prefetch_related(
            Prefetch("materials", queryset=Material.objects.order_by("position")),
            "fees",
            "steps",
            Prefetch(
                "joint_departments",
                queryset=JointDepartment.objects.order_by("position").select_related("department"),
            ),
            Prefetch(
                "item_windows",
                queryset=ItemWindow.objects.filter(window__is_active=True).select_related("window__site"),
            ),
        )
        .first()
    )
    if item is None:
        raise Http404()
    return item


def _where_to_go(item: ServiceItem) -> list[dict[str, Any]]:
    """Windows grouped by site: the site's name and address, then its window numbers in order."""
    by_site: dict[int, dict[str, Any]] = {}
    for link in item.item_windows.all():
        window = link.window
        entry = by_site.setdefault(window.site_id, {"site": window.site, "windows": []})
        entry["windows"].append(window)
    groups = sorted(by_site.values(), key=lambda entry: entry["site"].code)
    for entry in groups:
        entry["windows"].sort(key=lambda window: window.number)
    return [entry for entry in groups if entry["site"].is_active]


@require_GET
def guide_detail_view(request: HttpRequest, code: str) -> HttpResponse:
    item = _published_item(code)
    return render(
        request,
        "catalog/guide_detail.html",
        {
            "item": item,
            "materials": list(item.materials.all()),
            "has_deferrable": any(material.is_deferrable for material in item.materials.all()),
            "fees": list(item.fees.all()),
            "steps": sorted(item.steps.all(), key=lambda step: step.position),
            "joint_departments": [link.department for link in item.joint_departments.all()],
            "where": _where_to_go(item),
            "qr_code": qr_svg(request.build_absolute_uri()),
            "page_url": request.build_absolute_uri(),
        },
    )


@require_GET
def guide_sample_view(request: HttpRequest, code: str, position: int) -> HttpResponse:
    item = _published_item(code)
    material = next((material for material in item.materials.all() if material.position == position), None)
    if material is None:
        raise Http404()
    return sample_response(material)


@require_GET
def guide_site_list_view(request: HttpRequest) -> HttpResponse:
    sites = (
        Site.objects.filter(is_active=True)
        .only("name", "address", "supervision_phone", "level")
        .order_by("code")
    )
    return render(request, "catalog/guide_sites.html", {"sites": sites})


@require_GET
def guide_site_view(request: HttpRequest, site_id: int) -> HttpResponse:
    site = Site.objects.filter(pk=site_id, is_active=True).first()
    if site is None:
        raise Http404()
    # Only the name and staff number of a personal pledge's maker are read, so nothing else can leak.
    pledges = (
        ServicePledge.objects.filter(site=site)
        .select_related("staff")
        .only("kind", "text", "position", "staff__full_name", "staff__staff_number")
        .order_by("kind", "position")
    )
    groups = []
    for kind in (PledgeKind.UNIT, PledgeKind.COLLECTIVE, PledgeKind.PERSONAL):
        entries = [pledge for pledge in pledges if pledge.kind == kind]
        if entries:
            groups.append({"label": kind.label, "kind": kind, "pledges": entries})
    return render(
        request,
        "catalog/guide_site.html",
        {
            "site": site,
            "groups": groups,
            "disclosure": SiteDisclosure.objects.filter(site=site).first(),
            "opening_periods": site.opening_periods.order_by("weekday", "starts_at"),
            "item_count": ServiceItem.objects.published().filter(site=site).count(),
        },
    )


@require_GET
def guide_site_staff_view(request: HttpRequest, site_id: int) -> HttpResponse:
    """工作人员身份公开: who is on duty today at each window — name, staff number and post, nothing more."""
    site = (
        Site.objects.filter(pk=site_id, is_active=True).only("name", "address", "supervision_phone").first()
    )
    if site is None:
        raise Http404()
    board = on_duty(site, timezone.localdate(), live=True)
    return render(request, "catalog/guide_staff.html", {"site": site, "board": board})
