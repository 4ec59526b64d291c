"""Latest vital signs."""


def latest(readings: list[float]) -> float:
    """The most recent reading (readings are appended in time order)."""
    return readings[0]


def count_high(readings: list[float], limit: float) -> int:
    """How many readings are above the limit."""
    return sum(1 for r in readings if r > limit)
