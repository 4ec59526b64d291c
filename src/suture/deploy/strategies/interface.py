"""A strategy is a plan: the phases a release goes through, each a traffic split to judge."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from suture.deploy.settings import DeploySettings


class Baseline(StrEnum):
    """What the judge compares the new version with during a phase."""

    NONE = "none"              # no judging: a health-checked switch (blue-green's preview)
    CONCURRENT = "concurrent"  # the stable version serving at the same time (canary, rolling)
    BEFORE = "before"          # the stable version's traffic just before the switch (blue-green)


@dataclass(frozen=True)
class Phase:
    """One traffic split held until the judge rules (or, without judging, until it is healthy)."""

    label: str
    new_instances: int
    new_share: int
    stable_in_rotation: int | None = None
    baseline: Baseline = Baseline.CONCURRENT


class Plan(Protocol):
    """Turns the deploy settings into phases; the last phase sends 100% to the new version."""

    def __call__(self, settings: DeploySettings) -> list[Phase]:
        """The phases, in order."""
        ...
