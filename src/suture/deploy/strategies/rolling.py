"""Rolling: instances are replaced in batches, each batch health-checked and judged.

Replaced stable instances leave the rotation but keep running until the release is promoted,
so a rollback only has to route traffic back.
"""

from __future__ import annotations

from suture.deploy.settings import DeploySettings
from suture.deploy.strategies.interface import Baseline, Phase


def plan(settings: DeploySettings) -> list[Phase]:
    """Batch k runs k*batch new instances and replicas - k*batch stable ones."""
    total, batch = settings.replicas, settings.batch_size
    phases: list[Phase] = []
    done = 0
    while done < total:
        done = min(total, done + batch)
        share = round(100 * done / total)
        last = done == total
        phases.append(Phase(
            f"{done}/{total} replaced", done, share, stable_in_rotation=total - done,
            baseline=Baseline.BEFORE if last else Baseline.CONCURRENT,
        ))
    return phases
