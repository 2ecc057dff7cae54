"""Validation and masking of Chinese identity numbers, mobile numbers and names.

Covers the 18-digit citizen identity number (GB 11643-1999), the unified social
credit code (GB 32100-2015) and mainland mobile numbers. Masked forms are the
default display everywhere; the raw value is shown only where a view explicitly
needs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Final

MASK_CHARACTER: Final = "*"

# U+FF01..U+FF5E mirror ASCII 0x21..0x7E; U+3000 is the ideographic space.
_FULL_WIDTH_TO_HALF_WIDTH: Final = {
    code_point: code_point - 0xFEE0 for code_point in range(0xFF01, 0xFF5F)
} | {0x3000: 0x20}

_RESIDENT_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_ID_CHECK_CHARACTERS: Final = "10X98765432"
_RESIDENT_ID_SHAPE: Final = re.compile(r"[0-9]{17}[0-9X]")
_SEVENTEEN_DIGITS: Final = re.compile(r"[0-9]{17}")
_EARLIEST_BIRTH_DATE: Final = date(1900, 1, 1)

UNIFIED_SOCIAL_CREDIT_CODE_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_UNIFIED_SOCIAL_CREDIT_CODE_VALUES: Final = {
    character: value for value, character in enumerate(UNIFIED_SOCIAL_CREDIT_CODE_ALPHABET)
}
_UNIFIED_SOCIAL_CREDIT_CODE_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_REGISTRATION_AUTHORITY_CODES: Final = frozenset("123456789ANY")
_UNIFIED_SOCIAL_CREDIT_CODE_SHAPE: Final = re.compile(r"[0-9A-HJ-NP-RTUW-Y]{18}")
_SIX_DIGITS: Final = re.compile(r"[0-9]{6}")

_MOBILE_PHONE_SEPARATORS: Final = re.compile(r"[\s-]+")
_ONLY_DIGITS: Final = re.compile(r"[0-9]*")
_MOBILE_PHONE: Final = re.compile(r"1[3-9][0-9]{9}")


class IdentityValidationError(ValueError):
    """A value is not a valid identity number; `message` is Chinese first, then English.

    Messages never quote the rejected value, because error messages end up in logs
    and form errors where the raw number must not appear.
    """

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _to_half_width(value: str) -> str:
    return value.translate(_FULL_WIDTH_TO_HALF_WIDTH)


def _normalize_code(value: str) -> str:
    return "".join(_to_half_width(value).split()).upper()


def normalize_resident_id(value: str) -> str:
    """Remove whitespace, convert full-width characters to half-width and upper-case x to X."""
    return _normalize_code(value)


def resident_id_check_character(first_seventeen: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character for the first 17 digits of a resident ID."""
    if not _SEVENTEEN_DIGITS.fullmatch(first_seventeen):
        raise IdentityValidationError(
            "身份证号前17位须为数字 / The first 17 characters of a resident ID number must be digits",
            "resident_id_characters",
        )
    total = sum(
        int(digit) * weight for digit, weight in zip(first_seventeen, _RESIDENT_ID_WEIGHTS, strict=True)
    )
    return _RESIDENT_ID_CHECK_CHARACTERS[total % 11]


def _resident_id_birth_date(normalized: str, today: date) -> date:
    try:
        birth_date = date(int(normalized[6:10]), int(normalized[10:12]), int(normalized[12:14]))
    except ValueError:
        raise IdentityValidationError(
            "身份证号中的出生日期无效 / Invalid birth date in resident ID number",
            "resident_id_birth_date",
        ) from None
    if birth_date > today:
        raise IdentityValidationError(
            "身份证号中的出生日期晚于今天 / Birth date in resident ID number is in the future",
            "resident_id_birth_date_in_future",
        )
    if birth_date < _EARLIEST_BIRTH_DATE:
        raise IdentityValidationError(
            "身份证号中的出生日期早于1900年1月1日 / Birth date in resident ID number is before 1900-01-01",
            "resident_id_birth_date_before_1900",
        )
    return birth_date


def validate_resident_id(value: str, today: date | None = None) -> str:
    """Validate an 18-digit citizen identity number (GB 11643-1999) and return it normalized."""
    normalized = normalize_resident_id(value)
    if len(normalized) != 18:
        raise IdentityValidationError(
            "身份证号应为18位 / Resident ID number must be 18 characters long",
            "resident_id_length",
        )
    if not _RESIDENT_ID_SHAPE.fullmatch(normalized):
        raise IdentityValidationError(
            "身份证号前17位须为数字，最后一位须为数字或X"
            " / Resident ID number must be 17 digits followed by a digit or X",
            "resident_id_characters",
        )
    # The full area-code table changes with every administrative redivision, so only
    # the province-level first digit is checked.
    if normalized[0] not in "12345678":
        raise IdentityValidationError(
            "身份证号地址码无效 / Invalid area code in resident ID number",
            "resident_id_area_code",
        )
    _resident_id_birth_date(normalized, today if today is not None else date.today())
    if resident_id_check_character(normalized[:17]) != normalized[17]:
        raise IdentityValidationError(
            "身份证号校验位错误 / Invalid check digit in resident ID number",
            "resident_id_check_digit",
        )
    return normalized


def unified_social_credit_code_check_character(first_seventeen: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters of a credit code."""
    if len(first_seventeen) != 17 or any(
        character not in _UNIFIED_SOCIAL_CREDIT_CODE_VALUES for character in first_seventeen
    ):
        raise IdentityValidationError(
            "统一社会信用代码前17位须为规定字符集中的字符"
            " / The first 17 characters of a unified social credit code must come from its alphabet",
            "unified_social_credit_code_characters",
        )
    total = sum(
        _UNIFIED_SOCIAL_CREDIT_CODE_VALUES[character] * weight
        for character, weight in zip(first_seventeen, _UNIFIED_SOCIAL_CREDIT_CODE_WEIGHTS, strict=True)
    )
    return UNIFIED_SOCIAL_CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_unified_social_credit_code(value: str) -> str:
    """Validate an 18-character unified social credit code (GB 32100-2015) and return it normalized."""
    normalized = _normalize_code(value)
    if len(normalized) != 18:
        raise IdentityValidationError(
            "统一社会信用代码应为18位 / Unified social credit code must be 18 characters long",
            "unified_social_credit_code_length",
        )
    if not _UNIFIED_SOCIAL_CREDIT_CODE_SHAPE.fullmatch(normalized):
        raise IdentityValidationError(
            "统一社会信用代码包含无效字符（不使用I、O、Z、S、V）"
            " / Unified social credit code contains invalid characters (I, O, Z, S and V are not used)",
            "unified_social_credit_code_characters",
        )
    if normalized[0] not in _REGISTRATION_AUTHORITY_CODES:
        raise IdentityValidationError(
            "统一社会信用代码登记管理部门代码无效"
            " / Invalid registration authority code in unified social credit code",
            "unified_social_credit_code_registration_authority",
        )
    if not _SIX_DIGITS.fullmatch(normalized[2:8]):
        raise IdentityValidationError(
            "统一社会信用代码行政区划码须为6位数字"
            " / Area code in unified social credit code must be 6 digits",
            "unified_social_credit_code_area_code",
        )
    if unified_social_credit_code_check_character(normalized[:17]) != normalized[17]:
        raise IdentityValidationError(
            "统一社会信用代码校验位错误 / Invalid check character in unified social credit code",
            "unified_social_credit_code_check_character",
        )
    return normalized


def validate_mobile_phone(value: str) -> str:
    """Validate a mainland mobile number and return its 11 digits.

    Accepts an optional +86, 0086 or 86 country prefix and spaces or hyphens anywhere.
    """
    compact = _MOBILE_PHONE_SEPARATORS.sub("", _to_half_width(value))
    if compact.startswith("+86"):
        compact = compact[3:]
    elif compact.startswith("0086"):
        compact = compact[4:]
    elif len(compact) == 13 and compact.startswith("86"):
        compact = compact[2:]
    if not _ONLY_DIGITS.fullmatch(compact):
        raise IdentityValidationError(
            "手机号码包含无效字符 / Mobile phone number contains invalid characters",
            "mobile_phone_characters",
        )
    if len(compact) != 11:
        raise IdentityValidationError(
            "手机号码应为11位数字 / Mobile phone number must be 11 digits",
            "mobile_phone_length",
        )
    if not _MOBILE_PHONE.fullmatch(compact):
        raise IdentityValidationError(
            "手机号码号段无效，须以13至19开头 / Mobile phone number must start with 13 to 19",
            "mobile_phone_format",
        )
    return compact


def _mask_malformed(value: str) -> str:
    stripped = value.strip()
    # Showing the first and last character of a one- or two-character value would show all of it.
    if len(stripped) <= 2:
        return MASK_CHARACTER * len(stripped)
    return stripped[0] + MASK_CHARACTER * (len(stripped) - 2) + stripped[-1]


def mask_resident_id(value: str) -> str:
    """Keep the first and last four characters of a well-formed resident ID, e.g. 3201**********123X.

    Well-formed means 17 digits plus a digit or X after normalization; the check digit
    and birth date are not required, so a mistyped number is still displayed the same way.
    Anything else is masked except its first and last character.
    """
    if not value:
        return ""
    normalized = normalize_resident_id(value)
    if _RESIDENT_ID_SHAPE.fullmatch(normalized):
        return normalized[:4] + MASK_CHARACTER * 10 + normalized[-4:]
    return _mask_malformed(value)


def mask_unified_social_credit_code(value: str) -> str:
    """Keep the first and last four characters of a well-formed credit code, e.g. 9135**********0Y43."""
    if not value:
        return ""
    normalized = _normalize_code(value)
    if _UNIFIED_SOCIAL_CREDIT_CODE_SHAPE.fullmatch(normalized):
        return normalized[:4] + MASK_CHARACTER * 10 + normalized[-4:]
    return _mask_malformed(value)


def mask_mobile_phone(value: str) -> str:
    """Keep the first three and last four digits of a valid mobile number, e.g. 138****5678."""
    if not value:
        return ""
    try:
        digits = validate_mobile_phone(value)
    except IdentityValidationError:
        return _mask_malformed(value)
    return digits[:3] + MASK_CHARACTER * 4 + digits[-4:]


def mask_name(value: str) -> str:
    """Keep only the first character of a name: 张三 -> 张*, 欧阳娜娜 -> 欧***; one character stays."""
    if not value:
        return ""
    name = value.strip()
    if len(name) <= 1:
        return name
    return name[0] + MASK_CHARACTER * (len(name) - 1)


_MASKERS: Final[Mapping[str, Callable[[str], str]]] = {
    "resident_id": mask_resident_id,
    "unified_social_credit_code": mask_unified_social_credit_code,
    "mobile_phone": mask_mobile_phone,
    "name": mask_name,
}

MASKABLE_KINDS: Final = frozenset(_MASKERS)


def mask_value(kind: str, value: str) -> str:
    """Mask `value` as the given kind: resident_id, unified_social_credit_code, mobile_phone or name.

    An unknown kind is a programming error and raises ValueError rather than
    silently showing or hiding the value.
    """
    masker = _MASKERS.get(kind)
    if masker is None:
        raise ValueError(f"未知的脱敏类型 / Unknown masking kind: {kind!r}")
    return masker(value)
