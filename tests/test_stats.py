"""The interval and test behind every figure of the report, against published values."""
from __future__ import annotations

import pytest

from ste.core.stats import mcnemar_exact, min_significant_items, paired_interval, paired_test, wilson


@pytest.mark.parametrize("k, n, lo, hi", [
    (6, 10, 0.3127, 0.8318),  # the textbook example
    (0, 10, 0.0, 0.2775),  # never below 0, unlike p +- 1.96 se
    (10, 10, 0.7225, 1.0),
    (81, 263, 0.2553, 0.3662),  # Newcombe (1998), "Two-sided confidence intervals for the single proportion"
])
def test_wilson_interval(k, n, lo, hi):
    assert wilson(k, n) == pytest.approx((lo, hi), abs=5e-5)


def test_wilson_without_data_and_with_bad_counts():
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(11, 10)


@pytest.mark.parametrize("b, c, p", [(1, 6, 0.125), (6, 1, 0.125), (0, 0, 1.0), (3, 3, 1.0), (0, 6, 0.03125),
                                     (0, 5, 0.0625), (10, 30, 0.002221)])
def test_mcnemar_exact(b, c, p):
    assert mcnemar_exact(b, c) == pytest.approx(p, abs=5e-7)


def test_mcnemar_exact_stays_exact_for_many_pairs():
    # 0.5 ** 1200 underflows to 0 in floats; the normal approximation gives p = 0.0039 here.
    assert mcnemar_exact(600, 600) == 1.0 and 0.003 < mcnemar_exact(550, 650) < 0.005


def test_six_items_one_way_is_the_smallest_significant_difference():
    assert min_significant_items() == 6 and min_significant_items(0.01) == 8


def test_paired_interval_matches_newcombe_method_10():
    # Cavo et al. (2012) as tabulated by Fagerland, Lydersen & Laake (2017), "Statistical analysis of
    # contingency tables", chapter 8: estimate -0.0621, 95% CI -0.1186 to -0.0046.
    assert paired_interval(59, 6, 16, 80) == pytest.approx((-0.1186, -0.0046), abs=5e-5)
    lo, hi = paired_interval(5, 0, 0, 5)  # no discordant pair: the interval is symmetric around 0
    assert lo == pytest.approx(-hi) and 0 < hi < 0.3
    assert paired_interval(0, 10, 0, 0)[1] == 1.0 and paired_interval(0, 0, 0, 0) == (-1.0, 1.0)


def test_paired_test_counts_only_the_shared_items():
    a = {"q1": True, "q2": True, "q3": False, "q4": True, "only-in-a": True}
    b = {"q1": True, "q2": False, "q3": True, "q4": False, "only-in-b": False}
    t = paired_test(a, b)
    assert (t["n"], t["both"], t["only_a"], t["only_b"], t["neither"]) == (4, 1, 2, 1, 0)
    assert t["diff"] == 25.0 and t["diff_ci"][0] < 0 < t["diff_ci"][1]
    assert t["p"] == 1.0 and not t["significant"] and not t["could_be_significant"]


def test_paired_test_significant_difference():
    a = {f"q{i}": i < 8 for i in range(10)}  # 8 of 10
    b = {f"q{i}": i < 1 for i in range(10)}  # 1 of 10: 7 discordant pairs, all one way
    t = paired_test(a, b)
    assert t["diff"] == 70.0 and t["p"] == pytest.approx(2 / 2**7) and t["significant"]
    assert t["could_be_significant"] and 0 < t["diff_ci"][0] < 70 < t["diff_ci"][1] <= 100
    assert paired_test({}, {})["n"] == 0


def test_holm_adjusts_a_family_of_p_values():
    from ste.core.stats import holm

    assert holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert holm([]) == [] and holm([0.2]) == [0.2]
    assert holm([0.5, 0.5]) == [1.0, 1.0]
