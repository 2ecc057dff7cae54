"""Redaction of personal data in free text and log records.

`PersonalDataRedactingFilter` is installed on every log handler so that resident ID
numbers, unified social credit codes and mobile numbers never reach a log file in
the clear.
"""

from __future__ import annotations

import logging
import re
from typing import Final

from servicehall.lib.identity import (
    mask_mobile_phone,
    mask_resident_id,
    mask_unified_social_credit_code,
    unified_social_credit_code_check_character,
)

# An 18-digit run, or 17 digits followed by X: the X ends the digit run, so a digit
# right after it does not make the number part of a longer run.
_RESIDENT_ID_PATTERN: Final = re.compile(r"(?<![0-9])(?:[0-9]{17}[Xx]|[0-9]{18}(?![0-9]))")

# Requiring non-alphanumeric neighbours keeps 18-character slices of longer tokens
# (hashes, session keys) from being mistaken for credit codes.
_UNIFIED_SOCIAL_CREDIT_CODE_PATTERN: Final = re.compile(
    r"(?<![0-9A-Za-z])[0-9A-HJ-NP-RTUW-Ya-hj-np-rtuw-y]{18}(?![0-9A-Za-z])"
)

# People write numbers as 138 1234 5678 or 138-1234-5678 too, and those must not leak either.
_MOBILE_PHONE_PATTERN: Final = re.compile(
    r"(?<![0-9])(?P<prefix>(?:\+|00)?86[ -]?)?(?P<number>1[3-9][0-9](?:[ -]?[0-9]{4}){2})(?![0-9])"
)

_EXCEPTION_FORMATTER: Final = logging.Formatter()

REDACTION_FAILED_MESSAGE: Final = (
    "日志脱敏失败，原始内容已丢弃 / Log redaction failed, original message discarded"
)


def _mask_resident_id_match(match: re.Match[str]) -> str:
    return mask_resident_id(match.group())


def _mask_unified_social_credit_code_match(match: re.Match[str]) -> str:
    candidate = match.group().upper()
    # Only the check character decides: a code with an unusual registration authority
    # or area code is still someone's code and must not leak.
    if unified_social_credit_code_check_character(candidate[:17]) != candidate[17]:
        return match.group()
    return mask_unified_social_credit_code(candidate)


def _mask_mobile_phone_match(match: re.Match[str]) -> str:
    return (match.group("prefix") or "") + mask_mobile_phone(match.group("number"))


def redact_personal_data(text: str) -> str:
    """Replace resident IDs, check-valid unified social credit codes and mobile numbers with masked forms."""
    redacted = _RESIDENT_ID_PATTERN.sub(_mask_resident_id_match, text)
    redacted = _UNIFIED_SOCIAL_CREDIT_CODE_PATTERN.sub(_mask_unified_social_credit_code_match, redacted)
    return _MOBILE_PHONE_PATTERN.sub(_mask_mobile_phone_match, redacted)


def _render_message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:
        # A bad format string would otherwise make logging print the raw arguments to
        # stderr via Handler.handleError, so keep them, but as redactable text.
        return f"{record.msg} {record.args!r}"


class PersonalDataRedactingFilter(logging.Filter):
    """Redact personal data in a record's message, traceback and stack; always lets the record through.

    Attach it to every handler: filters on a logger do not see records propagated from
    child loggers. Records are rewritten in place, and redacting twice is harmless.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg = redact_personal_data(_render_message(record))
            record.args = ()
            # Formatter.format reuses a cached exc_text, so filling it here means the
            # traceback any formatter prints is the redacted one.
            if record.exc_info and not record.exc_text:
                record.exc_text = _EXCEPTION_FORMATTER.formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = redact_personal_data(record.exc_text)
            if record.stack_info:
                record.stack_info = redact_personal_data(record.stack_info)
        except Exception:
            # Raising from a filter would propagate into the code that logged, and
            # passing the record on unredacted would leak; dropping the content is the safe choice.
            record.msg = REDACTION_FAILED_MESSAGE
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True
