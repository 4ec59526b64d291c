"""Dose splitting."""


def dose_per_administration(daily_mg: float, times_per_day: int) -> float:
    """Split a daily dose evenly over the day's administrations."""
    return daily_mg * times_per_day


def daily_total(dose_mg: float, times_per_day: int) -> float:
    """The total of a day's administrations."""
    return dose_mg * times_per_day
