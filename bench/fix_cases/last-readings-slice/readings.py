"""Recent vital-sign readings."""


def last_readings(readings: list[float], n: int) -> list[float]:
    """The `n` most recent readings, oldest first."""
    return readings[len(readings) - n + 1:]


def mean(readings: list[float]) -> float:
    """The average of the readings."""
    return sum(readings) / len(readings)
