"""The auditor's pages: browse and filter the trail, open one record, verify the chains, export CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from servicehall.accounts.permissions import audit_refusal
from servicehall.accounts.roles import Capability
from servicehall.audit.actions import record_export, records_visible_to, verify_trail
from servicehall.audit.labels import ACTION_LABELS, action_label
from servicehall.audit.models import AuditOutcome, AuditRecord
from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.lib.redaction import redact_personal_data
from servicehall.sites.models import Site
from servicehall.web.decorators import staff_view

PAGE_SIZE = 50
EXPORT_CHUNK_SIZE = 2000
# A spreadsheet runs a cell starting with one of these as a formula; staff names and labels are user input.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=gettext_lazy("操作人"), max_length=50, required=False)
    action = forms.CharField(
        label=gettext_lazy("操作"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("操作代码或其前缀，如 accounts."),
        widget=forms.TextInput(attrs={"list": "audit-action-codes", "autocomplete": "off"}),
    )
    outcome = forms.ChoiceField(
        label=gettext_lazy("结果"),
        choices=[("", gettext_lazy("全部"))] + list(AuditOutcome.choices),
        required=False,
    )
    site = forms.ModelChoiceField(
        label=gettext_lazy("服务场所"), queryset=Site.objects.none(), required=False
    )
    date_from = forms.DateField(
        label=gettext_lazy("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.restrict(user).order_by("code")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            raise forms.ValidationError(_("起始日期不能晚于截止日期。"), code="date_range")
        return cleaned

    def filter(self, records: QuerySet[AuditRecord]) -> QuerySet[AuditRecord]:
        data = self.cleaned_data
        if data["actor"]:
            records = records.filter(actor_label__icontains=data["actor"])
        if data["action"]:
            records = records.filter(action__startswith=data["action"])
        if data["outcome"]:
            records = records.filter(outcome=data["outcome"])
        if data["site"]:
            records = records.filter(site=data["site"])
        zone = timezone.get_current_timezone()
        if data["date_from"]:
            records = records.filter(occurred_at__gte=datetime.combine(data["date_from"], time.min, zone))
        if data["date_to"]:
            next_day = data["date_to"] + timedelta(days=1)
            records = records.filter(occurred_at__lt=datetime.combine(next_day, time.min, zone))
        return records

    def described(self) -> dict[str, Any]:
        """The filters as given, for the export's own audit record."""
        data = self.cleaned_data
        return {
            "actor": data["actor"],
            "action": data["action"],
            "outcome": data["outcome"],
            "site_id": data["site"].pk if data["site"] else None,
            "date_from": data["date_from"],
            "date_to": data["date_to"],
        }


def _filtered(request: HttpRequest) -> tuple[AuditFilterForm, QuerySet[AuditRecord] | None]:
    """The filter form and the matching records in the user's scope; None when the filters are invalid."""
    form = AuditFilterForm(request.GET or None, user=request.user)
    records = records_visible_to(request.user).select_related("site")
    if not form.is_bound:
        return form, records
    if not form.is_valid():
        return form, None
    return form, form.filter(records)


@require_GET
@staff_view(Capability.VIEW_AUDIT)
def audit_list_view(request: HttpRequest) -> HttpResponse:
    form, records = _filtered(request)
    status = 200 if records is not None else 400
    if records is None:
        records = AuditRecord.objects.none()
    page = Paginator(records.order_by("-occurred_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/audit_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "action_codes": sorted(ACTION_LABELS.items()),
        },
        status=status,
    )


@require_GET
@staff_view(Capability.VIEW_AUDIT)
def audit_detail_view(request: HttpRequest, record_id: int) -> HttpResponse:
    entry = records_visible_to(request.user).select_related("site", "actor").filter(pk=record_id).first()
    if entry is None:
        if AuditRecord.objects.filter(pk=record_id).exists():
            audit_refusal(request.user, "out_of_scope", path=request.path)
        raise NotFound()
    return render(request, "audit/audit_detail.html", {"entry": entry})


@require_POST
@staff_view(Capability.VERIFY_AUDIT)
def audit_verify_view(request: HttpRequest) -> HttpResponse:
    result = verify_trail(request.user, path=request.path)
    return render(request, "audit/_verify_result.html", {"result": result})


class _EchoBuffer:
    """csv.writer writes into this and gets the line back, so rows can be streamed one by one."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _payload(value: Any) -> str:
    if value is None:
        return ""
    return redact_personal_data(json.dumps(value, ensure_ascii=False, sort_keys=True))


def _export_rows(records: QuerySet[AuditRecord]) -> Iterator[str]:
    writer = csv.writer(_EchoBuffer())
    outcome_names = dict(AuditOutcome.choices)
    zone = timezone.get_current_timezone()
    # The byte order mark tells Excel the file is UTF-8; without it Chinese text opens garbled.
    yield "\ufeff" + writer.writerow(
        [
            _("时间"),
            _("链"),
            _("序号"),
            _("操作人"),
            _("服务场所"),
            _("操作"),
            _("操作代码"),
            _("结果"),
            _("对象类型"),
            _("对象编号"),
            _("对象"),
            _("变更前"),
            _("变更后"),
            _("渠道"),
            _("来源地址"),
            _("本条哈希"),
        ]
    )
    for entry in records.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield writer.writerow(
            [
                _cell(entry.occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")),
                _cell(entry.chain),
                _cell(entry.sequence),
                _cell(entry.actor_label),
                _cell(entry.site.name if entry.site else ""),
                _cell(action_label(entry.action)),
                _cell(entry.action),
                _cell(outcome_names.get(entry.outcome, entry.outcome)),
                _cell(entry.object_type),
                _cell(entry.object_id),
                _cell(entry.object_label),
                _cell(_payload(entry.before)),
                _cell(_payload(entry.after)),
                _cell(entry.channel),
                _cell(entry.remote_address),
                _cell(entry.record_hash),
            ]
        )


@require_GET
@staff_view(Capability.VIEW_AUDIT)
def audit_export_view(request: HttpRequest) -> HttpResponse:
    form, records = _filtered(request)
    if records is None:
        problems = " ".join(message for errors in form.errors.values() for message in errors)
        raise ActionRefused(problems, code="invalid_filter")
    # The export covers the trail as it stood when asked, not the export's own record or later ones.
    last_id = records.aggregate(last=Max("id"))["last"] or 0
    records = records.filter(pk__lte=last_id).order_by("-occurred_at", "-id")
    filters = form.described() if form.is_bound else {}
    record_export(request.user, filters=filters, row_count=records.count(), path=request.path)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(_export_rows(records), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
