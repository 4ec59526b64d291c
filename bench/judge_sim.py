"""Simulate canary steps and print how the judge does: false rollbacks, time to catch bad canaries.

    .venv/bin/python bench/judge_sim.py --rps 200 --weight 10 --look 1
    .venv/bin/python bench/judge_sim.py --rps 5 --weight 10 --healthy-trials 300   # low traffic

No network, no processes: seeded synthetic requests (Poisson arrivals at --rps, each sent to the
canary with probability --weight %; latency lognormal, median 50 ms, sigma 0.5; errors 0.1%
unless the scenario says otherwise) judged by suture's CanaryJudge every --look seconds with the
default judge settings, and the same traffic judged Flagger-style for comparison.

Flagger-style, per Flagger's documented defaults (analysis `interval: 1m`, `threshold: 5`, builtin
metrics request-success-rate `thresholdRange.min: 99` and request-duration P99
`thresholdRange.max: 500` ms over a 1m window): a check every 60 s fails when the canary's
last-minute success rate is below 99% or its p99 above 500 ms, or when the window has no canary
requests (Flagger's "no values found"); failed checks add up over the analysis and, as in
Flagger's scheduler, the rollback happens at the first tick after the count reaches the threshold.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from suture.deploy.judge import CanaryJudge
from suture.deploy.model import RequestSample, Verdict
from suture.deploy.settings import SLO, JudgeSettings

BASE_MEDIAN_S = 0.050
BASE_SIGMA = 0.5
BASE_ERROR = 0.001


@dataclass(frozen=True)
class Fault:
    """How the canary differs from stable."""

    name: str
    error_rate: float = BASE_ERROR
    extra_s: float = 0.0
    base_error: float = BASE_ERROR


class Traffic:
    """Seeded request stream split between stable and canary."""

    def __init__(self, seed: int, rps: float, weight: float, fault: Fault) -> None:
        self.rng = np.random.default_rng(seed)
        self.rps, self.share, self.fault = rps, weight / 100, fault

    def arrays(self, t0: float, dt: float) -> tuple[np.ndarray, ...]:
        """Requests completing in [t0, t0 + dt): times, is-canary, latencies, statuses."""
        rng = self.rng
        n = int(rng.poisson(self.rps * dt))
        at = np.sort(t0 + rng.random(n) * dt)
        canary = rng.random(n) < self.share
        lat = BASE_MEDIAN_S * np.exp(BASE_SIGMA * rng.standard_normal(n))
        lat = np.where(canary, lat + self.fault.extra_s, lat)
        err_p = np.where(canary, self.fault.error_rate, self.fault.base_error)
        status = np.where(rng.random(n) < err_p, 500, 200)
        return at, canary, lat, status

    def window(self, t0: float, dt: float) -> tuple[list[RequestSample], list[RequestSample]]:
        """The same requests as RequestSamples, the judge's input: (stable, canary)."""
        at, canary, lat, status = self.arrays(t0, dt)
        base: list[RequestSample] = []
        can: list[RequestSample] = []
        for a, c, la, st in zip(at.tolist(), canary.tolist(), lat.tolist(), status.tolist(),
                                strict=True):
            (can if c else base).append(RequestSample("new" if c else "stable", a, la, st))
        return base, can


@dataclass(frozen=True)
class Outcome:
    """How one simulated step ended."""

    verdict: str
    seconds: float
    canary_requests: int


def run_suture(traffic: Traffic, look: float, step_s: float, horizon_s: float) -> Outcome:
    """Judge every `look` seconds; final from `step_s` on (low traffic: keep waiting)."""
    judge = CanaryJudge(JudgeSettings(), SLO())
    base: list[RequestSample] = []
    can: list[RequestSample] = []
    t = 0.0
    while t < horizon_s:
        b, c = traffic.window(t, look)
        base += b
        can += c
        t += look
        j = judge.judge(base, can, final=t >= step_s)
        if j.verdict is not Verdict.CONTINUE:
            return Outcome(j.verdict.value, t, len(can))
    return Outcome("continue", t, len(can))


def run_flagger(traffic: Traffic, horizon_s: float, interval: float = 60.0,
                threshold: int = 5) -> Outcome:
    """Flagger's fixed thresholds over the same traffic; 'promote' when the horizon passes.

    A tick every `interval`: roll back if `threshold` checks have failed, else check the window
    that just ended (so the rollback comes one tick after the threshold-th failure).
    """
    failed = 0
    seen = 0
    t = 0.0
    while t < horizon_s:
        _, canary, lat, status = traffic.arrays(t, interval)
        t += interval
        seen += int(canary.sum())
        if failed >= threshold:
            return Outcome("rollback", t, seen)
        lat, status = lat[canary], status[canary]
        if len(lat) == 0 or np.mean(status >= 500) > 0.01 or np.quantile(lat, 0.99) > 0.5:
            failed += 1
    return Outcome("promote", t, seen)


def trials(n: int, seed: int, run: Callable[[int], Outcome]) -> list[Outcome]:
    """`n` outcomes of `run` with seeds seed, seed+1, ..."""
    return [run(seed + i) for i in range(n)]


def summarize(label: str, judged_by: str, outs: list[Outcome], bad: bool) -> str:
    """One table row: rollback rate, then requests and seconds until rollback (median / max)."""
    rolled = [o for o in outs if o.verdict == "rollback"]
    rate = f"{len(rolled)}/{len(outs)} ({len(rolled) / len(outs):.1%})"
    if bad and rolled:
        reqs = [o.canary_requests for o in rolled]
        secs = [o.seconds for o in rolled]
        detail = (f"{statistics.median(reqs):>7.0f} / {max(reqs):<6d}"
                  f"{statistics.median(secs):>8.0f} / {max(secs):<6.0f}")
    else:
        detail = f"{'-':>7} / {'-':<6}{'-':>8} / {'-':<6}"
    return f"{label:<34}{judged_by:<10}{rate:>18}  {detail}"


def main() -> None:
    """Parse arguments, simulate, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rps", type=float, default=200.0, help="total requests per second")
    ap.add_argument("--weight", type=float, default=10.0, help="canary traffic share, percent")
    ap.add_argument("--look", type=float, default=1.0, help="seconds between judge looks")
    ap.add_argument("--step-s", type=float, default=30.0,
                    help="step length, the final look (suture's canary.interval_s default)")
    ap.add_argument("--horizon-s", type=float, default=900.0, help="give up after this long")
    ap.add_argument("--healthy-trials", type=int, default=1000)
    ap.add_argument("--bad-trials", type=int, default=200)
    ap.add_argument("--flagger-checks", type=int, default=10,
                    help="analysis length for Flagger on healthy canaries, in 60 s checks")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    healthy = [Fault("healthy (same as stable)"), Fault("healthy, +1 ms latency", extra_s=0.001),
               Fault("healthy, 2% errors on both", error_rate=0.02, base_error=0.02)]
    bad = [Fault("bad: 5% errors vs 0.1%", error_rate=0.05),
           Fault("bad: +200 ms latency", extra_s=0.2)]
    print(f"rps {args.rps:g}, canary weight {args.weight:g}%, judge looks every {args.look:g} s, "
          f"step {args.step_s:g} s; judge defaults {JudgeSettings().model_dump()} {SLO()}")
    head = (f"{'scenario':<34}{'judge':<10}{'rollbacks':>18}  "
            f"{'canary reqs med/max':>20}{'seconds med/max':>16}")
    print(head)
    print("-" * len(head))
    started = time.perf_counter()
    for k, fault in enumerate(healthy + bad):
        is_bad = fault in bad
        n = args.bad_trials if is_bad else args.healthy_trials
        seed = args.seed + 100_000 * k
        ours = trials(n, seed, lambda s, f=fault: run_suture(
            Traffic(s, args.rps, args.weight, f), args.look, args.step_s, args.horizon_s))
        horizon = args.horizon_s if is_bad else 60.0 * args.flagger_checks
        theirs = trials(n, seed, lambda s, f=fault, h=horizon: run_flagger(
            Traffic(s, args.rps, args.weight, f), h))
        print(summarize(fault.name, "suture", ours, is_bad))
        print(summarize("", "flagger", theirs, is_bad))
        waited = sum(o.seconds > args.step_s for o in ours)
        promoted = sum(o.verdict == "promote" for o in ours)
        if not is_bad:
            print(f"{'':<34}(suture: {promoted} promoted, {waited} waited past the step "
                  f"for min_requests; flagger over {args.flagger_checks} checks)")
        elif promoted:
            print(f"{'':<34}(suture: {promoted} promoted when the step ended without harm "
                  f"shown; flagger over {args.horizon_s:g} s)")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
