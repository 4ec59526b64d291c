"""The canary judge: compare the new version's requests with stable's; promote, wait or roll back.

Rules, in the order a look applies them:
1. Fewer than `min_requests` canary requests: `continue` ("too little traffic"), never a rollback.
2. Sequential one-sided tests, each at alpha / (number of tests configured) so the step's total
   false-alarm rate stays under `alpha` however often the judge looks (judge_stats explains why):
   - errors vs stable: canary rate > stable rate + `error_rate_margin` (exact two-sample test);
   - latency vs stable: Mann-Whitney U; harm needs the sequential test, a rank-biserial effect of
     at least `latency_effect` AND a median increase of at least `latency_min_delta_s` (Kayenta's
     effect-size rule: significant but tiny shifts never abort);
   - SLO error rate: canary rate > `slo.error_rate` (exact test; with a limit of 0 one error is a
     breach); SLO p95 latency: more than 5% of answered canary requests slower than the limit.
   Comparisons need at least MIN_BASELINE_REQUESTS stable requests (at 100% weight there are
   none, and only the SLOs are judged). Latency is that of answered requests; errors (5xx and
   unreachable) are judged by the error tests.
3. Configured extra metrics (no samples, one value per side): worse by more than
   EXTRA_TOLERANCE of the larger magnitude on EXTRA_LOOKS consecutive looks, or at the final look.
Any harm: `rollback`, decided by the test with the smallest p-value. Else `promote` on the final
look, `continue` before it -- unless the point estimates still look worse than the margins allow
(errors above stable + margin or the SLO, a median latency shift past both thresholds): then the
step waits for more traffic rather than promote on too little evidence.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from suture.deploy import judge_stats as js
from suture.deploy.model import Judgement, RequestSample, Verdict
from suture.deploy.settings import SLO, JudgeSettings
from suture.errors import ConfigError

MIN_BASELINE_REQUESTS = 20
"""Stable requests needed before comparing with stable (Mann-Whitney's normal approximation
needs a few; and at 100% weight there are none to compare with)."""

EXTRA_TOLERANCE = 0.2
"""A configured metric may be this much worse (relative) than stable before it counts."""

EXTRA_LOOKS = 3
"""Consecutive looks a configured metric must stay worse before it causes a rollback."""

SLO_QUANTILE = 0.95

Metrics = dict[str, float | int | str | None]


@dataclass(frozen=True, slots=True)
class _Side:
    """What one version's samples of the step amount to."""

    requests: int
    errors: int
    latencies: np.ndarray  # of answered requests, ascending
    p50: float | None
    p95: float | None
    first_error_at: float | None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None


class _Columns:
    """Turns a growing list of samples into counts and latencies, converting only what is new.

    The controller appends to the same two lists all step and passes them every second;
    re-reading tens of thousands of samples each time would dominate the judge's cost. Any
    other list (a fresh one per call, as the judge server builds) is read in full.
    """

    def __init__(self) -> None:
        self._clear(None)

    def _clear(self, source: Sequence[RequestSample] | None) -> None:
        self._source = source  # held, not just its id, so the id cannot be reused
        self._last: RequestSample | None = None
        self._n = 0
        self._errors = 0
        self._latencies = np.empty(1024, dtype=np.float64)  # answered requests, grown by doubling
        self._answered = 0
        self._first_error_at: float | None = None

    def update(self, samples: Sequence[RequestSample]) -> _Side:
        """Account for `samples` (the same list as last time plus new ones, or a fresh list)."""
        n = len(samples)
        grown = samples is self._source and n >= self._n and (
            self._n == 0 or samples[self._n - 1] is self._last)
        if not grown:
            self._clear(samples)
        new: list[float] = []
        for sample in samples[self._n:]:
            if sample.is_error:
                self._errors += 1
                if self._first_error_at is None:
                    self._first_error_at = sample.at
            else:
                new.append(sample.latency_s)
        end = self._answered + len(new)
        if end > len(self._latencies):
            bigger = np.empty(max(end, 2 * len(self._latencies)), dtype=np.float64)
            bigger[: self._answered] = self._latencies[: self._answered]
            self._latencies = bigger
        self._latencies[self._answered : end] = new
        self._answered = end
        self._last = samples[n - 1] if n else None
        self._n = n
        lat = np.sort(self._latencies[:end])
        return _Side(n, self._errors, lat, js.quantile_sorted(lat, 0.5),
                     js.quantile_sorted(lat, SLO_QUANTILE), self._first_error_at)


@dataclass(frozen=True, slots=True)
class _Harm:
    """One test that showed the canary is worse."""

    test: str
    p: float
    reason: str


class CanaryJudge:
    """Decides each look of a canary step from all of the step's samples so far."""

    def __init__(self, settings: JudgeSettings, slo: SLO) -> None:
        for name, better in settings.metrics.items():
            if better not in ("lower", "higher"):
                raise ConfigError(
                    f"deploy.judge.metrics.{name}: expected 'lower' or 'higher', got {better!r}",
                    hint="say which way is better for the metric, e.g. `latency_seconds: lower`",
                )
        self._settings = settings
        self._slo = slo
        tests = 2 + (slo.error_rate is not None) + (slo.p95_latency_s is not None)
        self._alpha_each = settings.alpha / tests
        self._latency_tau = max(settings.latency_effect, 0.1)
        self.reset()

    def reset(self) -> None:
        """Start a new step: forget the sequential tests' running p-values and metric streaks."""
        self._p: dict[str, float] = {}
        self._streaks: dict[str, int] = {}
        self._columns = {"baseline": _Columns(), "canary": _Columns()}

    def judge(
        self,
        baseline: Sequence[RequestSample],
        canary: Sequence[RequestSample],
        *,
        final: bool = False,
        extra: Mapping[str, tuple[float, float]] | None = None,
    ) -> Judgement:
        """Judge the step so far; `final` when its time is up (promote unless harm is shown)."""
        base = self._columns["baseline"].update(baseline)
        can = self._columns["canary"].update(canary)
        metrics = self._describe(base, can)
        need = self._settings.min_requests
        if can.requests < need:
            return Judgement(verdict=Verdict.CONTINUE, metrics=metrics,
                             reason=f"too little traffic: {can.requests} of {need} requests")
        harms = [
            h
            for h in (
                self._errors_vs_stable(base, can, metrics),
                self._latency_vs_stable(base, can, metrics),
                self._slo_errors(can, metrics),
                self._slo_p95(can, metrics),
            )
            if h is not None
        ]
        harms += self._extra(extra or {}, final, metrics)
        if harms:
            worst = min(harms, key=lambda h: h.p)
            metrics["decided_by"] = worst.test
            return Judgement(verdict=Verdict.ROLLBACK, reason=worst.reason, metrics=metrics)
        metrics["decided_by"] = None
        summary = _summary(base, can)
        doubt = self._looks_worse(base, can) if final else None
        if doubt is not None:
            metrics["promotion_withheld"] = doubt
            return Judgement(verdict=Verdict.CONTINUE, metrics=metrics,
                             reason=f"not proven worse, but {doubt}: waiting for more traffic "
                             f"({can.requests} canary requests: {summary})")
        if final:
            return Judgement(verdict=Verdict.PROMOTE, metrics=metrics,
                             reason=f"no harm shown over {can.requests} canary requests: {summary}")
        return Judgement(verdict=Verdict.CONTINUE, metrics=metrics,
                         reason=f"no harm shown yet over {can.requests} canary requests: {summary}")

    def _looks_worse(self, base: _Side, can: _Side) -> str | None:
        """Why the point estimates still look worse than allowed, or None.

        Promotion needs more than the absence of proof of harm: at low traffic a canary with 5%
        errors cannot be *proven* worse in 50 requests, yet should not be promoted either. Such
        a step waits for more traffic (the controller bounds the wait) instead.
        """
        s, slo = self._settings, self._slo
        c_rate = can.error_rate or 0.0
        if base.requests >= MIN_BASELINE_REQUESTS and base.error_rate is not None \
                and c_rate > base.error_rate + s.error_rate_margin:
            return (f"its error rate {_pct(c_rate)} is above stable's "
                    f"{_pct(base.error_rate)} + {_pct(s.error_rate_margin)}")
        if slo.error_rate is not None and c_rate > slo.error_rate:
            return f"its error rate {_pct(c_rate)} is above the {_pct(slo.error_rate)} SLO"
        if base.p50 is not None and can.p50 is not None \
                and len(base.latencies) >= MIN_BASELINE_REQUESTS \
                and can.p50 - base.p50 >= max(s.latency_min_delta_s, 1e-9):
            mw = js.mann_whitney(can.latencies, base.latencies)
            if mw.effect >= s.latency_effect:
                return (f"its median latency {_ms(can.p50)} is above stable's "
                        f"{_ms(base.p50)} by more than {_ms(s.latency_min_delta_s)}")
        return None

    def _describe(self, base: _Side, can: _Side) -> Metrics:
        """The numbers every judgement carries, whatever decided it."""
        s, slo = self._settings, self._slo
        return {
            "canary_requests": can.requests,
            "baseline_requests": base.requests,
            "canary_errors": can.errors,
            "baseline_errors": base.errors,
            "canary_error_rate": can.error_rate,
            "baseline_error_rate": base.error_rate,
            "canary_p50_s": can.p50,
            "baseline_p50_s": base.p50,
            "canary_p95_s": can.p95,
            "baseline_p95_s": base.p95,
            "canary_first_error_at": can.first_error_at,
            "min_requests": s.min_requests,
            "alpha": s.alpha,
            "alpha_per_test": self._alpha_each,
            "error_rate_margin": s.error_rate_margin,
            "latency_effect_threshold": s.latency_effect,
            "latency_min_delta_s": s.latency_min_delta_s,
            "slo_error_rate": slo.error_rate,
            "slo_p95_latency_s": slo.p95_latency_s,
        }

    def _running_p(self, test: str, log_lr: float) -> float:
        """Always-valid p-value of `test`: the smallest 1/LR seen in this step."""
        p = min(self._p.get(test, 1.0), js.always_valid_p(log_lr))
        self._p[test] = p
        return p

    def _errors_vs_stable(self, base: _Side, can: _Side, m: Metrics) -> _Harm | None:
        if base.requests < MIN_BASELINE_REQUESTS:
            return None
        log_lr = js.two_rate_exceedance_log_lr(can.errors, can.requests, base.errors,
                                               base.requests, self._settings.error_rate_margin)
        p = self._running_p("errors", log_lr)
        m.update({"error_log_lr": log_lr, "error_p": p})
        if p > self._alpha_each:
            return None
        return _Harm("errors", p, f"canary error rate {_pct(can.error_rate)} vs "
                     f"{_pct(base.error_rate)} on stable ({_p(p)}, {can.requests} requests)")

    def _latency_vs_stable(self, base: _Side, can: _Side, m: Metrics) -> _Harm | None:
        if min(len(base.latencies), len(can.latencies)) < MIN_BASELINE_REQUESTS:
            return None
        mw = js.mann_whitney(can.latencies, base.latencies)
        log_lr = js.msprt_log_lr(mw.effect, mw.var_null, self._latency_tau)
        p = self._running_p("latency", log_lr)
        c50, b50 = can.p50 or 0.0, base.p50 or 0.0  # both set: each side has latencies
        delta = c50 - b50
        m.update({"mw_u": mw.u, "mw_effect": mw.effect, "mw_p_fixed": mw.p_fixed,
                  "latency_log_lr": log_lr, "latency_p": p, "median_delta_s": delta})
        s = self._settings
        if p > self._alpha_each or mw.effect < s.latency_effect or delta < s.latency_min_delta_s:
            return None
        return _Harm("latency", p, f"canary median latency {_ms(c50)} vs {_ms(b50)} on stable "
                     f"(+{_ms(delta)}, effect {mw.effect:.2f}, {_p(p)}, {can.requests} requests)")

    def _slo_errors(self, can: _Side, m: Metrics) -> _Harm | None:
        limit = self._slo.error_rate
        if limit is None:
            return None
        # A limit of 0 allows nothing: the first error is proof (infinite evidence).
        p = self._running_p("slo_errors",
                            js.bernoulli_exceedance_log_lr(can.errors, can.requests, limit))
        m["slo_error_p"] = p
        if p > self._alpha_each:
            return None
        return _Harm("slo_errors", p, f"canary error rate {_pct(can.error_rate)} breaches the "
                     f"{_pct(limit)} SLO ({_p(p)}, {can.requests} requests)")

    def _slo_p95(self, can: _Side, m: Metrics) -> _Harm | None:
        limit = self._slo.p95_latency_s
        if limit is None or len(can.latencies) == 0:
            return None
        slow, n = js.fraction_above(can.latencies, limit)
        p = self._running_p("slo_p95", js.bernoulli_exceedance_log_lr(slow, n, 1 - SLO_QUANTILE))
        m.update({"slo_p95_slow_requests": slow, "slo_p95_p": p})
        if p > self._alpha_each:
            return None
        return _Harm("slo_p95", p, f"canary p95 latency {_ms(can.p95)} breaches the "
                     f"{_ms(limit)} SLO ({slow} of {n} requests slower, {_p(p)})")

    def _extra(self, extra: Mapping[str, tuple[float, float]], final: bool,
               m: Metrics) -> list[_Harm]:
        harms = []
        for name, better in sorted(self._settings.metrics.items()):
            if name not in extra:
                continue
            b, c = (float(v) for v in extra[name])
            m[f"metric.{name}.baseline"], m[f"metric.{name}.canary"] = b, c
            if math.isnan(b) or math.isnan(c):  # Prometheus says NaN for 0/0: no evidence
                self._streaks[name] = 0
                continue
            worse = js.worsening(b, c, better) > EXTRA_TOLERANCE
            streak = self._streaks[name] = self._streaks.get(name, 0) + 1 if worse else 0
            m[f"metric.{name}.worse_looks"] = streak
            if worse and (streak >= EXTRA_LOOKS or final):
                looks = f"{streak} look" + ("s" if streak > 1 else "")
                # Not a statistical test: rank it after any test that rejected.
                harms.append(_Harm(f"metric:{name}", 1.0, f"canary {name} {c:g} vs {b:g} on "
                                   f"stable, {better} is better (worse by more than "
                                   f"{EXTRA_TOLERANCE:.0%} on {looks})"))
        return harms


def _summary(base: _Side, can: _Side) -> str:
    """Error rate and median latency of both sides, for continue/promote reasons."""
    c50, b50 = can.p50, base.p50
    if base.requests == 0:
        return f"error rate {_pct(can.error_rate)}, median {_ms(c50)} (no stable traffic)"
    return (f"error rate {_pct(can.error_rate)} vs {_pct(base.error_rate)}, "
            f"median {_ms(c50)} vs {_ms(b50)}")


def _pct(rate: float | None) -> str:
    if rate is None:
        return "n/a"
    return f"{rate:.2%}" if 0 < rate < 0.001 else f"{rate:.1%}"


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.0f} ms"


def _p(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"
