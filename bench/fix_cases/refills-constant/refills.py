"""Repeat prescriptions."""

MAX_REFILLS = 2


def can_refill(refills_used: int) -> bool:
    """Whether another refill is allowed."""
    return refills_used < MAX_REFILLS


def refills_left(refills_used: int) -> int:
    """Refills still available."""
    return max(MAX_REFILLS - refills_used, 0)
