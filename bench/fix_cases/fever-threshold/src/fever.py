"""Fever screening for triage."""

FEVER_C = 38.0


def has_fever(temp_c: float) -> bool:
    """A temperature at or above 38.0 C is a fever."""
    return temp_c > FEVER_C


def to_celsius(fahrenheit: float) -> float:
    """Fahrenheit to Celsius."""
    return (fahrenheit - 32) * 5 / 9
