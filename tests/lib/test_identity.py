"""Tests for identity-number validation and masking."""

from __future__ import annotations

from datetime import date

import pytest

from servicehall.lib.identity import (
    MASKABLE_KINDS,
    UNIFIED_SOCIAL_CREDIT_CODE_ALPHABET,
    IdentityValidationError,
    mask_mobile_phone,
    mask_name,
    mask_resident_id,
    mask_unified_social_credit_code,
    mask_value,
    normalize_resident_id,
    resident_id_check_character,
    unified_social_credit_code_check_character,
    validate_mobile_phone,
    validate_resident_id,
    validate_unified_social_credit_code,
)

TODAY = date(2024, 6, 15)
KNOWN_VALID_RESIDENT_ID = "11010519491231002X"
KNOWN_VALID_UNIFIED_SOCIAL_CREDIT_CODE = "91350100M000100Y43"
ERROR_MESSAGES = {
    "resident_id_length": "身份证号应为18位 / Resident ID number must be 18 characters long",
    "resident_id_characters": (
        "身份证号前17位须为数字，最后一位须为数字或X"
        " / Resident ID number must be 17 digits followed by a digit or X"
    ),
    "resident_id_area_code": "身份证号地址码无效 / Invalid area code in resident ID number",
    "resident_id_birth_date": "身份证号中的出生日期无效 / Invalid birth date in resident ID number",
    "resident_id_birth_date_in_future": (
        "身份证号中的出生日期晚于今天 / Birth date in resident ID number is in the future"
    ),
    "resident_id_birth_date_before_1900": (
        "身份证号中的出生日期早于1900年1月1日 / Birth date in resident ID number is before 1900-01-01"
    ),
    "resident_id_check_digit": "身份证号校验位错误 / Invalid check digit in resident ID number",
    "unified_social_credit_code_length": (
        "统一社会信用代码应为18位 / Unified social credit code must be 18 characters long"
    ),
    "unified_social_credit_code_characters": (
        "统一社会信用代码包含无效字符（不使用I、O、Z、S、V）"
        " / Unified social credit code contains invalid characters (I, O, Z, S and V are not used)"
    ),
    "unified_social_credit_code_registration_authority": (
        "统一社会信用代码登记管理部门代码无效"
        " / Invalid registration authority code in unified social credit code"
    ),
    "unified_social_credit_code_area_code": (
        "统一社会信用代码行政区划码须为6位数字 / Area code in unified social credit code must be 6 digits"
    ),
    "unified_social_credit_code_check_character": (
        "统一社会信用代码校验位错误 / Invalid check character in unified social credit code"
    ),
    "mobile_phone_characters": "手机号码包含无效字符 / Mobile phone number contains invalid characters",
    "mobile_phone_length": "手机号码应为11位数字 / Mobile phone number must be 11 digits",
    "mobile_phone_format": "手机号码号段无效，须以13至19开头 / Mobile phone number must start with 13 to 19",
}
HOSTILE_VALUES = ["", " ", "\x00", "\u3000", "\ud800", "😀" * 30, "x" * 10_000, "１２３", "+86", "ß" * 18]


def make_resident_id(area: str = "320102", birth: str = "19900307", sequence: str = "123") -> str:
    first_seventeen = area + birth + sequence
    return first_seventeen + resident_id_check_character(first_seventeen)


def make_unified_social_credit_code(first_seventeen: str) -> str:
    return first_seventeen + unified_social_credit_code_check_character(first_seventeen)


def full_width(value: str) -> str:
    return "".join(chr(ord(character) + 0xFEE0) for character in value)


@pytest.mark.parametrize(
    ("first_seventeen", "expected"),
    [
        ("11010519491231002", "X"),
        ("32010219900307123", "9"),
        ("44030419851212001", "5"),
        ("00000000000000000", "1"),
    ],
)
def test_resident_id_check_character_matches_mod_11_2(first_seventeen: str, expected: str) -> None:
    assert resident_id_check_character(first_seventeen) == expected


@pytest.mark.parametrize("first_seventeen", ["1101051949123100", "110105194912310021", "1101051949123100X"])
def test_resident_id_check_character_rejects_malformed_prefix(first_seventeen: str) -> None:
    with pytest.raises(IdentityValidationError) as caught:
        resident_id_check_character(first_seventeen)
    assert caught.value.code == "resident_id_characters"


def test_known_real_format_resident_id_is_valid() -> None:
    assert validate_resident_id(KNOWN_VALID_RESIDENT_ID, today=TODAY) == "11010519491231002X"


def test_known_real_format_resident_id_with_wrong_check_digit_is_rejected() -> None:
    with pytest.raises(IdentityValidationError) as caught:
        validate_resident_id("110105194912310021", today=TODAY)
    assert caught.value.code == "resident_id_check_digit"
    assert caught.value.message == "身份证号校验位错误 / Invalid check digit in resident ID number"
    assert str(caught.value) == caught.value.message


def test_identity_validation_error_is_a_value_error() -> None:
    assert issubclass(IdentityValidationError, ValueError)


@pytest.mark.parametrize(
    "generated",
    [
        make_resident_id(),
        make_resident_id(area="110105", birth="19000101", sequence="000"),
        make_resident_id(area="810000", birth="20240615", sequence="999"),
        make_resident_id(area="650102", birth="20000229", sequence="456"),
    ],
)
def test_generated_resident_ids_are_valid(generated: str) -> None:
    assert validate_resident_id(generated, today=TODAY) == generated


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002x", "11010519491231002X"),
        (" 110105 19491231 002X ", "11010519491231002X"),
        (full_width("11010519491231002x"), "11010519491231002X"),
        ("１１０１０５\u3000１９４９１２３１\u3000００２Ｘ", "11010519491231002X"),
    ],
)
def test_normalize_resident_id(raw: str, expected: str) -> None:
    assert normalize_resident_id(raw) == expected


def test_validate_resident_id_accepts_and_returns_normalized_input() -> None:
    assert validate_resident_id(" " + full_width("11010519491231002x"), today=TODAY) == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "resident_id_length"),
        ("11010519491231002", "resident_id_length"),
        ("11010519491231002X1", "resident_id_length"),
        ("1101051949123100A2", "resident_id_characters"),
        ("X10105194912310021", "resident_id_characters"),
        ("11010519491231002Y", "resident_id_characters"),
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "resident_id_characters"),
        (make_resident_id(area="010105"), "resident_id_area_code"),
        (make_resident_id(area="910105"), "resident_id_area_code"),
        (make_resident_id(birth="19490230"), "resident_id_birth_date"),
        (make_resident_id(birth="19491301"), "resident_id_birth_date"),
        (make_resident_id(birth="00000101"), "resident_id_birth_date"),
        (make_resident_id(birth="20240616"), "resident_id_birth_date_in_future"),
        (make_resident_id(birth="18991231"), "resident_id_birth_date_before_1900"),
        ("320102199003071230", "resident_id_check_digit"),
    ],
)
def test_validate_resident_id_rejects_with_specific_error(value: str, code: str) -> None:
    with pytest.raises(IdentityValidationError) as caught:
        validate_resident_id(value, today=TODAY)
    assert caught.value.code == code
    assert caught.value.message == ERROR_MESSAGES[code]


def test_resident_id_error_message_never_quotes_the_value() -> None:
    with pytest.raises(IdentityValidationError) as caught:
        validate_resident_id("110105194912310021", today=TODAY)
    assert "110105194912310021" not in str(caught.value)


def test_validate_resident_id_defaults_today_to_the_real_date() -> None:
    next_new_year = date(date.today().year + 1, 1, 1)
    future = make_resident_id(birth=next_new_year.strftime("%Y%m%d"))
    with pytest.raises(IdentityValidationError) as caught:
        validate_resident_id(future)
    assert caught.value.code == "resident_id_birth_date_in_future"


def test_known_unified_social_credit_code_is_valid() -> None:
    assert unified_social_credit_code_check_character("91350100M000100Y4") == "3"
    assert validate_unified_social_credit_code(KNOWN_VALID_UNIFIED_SOCIAL_CREDIT_CODE) == "91350100M000100Y43"


@pytest.mark.parametrize(
    "first_seventeen",
    ["91110108MA01ABCD1", "12100000400000624", "51440300MJL123456", "Y2320102000000000", "N1110000012345678"],
)
def test_generated_unified_social_credit_codes_are_valid(first_seventeen: str) -> None:
    code = make_unified_social_credit_code(first_seventeen)
    assert validate_unified_social_credit_code(code) == code


def test_check_character_of_thirty_one_maps_to_zero() -> None:
    # A weighted sum divisible by 31 gives 31 - 0 = 31, which the standard writes as 0.
    assert unified_social_credit_code_check_character("00000000000000000") == "0"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("91350100m000100y43", "91350100M000100Y43"),
        (" 9135 0100 M000 100Y 43 ", "91350100M000100Y43"),
        (full_width("91350100m000100y43"), "91350100M000100Y43"),
    ],
)
def test_validate_unified_social_credit_code_normalizes(raw: str, expected: str) -> None:
    assert validate_unified_social_credit_code(raw) == expected


@pytest.mark.parametrize("position", range(18))
def test_every_single_character_change_is_detected(position: int) -> None:
    code = KNOWN_VALID_UNIFIED_SOCIAL_CREDIT_CODE
    for replacement in UNIFIED_SOCIAL_CREDIT_CODE_ALPHABET.replace(code[position], ""):
        mutated = code[:position] + replacement + code[position + 1 :]
        with pytest.raises(IdentityValidationError):
            validate_unified_social_credit_code(mutated)


@pytest.mark.parametrize("position", [1, *range(8, 18)])
def test_changes_in_free_positions_fail_on_the_check_character(position: int) -> None:
    code = make_unified_social_credit_code("91110108MA01ABCD1")
    for replacement in UNIFIED_SOCIAL_CREDIT_CODE_ALPHABET.replace(code[position], ""):
        mutated = code[:position] + replacement + code[position + 1 :]
        with pytest.raises(IdentityValidationError) as caught:
            validate_unified_social_credit_code(mutated)
        assert caught.value.code == "unified_social_credit_code_check_character"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("91350100M000100Y4", "unified_social_credit_code_length"),
        ("91350100M000100Y431", "unified_social_credit_code_length"),
        *[
            ("91350100M000100" + forbidden + "43", "unified_social_credit_code_characters")
            for forbidden in "IOZSV"
        ],
        ("91350100M000100Y4-", "unified_social_credit_code_characters"),
        (
            make_unified_social_credit_code("01350100M000100Y4"),
            "unified_social_credit_code_registration_authority",
        ),
        (
            make_unified_social_credit_code("B1350100M000100Y4"),
            "unified_social_credit_code_registration_authority",
        ),
        (make_unified_social_credit_code("9135A100M000100Y4"), "unified_social_credit_code_area_code"),
        ("91350100M000100Y44", "unified_social_credit_code_check_character"),
    ],
)
def test_validate_unified_social_credit_code_rejects_with_specific_error(value: str, code: str) -> None:
    with pytest.raises(IdentityValidationError) as caught:
        validate_unified_social_credit_code(value)
    assert caught.value.code == code
    assert caught.value.message == ERROR_MESSAGES[code]


@pytest.mark.parametrize("first_seventeen", ["91350100M000100Y", "91350100M000100YI", "91350100M000100Y4x"])
def test_unified_social_credit_code_check_character_rejects_malformed_prefix(first_seventeen: str) -> None:
    with pytest.raises(IdentityValidationError) as caught:
        unified_social_credit_code_check_character(first_seventeen)
    assert caught.value.code == "unified_social_credit_code_characters"


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+8613812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "008613812345678",
        "0086 138 1234 5678",
        "8613812345678",
        "86 13812345678",
        full_width("+8613812345678"),
        "\t13812345678\n",
    ],
)
def test_validate_mobile_phone_accepts_prefixes_and_separators(raw: str) -> None:
    assert validate_mobile_phone(raw) == "13812345678"


@pytest.mark.parametrize(
    "number", ["13012345678", "14512345678", "15912345678", "16612345678", "17012345678", "19912345678"]
)
def test_validate_mobile_phone_accepts_every_second_digit_from_three_to_nine(number: str) -> None:
    assert validate_mobile_phone(number) == number


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "mobile_phone_length"),
        ("1381234567", "mobile_phone_length"),
        ("138123456789", "mobile_phone_length"),
        ("+86", "mobile_phone_length"),
        ("1381234567a", "mobile_phone_characters"),
        ("+14155550123", "mobile_phone_characters"),
        ("(138)12345678", "mobile_phone_characters"),
        ("12812345678", "mobile_phone_format"),
        ("23812345678", "mobile_phone_format"),
        ("+8603812345678", "mobile_phone_format"),
    ],
)
def test_validate_mobile_phone_rejects_with_specific_error(value: str, code: str) -> None:
    with pytest.raises(IdentityValidationError) as caught:
        validate_mobile_phone(value)
    assert caught.value.code == code
    assert caught.value.message == ERROR_MESSAGES[code]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("32010219900307123X", "3201**********123X"),
        ("11010519491231002x", "1101**********002X"),
        # Well-formed but with a wrong check digit: displayed like any other ID.
        ("110105194912310021", "1101**********0021"),
        (full_width("11010519491231002X"), "1101**********002X"),
        ("12345", "1***5"),
        ("1101051949123100", "1**************0"),
        ("ab", "**"),
        ("a", "*"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_mask_resident_id(value: str, expected: str) -> None:
    assert mask_resident_id(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("91350100M000100Y43", "9135**********0Y43"),
        ("91350100m000100y43", "9135**********0Y43"),
        ("91350100M000100Y4I", "9****************I"),
        ("9135", "9**5"),
        ("", ""),
    ],
)
def test_mask_unified_social_credit_code(value: str, expected: str) -> None:
    assert mask_unified_social_credit_code(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", "138****5678"),
        ("+86 138-1234-5678", "138****5678"),
        ("12812345678", "1*********8"),
        ("12345", "1***5"),
        ("", ""),
    ],
)
def test_mask_mobile_phone(value: str, expected: str) -> None:
    assert mask_mobile_phone(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("张", "张"),
        (" 李四 ", "李*"),
        ("阿卜杜·热合曼", "阿******"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_mask_name(value: str, expected: str) -> None:
    assert mask_name(value) == expected


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("resident_id", "32010219900307123X", "3201**********123X"),
        ("unified_social_credit_code", "91350100M000100Y43", "9135**********0Y43"),
        ("mobile_phone", "13812345678", "138****5678"),
        ("name", "张三", "张*"),
    ],
)
def test_mask_value_dispatches_by_kind(kind: str, value: str, expected: str) -> None:
    assert mask_value(kind, value) == expected


def test_maskable_kinds_lists_every_kind() -> None:
    assert frozenset({"resident_id", "unified_social_credit_code", "mobile_phone", "name"}) == MASKABLE_KINDS


def test_mask_value_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="未知的脱敏类型 / Unknown masking kind: 'passport'"):
        mask_value("passport", "E12345678")


@pytest.mark.parametrize("kind", sorted(MASKABLE_KINDS))
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_masking_never_raises_and_reveals_at_most_the_ends_of_malformed_values(kind: str, value: str) -> None:
    masked = mask_value(kind, value)
    revealed = [character for character in masked if character != "*"]
    assert len(revealed) <= 2


def test_property_any_valid_prefix_with_its_check_character_validates() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    strategies = pytest.importorskip("hypothesis.strategies")

    @hypothesis.settings(database=None)
    @hypothesis.given(
        area=strategies.from_regex(r"[1-8][0-9]{5}", fullmatch=True),
        birth=strategies.dates(min_value=date(1900, 1, 1), max_value=TODAY),
        sequence=strategies.from_regex(r"[0-9]{3}", fullmatch=True),
    )
    def check(area: str, birth: date, sequence: str) -> None:
        generated = make_resident_id(area=area, birth=birth.strftime("%Y%m%d"), sequence=sequence)
        assert validate_resident_id(generated, today=TODAY) == generated

    check()


def test_property_changing_any_single_character_of_a_resident_id_breaks_it() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    strategies = pytest.importorskip("hypothesis.strategies")

    @hypothesis.settings(database=None)
    @hypothesis.given(
        area=strategies.from_regex(r"[1-8][0-9]{5}", fullmatch=True),
        birth=strategies.dates(min_value=date(1900, 1, 1), max_value=TODAY),
        sequence=strategies.from_regex(r"[0-9]{3}", fullmatch=True),
        position=strategies.integers(min_value=0, max_value=17),
        replacement=strategies.sampled_from("0123456789X"),
    )
    def check(area: str, birth: date, sequence: str, position: int, replacement: str) -> None:
        generated = make_resident_id(area=area, birth=birth.strftime("%Y%m%d"), sequence=sequence)
        hypothesis.assume(generated[position] != replacement)
        mutated = generated[:position] + replacement + generated[position + 1 :]
        with pytest.raises(IdentityValidationError):
            validate_resident_id(mutated, today=TODAY)

    check()


def test_property_masking_never_reveals_more_than_eight_characters_of_an_id() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    strategies = pytest.importorskip("hypothesis.strategies")

    @hypothesis.settings(database=None)
    @hypothesis.given(
        value=strategies.one_of(
            strategies.from_regex(r"[0-9]{17}[0-9Xx]", fullmatch=True),
            strategies.text(),
        )
    )
    def check(value: str) -> None:
        masked = mask_resident_id(value)
        assert len([character for character in masked if character != "*"]) <= 8

    check()


def test_property_generated_unified_social_credit_codes_validate() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    strategies = pytest.importorskip("hypothesis.strategies")
    alphabet = strategies.sampled_from(UNIFIED_SOCIAL_CREDIT_CODE_ALPHABET)

    @hypothesis.settings(database=None)
    @hypothesis.given(
        authority=strategies.sampled_from("123456789ANY"),
        organisation_type=alphabet,
        area=strategies.from_regex(r"[0-9]{6}", fullmatch=True),
        organisation_code=strategies.text(
            alphabet=UNIFIED_SOCIAL_CREDIT_CODE_ALPHABET, min_size=9, max_size=9
        ),
    )
    def check(authority: str, organisation_type: str, area: str, organisation_code: str) -> None:
        code = make_unified_social_credit_code(authority + organisation_type + area + organisation_code)
        assert validate_unified_social_credit_code(code) == code

    check()


def test_property_masking_never_raises_on_any_text() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    strategies = pytest.importorskip("hypothesis.strategies")

    @hypothesis.settings(database=None)
    @hypothesis.given(kind=strategies.sampled_from(sorted(MASKABLE_KINDS)), value=strategies.text())
    def check(kind: str, value: str) -> None:
        assert isinstance(mask_value(kind, value), str)

    check()
