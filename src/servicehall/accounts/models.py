"""Staff accounts (工作人员) and their role grants."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicehall.accounts.roles import (
    SUBTREE_ROLES,
    TWO_FACTOR_REQUIRED_ROLES,
    Capability,
    Role,
    capabilities_of,
)
from servicehall.lib.identity import mask_mobile_phone, mask_resident_id
from servicehall.sites.scoping import SiteScopedQuerySet


class Rank(models.IntegerChoices):
    """职级 — decides the 首问责任人 when two staff answer together (DB4420 §3, seed 002)."""

    CLERK = 1, _("办事员")
    STAFF_MEMBER = 2, _("科员")
    DEPUTY_SECTION_CHIEF = 3, _("副科级")
    SECTION_CHIEF = 4, _("正科级")
    DEPUTY_DIVISION_CHIEF = 5, _("副处级")
    DIVISION_CHIEF = 6, _("正处级")


class StaffQuerySet(SiteScopedQuerySet):
    pass


class StaffManager(BaseUserManager.from_queryset(StaffQuerySet)):  # type: ignore[misc]
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **fields: Any) -> User:
        user = self.model(username=username, **fields)
        user.set_password(password)
        user.password_changed_at = timezone.now()
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    """工作人员 — one named personal account per person (seed 000 计算机使用制度 2: 不得擅自使用他人帐号).

    Shared accounts are impossible by construction: each account carries one person's name, staff
    number (工号, seed 001 工作人员身份公开) and site. 身份证号 and phone are stored normalised and
    shown masked; revealing them is a capability and is audited.
    """

    username_validator = UnicodeUsernameValidator()

    username = models.CharField(_("登录名"), max_length=150, unique=True, validators=[username_validator])
    full_name = models.CharField(_("姓名"), max_length=50)
    staff_number = models.CharField(_("工号"), max_length=20, unique=True)
    site = models.ForeignKey(
        "sites.Site", verbose_name=_("服务场所"), on_delete=models.PROTECT, related_name="staff"
    )
    department = models.ForeignKey(
        "sites.Department",
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    rank = models.PositiveSmallIntegerField(_("职级"), choices=Rank.choices, default=Rank.STAFF_MEMBER)
    mobile_phone = models.CharField(_("手机号"), max_length=11, blank=True)
    resident_id = models.CharField(_("身份证号"), max_length=18, blank=True)
    language = models.CharField(_("界面语言"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    is_active = models.BooleanField(_("在用"), default=True)
    date_joined = models.DateTimeField(_("创建时间"), default=timezone.now)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    failed_login_count = models.PositiveSmallIntegerField(_("连续登录失败次数"), default=0)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)
    two_factor_opt_in = models.BooleanField(_("启用双因素认证"), default=False)

    objects = StaffManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["full_name", "staff_number"]

    class Meta:
        verbose_name = _("工作人员")
        verbose_name_plural = _("工作人员")
        ordering = ["site_id", "staff_number"]

    def __str__(self) -> str:
        return f"{self.full_name}（{self.staff_number}）"

    # Django's auth machinery expects these on any user model.
    @property
    def is_staff(self) -> bool:
        return False

    @property
    def is_superuser(self) -> bool:
        return False

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name

    @property
    def role_codes(self) -> set[str]:
        cached = getattr(self, "_role_codes", None)
        if cached is None:
            cached = set(self.role_grants.values_list("role", flat=True)) if self.pk else set()
            self._role_codes = cached
        return cached

    def forget_cached_roles(self) -> None:
        for name in ("_role_codes", "_accessible_site_ids"):
            self.__dict__.pop(name, None)

    def has_role(self, role: Role | str) -> bool:
        return str(role) in self.role_codes

    def has_capability(self, capability: Capability | str) -> bool:
        return self.is_active and Capability(capability) in capabilities_of(self.role_codes)

    def accessible_site_ids(self) -> set[int]:
        cached = getattr(self, "_accessible_site_ids", None)
        if cached is None:
            if self.role_codes & {str(role) for role in SUBTREE_ROLES}:
                cached = self.site.descendant_ids()
            else:
                cached = {self.site_id}
            self._accessible_site_ids = cached
        return cached

    @property
    def two_factor_required(self) -> bool:
        return self.two_factor_opt_in or bool(
            self.role_codes & {str(role) for role in TWO_FACTOR_REQUIRED_ROLES}
        )

    def password_expired(self, now: Any = None) -> bool:
        if self.password_changed_at is None:
            return True
        now = now or timezone.now()
        return now - self.password_changed_at > timedelta(days=settings.SERVICEHALL_PASSWORD_MAX_AGE_DAYS)

    def is_locked(self, now: Any = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or timezone.now())

    @property
    def masked_mobile_phone(self) -> str:
        return mask_mobile_phone(self.mobile_phone) if self.mobile_phone else ""

    @property
    def masked_resident_id(self) -> str:
        return mask_resident_id(self.resident_id) if self.resident_id else ""


class RoleGrant(models.Model):
    """角色授权 — one role held by one staff member, granted by a 安全管理员 (等保 2.0 三员分立).

    Serves seed 000 计算机使用和网络安全管理制度 2 (不得擅自更改系统数据): powers are granted by one
    post, audited, and never self-granted. ``site`` follows the holder's site, for row scoping.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(_("授权时间"), default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="role_grant_unique")]

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()}"
