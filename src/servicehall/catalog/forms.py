"""Forms check the shape of input; the rules of an item live in catalog.actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from servicehall.catalog import actions
from servicehall.catalog.models import ItemType, MaterialForm, PledgeKind
from servicehall.sites.models import Department, Window


def _text(
    label: Any, limit: int, *, required: bool = False, textarea: bool = False, **attributes: Any
) -> forms.CharField:
    widget = (
        forms.Textarea(attrs={"rows": 3, "maxlength": limit, **attributes})
        if textarea
        else forms.TextInput(attrs={"maxlength": limit, **attributes})
    )
    # No max_length on the field: an over-long value reaches the action, which refuses it in its own words.
    return forms.CharField(label=label, required=required, strip=False, widget=widget)


def _days(label: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        error_messages={"invalid": _("请填写整数（工作日）。"), "required": _("请填写时限（工作日）。")},
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": actions.LIMIT_DAYS_MAX}),
    )


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, department: Department) -> str:
        return f"{department.site.name} · {department.name}"


class DepartmentsChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, department: Department) -> str:
        return f"{department.site.name} · {department.name}"


class WindowChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, window: Window) -> str:
        return f"{window.site.name} · {window}"


class ItemForm(forms.Form):
    code = _text(
        _("事项编码"), actions.CODE_MAX_LENGTH, required=True, autocomplete="off", spellcheck="false"
    )
    name = _text(_("事项名称"), actions.NAME_MAX_LENGTH, required=True)
    department = DepartmentChoiceField(
        label=_("实施部门"),
        queryset=Department.objects.none(),
        empty_label=_("（请选择）"),
        error_messages={
            "invalid_choice": _("实施部门不存在或不在您的管理范围内。"),
            "required": _("请选择实施部门。"),
        },
    )
    item_type = forms.ChoiceField(label=_("办件类型"), choices=ItemType.choices)
    statutory_limit_days = _days(_("法定办结时限（工作日）"))
    committed_limit_days = _days(_("承诺办结时限（工作日）"))
    deemed_approval_on_timeout = forms.BooleanField(label=_("审批环节适用超时默认"), required=False)
    conditions = _text(_("受理条件"), actions.LONG_TEXT_MAX_LENGTH, textarea=True)
    legal_basis = _text(_("设定依据"), actions.LONG_TEXT_MAX_LENGTH, textarea=True)
    keywords = _text(_("关键词"), actions.KEYWORDS_MAX_LENGTH, placeholder=_("以空格分隔，便于群众搜索"))
    is_free = forms.BooleanField(label=_("不收费"), required=False, initial=True)
    delivery_at_window = forms.BooleanField(label=_("窗口领取"), required=False, initial=True)
    delivery_by_post = forms.BooleanField(label=_("邮寄送达"), required=False)
    delivery_by_cabinet = forms.BooleanField(label=_("24小时自助文件柜"), required=False)
    windows = WindowChoiceField(
        label=_("办理窗口"),
        queryset=Window.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("窗口不存在、已停用或不在您的管理范围内。")},
    )
    joint_departments = DepartmentsChoiceField(
        label=_("协办部门（联办件）"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("协办部门不存在或不在您的管理范围内。")},
    )
    is_published = forms.BooleanField(label=_("保存后在办事指南中公开"), required=False, initial=True)

    def __init__(
        self,
        *args: Any,
        user: Any,
        current_department_id: int | None = None,
        current_joint_department_ids: list[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        scope = user.accessible_site_ids()
        # A department that was deactivated stays selectable for the items it already has.
        departments = Department.objects.filter(
            Q(is_active=True) | Q(pk=current_department_id), site_id__in=scope
        )
        self.fields["department"].queryset = departments.select_related("site").order_by("site__code", "code")
        self.fields["joint_departments"].queryset = (
            Department.objects.filter(
                Q(is_active=True) | Q(pk__in=current_joint_department_ids or []), site_id__in=scope
            )
            .select_related("site")
            .order_by("site__code", "code")
        )
        self.fields["windows"].queryset = (
            Window.objects.filter(site_id__in=scope, is_active=True)
            .select_related("site")
            .order_by("site__code", "number")
        )


class MaterialRowForm(forms.Form):
    text_fields = ("name", "notes")
    previous_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = _text(_("材料名称"), actions.MATERIAL_NAME_MAX_LENGTH)
    form = forms.ChoiceField(label=_("形式"), choices=MaterialForm.choices, initial=MaterialForm.ORIGINAL)
    copies = forms.IntegerField(
        label=_("份数"),
        initial=1,
        error_messages={
            "invalid": _("份数必须是 1 到 99 的整数。"),
            "required": _("份数必须是 1 到 99 的整数。"),
        },
        widget=forms.NumberInput(attrs={"min": 1, "max": actions.COPIES_MAX, "inputmode": "numeric"}),
    )
    is_mandatory = forms.BooleanField(label=_("必需"), required=False, initial=True)
    is_deferrable = forms.BooleanField(label=_("可容缺"), required=False)
    notes = _text(_("要求说明"), actions.MATERIAL_NOTES_MAX_LENGTH)

    def to_data(self) -> actions.MaterialData:
        data = self.cleaned_data
        return actions.MaterialData(
            name=data["name"],
            form=data["form"],
            copies=data["copies"],
            is_mandatory=data["is_mandatory"],
            is_deferrable=data["is_deferrable"],
            notes=data["notes"],
            previous_id=data.get("previous_id"),
        )


class FeeRowForm(forms.Form):
    text_fields = ("name", "legal_basis")
    name = _text(_("收费名称"), actions.FEE_NAME_MAX_LENGTH)
    amount = forms.DecimalField(
        label=_("金额（元）"),
        error_messages={
            "invalid": _("金额必须是大于 0 的数字，最多两位小数。"),
            "required": _("金额必须是大于 0 的数字，最多两位小数。"),
        },
        widget=forms.NumberInput(attrs={"min": "0.01", "step": "0.01", "inputmode": "decimal"}),
    )
    legal_basis = _text(_("收费依据"), actions.FEE_BASIS_MAX_LENGTH)

    def to_data(self) -> actions.FeeData:
        data = self.cleaned_data
        return actions.FeeData(name=data["name"], amount=data["amount"], legal_basis=data["legal_basis"])


class StepRowForm(forms.Form):
    text_fields = ("name", "description")
    name = _text(_("环节名称"), actions.STEP_NAME_MAX_LENGTH)
    description = _text(_("环节说明"), actions.STEP_DESCRIPTION_MAX_LENGTH)

    def to_data(self) -> actions.StepData:
        return actions.StepData(name=self.cleaned_data["name"], description=self.cleaned_data["description"])


class RowFormSet(forms.BaseFormSet):
    """Rows in the order the 序号 column gives; a row left blank or marked 删除 is not saved."""

    def rows(self) -> list[forms.Form]:
        return [
            form
            for form in self.ordered_forms
            if any(str(form.cleaned_data.get(name) or "").strip() for name in form.text_fields)
        ]

    def data_list(self) -> list[Any]:
        return [form.to_data() for form in self.rows()]


def _row_formset(form_class: type[forms.Form], maximum: int) -> type[forms.BaseFormSet]:
    return forms.formset_factory(
        form_class,
        formset=RowFormSet,
        extra=1,
        can_order=True,
        can_delete=True,
        max_num=maximum,
        validate_max=True,
        absolute_max=maximum + 5,
    )


MaterialFormSet = _row_formset(MaterialRowForm, actions.MATERIALS_MAX)
FeeFormSet = _row_formset(FeeRowForm, actions.FEES_MAX)
StepFormSet = _row_formset(StepRowForm, actions.STEPS_MAX)
FORMSET_PREFIXES = {"materials": MaterialFormSet, "fees": FeeFormSet, "steps": StepFormSet}


class SampleUploadForm(forms.Form):
    file = forms.FileField(
        label=_("样表/空白表"),
        help_text=_("PDF、Word、Excel、JPG 或 PNG，不超过 5 MB。"),
        error_messages={"required": _("请选择要上传的文件。")},
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("事项清单（.xlsx）"),
        help_text=_("格式与“导出”的文件相同：事项、材料、收费、流程、窗口、协办部门六个工作表。"),
        error_messages={"required": _("请选择要导入的文件。")},
    )


class PledgeRowForm(forms.Form):
    text_fields = ("text",)
    kind = forms.ChoiceField(label=_("承诺类型"), choices=PledgeKind.choices)
    staff = forms.ModelChoiceField(
        label=_("承诺人（个人承诺）"),
        queryset=None,
        required=False,
        empty_label=_("（单位或集体承诺不选）"),
        error_messages={"invalid_choice": _("承诺人须为本场所在职的工作人员。")},
    )
    text = _text(_("承诺内容"), actions.PLEDGE_TEXT_MAX_LENGTH, textarea=True)

    def __init__(self, *args: Any, staff_queryset: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = staff_queryset
        self.fields["staff"].label_from_instance = lambda person: (
            f"{person.full_name}（{person.staff_number}）"
        )

    def to_data(self) -> actions.PledgeData:
        staff = self.cleaned_data.get("staff")
        return actions.PledgeData(
            kind=self.cleaned_data["kind"],
            text=self.cleaned_data["text"],
            staff_id=staff.pk if staff else None,
        )


PledgeFormSet = forms.formset_factory(
    PledgeRowForm,
    formset=RowFormSet,
    extra=1,
    can_order=True,
    can_delete=True,
    max_num=actions.PLEDGES_MAX,
    validate_max=True,
    absolute_max=actions.PLEDGES_MAX + 5,
)


class DisclosureForm(forms.Form):
    complaint_channels = _text(
        _("投诉渠道"),
        actions.LONG_TEXT_MAX_LENGTH,
        textarea=True,
        placeholder=_("如：群众意见箱位置、网络投诉网址、12345 热线"),
    )
    service_notice = _text(_("服务须知"), actions.LONG_TEXT_MAX_LENGTH, textarea=True)
