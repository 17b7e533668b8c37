"""discretion.engine.identity: the check characters of 统一社会信用代码 (GB 32100-2015) and 公民身份号码
(GB 11643-1999), and the masking of personal identity numbers."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from discretion.engine.identity import (
    CITIZEN_WEIGHTS,
    USCC_CHARS,
    USCC_WEIGHTS,
    citizen_check_digit,
    id_code_problem,
    is_citizen_id,
    is_uscc,
    masked,
    uscc_check_char,
)

# Examples printed in the standards and by the registers.
GB11643_EXAMPLES = ["11010519491231002X", "440524188001010014"]
USCC_EXAMPLES = ["91350100M000100Y43", "91110000600037341L"]


@st.composite
def usccs(draw: st.DrawFn) -> str:
    """A valid 统一社会信用代码: 17 characters of the code's alphabet and their computed check character."""
    body = draw(st.text(alphabet=USCC_CHARS, min_size=17, max_size=17))
    return body + uscc_check_char(body)


@st.composite
def citizen_ids(draw: st.DrawFn) -> str:
    """A valid 公民身份号码: an address code, a real date of birth, a sequence and the computed check digit."""
    address = draw(st.integers(110000, 829999))
    born = draw(st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)))
    seq = draw(st.integers(0, 999))
    body = f"{address:06d}{born:%Y%m%d}{seq:03d}"
    return body + citizen_check_digit(body)


def test_the_weights_are_those_the_standards_print() -> None:
    """GB 32100-2015 prints the weights 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28; GB 11643-1999 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2."""
    assert USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert CITIZEN_WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    assert len(USCC_CHARS) == 31 and not set("IOSVZ") & set(USCC_CHARS)


@pytest.mark.parametrize("code", GB11643_EXAMPLES)
def test_the_standards_example_identity_numbers_are_valid(code: str) -> None:
    """The examples of GB 11643-1999 (11010519491231002X with an X) pass the check."""
    assert is_citizen_id(code) and id_code_problem(code, "individual") is None


@pytest.mark.parametrize("code", USCC_EXAMPLES)
def test_published_credit_codes_are_valid(code: str) -> None:
    """Codes as registered (with letters and a letter as check character) pass the check."""
    assert is_uscc(code) and id_code_problem(code, "unit") is None


def single_changes(code: str, alphabet: str) -> list[str]:
    """Every code that differs from ``code`` in exactly one character, taken from ``alphabet``."""
    return [code[:i] + c + code[i + 1:] for i in range(len(code)) for c in alphabet if c != code[i]]


@given(usccs())
def test_a_generated_credit_code_is_valid_and_any_single_character_change_is_caught(code: str) -> None:
    """Every substitution of one character by another of the alphabet breaks the check (MOD 31 is prime)."""
    assert is_uscc(code)
    for changed in single_changes(code, USCC_CHARS):
        assert not is_uscc(changed) and id_code_problem(changed, "unit") is not None, changed


@given(citizen_ids())
def test_a_generated_identity_number_is_valid_and_any_single_character_change_is_caught(code: str) -> None:
    """Every substitution of one character (a digit, or X anywhere) breaks the check (MOD 11 is prime)."""
    assert is_citizen_id(code)
    for changed in single_changes(code, "0123456789X"):
        assert not is_citizen_id(changed) and id_code_problem(changed, "individual") is not None, changed


@given(citizen_ids())
def test_a_personal_number_for_a_unit_is_a_kind_mismatch(code: str) -> None:
    """A valid 公民身份号码 given for a unit is refused as the wrong kind (unless it happens to pass GB 32100 too)."""
    if not is_uscc(code):
        assert id_code_problem(code, "unit") is not None
        assert id_code_problem(code, "unit")[0] == "id_code_kind_mismatch"  # type: ignore[index]


@given(usccs())
def test_a_credit_code_for_an_individual_is_a_kind_mismatch(code: str) -> None:
    """A valid 统一社会信用代码 given for an individual is refused as the wrong kind."""
    if not is_citizen_id(code):
        assert id_code_problem(code, "individual") == ("id_code_kind_mismatch", id_code_problem(code, "individual")[1])  # type: ignore[index]


@pytest.mark.parametrize(("code", "kind", "says"), [
    ("9135010", "unit", "18 位"),
    ("91350100M000100I43", "unit", "不含 I"),
    ("91350100M000100Y44", "unit", "校验不通过"),
    ("110105194912310021", "individual", "校验不通过"),
    ("110105194902300020", "individual", "出生日期"),  # 2月30日, with a right check digit
    ("1101051949123100X2", "individual", "前 17 位须为数字"),
    ("110105491231002", "individual", "15 位"),
])
def test_each_malformed_code_is_named_in_chinese_without_repeating_it(code: str, kind: str, says: str) -> None:
    """A wrong length, character, date of birth or check character has its own message, which never echoes the code."""
    problem = id_code_problem(code, kind)  # type: ignore[arg-type]
    assert problem is not None and problem[0] == "invalid_id_code"
    assert says in problem[1] and code not in problem[1]


def test_a_personal_number_is_masked_to_its_first_and_last_four_and_a_credit_code_is_shown() -> None:
    """Lists and pages show 1101**********002X for a person, and a unit's code in full (public by law)."""
    assert masked("11010519491231002X", "individual") == "1101**********002X"
    assert masked("91350100M000100Y43", "unit") == "91350100M000100Y43"


@given(citizen_ids())
def test_a_masked_number_keeps_no_digit_of_the_date_of_birth(code: str) -> None:
    """The mask hides the 10 middle characters: the date of birth and the sequence."""
    m = masked(code, "individual")
    assert len(m) == 18 and m[4:14] == "*" * 10 and m[:4] == code[:4] and m[14:] == code[14:]
