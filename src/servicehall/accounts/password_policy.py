"""Password rules of the 等保 2.0 level 3 assessment: length, character classes (expiry is in the model),
and the Chinese wording of every refusal the configured validators can give."""

from __future__ import annotations

import string
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def character_classes(password: str) -> int:
    classes = [
        any(character in string.ascii_lowercase for character in password),
        any(character in string.ascii_uppercase for character in password),
        any(character.isdigit() for character in password),
        any(not character.isalnum() for character in password),
    ]
    return sum(classes)


class CharacterClassValidator:
    """At least N of: lower-case letters, upper-case letters, digits, symbols."""

    def __init__(self, minimum_classes: int = 3) -> None:
        self.minimum_classes = minimum_classes

    def validate(self, password: str, user: Any = None) -> None:
        if character_classes(password) < self.minimum_classes:
            raise ValidationError(
                _("密码须包含小写字母、大写字母、数字、符号中的至少 %(count)d 类。")
                % {"count": self.minimum_classes},
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return _("至少包含小写字母、大写字母、数字、符号中的 %(count)d 类字符。") % {
            "count": self.minimum_classes
        }


def _explain(error: ValidationError) -> str:
    """One refusal in our own Chinese words: Django's catalogue lags behind its messages (e.g. length)."""
    parameters = error.params or {}
    if error.code == "password_too_short":
        return _("密码至少须 %(count)d 位。") % {"count": parameters.get("min_length", 8)}
    if error.code == "password_too_similar":
        return _("密码与%(attribute)s过于相似。") % {
            "attribute": parameters.get("verbose_name", _("账户信息"))
        }
    if error.code == "password_too_common":
        return _("密码过于常见，容易被猜中。")
    if error.code == "password_entirely_numeric":
        return _("密码不能全为数字。")
    return " ".join(error.messages)


def policy_problems(password: str, user: Any = None) -> list[str]:
    """Every rule of AUTH_PASSWORD_VALIDATORS the password breaks, as messages for the person typing it."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        return [_explain(problem) for problem in error.error_list]
    return []
