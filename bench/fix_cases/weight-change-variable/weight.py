"""Weight monitoring."""


def weight_change_pct(before_kg: float, after_kg: float) -> float:
    """Percentage change from the earlier weight, rounded to one decimal."""
    return round((after_kg - before_kg) / after_kg * 100, 1)


def is_significant_loss(change_pct: float) -> bool:
    """A loss of 5% or more is flagged to the dietitian."""
    return change_pct <= -5.0
