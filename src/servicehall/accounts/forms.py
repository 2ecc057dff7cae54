"""Forms check the shape of input; the rules themselves live in accounts.actions."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from servicehall.accounts.models import Rank
from servicehall.accounts.roles import Role
from servicehall.sites.models import Department, Site


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("登录名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("密码"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("6 位验证码"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]{6}",
                "autofocus": True,
            }
        ),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("原密码"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("新密码"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    confirm_password = forms.CharField(
        label=_("确认新密码"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("new_password") and cleaned.get("new_password") != cleaned.get("confirm_password"):
            self.add_error("confirm_password", _("两次输入的新密码不一致。"))
        return cleaned


class StaffForm(forms.Form):
    username = forms.CharField(label=_("登录名"), max_length=150)
    full_name = forms.CharField(label=_("姓名"), max_length=50)
    staff_number = forms.CharField(label=_("工号"), max_length=20)
    site = forms.ModelChoiceField(label=_("服务场所"), queryset=Site.objects.none())
    department = forms.ModelChoiceField(label=_("部门"), queryset=Department.objects.none(), required=False)
    rank = forms.TypedChoiceField(label=_("职级"), choices=Rank.choices, coerce=int)
    mobile_phone = forms.CharField(label=_("手机号"), max_length=20, required=False)
    resident_id = forms.CharField(label=_("身份证号"), max_length=20, required=False)
    is_active = forms.BooleanField(label=_("在用"), required=False, initial=True)

    def __init__(self, *args: object, user: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.restrict(user).order_by("code")
        self.fields["department"].queryset = (
            Department.objects.restrict(user).select_related("site").order_by("site__code", "code")
        )


class NewStaffForm(StaffForm):
    password = forms.CharField(
        label=_("初始密码"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("本人首次登录时须修改。"),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)


class TemporaryPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("临时密码"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class ProfileForm(forms.Form):
    language = forms.ChoiceField(label=_("界面语言"), choices=settings.LANGUAGES)
    two_factor_opt_in = forms.BooleanField(label=_("登录时使用身份验证器（双因素认证）"), required=False)


class StaffSearchForm(forms.Form):
    query = forms.CharField(label=_("姓名、工号或登录名"), max_length=50, required=False)
    site = forms.ModelChoiceField(label=_("服务场所"), queryset=Site.objects.none(), required=False)
    role = forms.ChoiceField(label=_("角色"), choices=[("", _("全部"))] + list(Role.choices), required=False)

    def __init__(self, *args: object, user: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.restrict(user).order_by("code")
