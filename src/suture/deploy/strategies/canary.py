"""Canary: the new version takes weighted steps of the traffic (5/25/50/100%), each judged."""

from __future__ import annotations

from suture.deploy.settings import DeploySettings
from suture.deploy.strategies.interface import Baseline, Phase


def plan(settings: DeploySettings) -> list[Phase]:
    """One judged phase per step below 100%, then the switch to 100%."""
    n = settings.replicas
    phases = [Phase(f"canary {w}%", n, w) for w in settings.canary.steps if w < 100]
    phases.append(Phase("canary 100%", n, 100, baseline=Baseline.NONE))
    return phases
