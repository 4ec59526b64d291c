"""The judge's statistics agree with scipy and their definitions, and keep their error rates."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from suture.deploy import judge_stats as js


def _mixture(k: int, n: int) -> float:
    """Binomial likelihood integrated over the Jeffreys prior, numerically."""
    value, _ = integrate.quad(lambda p: p**k * (1 - p) ** (n - k) * stats.beta.pdf(p, .5, .5),
                              0, 1, points=[k / n], epsabs=0, epsrel=1e-12, limit=200)
    return float(value)


def test_always_valid_p_is_one_over_the_likelihood_ratio_capped_at_one() -> None:
    assert js.always_valid_p(math.log(200)) == pytest.approx(0.005)
    assert js.always_valid_p(-3.0) == 1.0
    assert js.always_valid_p(math.nan) == 1.0
    assert js.always_valid_p(math.inf) == 0.0


def test_msprt_matches_numeric_half_normal_mixture() -> None:
    theta, var, tau = 0.15, 0.004, 0.2

    def integrand(t: float) -> float:
        lr = math.exp((t * theta - t * t / 2) / var)
        return lr * 2 * stats.norm.pdf(t, scale=tau)

    numeric, _ = integrate.quad(integrand, 0, 5 * tau)
    assert js.msprt_log_lr(theta, var, tau) == pytest.approx(math.log(numeric), rel=1e-6)


def test_msprt_sees_no_harm_in_an_improvement_and_more_in_a_bigger_effect() -> None:
    assert js.msprt_log_lr(-0.3, 0.001, 0.2) < 0
    assert js.msprt_log_lr(0.3, 0.001, 0.2) > js.msprt_log_lr(0.1, 0.001, 0.2) > 0
    assert js.msprt_log_lr(0.3, 0.0, 0.2) == 0.0


def test_exceedance_matches_its_definition_and_falls_as_the_limit_rises() -> None:
    k, n, p0 = 12, 150, 0.03
    mixture = _mixture(k, n)
    expected = math.log(mixture) - (k * math.log(p0) + (n - k) * math.log1p(-p0))
    assert js.bernoulli_exceedance_log_lr(k, n, p0) == pytest.approx(expected, rel=1e-6)
    values = [js.bernoulli_exceedance_log_lr(k, n, p) for p in (0.01, 0.03, 0.05, 0.08, 0.2)]
    assert values == sorted(values, reverse=True)
    assert js.bernoulli_exceedance_log_lr(k, n, 0.2) <= 0  # observed 8% is under the limit


def test_exceedance_one_early_error_is_no_proof_but_a_zero_limit_is_breached_by_it() -> None:
    assert js.always_valid_p(js.bernoulli_exceedance_log_lr(1, 50, 0.05)) == 1.0
    assert js.always_valid_p(js.bernoulli_exceedance_log_lr(1, 50, 0.001)) > 0.01
    assert js.bernoulli_exceedance_log_lr(1, 50, 0.0) == math.inf
    assert js.bernoulli_exceedance_log_lr(0, 50, 0.0) == 0.0
    assert js.bernoulli_exceedance_log_lr(50, 50, 1.0) == 0.0


def test_exceedance_false_alarms_stay_under_alpha_when_looking_every_request() -> None:
    rng = np.random.default_rng(7)
    alpha, p0, looks = 0.1, 0.05, 400
    alarms = 0
    for _ in range(300):
        hits = np.cumsum(rng.random(looks) < p0)
        if any(js.bernoulli_exceedance_log_lr(int(hits[i]), i + 1, p0) >= math.log(1 / alpha)
               for i in range(looks)):
            alarms += 1
    assert alarms / 300 <= alpha


def test_two_rate_matches_a_brute_force_maximum() -> None:
    kc, nc, kb, nb, m = 14, 300, 3, 2700, 0.005

    def neg_null(p: float) -> float:
        q = p + m
        return -(kc * math.log(q) + (nc - kc) * math.log1p(-q)
                 + kb * math.log(p) + (nb - kb) * math.log1p(-p))

    best = optimize.minimize_scalar(neg_null, bounds=(1e-12, 0.5), method="bounded",
                                    options={"xatol": 1e-12})
    mixtures = math.log(_mixture(kc, nc)) + math.log(_mixture(kb, nb))
    expected = mixtures + best.fun
    assert js.two_rate_exceedance_log_lr(kc, nc, kb, nb, m) == pytest.approx(expected, rel=1e-5)


def test_two_rate_no_evidence_when_the_canary_is_within_the_margin() -> None:
    assert js.two_rate_exceedance_log_lr(1, 400, 1, 900, 0.005) == 0.0  # 0.25% vs 0.11%
    assert js.two_rate_exceedance_log_lr(0, 0, 1, 900, 0.005) == 0.0
    assert js.two_rate_exceedance_log_lr(5, 100, 0, 900, 1.0) == 0.0
    assert js.two_rate_exceedance_log_lr(50, 100, 0, 900, 0.005) > math.log(1000)
    # three errors in 100 against none in 900: far from proof at the judge's alpha
    weak = js.two_rate_exceedance_log_lr(3, 100, 0, 900, 0.005)
    strong = js.two_rate_exceedance_log_lr(9, 100, 0, 900, 0.005)
    assert weak < math.log(100) < strong


def test_two_rate_false_alarms_stay_under_alpha_on_the_boundary() -> None:
    rng = np.random.default_rng(11)
    alpha, pb, m, n = 0.1, 0.01, 0.005, 1500
    alarms = 0
    for _ in range(200):
        can = np.cumsum(rng.random(n // 10) < pb + m)
        base = np.cumsum(rng.random(n) < pb)
        for look in range(20, n // 10 + 1, 10):
            lr = js.two_rate_exceedance_log_lr(int(can[look - 1]), look,
                                               int(base[look * 9 - 1]), look * 9, m)
            if lr >= math.log(1 / alpha):
                alarms += 1
                break
    assert alarms / 200 <= alpha


@pytest.mark.parametrize("rounding", [None, 3])
def test_mann_whitney_agrees_with_scipy(rounding: int | None) -> None:
    rng = random.Random(3)
    canary = np.array([rng.lognormvariate(math.log(0.06), 0.5) for _ in range(80)])
    base = np.array([rng.lognormvariate(math.log(0.05), 0.5) for _ in range(700)])
    if rounding is not None:  # ties, as latencies counted in milliseconds or histogram buckets
        canary, base = np.round(canary, rounding), np.round(base, rounding)
    ours = js.mann_whitney(canary, base)
    ref = stats.mannwhitneyu(canary, base, alternative="greater", method="asymptotic",
                             use_continuity=False)
    assert ours.u == pytest.approx(float(ref.statistic))
    assert ours.p_fixed == pytest.approx(float(ref.pvalue), rel=1e-9)
    assert ours.effect == pytest.approx(2 * ours.u / (80 * 700) - 1)
    assert ours.var_null > 0


def test_mann_whitney_effect_is_one_when_every_canary_request_is_slower() -> None:
    mw = js.mann_whitney(np.array([0.30, 0.31, 0.32]), np.array([0.05, 0.06, 0.07, 0.08]))
    assert mw.effect == 1.0
    same = js.mann_whitney(np.full(5, 0.1), np.full(5, 0.1))
    assert (same.effect, same.var_null, same.p_fixed) == (0.0, 0.0, 1.0)
    with pytest.raises(ValueError):
        js.mann_whitney(np.array([]), np.array([0.1]))


def test_quantile_sorted_matches_numpy() -> None:
    values = np.sort(np.random.default_rng(1).random(101))
    for q in (0.0, 0.5, 0.95, 0.99, 1.0):
        assert js.quantile_sorted(values, q) == pytest.approx(float(np.quantile(values, q)))
    assert js.quantile_sorted(np.array([]), 0.5) is None


def test_worsening_and_fraction_above() -> None:
    assert js.worsening(100.0, 150.0, "lower") == pytest.approx(50 / 150)
    assert js.worsening(100.0, 150.0, "higher") == 0.0
    assert js.worsening(0.9, 0.6, "higher") == pytest.approx(0.3 / 0.9)
    assert js.worsening(0.0, 0.0, "lower") == 0.0
    assert js.worsening(0.0, 2.0, "lower") == 1.0
    assert js.fraction_above([0.1, 0.6, 0.7, 0.5], 0.5) == (2, 4)
