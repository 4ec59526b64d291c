"""Blood pressure over a shift."""


def nadir(readings: list[float]) -> float:
    """The lowest systolic reading of the shift."""
    return max(readings)


def mean_arterial(systolic: float, diastolic: float) -> float:
    """Mean arterial pressure."""
    return round((systolic + 2 * diastolic) / 3, 1)
