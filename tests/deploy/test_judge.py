"""The canary judge on seeded synthetic traffic: healthy canaries pass, bad ones are caught fast."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

import pytest

from suture.deploy.judge import EXTRA_LOOKS, CanaryJudge
from suture.deploy.model import RequestSample, Verdict
from suture.deploy.settings import SLO, JudgeSettings
from suture.errors import ConfigError


class Traffic:
    """Seeded requests split 90/10 between stable and canary, as the router would record them."""

    def __init__(self, seed: int, *, canary_errors: float = 0.001, extra_s: float = 0.0,
                 base_errors: float = 0.001, weight: float = 0.1, median_s: float = 0.05) -> None:
        self.rng = random.Random(seed)
        self.canary_errors, self.extra_s, self.base_errors = canary_errors, extra_s, base_errors
        self.weight, self.median_s = weight, median_s
        self.t = 1_700_000_000.0
        self.baseline: list[RequestSample] = []
        self.canary: list[RequestSample] = []

    def _one(self, canary: bool) -> RequestSample:
        rng = self.rng
        self.t += 0.005
        latency = rng.lognormvariate(math.log(self.median_s), 0.5) + (
            self.extra_s if canary else 0.0)
        err = self.canary_errors if canary else self.base_errors
        status = 500 if rng.random() < err else 200
        return RequestSample("new" if canary else "stable", self.t, latency, status)

    def until(self, canary_requests: int) -> None:
        """Send traffic until the canary has served `canary_requests` requests."""
        while len(self.canary) < canary_requests:
            is_canary = self.rng.random() < self.weight
            (self.canary if is_canary else self.baseline).append(self._one(is_canary))

    def looks(self, every: int, upto: int) -> Iterator[int]:
        """Grow the traffic `every` canary requests at a time; yield the canary count."""
        for n in range(every, upto + 1, every):
            self.until(n)
            yield n


def judge(**settings: object) -> CanaryJudge:
    slo = settings.pop("slo", SLO())
    assert isinstance(slo, SLO)
    return CanaryJudge(JudgeSettings.model_validate(settings), slo)


def first_rollback(j: CanaryJudge, traffic: Traffic, every: int, upto: int) -> int | None:
    """Canary requests seen when the judge first says rollback (None: never)."""
    for n in traffic.looks(every, upto):
        if j.judge(traffic.baseline, traffic.canary).verdict is Verdict.ROLLBACK:
            return n
    return None


def test_healthy_canaries_are_never_rolled_back_looking_every_20_requests() -> None:
    for seed in range(30):
        traffic, j = Traffic(seed), judge()
        assert first_rollback(j, traffic, 20, 1000) is None, f"seed {seed}"
        final = j.judge(traffic.baseline, traffic.canary, final=True)
        assert final.verdict is Verdict.PROMOTE, final.reason
        assert final.reason.startswith("no harm shown over 1000 canary requests")


def test_healthy_canary_with_common_errors_and_a_1ms_shift_is_promoted() -> None:
    # 2% errors on both sides and a 1 ms slower canary: significant with this much traffic,
    # but below the effect size and the median delta that are worth a rollback.
    for seed in range(5):
        traffic = Traffic(100 + seed, canary_errors=0.02, base_errors=0.02, extra_s=0.001)
        j = judge()
        assert first_rollback(j, traffic, 100, 3000) is None, f"seed {seed}"
        final = j.judge(traffic.baseline, traffic.canary, final=True)
        assert final.verdict is Verdict.PROMOTE
        assert 0 < final.metrics["median_delta_s"] < 0.02  # type: ignore[operator]


@pytest.mark.parametrize("seed", range(5))
def test_five_percent_errors_against_a_tenth_of_a_percent_are_rolled_back(seed: int) -> None:
    traffic, j = Traffic(200 + seed, canary_errors=0.05), judge()
    seen = first_rollback(j, traffic, 10, 800)
    assert seen is not None and seen <= 600
    verdict = j.judge(traffic.baseline, traffic.canary)
    assert verdict.metrics["decided_by"] == "errors"
    assert verdict.reason.startswith("canary error rate ")
    assert "on stable (p" in verdict.reason and f"{seen} requests)" in verdict.reason
    assert verdict.metrics["error_p"] <= verdict.metrics["alpha_per_test"]  # type: ignore[operator]


@pytest.mark.parametrize("seed", range(5))
def test_200ms_slower_canary_is_rolled_back_within_100_requests(seed: int) -> None:
    traffic, j = Traffic(300 + seed, extra_s=0.2), judge()
    seen = first_rollback(j, traffic, 10, 300)
    assert seen is not None and seen <= 100
    verdict = j.judge(traffic.baseline, traffic.canary)
    m = verdict.metrics
    assert m["decided_by"] == "latency"
    assert m["mw_effect"] > 0.9 and m["median_delta_s"] > 0.15  # type: ignore[operator]
    assert isinstance(m["mw_u"], float) and m["latency_p"] < 0.001  # type: ignore[operator]
    assert "canary median latency" in verdict.reason and "effect" in verdict.reason


def test_too_little_traffic_continues_even_when_every_canary_request_failed() -> None:
    traffic, j = Traffic(1, canary_errors=1.0), judge(min_requests=50)
    traffic.until(12)
    for final in (False, True):
        verdict = j.judge(traffic.baseline, traffic.canary, final=final)
        assert verdict.verdict is Verdict.CONTINUE
        assert verdict.reason == "too little traffic: 12 of 50 requests"
        assert verdict.metrics["canary_errors"] == 12


def test_one_early_error_at_the_minimum_is_no_rollback() -> None:
    traffic, j = Traffic(2, canary_errors=0.0, base_errors=0.0), judge(min_requests=50)
    traffic.until(49)
    traffic.canary.append(RequestSample("new", traffic.t + 0.01, 0.05, 503))
    verdict = j.judge(traffic.baseline, traffic.canary)
    assert verdict.verdict is Verdict.CONTINUE
    assert verdict.metrics["canary_error_rate"] == pytest.approx(0.02)
    # Not proof of harm, but not evidence enough to promote: the step waits for traffic ...
    final = j.judge(traffic.baseline, traffic.canary, final=True)
    assert final.verdict is Verdict.CONTINUE
    assert "waiting for more traffic" in final.reason
    # ... and promotes once clean requests bring the rate back within the margin.
    traffic.until(400)
    final = j.judge(traffic.baseline, traffic.canary, final=True)
    assert final.verdict is Verdict.PROMOTE, final.reason


def test_a_bad_canary_at_low_traffic_is_never_promoted() -> None:
    # 5% errors in 50 requests cannot be proven worse than 0.1%; it must not be promoted either
    # (whenever the 50 requests show any error at all, which is 92% of such steps).
    judged = 0
    for seed in range(20):
        traffic, j = Traffic(seed, canary_errors=0.05, base_errors=0.001), judge(min_requests=50)
        traffic.until(50)
        final = j.judge(traffic.baseline, traffic.canary, final=True)
        if final.metrics["canary_errors"]:
            judged += 1
            assert final.verdict is not Verdict.PROMOTE, (seed, final.reason)
    assert judged >= 15


def test_slo_error_rate_breach_rolls_back_even_when_stable_is_as_bad() -> None:
    # Both versions fail 20% of requests: no worse than stable, but over the 5% SLO.
    traffic = Traffic(3, canary_errors=0.2, base_errors=0.2)
    j = judge(slo=SLO(error_rate=0.05))
    assert first_rollback(j, traffic, 10, 400) is not None
    verdict = j.judge(traffic.baseline, traffic.canary)
    assert verdict.metrics["decided_by"] == "slo_errors"
    assert "breaches the 5.0% SLO" in verdict.reason


def test_slo_p95_breach_rolls_back_and_at_full_weight_only_slos_are_judged() -> None:
    slow = Traffic(4, median_s=0.6, weight=1.0)  # 100% on the new version: no stable traffic
    j = judge(slo=SLO(p95_latency_s=0.5))
    assert first_rollback(j, slow, 10, 300) is not None
    verdict = j.judge(slow.baseline, slow.canary)
    assert verdict.metrics["decided_by"] == "slo_p95"
    assert "breaches the 500 ms SLO" in verdict.reason
    assert verdict.metrics["baseline_requests"] == 0

    fast = Traffic(5, weight=1.0)
    j = judge(slo=SLO(p95_latency_s=0.5))
    fast.until(300)
    final = j.judge(fast.baseline, fast.canary, final=True)
    assert final.verdict is Verdict.PROMOTE
    assert "no stable traffic" in final.reason


def test_slo_of_zero_errors_is_breached_by_the_first_error_after_the_minimum() -> None:
    traffic, j = Traffic(6, canary_errors=0.0), judge(slo=SLO(error_rate=0.0))
    traffic.until(60)
    assert j.judge(traffic.baseline, traffic.canary).verdict is Verdict.CONTINUE
    traffic.canary.append(RequestSample("new", traffic.t + 0.01, 0.05, 0))
    verdict = j.judge(traffic.baseline, traffic.canary)
    assert verdict.verdict is Verdict.ROLLBACK
    assert verdict.metrics["decided_by"] == "slo_errors"


def test_extra_metric_worse_on_consecutive_looks_rolls_back() -> None:
    traffic = Traffic(7)
    traffic.until(100)
    j = judge(metrics={"memory_bytes": "lower", "cache_hit_ratio": "higher"})
    fine = {"memory_bytes": (100.0, 110.0), "cache_hit_ratio": (0.9, 0.95)}
    bad = {"memory_bytes": (100.0, 150.0), "cache_hit_ratio": (0.9, 0.95)}
    assert j.judge(traffic.baseline, traffic.canary, extra=fine).verdict is Verdict.CONTINUE
    for _ in range(EXTRA_LOOKS - 1):
        assert j.judge(traffic.baseline, traffic.canary, extra=bad).verdict is Verdict.CONTINUE
    verdict = j.judge(traffic.baseline, traffic.canary, extra=bad)
    assert verdict.verdict is Verdict.ROLLBACK
    assert verdict.metrics["decided_by"] == "metric:memory_bytes"
    assert verdict.metrics["metric.memory_bytes.canary"] == 150.0
    assert "lower is better" in verdict.reason


def test_extra_metric_streak_breaks_on_a_good_or_nan_look_and_counts_at_the_final_look() -> None:
    traffic = Traffic(8)
    traffic.until(100)
    j = judge(metrics={"cache_hit_ratio": "higher"})
    bad = {"cache_hit_ratio": (0.9, 0.5)}
    for extra in (bad, bad, {"cache_hit_ratio": (0.9, math.nan)}, bad, bad):
        assert j.judge(traffic.baseline, traffic.canary, extra=extra).verdict is Verdict.CONTINUE
    assert j.judge(traffic.baseline, traffic.canary, extra={"cache_hit_ratio": (0.9, 0.88)},
                   final=True).verdict is Verdict.PROMOTE
    final = judge(metrics={"cache_hit_ratio": "higher"}).judge(
        traffic.baseline, traffic.canary, extra=bad, final=True)
    assert final.verdict is Verdict.ROLLBACK


def test_extra_metric_direction_must_be_lower_or_higher() -> None:
    with pytest.raises(ConfigError, match="memory_bytes"):
        judge(metrics={"memory_bytes": "smaller"})


def test_reset_forgets_the_previous_step() -> None:
    traffic = Traffic(9)
    traffic.until(100)
    j = judge(metrics={"memory_bytes": "lower"})
    bad = {"memory_bytes": (100.0, 200.0)}
    for _ in range(EXTRA_LOOKS - 1):
        j.judge(traffic.baseline, traffic.canary, extra=bad)
    j.reset()
    assert j.judge(traffic.baseline, traffic.canary, extra=bad).verdict is Verdict.CONTINUE

    # The running p-value of a bad step does not leak into the next one.
    broken = Traffic(10, canary_errors=0.3)
    broken.until(200)
    assert j.judge(broken.baseline, broken.canary).verdict is Verdict.ROLLBACK
    j.reset()
    after = j.judge(traffic.baseline, traffic.canary)
    fresh = judge(metrics={"memory_bytes": "lower"}).judge(traffic.baseline, traffic.canary)
    assert after.verdict is Verdict.CONTINUE
    assert after.metrics == fresh.metrics


def test_running_p_values_never_rise_within_a_step_and_a_new_list_is_recounted() -> None:
    traffic, j = Traffic(11, canary_errors=0.01), judge()
    ps = []
    for _ in traffic.looks(50, 500):
        ps.append(j.judge(traffic.baseline, traffic.canary).metrics["error_p"])
    assert ps == sorted(ps, reverse=True)  # type: ignore[type-var]
    other = Traffic(12)
    other.until(80)
    counted = j.judge(other.baseline, other.canary).metrics
    assert counted["canary_requests"] == 80
    assert counted["baseline_requests"] == len(other.baseline)
    assert counted["canary_errors"] == sum(s.is_error for s in other.canary)
    # A fresh list of the same length and ends but another middle (as the judge server builds
    # one per call) is counted afresh, not taken for the list seen before.
    flipped = list(other.canary)
    mid = flipped[40]
    flipped[40] = RequestSample(mid.version, mid.at, mid.latency_s, 200 if mid.is_error else 500)
    recounted = j.judge(other.baseline, flipped).metrics
    assert recounted["canary_errors"] == sum(s.is_error for s in flipped)
    assert recounted["canary_errors"] != counted["canary_errors"]


def test_judgement_carries_the_numbers_and_thresholds() -> None:
    traffic = Traffic(13)
    traffic.until(200)
    m = judge(slo=SLO(error_rate=0.05, p95_latency_s=1.0)).judge(
        traffic.baseline, traffic.canary).metrics
    for key in ("canary_requests", "baseline_requests", "canary_errors", "baseline_errors",
                "canary_error_rate", "baseline_error_rate", "canary_p50_s", "baseline_p50_s",
                "canary_p95_s", "baseline_p95_s", "mw_u", "mw_effect", "mw_p_fixed",
                "latency_p", "error_p", "slo_error_p", "slo_p95_p", "alpha", "alpha_per_test",
                "min_requests", "latency_effect_threshold", "latency_min_delta_s",
                "error_rate_margin", "slo_error_rate", "slo_p95_latency_s", "decided_by"):
        assert key in m, key
    assert m["alpha_per_test"] == pytest.approx(0.01 / 4)
    assert m["canary_p50_s"] == pytest.approx(0.05, rel=0.2)
