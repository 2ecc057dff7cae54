"""Forms of the duty pages: they check the shape of the input only; the rules live in duty.actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from servicehall.accounts.models import User
from servicehall.duty.models import (
    AssignmentRole,
    CheckInSlot,
    LeaveKind,
    PeriodKind,
    Post,
    RosterExceptionKind,
)
from servicehall.sites.models import PostKind, Site, Weekday, Window

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _staff_of(site: Site) -> Any:
    return User.objects.filter(site=site, is_active=True).order_by("staff_number")


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.full_name}（{obj.staff_number}）"


class PostForm(forms.Form):
    name = forms.CharField(label=_("岗位名称"), max_length=100)
    kind = forms.ChoiceField(label=_("岗位类型"), choices=PostKind.choices)
    window = forms.ModelChoiceField(label=_("窗口"), queryset=Window.objects.none(), required=False)
    required_qualification = forms.ChoiceField(
        label=_("所需资质"),
        choices=[("", _("与岗位类型相同")), *PostKind.choices],
        required=False,
        help_text=_("上岗须持有该岗位类型的有效培训资质（先培训、后上岗）。"),
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["window"].queryset = Window.objects.filter(site=site).order_by("number")


class AssignmentForm(forms.Form):
    staff = StaffChoiceField(label=_("工作人员"), queryset=User.objects.none())
    role = forms.ChoiceField(label=_("角色"), choices=AssignmentRole.choices)
    valid_from = forms.DateField(label=_("起始日期"), widget=DATE_INPUT)
    valid_to = forms.DateField(label=_("截止日期（可空）"), widget=DATE_INPUT, required=False)

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = _staff_of(site)


class LastDayForm(forms.Form):
    last_day = forms.DateField(label=_("最后一天"), widget=DATE_INPUT)


class PatternForm(forms.Form):
    post = forms.ModelChoiceField(label=_("岗位"), queryset=Post.objects.none())
    staff = StaffChoiceField(label=_("工作人员"), queryset=User.objects.none())
    weekday = forms.TypedChoiceField(label=_("星期"), choices=Weekday.choices, coerce=int)
    period = forms.ChoiceField(label=_("时段"), choices=PeriodKind.choices)
    valid_from = forms.DateField(label=_("起始日期"), widget=DATE_INPUT)
    valid_to = forms.DateField(label=_("截止日期（可空）"), widget=DATE_INPUT, required=False)

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["post"].queryset = Post.objects.filter(site=site, is_active=True).order_by("name")
        self.fields["staff"].queryset = _staff_of(site)


class ExceptionForm(forms.Form):
    post = forms.ModelChoiceField(label=_("岗位"), queryset=Post.objects.none())
    staff = StaffChoiceField(label=_("工作人员"), queryset=User.objects.none())
    date = forms.DateField(label=_("日期"), widget=DATE_INPUT)
    period = forms.ChoiceField(label=_("时段"), choices=PeriodKind.choices)
    kind = forms.ChoiceField(label=_("调整"), choices=RosterExceptionKind.choices)
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["post"].queryset = Post.objects.filter(site=site, is_active=True).order_by("name")
        self.fields["staff"].queryset = _staff_of(site)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class LeaveRequestForm(forms.Form):
    starts_on = forms.DateField(label=_("开始日期"), widget=DATE_INPUT)
    ends_on = forms.DateField(label=_("结束日期"), widget=DATE_INPUT)
    kind = forms.ChoiceField(
        label=_("类型"), choices=[choice for choice in LeaveKind.choices if choice[0] != LeaveKind.EMERGENCY]
    )
    reason = forms.CharField(label=_("事由"), max_length=200)
    substitute = StaffChoiceField(
        label=_("替岗人员"),
        queryset=User.objects.none(),
        help_text=_("只列出在请假期间有资质且空闲的同事。先填日期再选择。"),
    )
    handover_note = forms.CharField(
        label=_("工作移交说明"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text=_("提前一天做好工作的移交（AB岗工作制度第2条）。"),
    )
    handover_items = forms.CharField(
        label=_("移交事项（每行一项，可空）"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, site: Site, candidates: list[User] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        queryset = _staff_of(site)
        if candidates is not None:
            queryset = queryset.filter(pk__in=[candidate.pk for candidate in candidates])
        self.fields["substitute"].queryset = queryset

    def items(self) -> list[str]:
        return _lines(self.cleaned_data.get("handover_items", ""))


class EmergencyLeaveForm(forms.Form):
    staff = StaffChoiceField(label=_("请假人"), queryset=User.objects.none())
    starts_on = forms.DateField(label=_("开始日期"), widget=DATE_INPUT)
    ends_on = forms.DateField(label=_("结束日期"), widget=DATE_INPUT)
    reason = forms.CharField(label=_("紧急事由"), max_length=200)
    substitute = StaffChoiceField(label=_("替岗人员（可空）"), queryset=User.objects.none(), required=False)
    handover_note = forms.CharField(
        label=_("工作移交说明（可空）"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        required=False,
    )

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = _staff_of(site)
        self.fields["substitute"].queryset = _staff_of(site)


class ApproveForm(forms.Form):
    substitute = StaffChoiceField(label=_("替岗人员"), queryset=User.objects.none(), required=False)
    note = forms.CharField(label=_("审批意见"), max_length=200, required=False)

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["substitute"].queryset = _staff_of(site)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), max_length=200, required=False)


class CheckInForm(forms.Form):
    slot = forms.ChoiceField(choices=CheckInSlot.choices)


class CorrectionForm(forms.Form):
    staff = StaffChoiceField(label=_("工作人员"), queryset=User.objects.none())
    slot = forms.ChoiceField(label=_("打卡"), choices=CheckInSlot.choices)
    time = forms.TimeField(label=_("打卡时间"), widget=TIME_INPUT)
    reason = forms.CharField(label=_("更正原因"), max_length=200)

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = _staff_of(site)


class AwayForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("start", "start"), ("whereabouts", "whereabouts"), ("return", "return")]
    )
    whereabouts = forms.CharField(label=_("去向"), max_length=200, required=False)


class TrainingForm(forms.Form):
    date = forms.DateField(label=_("培训日期"), widget=DATE_INPUT)
    topic = forms.CharField(label=_("培训主题"), max_length=200)
    post_kinds = forms.MultipleChoiceField(
        label=_("合格后可上岗的岗位类型"), choices=PostKind.choices, widget=forms.CheckboxSelectMultiple
    )
    validity_days = forms.IntegerField(label=_("资质有效天数"), min_value=1, max_value=1098, initial=365)
    trainer = forms.CharField(label=_("授课人"), max_length=50, required=False)


class ResultForm(forms.Form):
    staff = StaffChoiceField(label=_("工作人员"), queryset=User.objects.none())
    passed = forms.TypedChoiceField(
        label=_("考核结果"), choices=[("1", _("合格")), ("0", _("不合格"))], coerce=lambda value: value == "1"
    )
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args: Any, staff_queryset: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = staff_queryset


class QualificationForm(forms.Form):
    staff = StaffChoiceField(label=_("工作人员"), queryset=User.objects.none())
    post_kind = forms.ChoiceField(label=_("岗位类型"), choices=PostKind.choices)
    valid_from = forms.DateField(label=_("生效日期"), widget=DATE_INPUT)
    valid_until = forms.DateField(label=_("有效期至"), widget=DATE_INPUT)
    note = forms.CharField(label=_("依据（如证书编号、培训机构）"), max_length=200)

    def __init__(self, *args: Any, staff_queryset: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = staff_queryset
