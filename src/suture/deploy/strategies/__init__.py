"""The release strategies, one module each, in one table."""

from __future__ import annotations

from suture.deploy.model import Strategy
from suture.deploy.strategies import blue_green, canary, rolling
from suture.deploy.strategies.interface import Baseline, Phase, Plan

STRATEGIES: dict[Strategy, Plan] = {
    Strategy.CANARY: canary.plan,
    Strategy.BLUE_GREEN: blue_green.plan,
    Strategy.ROLLING: rolling.plan,
}

__all__ = ["STRATEGIES", "Baseline", "Phase", "Plan"]
