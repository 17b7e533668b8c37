"""discretion.engine.capitals: amounts in Chinese capitals as the payment rules write them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from discretion.engine.capitals import DIGITS, LIMIT, capitals, rmb


@pytest.mark.parametrize(("amount", "text"), [
    (375000, "叁拾柒万伍仟元整"),
    (10005, "壹万零伍元整"),
    (100000, "壹拾万元整"),
    (107000, "壹拾万柒仟元整"),
    (1000005, "壹佰万零伍元整"),
    (1010, "壹仟零壹拾元整"),
    (100010, "壹拾万零壹拾元整"),
    (100000005, "壹亿零伍元整"),
    (100070000, "壹亿零柒万元整"),
    (10, "壹拾元整"),
    (0, "零元整"),
    (10**12, "壹万亿元整"),
    (Decimal("1680.32"), "壹仟陆佰捌拾元叁角贰分"),
    (Decimal("16409.02"), "壹万陆仟肆佰零玖元零贰分"),
    (Decimal("325.04"), "叁佰贰拾伍元零肆分"),
    (Decimal("12.30"), "壹拾贰元叁角"),
    (Decimal("0.05"), "伍分"),
    (Decimal("0.50"), "伍角"),
    (Decimal("107000.53"), "壹拾万柒仟元伍角叁分"),
    (Decimal("5000.00"), "伍仟元整"),
])
def test_amounts_are_written_as_the_payment_rules_show(amount: int | Decimal, text: str) -> None:
    """零 between digits once, none after the last digit, 壹拾 for ten, 整 after whole yuan, 零 before a lone 分."""
    assert capitals(amount) == text


def test_the_currency_is_written_before_the_capitals() -> None:
    """rmb() is the form a decision prints: 人民币叁拾柒万伍仟元整."""
    assert rmb(375000) == "人民币叁拾柒万伍仟元整"


@pytest.mark.parametrize("bad", [-1, Decimal("0.001"), Decimal("NaN"), LIMIT])
def test_negative_unrepresentable_and_sub_fen_amounts_are_refused_not_rounded(bad: int | Decimal) -> None:
    """A third decimal place, a negative or a too large amount is a ValueError."""
    with pytest.raises(ValueError):
        capitals(bad)


def test_floats_and_booleans_are_not_money() -> None:
    """Money is int yuan or Decimal: 1.5 and True are refused."""
    for bad in (1.5, True):
        with pytest.raises(TypeError):
            capitals(bad)  # type: ignore[arg-type]


_VALUE = {c: i for i, c in enumerate(DIGITS)}
_PLACE = {"拾": 10, "佰": 100, "仟": 1000}
_SECTION = {"兆": 10**12, "亿": 10**8, "万": 10**4}


def _read(text: str) -> Decimal:
    """Reads capitals back (an independent parser): a place multiplies the digit before it, 万/亿/万亿
    the section before them."""
    yuan, has_yuan, small = text.replace("万亿", "兆").partition("元")
    if not has_yuan:  # only 角 and 分
        yuan, small = "", text
    total = section = digit = 0
    for ch in yuan:
        if ch in _VALUE:
            digit = _VALUE[ch]
        elif ch in _PLACE:
            section += digit * _PLACE[ch]
            digit = 0
        elif ch in _SECTION:
            total += (section + digit) * _SECTION[ch]
            section = digit = 0
    total += section + digit
    cents = sum(_VALUE[small[i - 1]] * (10 if ch == "角" else 1) for i, ch in enumerate(small) if ch in "角分")
    return Decimal(total) + Decimal(cents) / 100


@given(st.integers(0, 10**12))
def test_whole_yuan_read_back_to_the_same_amount(n: int) -> None:
    """Any whole amount up to the service's bound (10^12 yuan) reads back to itself and ends with 元整."""
    text = capitals(n)
    assert text.endswith("元整") and "零零" not in text and not text.startswith("零" if n else "-")
    assert _read(text) == n


@given(st.integers(0, 10**10 * 100 - 1))
def test_yuan_with_jiao_and_fen_read_back_to_the_same_amount(cents: int) -> None:
    """Decimals of 分 precision read back exactly; a text with 分 never ends with 整."""
    amount = Decimal(cents) / 100
    text = capitals(amount)
    assert _read(text) == amount
    assert text.endswith("分") != text.endswith(("整", "角"))
