"""The centre administrator's calendar page: a year at a glance, overrides, and next year's import."""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from servicehall.accounts.permissions import require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.sites.models import Site
from servicehall.web.decorators import staff_view
from servicehall.workdays import actions, service
from servicehall.workdays.calendar import FIRST_DAY, LAST_DAY
from servicehall.workdays.models import CalendarOverride, PublishedYear


class SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, site: Site) -> str:
        return site.name


def _scoped_sites(user: Any) -> QuerySet[Site]:
    return Site.objects.restrict(user).filter(is_active=True).order_by("code")


class OverrideForm(forms.Form):
    site = SiteChoiceField(
        label=gettext_lazy("适用场所"),
        queryset=Site.objects.none(),
        required=False,
        empty_label=gettext_lazy("全部场所（法定节假日、调休）"),
        error_messages={"invalid_choice": gettext_lazy("服务场所不存在或不在您的管理范围内。")},
    )
    date = forms.DateField(label=gettext_lazy("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    is_working_day = forms.TypedChoiceField(
        label=gettext_lazy("类型"),
        choices=[("0", gettext_lazy("休息（放假、临时停办）")), ("1", gettext_lazy("上班（调休）"))],
        coerce=lambda value: value == "1",
    )
    name = forms.CharField(label=gettext_lazy("名称"), max_length=50)
    note = forms.CharField(label=gettext_lazy("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = _scoped_sites(user)


class SiteOverrideImportForm(forms.Form):
    site = SiteChoiceField(
        label=gettext_lazy("服务场所"),
        queryset=Site.objects.none(),
        error_messages={
            "invalid_choice": gettext_lazy("服务场所不存在或不在您的管理范围内。"),
            "required": gettext_lazy("请选择服务场所。"),
        },
    )
    file = forms.FileField(
        label=gettext_lazy("调整文件（.csv 或 .xlsx）"),
        help_text=gettext_lazy(
            "列：日期、类型（休息/上班）、名称、说明。同一日期的本场所调整被替换，其他保留。"
        ),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = _scoped_sites(user)


class ScheduleImportForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年度"), min_value=FIRST_DAY.year, max_value=LAST_DAY.year)
    source = forms.CharField(label=gettext_lazy("依据（通知文号）"), max_length=200)
    file = forms.FileField(
        label=gettext_lazy("日程文件（.csv 或 .xlsx）"),
        help_text=gettext_lazy("列：日期、类型（休息/上班）、名称、说明。导入将替换该年度的全部调整。"),
    )


def _year_grid(year: int, site: Site | None) -> list[dict]:
    calendar = service.current_calendar(site)
    overrides = {
        override.date: override
        for override in CalendarOverride.objects.filter(date__year=year).filter(
            **({"site": site} if site is not None else {"site__isnull": True})
        )
    }
    if site is not None:
        national = CalendarOverride.objects.filter(date__year=year, site__isnull=True)
        overrides = {override.date: override for override in national} | overrides
    months = []
    for month in range(1, 13):
        weeks = []
        for week in month_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            cells = []
            for day in week:
                if day.month != month:
                    cells.append(None)
                    continue
                working = calendar.is_working_day(day)
                weekend = day.weekday() >= 5
                cells.append(
                    {
                        "day": day,
                        "working": working,
                        "swapped": working and weekend,
                        "holiday": not working and not weekend,
                        "override": overrides.get(day),
                    }
                )
            weeks.append(cells)
        months.append({"month": month, "weeks": weeks})
    return months


def _site_from(request: HttpRequest, value: str) -> Site | None:
    """The site a page or a post names; one outside the user's scope does not exist for them."""
    if value in ("", None):
        return None
    if not value.isdigit() or len(value) > 12:
        raise NotFound()
    site = Site.objects.filter(pk=int(value)).first()
    if site is None:
        raise NotFound()
    require_in_scope(request.user, site, path=request.path)
    return site


def _calendar_url(year: int, site: Site | None) -> str:
    return f"/calendar/?year={year}" + (f"&site={site.pk}" if site is not None else "")


@staff_view(Capability.MANAGE_CALENDAR)
def calendar_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        year = today.year
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise ActionRefused(_("年度超出范围（2000–2100）。"), code="out_of_range")
    site = _site_from(request, request.GET.get("site", ""))
    calendar = service.current_calendar(site)
    overrides = CalendarOverride.objects.filter(date__year=year).order_by("date")
    context = {
        "year": year,
        "site": site,
        "sites": _scoped_sites(request.user),
        "months": _year_grid(year, site),
        "covered": year in calendar.covered_years(),
        "published": PublishedYear.objects.filter(year=year).first(),
        "missing_years": service.missing_years(today),
        "overrides": overrides.filter(site=site) if site is not None else overrides.filter(site__isnull=True),
        "override_form": OverrideForm(user=request.user, initial={"site": site}),
        "import_form": ScheduleImportForm(initial={"year": year}),
        "site_import_form": SiteOverrideImportForm(user=request.user, initial={"site": site}),
        "weekday_names": [_("一"), _("二"), _("三"), _("四"), _("五"), _("六"), _("日")],
    }
    return render(request, "workdays/calendar.html", context)


@require_POST
@staff_view(Capability.MANAGE_CALENDAR)
def override_set_view(request: HttpRequest) -> HttpResponse:
    form = OverrideForm(request.POST, user=request.user)
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[name].label}: {' '.join(messages_)}" for name, messages_ in form.errors.items()
        )
        raise ActionRefused(errors, code="invalid")
    data = form.cleaned_data
    actions.set_override(
        request.user,
        actions.OverrideRow(data["date"], data["is_working_day"], data["name"], data["note"]),
        site=data["site"],
    )
    messages.success(request, _("已保存 %(date)s 的调整。") % {"date": data["date"].isoformat()})
    return redirect(_calendar_url(data["date"].year, data["site"]))


@require_POST
@staff_view(Capability.MANAGE_CALENDAR)
def override_remove_view(request: HttpRequest) -> HttpResponse:
    try:
        day = dt.date.fromisoformat(request.POST.get("date", ""))
    except ValueError as error:
        raise ActionRefused(_("无效日期。"), code="invalid_date") from error
    site = _site_from(request, request.POST.get("site", ""))
    actions.remove_override(request.user, day, site=site)
    messages.success(request, _("已删除 %(date)s 的调整。") % {"date": day.isoformat()})
    return redirect(_calendar_url(day.year, site))


@require_POST
@staff_view(Capability.MANAGE_CALENDAR)
def schedule_import_view(request: HttpRequest) -> HttpResponse:
    form = ScheduleImportForm(request.POST, request.FILES)
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[name].label}: {' '.join(messages_)}" for name, messages_ in form.errors.items()
        )
        raise ActionRefused(errors, code="invalid")
    upload = form.cleaned_data["file"]
    if upload.size > 1_000_000:
        raise ActionRefused(_("文件过大（不超过 1 MB）。"), code="too_large", field="file")
    rows = actions.parse_schedule(upload.read(), upload.name)
    published = actions.publish_year(
        request.user, form.cleaned_data["year"], rows, form.cleaned_data["source"]
    )
    messages.success(
        request, _("已导入 %(year)d 年日程，共 %(count)d 天。") % {"year": published.year, "count": len(rows)}
    )
    return redirect(f"/calendar/?year={published.year}")


@require_POST
@staff_view(Capability.MANAGE_CALENDAR)
def site_import_view(request: HttpRequest) -> HttpResponse:
    form = SiteOverrideImportForm(request.POST, request.FILES, user=request.user)
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[name].label}: {' '.join(messages_)}" for name, messages_ in form.errors.items()
        )
        raise ActionRefused(errors, code="invalid")
    upload = form.cleaned_data["file"]
    if upload.size > 1_000_000:
        raise ActionRefused(_("文件过大（不超过 1 MB）。"), code="too_large", field="file")
    site = form.cleaned_data["site"]
    rows = actions.parse_schedule(upload.read(), upload.name)
    count = actions.import_site_overrides(request.user, site, rows)
    messages.success(
        request, _("已导入 %(site)s 的 %(count)d 天调整。") % {"site": site.name, "count": count}
    )
    return redirect(_calendar_url(rows[0].date.year, site))
