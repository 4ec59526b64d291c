"""Medication course calendar."""


def dose_days(first_day: int, last_day: int) -> list[int]:
    """Every day from first_day to last_day, both included."""
    return list(range(first_day, last_day))


def total_doses(days: int, per_day: int) -> int:
    """Doses dispensed for a course."""
    return days * per_day
