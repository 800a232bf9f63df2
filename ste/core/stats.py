"""Uncertainty of the evaluation figures: a rate's 95% interval, and two students compared item by item.

Test sets here are small (tens of items per mode), so every rate carries its Wilson score interval,
which stays inside [0, 1] and keeps sensible coverage at n = 10 where the textbook p +- 1.96 se does not.
Two students scored on the same items are compared as paired data: only the items one got right and
the other wrong (the discordant pairs) carry evidence of a difference. The test is McNemar's, exact
(a two-sided binomial test on the discordant pairs), and the interval of the difference is Newcombe's
hybrid score interval for paired proportions (Newcombe 1998, Statistics in Medicine 17:2635, method 10):
closed-form, built from the two Wilson intervals and the correlation of the pairs, no resampling.
"""
from __future__ import annotations

import math

Z95 = 1.96  # the standard normal's 97.5% quantile, as usually rounded
ALPHA = 0.05


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of the proportion k/n (95% by default); (0, 1) when n is 0.

    Args:
        k: successes.
        n: trials.
        z: the normal quantile of the two-sided level (1.96 for 95%).

    Returns:
        (lo, hi), both in [0, 1].
    """
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= k <= n:
        raise ValueError(f"wilson: {k} successes out of {n} trials")
    p, z2 = k / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # At k = 0 or k = n the bound is exactly 0 or 1; rounding could leave a hair on the wrong side.
    return (0.0 if k == 0 else max(0.0, centre - half)), (1.0 if k == n else min(1.0, centre + half))


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: under no difference the b + c discordant pairs split 50/50.

    Args:
        b: pairs the first student got right and the second wrong.
        c: pairs the second got right and the first wrong.

    Returns:
        The p-value, min(1, 2 P(X <= min(b, c))) with X ~ Binomial(b + c, 1/2); 1.0 when b + c is 0.
    """
    d = b + c
    if d == 0:
        return 1.0
    tail = sum(math.comb(d, i) for i in range(min(b, c) + 1))
    return min(1.0, 2 * tail / 2**d)  # exact integers: no underflow for large d


def min_significant_items(alpha: float = ALPHA) -> int:
    """The fewest discordant pairs, all one way, that McNemar's exact test calls significant at `alpha`.

    A difference of fewer items than this is never significant, whatever the test set's size (6 at 0.05).
    """
    m = 1
    while mcnemar_exact(m, 0) > alpha:
        m += 1
    return m


def paired_interval(both: int, only_a: int, only_b: int, neither: int, z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval (method 10) for p_a - p_b on paired items.

    The square-and-add of the two Wilson intervals, corrected by phi, the correlation of the pairs
    (shrunk towards 0 by n/2 when positive, as Newcombe does, to keep coverage at small n).

    Returns:
        (lo, hi) of the difference in proportions, within [-1, 1].
    """
    n = both + only_a + only_b + neither
    if n == 0:
        return -1.0, 1.0
    ka, kb = both + only_a, both + only_b
    pa, pb = ka / n, kb / n
    la, ua = wilson(ka, n, z)
    lb, ub = wilson(kb, n, z)
    margins = ka * (n - ka) * kb * (n - kb)
    phi = 0.0
    if margins:
        cross = both * neither - only_a * only_b
        phi = (cross - n / 2 if cross > n / 2 else min(cross, 0)) / math.sqrt(margins)
    delta = pa - pb
    lo = delta - math.sqrt(max(0.0, (pa - la) ** 2 - 2 * phi * (pa - la) * (ub - pb) + (ub - pb) ** 2))
    hi = delta + math.sqrt(max(0.0, (pb - lb) ** 2 - 2 * phi * (pb - lb) * (ua - pa) + (ua - pa) ** 2))
    return max(-1.0, lo), min(1.0, hi)


def paired_test(a: dict[str, bool], b: dict[str, bool]) -> dict:
    """Two students compared on the items both were scored on.

    Args:
        a: item id -> correct, for the first student.
        b: item id -> correct, for the second.

    Returns:
        n (paired items), both, only_a, only_b, neither; diff (points, a minus b), diff_ci ([lo, hi] in
        points, Newcombe's paired score interval), p (exact McNemar), significant (p < 0.05), and
        could_be_significant (False when |only_a - only_b| is below `min_significant_items`: no split
        of that many items can reach 0.05, so "not significant" then says the test set is too small).
    """
    ids = a.keys() & b.keys()
    both = sum(bool(a[i]) and bool(b[i]) for i in ids)
    only_a = sum(bool(a[i]) and not b[i] for i in ids)
    only_b = sum(bool(b[i]) and not a[i] for i in ids)
    n = len(ids)
    lo, hi = paired_interval(both, only_a, only_b, n - both - only_a - only_b)
    p = mcnemar_exact(only_a, only_b)
    return {
        "n": n, "both": both, "only_a": only_a, "only_b": only_b, "neither": n - both - only_a - only_b,
        "diff": 100 * (only_a - only_b) / n if n else 0.0, "diff_ci": [100 * lo, 100 * hi], "p": p,
        "significant": p < ALPHA, "could_be_significant": abs(only_a - only_b) >= min_significant_items(),
    }


def holm(pvalues: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (same order): a family of comparisons read together keeps its
    chance of any false "significant" at or below alpha. The k-th smallest p is multiplied by m - k + 1,
    and the adjusted values are made non-decreasing in that order."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted, running = [0.0] * len(pvalues), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted
