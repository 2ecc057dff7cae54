"""Back-office pages of the catalogue (事项库). Thin: the rules are in catalog.actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicehall.accounts.models import User
from servicehall.accounts.permissions import require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.catalog import actions, spreadsheet
from servicehall.catalog.forms import (
    FORMSET_PREFIXES,
    DisclosureForm,
    FeeFormSet,
    ImportForm,
    ItemForm,
    MaterialFormSet,
    PledgeFormSet,
    SampleUploadForm,
    StepFormSet,
)
from servicehall.catalog.models import ItemType, Material, ServiceItem, ServicePledge, SiteDisclosure
from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.sites.models import Department, Site
from servicehall.web.decorators import staff_view

ITEMS_PER_PAGE = 50
IMPORT_MAX_BYTES = 10 * 1024 * 1024
SEARCH_MAX_LENGTH = 100
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scoped_items(request: HttpRequest) -> QuerySet[ServiceItem]:
    return ServiceItem.objects.restrict(request.user, Capability.MANAGE_CATALOG)


def _item_in_scope(request: HttpRequest, item_id: int) -> ServiceItem:
    """The item if it exists and is in the user's scope; otherwise, to them, it does not exist."""
    item = ServiceItem.objects.select_related("department", "site").filter(pk=item_id).first()
    if item is None:
        raise NotFound()
    require_in_scope(request.user, item, path=request.path)
    return item


def _site_in_scope(request: HttpRequest, site_id: int) -> Site:
    site = Site.objects.filter(pk=site_id).first()
    if site is None:
        raise NotFound()
    require_in_scope(request.user, site, path=request.path)
    return site


def _integer(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 12 else None


# ---------------------------------------------------------------------------------------------
# List


@require_GET
@staff_view(Capability.MANAGE_CATALOG)
def item_list_view(request: HttpRequest) -> HttpResponse:
    query = actions.search_text(request.GET.get("q", ""), SEARCH_MAX_LENGTH)
    department_id = _integer(request.GET.get("department", ""))
    item_type = request.GET.get("type", "")
    published = request.GET.get("published", "")
    items = _scoped_items(request).select_related("department", "site")
    if query:
        items = items.filter(
            Q(name__icontains=query) | Q(code__icontains=query) | Q(keywords__icontains=query)
        )
    if department_id is not None:
        items = items.filter(department_id=department_id)
    if item_type in ItemType.values:
        items = items.filter(item_type=item_type)
    if published in {"1", "0"}:
        items = items.filter(is_published=published == "1")
    page = Paginator(items.order_by("code"), ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    departments = (
        Department.objects.filter(site_id__in=request.user.accessible_site_ids())
        .select_related("site")
        .order_by("site__code", "code")
    )
    filters = request.GET.copy()
    filters.pop("page", None)
    return render(
        request,
        "catalog/item_list.html",
        {
            "page": page,
            "query": query,
            "department_id": department_id,
            "item_type": item_type,
            "published": published,
            "departments": departments,
            "item_types": ItemType.choices,
            "filter_query": filters.urlencode(),
            "import_form": ImportForm(),
        },
    )


# ---------------------------------------------------------------------------------------------
# Create and edit


def _with_added_row(post: QueryDict) -> tuple[QueryDict, str | None]:
    """The posted form with one more blank row in the formset whose "增加一行" was pressed."""
    prefix = post.get("add_row", "")
    if prefix not in FORMSET_PREFIXES:
        return post, None
    post = post.copy()
    key = f"{prefix}-TOTAL_FORMS"
    total = _integer(post.get(key, "0")) or 0
    maximum = FORMSET_PREFIXES[prefix].max_num
    post[key] = str(min(total + 1, maximum))
    return post, prefix


def _item_initial(item: ServiceItem) -> dict[str, Any]:
    initial = {
        name: getattr(item, name)
        for name in (
            "code",
            "name",
            "item_type",
            "statutory_limit_days",
            "committed_limit_days",
            "deemed_approval_on_timeout",
            "conditions",
            "legal_basis",
            "keywords",
            "is_free",
            "delivery_at_window",
            "delivery_by_post",
            "delivery_by_cabinet",
            "is_published",
        )
    }
    initial["department"] = item.department_id
    initial["windows"] = list(item.item_windows.values_list("window_id", flat=True))
    initial["joint_departments"] = list(item.joint_departments.values_list("department_id", flat=True))
    return initial


def _formsets(post: QueryDict | None, item: ServiceItem | None) -> dict[str, forms.BaseFormSet]:
    if post is not None:
        return {
            "materials": MaterialFormSet(post, prefix="materials"),
            "fees": FeeFormSet(post, prefix="fees"),
            "steps": StepFormSet(post, prefix="steps"),
        }
    materials: list[dict[str, Any]] = []
    fees: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    if item is not None:
        materials = [
            {
                "previous_id": material.pk,
                "name": material.name,
                "form": material.form,
                "copies": material.copies,
                "is_mandatory": material.is_mandatory,
                "is_deferrable": material.is_deferrable,
                "notes": material.notes,
                "ORDER": material.position,
            }
            for material in item.materials.order_by("position")
        ]
        fees = [
            {"name": fee.name, "amount": fee.amount, "legal_basis": fee.legal_basis, "ORDER": index}
            for index, fee in enumerate(item.fees.order_by("id"), start=1)
        ]
        steps = [
            {"name": step.name, "description": step.description, "ORDER": step.position}
            for step in item.steps.order_by("position")
        ]
    return {
        "materials": MaterialFormSet(initial=materials, prefix="materials"),
        "fees": FeeFormSet(initial=fees, prefix="fees"),
        "steps": StepFormSet(initial=steps, prefix="steps"),
    }


def _item_data(form: ItemForm, formsets: dict[str, forms.BaseFormSet]) -> actions.ItemData:
    data = form.cleaned_data
    return actions.ItemData(
        code=data["code"],
        name=data["name"],
        department_id=data["department"].pk,
        item_type=data["item_type"],
        statutory_limit_days=data["statutory_limit_days"],
        committed_limit_days=data["committed_limit_days"],
        deemed_approval_on_timeout=data["deemed_approval_on_timeout"],
        conditions=data["conditions"],
        legal_basis=data["legal_basis"],
        is_free=data["is_free"],
        delivery_at_window=data["delivery_at_window"],
        delivery_by_post=data["delivery_by_post"],
        delivery_by_cabinet=data["delivery_by_cabinet"],
        keywords=data["keywords"],
        is_published=data["is_published"],
        materials=formsets["materials"].data_list(),
        fees=formsets["fees"].data_list(),
        steps=formsets["steps"].data_list(),
        window_ids=[window.pk for window in data["windows"]],
        joint_department_ids=[department.pk for department in data["joint_departments"]],
    )


ITEM_FIELD_FOR_KEY = {"delivery": "delivery_at_window", "windows": "windows"}


def _show_refusal(
    refusal: ActionRefused, form: ItemForm, formsets: dict[str, forms.BaseFormSet]
) -> list[str]:
    """Put each broken rule next to its field (or its row) and return every message for the summary."""
    if refusal.status != 400:
        raise refusal
    if not isinstance(refusal, actions.CatalogInputRefused):
        form.add_error(None, refusal.message)
        return [refusal.message]
    rows = {prefix: formset.rows() for prefix, formset in formsets.items()}
    for key, message in refusal.errors.items():
        parts = key.split(".")
        if (
            parts[0] in rows
            and len(parts) == 3
            and parts[1].isdigit()
            and int(parts[1]) < len(rows[parts[0]])
        ):
            row = rows[parts[0]][int(parts[1])]
            row.add_error(parts[2] if parts[2] in row.fields else None, message)
            continue
        name = ITEM_FIELD_FOR_KEY.get(parts[0], parts[0])
        form.add_error(name if name in form.fields else None, message)
    return refusal.lines()


def focus_last_row(formset: forms.BaseFormSet) -> None:
    """After "增加一行" the cursor goes to the new row, so keyboard users carry on typing there."""
    if formset.forms:
        row = formset.forms[-1]
        first = next(name for name, field in row.fields.items() if not field.widget.is_hidden)
        row.fields[first].widget.attrs["autofocus"] = True


def _render_item_form(
    request: HttpRequest,
    item: ServiceItem | None,
    form: ItemForm,
    formsets: dict[str, forms.BaseFormSet],
    *,
    status: int = 200,
    summary: list[str] | None = None,
    focus: str | None = None,
    sample_errors: dict[int, str] | None = None,
) -> HttpResponse:
    context: dict[str, Any] = {
        "item": item,
        "form": form,
        "materials": formsets["materials"],
        "fees": formsets["fees"],
        "steps": formsets["steps"],
        "summary": summary or [],
        "focus": focus,
        "creating": item is None,
    }
    if item is not None:
        context["saved_materials"] = list(item.materials.order_by("position"))
        context["sample_form"] = SampleUploadForm()
        context["sample_errors"] = sample_errors or {}
    return render(request, "catalog/item_form.html", context, status=status)


def _item_form_view(request: HttpRequest, item: ServiceItem | None) -> HttpResponse:
    current = {
        "current_department_id": item.department_id if item else None,
        "current_joint_department_ids": (
            list(item.joint_departments.values_list("department_id", flat=True)) if item else []
        ),
    }
    if request.method != "POST":
        initial = _item_initial(item) if item else None
        form = ItemForm(initial=initial, user=request.user, **current)
        return _render_item_form(request, item, form, _formsets(None, item))
    post, added = _with_added_row(request.POST)
    form = ItemForm(post, user=request.user, **current)
    formsets = _formsets(post, item)
    if added:
        # Only a new blank row was asked for: show the form again, nothing is saved.
        focus_last_row(formsets[added])
        return _render_item_form(request, item, form, formsets, focus=added)
    if form.is_valid() and all(formset.is_valid() for formset in formsets.values()):
        data = _item_data(form, formsets)
        try:
            if item is None:
                saved = actions.create_item(request.user, data)
                messages.success(request, _("已新增事项 %(code)s。") % {"code": saved.code})
            else:
                saved = actions.update_item(request.user, item, data)
                messages.success(request, _("已保存事项 %(code)s。") % {"code": saved.code})
            return redirect("catalog:item_edit", saved.pk)
        except ActionRefused as refusal:
            summary = _show_refusal(refusal, form, formsets)
            return _render_item_form(request, item, form, formsets, status=400, summary=summary)
    summary = [_("请修改标红的内容后再保存。")]
    return _render_item_form(request, item, form, formsets, status=400, summary=summary)


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_CATALOG)
def item_create_view(request: HttpRequest) -> HttpResponse:
    return _item_form_view(request, None)


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_CATALOG)
def item_edit_view(request: HttpRequest, item_id: int) -> HttpResponse:
    return _item_form_view(request, _item_in_scope(request, item_id))


@require_POST
@staff_view(Capability.MANAGE_CATALOG)
def item_publish_view(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _item_in_scope(request, item_id)
    published = request.POST.get("published") == "1"
    item = actions.set_item_published(request.user, item, published)
    if published:
        messages.success(request, _("事项 %(code)s 已在办事指南中公开。") % {"code": item.code})
    else:
        messages.success(request, _("事项 %(code)s 已从办事指南中撤下。") % {"code": item.code})
    if request.POST.get("next") == "list":
        return redirect("catalog:item_list")
    return redirect("catalog:item_edit", item.pk)


# ---------------------------------------------------------------------------------------------
# Sample files


def _material_of(request: HttpRequest, item_id: int, material_id: int) -> tuple[ServiceItem, Material]:
    item = _item_in_scope(request, item_id)
    material = Material.objects.filter(pk=material_id, item=item).first()
    if material is None:
        raise NotFound()
    return item, material


def sample_response(material: Material) -> FileResponse:
    """The file as a download named after the material, never rendered inline by the browser."""
    if not material.sample_file or not default_storage.exists(material.sample_file.name):
        raise Http404()
    extension = material.sample_file.name.rsplit(".", 1)[-1].lower()
    response = FileResponse(
        default_storage.open(material.sample_file.name, "rb"),
        as_attachment=True,
        filename=f"{material.name}.{extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_CATALOG)
def material_sample_view(request: HttpRequest, item_id: int, material_id: int) -> HttpResponse:
    item, material = _material_of(request, item_id, material_id)
    if request.method == "GET":
        return sample_response(material)
    upload_form = SampleUploadForm(request.POST, request.FILES)
    error = ""
    if upload_form.is_valid():
        try:
            actions.upload_material_sample(request.user, material, upload_form.cleaned_data["file"])
            messages.success(request, _("已上传“%(name)s”的样表。") % {"name": material.name})
            return redirect("catalog:item_edit", item.pk)
        except ActionRefused as refusal:
            if refusal.status != 400:
                raise
            error = refusal.message
    else:
        error = " ".join(message for messages_ in upload_form.errors.values() for message in messages_)
    form = ItemForm(initial=_item_initial(item), user=request.user, current_department_id=item.department_id)
    return _render_item_form(
        request,
        item,
        form,
        _formsets(None, item),
        status=400,
        summary=[error],
        sample_errors={material.pk: error},
    )


# ---------------------------------------------------------------------------------------------
# Spreadsheet


@require_GET
@staff_view(Capability.MANAGE_CATALOG)
def export_view(request: HttpRequest) -> HttpResponse:
    content = spreadsheet.export_catalogue(_scoped_items(request))
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    filename = _("事项清单-%(date)s.xlsx") % {"date": timezone.localdate().strftime("%Y%m%d")}
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_CATALOG)
def import_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "catalog/import.html", {"form": ImportForm(), "lines": []})
    form = ImportForm(request.POST, request.FILES)
    lines: list[str] = []
    if form.is_valid():
        upload = form.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            lines = [_("请上传 .xlsx 格式的事项清单。")]
        elif upload.size > IMPORT_MAX_BYTES:
            lines = [_("文件不能超过 10 MB。")]
        else:
            try:
                result = actions.import_catalogue(request.user, upload.read())
                messages.success(
                    request,
                    _("导入完成：新增 %(created)d 项，更新 %(updated)d 项。")
                    % {"created": result.created, "updated": result.updated},
                )
                return redirect("catalog:item_list")
            except actions.CatalogueImportRefused as refusal:
                lines = refusal.lines
            except ActionRefused as refusal:
                if refusal.status != 400:
                    raise
                lines = [refusal.message]
    else:
        lines = [message for messages_ in form.errors.values() for message in messages_]
    return render(request, "catalog/import.html", {"form": ImportForm(), "lines": lines}, status=400)


# ---------------------------------------------------------------------------------------------
# Pledges and disclosure per site


@require_GET
@staff_view(Capability.MANAGE_CATALOG)
def site_list_view(request: HttpRequest) -> HttpResponse:
    sites = (
        Site.objects.restrict(request.user, Capability.MANAGE_CATALOG)
        .filter(is_active=True)
        .annotate(pledge_count=Count("pledges"))
        .select_related("disclosure")
        .order_by("code")
    )
    return render(request, "catalog/site_list.html", {"sites": sites})


def _pledge_staff(site: Site) -> QuerySet[User]:
    return User.objects.filter(site=site, is_active=True).order_by("staff_number")


def _pledge_formset(site: Site, post: QueryDict | None = None) -> forms.BaseFormSet:
    kwargs = {"form_kwargs": {"staff_queryset": _pledge_staff(site)}, "prefix": "pledges"}
    if post is not None:
        return PledgeFormSet(post, **kwargs)
    initial = [
        {"kind": pledge.kind, "staff": pledge.staff_id, "text": pledge.text, "ORDER": index}
        for index, pledge in enumerate(
            ServicePledge.objects.filter(site=site).order_by("kind", "position"), start=1
        )
    ]
    return PledgeFormSet(initial=initial, **kwargs)


def _disclosure_form(site: Site, post: QueryDict | None = None) -> DisclosureForm:
    if post is not None:
        return DisclosureForm(post)
    disclosure = SiteDisclosure.objects.filter(site=site).first()
    initial = (
        {"complaint_channels": disclosure.complaint_channels, "service_notice": disclosure.service_notice}
        if disclosure
        else {}
    )
    return DisclosureForm(initial=initial)


def _render_site_page(
    request: HttpRequest,
    site: Site,
    pledges: forms.BaseFormSet,
    disclosure: DisclosureForm,
    *,
    status: int = 200,
    pledge_errors: list[str] | None = None,
    disclosure_errors: list[str] | None = None,
    focus: bool = False,
) -> HttpResponse:
    return render(
        request,
        "catalog/site_disclosure.html",
        {
            "site": site,
            "pledges": pledges,
            "disclosure_form": disclosure,
            "pledge_errors": pledge_errors or [],
            "disclosure_errors": disclosure_errors or [],
            "focus": focus,
        },
        status=status,
    )


@require_GET
@staff_view(Capability.MANAGE_CATALOG)
def site_disclosure_view(request: HttpRequest, site_id: int) -> HttpResponse:
    site = _site_in_scope(request, site_id)
    return _render_site_page(request, site, _pledge_formset(site), _disclosure_form(site))


@require_POST
@staff_view(Capability.MANAGE_CATALOG)
def pledges_save_view(request: HttpRequest, site_id: int) -> HttpResponse:
    site = _site_in_scope(request, site_id)
    post = request.POST
    adding = post.get("add_row") == "pledges"
    if adding:
        post = post.copy()
        total = _integer(post.get("pledges-TOTAL_FORMS", "0")) or 0
        post["pledges-TOTAL_FORMS"] = str(min(total + 1, actions.PLEDGES_MAX))
    formset = _pledge_formset(site, post)
    if adding:
        focus_last_row(formset)
        return _render_site_page(request, site, formset, _disclosure_form(site), focus=True)
    errors: list[str] = [_("请修改标红的承诺后再保存。")]
    if formset.is_valid():
        rows = formset.rows()
        try:
            actions.save_pledges(request.user, site, [row.to_data() for row in rows])
            messages.success(request, _("服务承诺已保存。"))
            return redirect("catalog:site_disclosure", site.pk)
        except ActionRefused as refusal:
            if refusal.status != 400:
                raise
            errors = (
                refusal.lines() if isinstance(refusal, actions.CatalogInputRefused) else [refusal.message]
            )
            for key, message in getattr(refusal, "errors", {}).items():
                parts = key.split(".")
                if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(rows):
                    row = rows[int(parts[1])]
                    row.add_error(parts[2] if parts[2] in row.fields else None, message)
    return _render_site_page(request, site, formset, _disclosure_form(site), status=400, pledge_errors=errors)


@require_POST
@staff_view(Capability.MANAGE_CATALOG)
def disclosure_save_view(request: HttpRequest, site_id: int) -> HttpResponse:
    site = _site_in_scope(request, site_id)
    form = _disclosure_form(site, request.POST)
    errors = [_("请修改标红的内容后再保存。")]
    if form.is_valid():
        try:
            actions.save_disclosure(
                request.user,
                site,
                form.cleaned_data["complaint_channels"],
                form.cleaned_data["service_notice"],
            )
            messages.success(request, _("公开信息已保存。"))
            return redirect("catalog:site_disclosure", site.pk)
        except ActionRefused as refusal:
            if refusal.status != 400:
                raise
            errors = [refusal.message]
            for key, message in getattr(refusal, "errors", {}).items():
                form.add_error(key if key in form.fields else None, message)
    return _render_site_page(request, site, _pledge_formset(site), form, status=400, disclosure_errors=errors)
