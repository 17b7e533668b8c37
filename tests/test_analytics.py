"""discretion.review.analytics: quantiles from bins, the figures of a tally, a handler against the
bureau, the flags at their thresholds, and the like-case distance; each figure worked by hand."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from discretion.review import analytics as a


def test_a_quantile_interpolates_within_the_bin_it_falls_in() -> None:
    """Three cases in bins 10, 20 and 50: the median is half-way into bin 20 (1.5 of 3 cases: one below
    bin 20, half of its one case), 20.5; a quarter of four cases in one bin lies a quarter into it."""
    assert a.quantile({10: 1, 20: 1, 50: 1}, Fraction(1, 2)) == Fraction(41, 2)
    assert a.quantile({0: 4}, Fraction(1, 4)) == Fraction(1, 4)
    assert a.quantile({0: 10, 1: 10}, Fraction(5, 100)) == Fraction(1, 10)  # 1 of 20 cases: a tenth into bin 0
    assert a.quantile({-3: 2, 7: 2}, Fraction(1, 2)) == -2  # the end of bin -3
    assert a.quantile({}, Fraction(1, 2)) is None
    assert a.quantile({5: 0}, Fraction(1, 2)) is None


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.integers(-50, 150), st.integers(1, 50), min_size=1, max_size=30),
       st.fractions(0, 1), st.fractions(0, 1))
def test_quantiles_grow_with_q_and_stay_within_the_bins_counted(bins: dict[int, int], q1: Fraction, q2: Fraction) -> None:
    """A higher q never gives a lower quantile, and every quantile lies from the lowest bin's start to
    the highest bin's end."""
    lo, hi = sorted((q1, q2))
    x, y = a.quantile(bins, lo), a.quantile(bins, hi)
    assert x is not None and y is not None and x <= y
    assert min(bins) <= x and y <= max(bins) + 1


def test_percentages_are_rounded_half_up_and_never_negative_zero() -> None:
    """0.05 % rounds to 0.1, a third to 0.3; a tiny negative value is 0.0, not -0.0."""
    assert a.pct(Fraction(5, 100)) == Decimal("0.1")
    assert a.pct(Fraction(1, 3)) == Decimal("0.3")
    assert str(a.pct(Fraction(-1, 100))) == "0.0"
    assert a.pct(None) is None and a.share(1, 0) is None


# Counts by (violation, handler, bin, cases, below, above, waived), worked by hand below.
ROWS = [
    ("A", "h1", 10, 2, 0, 0, 0),
    ("A", "h1", 30, 1, 0, 1, 0),
    ("A", "h2", 20, 1, 1, 0, 0),
    ("A", "h2", None, 1, 0, 0, 1),  # decided 0 on a case without a statutory range: waived, no position
    ("B", "h1", 50, 1, 0, 0, 0),
]


def test_a_tally_gives_counts_rates_and_positions() -> None:
    """Type A: 5 cases, 1 below and 1 above the band (40 % outside), 1 waived (20 %), 4 with a position
    in bins 10, 10, 20, 30: the median is bin 10's end (2 of 4 cases), 11.0 %."""
    s = a.summarise(ROWS)
    f = s.by_type["A"].figures()
    assert (f["cases"], f["with_position"], f["below"], f["inside"], f["above"], f["waived"]) == (5, 4, 1, 3, 1, 1)
    assert f["outside_rate_pct"] == Decimal("40.0") and f["waiver_rate_pct"] == Decimal("20.0")
    assert f["position_pct"]["median"] == Decimal("11.0")
    assert s.bureau.cases == 6 and s.by_handler["h1"].cases == 4


def test_a_handler_is_compared_with_the_bureau_for_their_own_mix_of_types() -> None:
    """h1 decided 3 cases of A (bureau outside rate 2/5, waiver 1/5) and 1 of B (0/1): expected outside
    (3·2/5 + 0)/4 = 30 %, expected waiver (3·1/5)/4 = 15 %, observed 1 of 4 outside = 25 %. The
    medians: A's 11.0 (rounded 11), B's 50.5 (its one case half-way into bin 50, rounded 51); h1's
    departures −1, −1, 19 (A) and −1 (B): their median is a third of the way into bin −1 (2 of 4
    cases, 3 in that bin), −0.3."""
    s = a.summarise(ROWS)
    f = s.compare("h1").figures()
    assert f["expected_outside_rate_pct"] == Decimal("30.0") and f["outside_rate_pct"] == Decimal("25.0")
    assert f["outside_gap_pct"] == Decimal("-5.0")
    assert f["expected_waiver_rate_pct"] == Decimal("15.0")
    assert s.compare("h1").departures == Counter({-1: 3, 19: 1})
    assert f["departure_pct"]["median"] == Decimal("-0.3")
    assert f["flags"] == [] and f["enough_cases"] is False
    assert s.compare("h2").figures()["expected_outside_rate_pct"] == Decimal("40.0")
    assert s.compare("nobody").figures()["cases"] == 0


def _two_handlers(n: int, high_bin: int, high_above: int) -> a.Summary:
    """``n`` cases of one type by "steady" in bin 20 inside the band, and ``n`` by "other" in
    ``high_bin``, ``high_above`` of them above the band."""
    return a.summarise([("T", "steady", 20, n, 0, 0, 0), ("T", "other", high_bin, n, 0, high_above, 0)])


def test_a_handler_whose_outside_band_rate_departs_by_more_than_the_threshold_is_flagged_with_enough_cases() -> None:
    """30 of 30 above the band against a type rate of 50 %: 50 points above the expected (flagged);
    the steady handler's 0 % is 50 below (flagged low). With 29 cases each, neither is compared."""
    s = _two_handlers(a.MIN_CASES, 20, a.MIN_CASES)
    assert s.compare("other").flags() == ["outside_high"]
    assert s.compare("steady").flags() == ["outside_low"]
    few = _two_handlers(a.MIN_CASES - 1, 20, a.MIN_CASES - 1)
    assert few.compare("other").flags() == [] and few.compare("steady").flags() == []


def test_a_handler_whose_median_departure_exceeds_the_threshold_is_flagged() -> None:
    """30 cases in bin 20 and 30 in bin 60: the type's median is bin 20's end, 21; the other handler's
    departures are all 39 (median 39.5: position_high), the steady one's −1 (median −0.5: none).
    In bin 32 the departure is 11 (median 11.5, flagged); in bin 31, 10 (median 10.5, flagged: more
    than 10); in bin 30, 9 (median 9.5, not)."""
    assert _two_handlers(30, 60, 0).compare("other").flags() == ["position_high"]
    assert _two_handlers(30, 60, 0).compare("steady").flags() == []
    assert _two_handlers(30, 31, 0).compare("other").flags() == ["position_high"]
    assert _two_handlers(30, 30, 0).compare("other").flags() == []
    # 31 cases in bin 50 and 30 in bin 10: the median (30.5 of 61) is half a case into bin 50's 31,
    # 50.02, rounded 50; the other handler's departures are −40 (median −39.5)
    low = a.summarise([("T", "steady", 50, 31, 0, 0, 0), ("T", "other", 10, 30, 0, 0, 0)])
    assert low.compare("other").flags() == ["position_low"] and low.compare("steady").flags() == []


# --- like cases -----------------------------------------------------------------------------------

HERE = "f=area:1:0,exceedance:3:0.5|c=confessed|r=100000-1000000"
THERE = "f=area:2:0.25,exceedance:3:0.5,social_impact:1:0|c=first_offense|r=100000-1000000"


def test_features_read_back_as_they_were_written() -> None:
    """The features text parses into factors (level, exact score), circumstances and the range, and
    writes back the same."""
    f = a.parse_features(THERE)
    assert f.factors == {"area": (2, Fraction(1, 4)), "exceedance": (3, Fraction(1, 2)), "social_impact": (1, Fraction(0))}
    assert f.circumstances == {"first_offense"} and f.legal_range == "100000-1000000"
    assert f.text == THERE
    assert a.parse_features("f=|c=|r=-").factors == {}


def test_the_distance_counts_factor_scores_circumstances_and_the_range() -> None:
    """area 0 against 0.25 (0.25), exceedance equal, social_impact graded by one edition only (left
    out); confessed only here, first_offense only there (1 + 1); the same range: 2.25."""
    d = a.distance(a.parse_features(HERE), a.parse_features(THERE))
    assert d.total == Fraction(9, 4)
    assert d.factors == {"area": (1, 2)}
    assert d.only_here == {"confessed"} and d.only_there == {"first_offense"} and not d.range_differs
    other_range = a.parse_features(HERE.replace("r=100000-1000000", "r=50000-200000"))
    assert a.distance(a.parse_features(HERE), other_range).total == 1


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["area", "duration", "exceedance"]), st.integers(1, 5), max_size=3),
       st.dictionaries(st.sampled_from(["area", "duration", "exceedance"]), st.integers(1, 5), max_size=3),
       st.frozensets(st.sampled_from(["confessed", "first_offense", "repeat_offense"])),
       st.frozensets(st.sampled_from(["confessed", "first_offense", "repeat_offense"])))
def test_the_distance_is_symmetric_and_zero_to_itself(fa: dict[str, int], fb: dict[str, int], ca: frozenset[str],
                                                      cb: frozenset[str]) -> None:
    """d(a, b) = d(b, a) ≥ 0 and d(a, a) = 0."""
    x = a.Features({k: (v, Fraction(v - 1, 4)) for k, v in fa.items()}, ca, "1-2")
    y = a.Features({k: (v, Fraction(v - 1, 4)) for k, v in fb.items()}, cb, "1-2")
    assert a.distance(x, y).total == a.distance(y, x).total >= 0
    assert a.distance(x, x).total == 0


def test_the_nearest_profiles_are_taken_until_they_hold_enough_cases() -> None:
    """Three cases share this case's features (distance 0): they are enough for 2; for 4 the next
    nearest (0.25) is added, and the farther one (2.25) never."""
    near = HERE.replace("area:1:0", "area:2:0.25")
    profiles = [(THERE, 2), (HERE, 3), (near, 1)]
    chosen = a.parse_features(HERE)
    assert [t for t, _, _ in a.nearest(chosen, profiles, 2)] == [HERE]
    assert [(t, d.total) for t, d, _ in a.nearest(chosen, profiles, 4)] == [(HERE, 0), (near, Fraction(1, 4))]
    assert a.nearest(chosen, [(HERE, 0)], 3) == []
