"""Tests for redaction of personal data in text and log records."""

from __future__ import annotations

import io
import logging
import sys
import uuid
from collections.abc import Iterator

import pytest

from servicehall.lib.identity import resident_id_check_character, unified_social_credit_code_check_character
from servicehall.lib.redaction import (
    REDACTION_FAILED_MESSAGE,
    PersonalDataRedactingFilter,
    redact_personal_data,
)

RESIDENT_ID = "11010519491231002X"
MASKED_RESIDENT_ID = "1101**********002X"
MOBILE_PHONE = "13812345678"
MASKED_MOBILE_PHONE = "138****5678"
CREDIT_CODE = "91350100M000100Y43"
MASKED_CREDIT_CODE = "9135**********0Y43"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"身份证号{RESIDENT_ID}，请核对", f"身份证号{MASKED_RESIDENT_ID}，请核对"),
        ("id=11010519491231002x;", "id=1101**********002X;"),
        # Invalid check digit: still somebody's number, or a typo of one.
        ("id 110105194912310021 end", "id 1101**********0021 end"),
        ("123456789012345678", "1234**********5678"),
        ("11010519491231002X5", "1101**********002X5"),
        ("abc110105194912310021", "abc1101**********0021"),
        ("1101051949123100219", "1101051949123100219"),
        ("01101051949123100219", "01101051949123100219"),
        ("11010519491231002", "11010519491231002"),
    ],
)
def test_redacts_resident_ids(text: str, expected: str) -> None:
    assert redact_personal_data(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"统一社会信用代码：{CREDIT_CODE}。", f"统一社会信用代码：{MASKED_CREDIT_CODE}。"),
        ("code 91350100m000100y43", f"code {MASKED_CREDIT_CODE}"),
        ("code 91350100M000100Y44", "code 91350100M000100Y44"),
        ("token a91350100M000100Y43", "token a91350100M000100Y43"),
        ("token 91350100M000100Y43b", "token 91350100M000100Y43b"),
    ],
)
def test_redacts_unified_social_credit_codes_that_pass_the_check_character(text: str, expected: str) -> None:
    assert redact_personal_data(text) == expected


def test_redacts_generated_credit_code_with_unusual_registration_authority() -> None:
    code = "B1350100M000100Y4" + unified_social_credit_code_check_character("B1350100M000100Y4")
    assert redact_personal_data(f"[{code}]") == "[B135**********" + code[-4:] + "]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"电话{MOBILE_PHONE}。", f"电话{MASKED_MOBILE_PHONE}。"),
        ("tel:+8613812345678", f"tel:+86{MASKED_MOBILE_PHONE}"),
        ("tel:+86 138-1234-5678", f"tel:+86 {MASKED_MOBILE_PHONE}"),
        ("tel 008613812345678", f"tel 0086{MASKED_MOBILE_PHONE}"),
        ("tel 8613812345678", f"tel 86{MASKED_MOBILE_PHONE}"),
        ("tel 138 1234 5678", f"tel {MASKED_MOBILE_PHONE}"),
        ("19912345678,13012345678", "199****5678,130****5678"),
        ("12812345678", "12812345678"),
        ("138123456789", "138123456789"),
        ("013812345678", "013812345678"),
        ("1381234567", "1381234567"),
    ],
)
def test_redacts_mobile_phones(text: str, expected: str) -> None:
    assert redact_personal_data(text) == expected


def test_redacts_everything_in_one_text() -> None:
    text = f"申请人 {RESIDENT_ID} 手机 {MOBILE_PHONE} 单位 {CREDIT_CODE}"
    assert redact_personal_data(text) == (
        f"申请人 {MASKED_RESIDENT_ID} 手机 {MASKED_MOBILE_PHONE} 单位 {MASKED_CREDIT_CODE}"
    )


@pytest.mark.parametrize(
    "text",
    ["", "nothing personal here", "订单 2024061512 金额 1380.00", "\ud800\x00", "😀" * 100, "1" * 10_000],
)
def test_leaves_text_without_personal_data_unchanged(text: str) -> None:
    assert redact_personal_data(text) == text


def test_redaction_is_idempotent() -> None:
    once = redact_personal_data(f"{RESIDENT_ID} {MOBILE_PHONE} {CREDIT_CODE} 110105194912310021")
    assert redact_personal_data(once) == once


def test_redacts_a_large_text_completely() -> None:
    line = f"窗口受理 申请人{RESIDENT_ID} 电话{MOBILE_PHONE} 单位{CREDIT_CODE} 流水号20240615-000123\n"
    redacted = redact_personal_data(line * 5_000)
    assert RESIDENT_ID not in redacted
    assert MOBILE_PHONE not in redacted
    assert CREDIT_CODE not in redacted
    assert redacted.count(MASKED_RESIDENT_ID) == 5_000


def test_property_redacted_text_never_contains_a_generated_resident_id() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    strategies = pytest.importorskip("hypothesis.strategies")

    @hypothesis.settings(database=None)
    @hypothesis.given(
        prefix=strategies.text(alphabet=strategies.characters(blacklist_categories=("Nd",))),
        first_seventeen=strategies.from_regex(r"[1-8][0-9]{16}", fullmatch=True),
        suffix=strategies.text(alphabet=strategies.characters(blacklist_categories=("Nd",))),
    )
    def check(prefix: str, first_seventeen: str, suffix: str) -> None:
        resident_id = first_seventeen + resident_id_check_character(first_seventeen)
        redacted = redact_personal_data(prefix + resident_id + suffix)
        assert resident_id not in redacted
        assert resident_id[:4] + "**********" + resident_id[-4:] in redacted

    check()


def test_property_redaction_never_raises() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    strategies = pytest.importorskip("hypothesis.strategies")

    @hypothesis.settings(database=None)
    @hypothesis.given(text=strategies.text())
    def check(text: str) -> None:
        assert isinstance(redact_personal_data(text), str)

    check()


@pytest.fixture
def captured_logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(PersonalDataRedactingFilter())
    logger = logging.getLogger(f"servicehall.tests.redaction.{uuid.uuid4().hex}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)
    handler.close()


def test_filter_redacts_formatted_log_message(captured_logger: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured_logger

    logger.info("申请人 %s 手机 %s", RESIDENT_ID, MOBILE_PHONE)

    output = stream.getvalue()
    assert output == f"INFO 申请人 {MASKED_RESIDENT_ID} 手机 {MASKED_MOBILE_PHONE}\n"
    assert RESIDENT_ID not in output
    assert MOBILE_PHONE not in output


def test_filter_redacts_mapping_arguments(captured_logger: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured_logger

    logger.warning("单位 %(code)s", {"code": CREDIT_CODE})

    assert stream.getvalue() == f"WARNING 单位 {MASKED_CREDIT_CODE}\n"


def test_filter_redacts_non_string_messages(captured_logger: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured_logger

    logger.info({"phone": MOBILE_PHONE})

    assert stream.getvalue() == f"INFO {{'phone': '{MASKED_MOBILE_PHONE}'}}\n"


def test_filter_redacts_exception_traceback(captured_logger: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured_logger
    resident_id = RESIDENT_ID

    try:
        raise ValueError(f"身份证号 {resident_id} 已存在")
    except ValueError:
        logger.exception("办理失败 %s", MOBILE_PHONE)

    output = stream.getvalue()
    assert output.startswith(f"ERROR 办理失败 {MASKED_MOBILE_PHONE}\nTraceback (most recent call last):\n")
    assert output.endswith(f"ValueError: 身份证号 {MASKED_RESIDENT_ID} 已存在\n")
    assert RESIDENT_ID not in output
    assert MOBILE_PHONE not in output


def test_filter_redacts_exception_text_cached_by_an_earlier_formatter() -> None:
    record = logging.LogRecord("test", logging.ERROR, __file__, 1, "failed", (), None)
    record.exc_text = f"Traceback (most recent call last):\nKeyError: '{RESIDENT_ID}'"

    assert PersonalDataRedactingFilter().filter(record) is True

    assert record.exc_text == f"Traceback (most recent call last):\nKeyError: '{MASKED_RESIDENT_ID}'"


def test_filter_sets_redacted_exception_text_from_exception_info() -> None:
    try:
        raise RuntimeError(MOBILE_PHONE)
    except RuntimeError:
        record = logging.LogRecord("test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())

    PersonalDataRedactingFilter().filter(record)

    assert record.exc_text is not None
    assert record.exc_text.endswith(f"RuntimeError: {MASKED_MOBILE_PHONE}")
    assert logging.Formatter().format(record) == "failed\n" + record.exc_text


def test_filter_redacts_stack_info() -> None:
    record = logging.LogRecord(
        "test", logging.INFO, __file__, 1, "ok", (), None, sinfo=f"Stack: {MOBILE_PHONE}"
    )

    PersonalDataRedactingFilter().filter(record)

    assert record.stack_info == f"Stack: {MASKED_MOBILE_PHONE}"


def test_filter_replaces_message_and_clears_arguments() -> None:
    record = logging.LogRecord("test", logging.INFO, __file__, 1, "手机 %s 进度 100%%", (MOBILE_PHONE,), None)

    assert PersonalDataRedactingFilter().filter(record) is True

    assert record.msg == f"手机 {MASKED_MOBILE_PHONE} 进度 100%"
    assert record.args == ()
    assert record.getMessage() == f"手机 {MASKED_MOBILE_PHONE} 进度 100%"


def test_filter_redacts_arguments_of_a_broken_format_string() -> None:
    record = logging.LogRecord("test", logging.INFO, __file__, 1, "手机 %d", (MOBILE_PHONE,), None)

    assert PersonalDataRedactingFilter().filter(record) is True

    assert record.msg == f"手机 %d ('{MASKED_MOBILE_PHONE}',)"
    assert record.args == ()


def test_filter_drops_content_it_cannot_render() -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError(MOBILE_PHONE)

    record = logging.LogRecord("test", logging.INFO, __file__, 1, Unprintable(), (), None)

    assert PersonalDataRedactingFilter().filter(record) is True

    assert record.getMessage() == REDACTION_FAILED_MESSAGE
    assert REDACTION_FAILED_MESSAGE.startswith("日志脱敏失败")


def test_filter_on_two_handlers_redacts_once_and_both_see_masked_output() -> None:
    first_stream, second_stream = io.StringIO(), io.StringIO()
    logger = logging.getLogger(f"servicehall.tests.redaction.{uuid.uuid4().hex}")
    logger.propagate = False
    handlers = [logging.StreamHandler(first_stream), logging.StreamHandler(second_stream)]
    for handler in handlers:
        handler.addFilter(PersonalDataRedactingFilter())
        logger.addHandler(handler)

    logger.warning("身份证 %s", RESIDENT_ID)

    assert first_stream.getvalue() == f"身份证 {MASKED_RESIDENT_ID}\n"
    assert second_stream.getvalue() == f"身份证 {MASKED_RESIDENT_ID}\n"
    for handler in handlers:
        logger.removeHandler(handler)
