"""Blue-green: a full set of the new version is started and checked, then all traffic switches.

The old set stays running (warm) while the new one is watched, so switching back is instant.
"""

from __future__ import annotations

from suture.deploy.settings import DeploySettings
from suture.deploy.strategies.interface import Baseline, Phase


def plan(settings: DeploySettings) -> list[Phase]:
    """Start green at 0% (health-checked, stable traffic measured), then switch and watch."""
    n = settings.replicas
    return [
        Phase("green ready (0%)", n, 0, baseline=Baseline.NONE),
        Phase("switched (100%)", n, 100, baseline=Baseline.BEFORE),
    ]
