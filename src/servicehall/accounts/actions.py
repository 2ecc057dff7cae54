"""Every state change of an account: one function, one transaction, one audit record."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicehall.accounts.models import Rank, RoleGrant, User
from servicehall.accounts.password_policy import policy_problems
from servicehall.accounts.permissions import audit_refusal, require_capability, require_in_scope
from servicehall.accounts.roles import ADMINISTRATOR_POSTS, Capability, Role
from servicehall.audit.actions import record, snapshot
from servicehall.audit.models import AuditOutcome
from servicehall.lib.errors import ActionRefused, PermissionRefused
from servicehall.lib.identity import (
    IdentityValidationError,
    validate_mobile_phone,
    validate_resident_id,
)
from servicehall.lib.redaction import redact_personal_data
from servicehall.sites.models import Department, Site

STAFF_NUMBER_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")

STAFF_AUDITED_FIELDS = [
    "username",
    "full_name",
    "staff_number",
    "site",
    "department",
    "rank",
    "is_active",
    "language",
    "two_factor_opt_in",
]


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    message: str = ""

    @property
    def succeeded(self) -> bool:
        return self.user is not None


def attempt_login(request: HttpRequest, username: str, password: str) -> LoginOutcome:
    """Check a password; count failures and lock the account after the configured threshold."""
    now = timezone.now()
    username = username.strip()[:150]
    account = User.objects.filter(username=username).select_related("site").first()
    if account is not None and account.is_locked(now):
        record(
            "accounts.login_refused_locked",
            outcome=AuditOutcome.DENIED,
            actor_label=account.get_username(),
            target=account,
            site=account.site,
        )
        minutes = max(1, int((account.locked_until - now).total_seconds() // 60) + 1)
        return LoginOutcome(
            None, _("账户已锁定，请 %(minutes)d 分钟后再试或联系安全管理员。") % {"minutes": minutes}
        )
    user = authenticate(request, username=username, password=password)
    if user is None:
        _record_failed_login(account, username, now)
        return LoginOutcome(None, _("登录名或密码错误。"))
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
        login(request, user)
        record("accounts.login", actor=user, target=user)
    return LoginOutcome(user)


def _record_failed_login(
    account: User | None, username: str, now: Any, action: str = "accounts.login_failed"
) -> None:
    if account is None:
        record(
            action,
            outcome=AuditOutcome.FAILED,
            actor_label=_("未知账户"),
            object_type="accounts.user",
            object_label=redact_personal_data(username)[:200],
        )
        return
    with transaction.atomic():
        User.objects.filter(pk=account.pk).update(failed_login_count=F("failed_login_count") + 1)
        account.refresh_from_db(fields=["failed_login_count"])
        record(
            action,
            outcome=AuditOutcome.FAILED,
            actor_label=account.get_username(),
            target=account,
            after={"failed_login_count": account.failed_login_count},
        )
        if account.failed_login_count >= settings.SERVICEHALL_LOCKOUT_THRESHOLD:
            locked_until = now + timedelta(minutes=settings.SERVICEHALL_LOCKOUT_MINUTES)
            User.objects.filter(pk=account.pk).update(locked_until=locked_until, failed_login_count=0)
            record(
                "accounts.locked",
                outcome=AuditOutcome.DENIED,
                actor_label=account.get_username(),
                target=account,
                after={"locked_until": locked_until},
            )


def log_out(request: HttpRequest) -> None:
    user = request.user
    if user.is_authenticated:
        record("accounts.logout", actor=user, target=user)
    logout(request)


def change_password(user: User, old_password: str, new_password: str) -> None:
    if not user.check_password(old_password):
        raise ActionRefused(_("原密码不正确。"), code="wrong_password", field="old_password")
    if old_password == new_password:
        raise ActionRefused(_("新密码不能与原密码相同。"), code="password_reused", field="new_password")
    _require_policy(new_password, user, field="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.password_changed_at = timezone.now()
        user.save(update_fields=["password", "password_changed_at"])
        record("accounts.password_changed", actor=user, target=user)


def _require_policy(password: str, user: User | None, field: str) -> None:
    problems = policy_problems(password, user)
    if problems:
        raise ActionRefused(" ".join(problems), code="password_policy", field=field)


@dataclass
class StaffData:
    """What a manager may set on an account; validated before anything is written."""

    username: str
    full_name: str
    staff_number: str
    site: Site
    department: Department | None = None
    rank: int = Rank.STAFF_MEMBER
    mobile_phone: str = ""
    resident_id: str = ""
    is_active: bool = True


def _clean_staff_data(data: StaffData, existing: User | None) -> StaffData:
    errors: dict[str, str] = {}
    data.username = data.username.strip()
    data.full_name = data.full_name.strip()
    data.staff_number = data.staff_number.strip()
    if not data.username:
        errors["username"] = _("登录名不能为空。")
    else:
        try:
            User.username_validator(data.username)
        except ValidationError:
            errors["username"] = _("登录名只能包含字母、数字和 @/./+/-/_ 字符。")
    if not data.full_name:
        errors["full_name"] = _("姓名不能为空。")
    if not data.staff_number:
        errors["staff_number"] = _("工号不能为空。")
    elif not STAFF_NUMBER_PATTERN.fullmatch(data.staff_number):
        # The number is printed on the badge and the window sign (seed 001 工作人员身份公开).
        errors["staff_number"] = _("工号只能包含字母、数字和连字符。")
    others = User.objects.exclude(pk=existing.pk) if existing else User.objects.all()
    if data.username and others.filter(username=data.username).exists():
        errors["username"] = _("登录名已被使用。")
    if data.staff_number and others.filter(staff_number=data.staff_number).exists():
        errors["staff_number"] = _("工号已被使用。")
    if data.department is not None and data.department.site_id != data.site.pk:
        errors["department"] = _("部门不属于所选服务场所。")
    if data.rank not in Rank.values:
        errors["rank"] = _("职级无效。")
    if data.mobile_phone:
        try:
            data.mobile_phone = validate_mobile_phone(data.mobile_phone)
        except IdentityValidationError as error:
            errors["mobile_phone"] = error.message
    if data.resident_id:
        try:
            data.resident_id = validate_resident_id(data.resident_id)
        except IdentityValidationError as error:
            errors["resident_id"] = error.message
    if errors:
        field, message = next(iter(errors.items()))
        refusal = ActionRefused(message, code="invalid_staff", field=field)
        refusal.errors = errors  # type: ignore[attr-defined]
        raise refusal
    return data


def create_staff(actor: User, data: StaffData, initial_password: str) -> User:
    require_capability(actor, Capability.MANAGE_STAFF)
    require_in_scope(actor, data.site)
    data = _clean_staff_data(data, None)
    # An unsaved account lets the similarity rule compare the password with the new login name.
    _require_policy(
        initial_password, User(username=data.username, full_name=data.full_name), field="password"
    )
    try:
        with transaction.atomic():
            staff = User.objects.create_user(
                username=data.username,
                password=initial_password,
                full_name=data.full_name,
                staff_number=data.staff_number,
                site=data.site,
                department=data.department,
                rank=data.rank,
                mobile_phone=data.mobile_phone,
                resident_id=data.resident_id,
                is_active=data.is_active,
            )
            # An initial password is known to the administrator; the person must choose their own.
            User.objects.filter(pk=staff.pk).update(password_changed_at=None)
            staff.password_changed_at = None
            record(
                "accounts.staff_created",
                actor=actor,
                target=staff,
                after=snapshot(staff, STAFF_AUDITED_FIELDS),
            )
    except IntegrityError as error:
        # Someone else took the login name or staff number between our check and the insert.
        raise ActionRefused(_("登录名或工号已被使用。"), code="invalid_staff", field="username") from error
    return staff


def update_staff(actor: User, staff: User, data: StaffData) -> User:
    require_capability(actor, Capability.MANAGE_STAFF)
    require_in_scope(actor, staff)
    require_in_scope(actor, data.site)
    data = _clean_staff_data(data, staff)
    if staff.pk == actor.pk and not data.is_active:
        raise ActionRefused(_("不能停用自己的账户。"), code="self_deactivation", field="is_active")
    editable = ["username", "full_name", "staff_number", "site", "department", "rank", "is_active"]
    try:
        with transaction.atomic():
            staff = User.objects.select_for_update().get(pk=staff.pk)
            before = snapshot(staff, STAFF_AUDITED_FIELDS)
            personal_before = (staff.mobile_phone, staff.resident_id)
            for name in editable:
                setattr(staff, name, getattr(data, name))
            staff.mobile_phone = data.mobile_phone
            staff.resident_id = data.resident_id
            staff.save(update_fields=[*editable, "mobile_phone", "resident_id"])
            # Role grants are scoped by site; they move with the person, or scoping would go stale.
            RoleGrant.objects.filter(user=staff).exclude(site=staff.site).update(site=staff.site)
            after = snapshot(staff, STAFF_AUDITED_FIELDS)
            # Personal data changes are recorded as "changed", never with the values themselves.
            if personal_before != (staff.mobile_phone, staff.resident_id):
                after["personal_data_changed"] = True
            record("accounts.staff_updated", actor=actor, target=staff, before=before, after=after)
    except IntegrityError as error:
        raise ActionRefused(_("登录名或工号已被使用。"), code="invalid_staff", field="username") from error
    return staff


def grant_role(actor: User, staff: User, role: str) -> RoleGrant:
    """Only a 安全管理员 grants roles; never to themself; the three administrator posts never combine."""
    require_capability(actor, Capability.ASSIGN_ROLES)
    require_in_scope(actor, staff)
    if role not in Role.values:
        raise ActionRefused(_("角色无效。"), code="invalid_role", field="role")
    if staff.pk == actor.pk:
        audit_refusal(actor, "self_grant", capability=str(Capability.ASSIGN_ROLES), target=staff)
        raise PermissionRefused(_("不能为自己授予角色（三员分立）。"), code="self_grant")
    held = set(staff.role_grants.values_list("role", flat=True))
    if role in held:
        raise ActionRefused(_("该人员已拥有此角色。"), code="already_granted", field="role")
    administrator_posts = {str(post) for post in ADMINISTRATOR_POSTS}
    if role in administrator_posts and held & administrator_posts:
        raise ActionRefused(
            _("系统管理员、安全管理员、审计管理员三个岗位不得由同一人兼任。"),
            code="separation_of_duties",
            field="role",
        )
    with transaction.atomic():
        grant = RoleGrant.objects.create(site=staff.site, user=staff, role=role, granted_by=actor)
        record(
            "accounts.role_granted",
            actor=actor,
            target=staff,
            before={"roles": sorted(held)},
            after={"roles": sorted(held | {role})},
        )
    staff.forget_cached_roles()
    return grant


def revoke_role(actor: User, staff: User, role: str) -> None:
    require_capability(actor, Capability.ASSIGN_ROLES)
    require_in_scope(actor, staff)
    if staff.pk == actor.pk:
        audit_refusal(actor, "self_grant", capability=str(Capability.ASSIGN_ROLES), target=staff)
        raise PermissionRefused(_("不能修改自己的角色（三员分立）。"), code="self_grant")
    with transaction.atomic():
        held = set(staff.role_grants.values_list("role", flat=True))
        if role not in held:
            raise ActionRefused(_("该人员没有此角色。"), code="not_granted", field="role")
        RoleGrant.objects.filter(user=staff, role=role).delete()
        record(
            "accounts.role_revoked",
            actor=actor,
            target=staff,
            before={"roles": sorted(held)},
            after={"roles": sorted(held - {role})},
        )
    staff.forget_cached_roles()


def unlock_account(actor: User, staff: User) -> None:
    require_capability(actor, Capability.UNLOCK_ACCOUNTS)
    require_in_scope(actor, staff)
    with transaction.atomic():
        staff = User.objects.select_for_update().get(pk=staff.pk)
        if not staff.is_locked() and staff.failed_login_count == 0:
            raise ActionRefused(_("该账户未被锁定。"), code="not_locked")
        before = {"locked_until": staff.locked_until, "failed_login_count": staff.failed_login_count}
        User.objects.filter(pk=staff.pk).update(locked_until=None, failed_login_count=0)
        record("accounts.unlocked", actor=actor, target=staff, before=before, after={"locked_until": None})


def reset_password(actor: User, staff: User, temporary_password: str) -> None:
    """A 安全管理员 sets a temporary password; the person must change it at next login."""
    require_capability(actor, Capability.UNLOCK_ACCOUNTS)
    require_in_scope(actor, staff)
    if staff.pk == actor.pk:
        raise ActionRefused(_("请通过“修改密码”修改自己的密码。"), code="self_reset")
    _require_policy(temporary_password, staff, field="password")
    with transaction.atomic():
        staff.set_password(temporary_password)
        staff.password_changed_at = None
        staff.save(update_fields=["password", "password_changed_at"])
        record("accounts.password_reset", actor=actor, target=staff)


PERSONAL_FIELDS = {"mobile_phone": gettext_lazy("手机号"), "resident_id": gettext_lazy("身份证号")}


def reveal_personal_data(actor: User, staff: User, field: str) -> str:
    """The full value, for a role that needs it; every reveal is itself an audit record."""
    if field not in PERSONAL_FIELDS:
        raise ActionRefused(_("字段无效。"), code="invalid_field", field="field")
    require_capability(actor, Capability.REVEAL_PERSONAL_DATA)
    require_in_scope(actor, staff)
    record("personal_data.revealed", actor=actor, target=staff, after={"field": field})
    return getattr(staff, field)


def set_language(user: User, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ActionRefused(_("不支持该语言。"), code="invalid_language", field="language")
    with transaction.atomic():
        before = user.language
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
        record(
            "accounts.language_changed",
            actor=user,
            target=user,
            before={"language": before},
            after={"language": language},
        )


def update_preferences(user: User, language: str, two_factor_opt_in: bool) -> None:
    """The profile form: language and second factor together, so a refusal of either changes neither."""
    language_before = user.language
    try:
        with transaction.atomic():
            if language != user.language:
                set_language(user, language)
            if two_factor_opt_in != user.two_factor_opt_in or (
                not two_factor_opt_in and user.two_factor_required
            ):
                set_two_factor_opt_in(user, two_factor_opt_in)
    except ActionRefused:
        user.language = language_before
        raise


def start_totp_enrollment(user: User) -> TOTPDevice:
    """A fresh, unconfirmed authenticator secret; confirmed only when the person types a valid code."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=_("身份验证器"), confirmed=False)
    return device


def confirm_totp_enrollment(request: HttpRequest, user: User, token: str) -> None:
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        raise ActionRefused(_("请先生成新的身份验证器密钥。"), code="no_pending_device")
    _check_token(user, device, token)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        User.objects.filter(pk=user.pk).update(failed_login_count=0)
        otp_login(request, device)
        record("accounts.two_factor_enrolled", actor=user, target=user)


def verify_second_factor(request: HttpRequest, user: User, token: str) -> None:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        raise ActionRefused(_("尚未绑定身份验证器。"), code="no_device")
    _check_token(user, device, token)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_login_count=0)
        otp_login(request, device)
        record("accounts.two_factor_verified", actor=user, target=user)


def _check_token(user: User, device: TOTPDevice, token: str) -> None:
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        # django_otp's back-off after a wrong code; the person has not typed a wrong code this time.
        raise ActionRefused(_("尝试过于频繁，请稍候几秒再输入验证码。"), code="throttled", field="token")
    if not _token_format_ok(token) or not device.verify_token(token.strip()):
        # Wrong codes count toward the same lockout as wrong passwords, so TOTP cannot be brute-forced.
        _record_failed_login(user, user.get_username(), timezone.now(), action="accounts.two_factor_failed")
        raise ActionRefused(_("验证码不正确，请核对手机时间后重试。"), code="invalid_token", field="token")


def set_two_factor_opt_in(user: User, enabled: bool) -> None:
    if not enabled and user.role_codes & {str(post) for post in ADMINISTRATOR_POSTS}:
        raise ActionRefused(
            _("系统管理员、安全管理员、审计管理员岗位必须使用双因素认证，不能关闭。"),
            code="two_factor_required",
        )
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(two_factor_opt_in=enabled)
        before = user.two_factor_opt_in
        user.two_factor_opt_in = enabled
        if not enabled:
            TOTPDevice.objects.filter(user=user).delete()
        record(
            "accounts.two_factor_setting",
            actor=user,
            target=user,
            before={"two_factor_opt_in": before},
            after={"two_factor_opt_in": enabled},
        )


def _token_format_ok(token: str) -> bool:
    token = token.strip()
    return len(token) == 6 and token.isdigit()
