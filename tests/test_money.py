"""discretion.engine.money: statutory ranges from the fine forms, in whole yuan, and rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from discretion.engine.amounts import amount
from discretion.engine.money import Range, ceil_to, fine_range, fitting_step, round_to, wan, yuan_text
from discretion.rulebooks.models import MultipleFine, PerUnitFine, RangeFine, RateFine, UpToFine


def rate(lo: str, hi: str, floor: int | None = None) -> RateFine:
    return RateFine(kind="rate", base="total_investment", min_rate=Decimal(lo), max_rate=Decimal(hi), base_floor=floor)


def multiple(lo: str, hi: str, floor: int | None = None) -> MultipleFine:
    return MultipleFine(kind="multiple", base="disposal_cost", min_multiple=Decimal(lo), max_multiple=Decimal(hi), base_floor=floor)


# --- fine forms --------------------------------------------------------------------------------------


def test_range_is_its_statutory_minimum_and_maximum() -> None:
    """处十万元以上一百万元以下的罚款 is the range 100000–1000000."""
    r = fine_range(RangeFine(kind="range", min=100000, max=1000000), {})
    assert (r.min, r.max) == (100000, 1000000)
    assert "100000元（10万元）以上1000000元（100万元）以下" == r.text


def test_up_to_has_no_statutory_minimum() -> None:
    """处五万元以下的罚款 runs from zero to the maximum."""
    r = fine_range(UpToFine(kind="up_to", max=50000), {})
    assert (r.min, r.max) == (0, 50000)
    assert r.text == "50000元（5万元）以下"


def test_rate_rounds_the_minimum_up_and_the_maximum_down() -> None:
    """1%–5% of 12345.67 yuan is 123.4567–617.2835: the range kept inside the statute is 124–617."""
    r = fine_range(rate("0.01", "0.05"), {"total_investment": Decimal("12345.67")})
    assert (r.min, r.max) == (124, 617)


def test_rate_of_a_whole_base_is_exact() -> None:
    """1%–5% of 10,000,000 yuan is exactly 100000–500000."""
    r = fine_range(rate("0.01", "0.05"), {"total_investment": 10_000_000})
    assert (r.min, r.max) == (100000, 500000)
    assert "百分之1至百分之5" in r.text


def test_rate_without_its_base_has_no_computable_maximum() -> None:
    """Without the base fact the maximum cannot be computed and is None."""
    r = fine_range(rate("0.01", "0.05"), {})
    assert (r.min, r.max) == (0, None)
    assert "total_investment" in r.text


def test_rate_with_base_floor_uses_the_floor_when_the_base_is_below_it() -> None:
    """A rate's base below its floor is counted at the floor."""
    r = fine_range(rate("0.01", "0.05", floor=1_000_000), {"total_investment": 500_000})
    assert (r.min, r.max) == (10000, 50000)


@pytest.mark.parametrize(
    "base, lo, hi",
    [
        (Decimal("12345.67"), 123, 123),  # 123.4567 → 123
        (Decimal("12350"), 124, 124),  # 123.5 → 124 (half up)
        (Decimal("12349.99"), 123, 123),  # 123.4999 → 123
        (Decimal("10000"), 100, 100),
    ],
)
def test_fixed_rate_of_a_non_whole_base_is_one_amount_rounded_half_up(base: Decimal, lo: int, hi: int) -> None:
    """A fixed share (1%) of an amount that is not whole yuan is a single amount, rounded half up."""
    r = fine_range(rate("0.01", "0.01"), {"total_investment": base})
    assert (r.min, r.max) == (lo, hi)


def test_multiple_below_the_base_floor_is_counted_at_the_floor() -> None:
    """所需处置费用不足二十万元的，按二十万元计算: 3–5 times 100000 is computed on 200000."""
    r = fine_range(multiple("3", "5", floor=200_000), {"disposal_cost": 100_000})
    assert (r.min, r.max) == (600_000, 1_000_000)
    assert "不足200000元（20万元），按200000元（20万元）计算" in r.text


def test_multiple_above_the_base_floor_uses_the_base() -> None:
    """Above the floor the base itself is multiplied: 3–5 times 300000 is 900000–1500000."""
    r = fine_range(multiple("3", "5", floor=200_000), {"disposal_cost": 300_000})
    assert (r.min, r.max) == (900_000, 1_500_000)
    assert "不足" not in r.text


def test_multiple_at_the_base_floor_is_not_marked_as_raised() -> None:
    """A base exactly at the floor is not 不足 the floor."""
    r = fine_range(multiple("3", "5", floor=200_000), {"disposal_cost": 200_000})
    assert (r.min, r.max) == (600_000, 1_000_000)
    assert "不足" not in r.text


def test_multiple_without_floor_of_a_non_whole_base_stays_inside_the_statute() -> None:
    """1–3 times 1000.50 is 1000.50–3001.50: the whole-yuan range inside it is 1001–3001."""
    r = fine_range(multiple("1", "3"), {"disposal_cost": Decimal("1000.50")})
    assert (r.min, r.max) == (1001, 3001)


def test_per_unit_range_is_multiplied_by_the_count() -> None:
    """每次五千元以上二万元以下, three times, is 15000–60000."""
    r = fine_range(PerUnitFine(kind="per_unit", count="occurrences", unit_label="次", min=5000, max=20000), {"occurrences": 3})
    assert (r.min, r.max) == (15000, 60000)
    assert "共3次" in r.text


def test_per_unit_fixed_amount_is_multiplied_by_the_count() -> None:
    """每辆处五千元 for four vehicles is exactly 20000."""
    r = fine_range(PerUnitFine(kind="per_unit", count="vehicles", unit_label="辆", min=5000, max=5000), {"vehicles": 4})
    assert (r.min, r.max) == (20000, 20000)
    assert r.text.startswith("每辆5000元，")


# --- rounding ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, step, mode, expected",
    [
        ("150", 100, "half_up", 200),
        ("149.99", 100, "half_up", 100),
        ("250", 100, "half_up", 300),
        ("150", 100, "down", 100),
        ("199.99", 100, "down", 100),
        ("200", 100, "down", 200),
        ("514321", 1000, "half_up", 514000),
        ("514500", 1000, "half_up", 515000),
        ("12345.5", 1, "half_up", 12346),
        ("12345.5", 1, "down", 12345),
    ],
)
def test_round_to_rounds_to_a_multiple_of_the_step(amount: str, step: int, mode: str, expected: int) -> None:
    """round_to gives a multiple of the step, half up or down as the edition says."""
    assert round_to(Decimal(amount), step, mode) == expected


@pytest.mark.parametrize(
    "amount, step, expected",
    [("101", 100, 200), ("100", 100, 100), ("100.01", 100, 200), ("0", 100, 0), ("50000.5", 1, 50001)],
)
def test_ceil_to_rounds_up_to_a_multiple_of_the_step(amount: str, step: int, expected: int) -> None:
    """ceil_to never goes below its amount, so a floor stays a floor."""
    assert ceil_to(Decimal(amount), step) == expected


def test_round_to_refuses_an_unknown_mode() -> None:
    """Only the two modes an edition may name are known."""
    with pytest.raises(KeyError):
        round_to(Decimal(150), 100, "half_even")


@pytest.mark.parametrize(
    "step, maximum, minimum, expected",
    [(1000, 500, 0, 100), (1000, 50, 0, 10), (1000, 1000, 0, 1000), (1000, 200000, 0, 1000), (100, 500, 0, 100), (1000, 5, 0, 1),
     (500, 200, 0, 50), (1000, 2000, 200, 100), (1000, 500, 100, 100), (1000, 20000, 2000, 1000), (1000, 100000, 5000, 1000),
     (100, 5000, 500, 100), (100, 5000, 50, 10)],
)
def test_fitting_step_is_finer_only_for_a_range_under_the_step(step: int, maximum: int, minimum: int, expected: int) -> None:
    """A range whose maximum is below the edition's step, or whose minimum is below it and not a multiple of it, is rounded in tenths of the step (until it fits); others keep the step."""
    assert fitting_step(step, maximum, minimum) == expected


def test_a_fine_of_up_to_500_yuan_is_graded_under_a_1000_yuan_step() -> None:
    """处五百元以下 under an edition rounding to 1000 元 is placed by its position in 100 元 steps, not always at 500 元."""
    got = [amount(Range(0, 500, ""), Decimal(p), 1000, "half_up", 5) for p in ("0", "0.5", "1")]
    assert got == [(100, (100, 100)), (300, (200, 300)), (500, (400, 500))]
    small = [amount(Range(200, 2000, ""), Decimal(p), 1000, "half_up", 5) for p in ("0", "1")]  # 二百元以上二千元以下
    assert small == [(200, (200, 600)), (2000, (1600, 2000))]


# --- amounts as text ------------------------------------------------------------------------------


@pytest.mark.parametrize("amount, text", [(125000, "12.5"), (100000, "10"), (10000, "1"), (1234567, "123.4567")])
def test_wan_writes_amounts_in_ten_thousands_without_trailing_zeros(amount: int, text: str) -> None:
    """12.5 万元, 10 万元: no exponent and no trailing zeros."""
    assert wan(amount) == text


@pytest.mark.parametrize("amount, text", [(9999, "9999元"), (10000, "10000元（1万元）"), (250000, "250000元（25万元）")])
def test_yuan_text_adds_wan_from_ten_thousand_yuan(amount: int, text: str) -> None:
    """Amounts from 10000 yuan are also given in 万元."""
    assert yuan_text(amount) == text
