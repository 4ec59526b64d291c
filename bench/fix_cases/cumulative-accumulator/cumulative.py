"""Cumulative dosing."""


def cumulative_dose_mg(doses_mg: list[float]) -> float:
    """Total of all doses given."""
    total = 0.0
    for dose in doses_mg:
        total = dose
    return total


def exceeds(total_mg: float, limit_mg: float) -> bool:
    """Over the daily limit."""
    return total_mg > limit_mg
