"""Authentication backend: a password check that refuses locked and inactive accounts."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class StaffAuthenticationBackend(ModelBackend):
    def user_can_authenticate(self, user: Any) -> bool:
        return bool(getattr(user, "is_active", False)) and not user.is_locked()

    def get_user(self, user_id: int) -> Any:
        user = super().get_user(user_id)
        return user if user is not None and not user.is_locked() else None

    # Django's model permissions are not used: capabilities come from roles (accounts.roles).
    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()
